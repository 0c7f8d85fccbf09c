"""The author's inbox: everything gathered, filtered, read, acknowledged, themed and noted; panel members' notes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.authoring import inbox
from portal.authoring.models import (
    AnswerFile,
    AnswerStatus,
    ContributionRequest,
    InboxItem,
    InboxNote,
    InboxSource,
    InboxStatus,
    PanelNote,
    RecipientKind,
    RequestAnswer,
    Theme,
)
from portal.db import utcnow
from portal.events.models import Reflection, ReflectionStatus, Sharing
from portal.families import contributions, uploads
from portal.families.models import ContributionFile, ContributionStatus, FamilyContribution
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user
from tests.families.test_uploads import SAMPLES

# Building what the inbox gathers ------------------------------------------------------------------------


def at(minutes: int) -> datetime:
    """A moment in the review's life, so the newest-first order is known."""
    return datetime(2026, 11, 10, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def ask(db, review: Review, person: User, kind: MembershipKind, prompt: str = "What did your agency know?"):
    """A request to a member of the review, as the author would have asked it."""
    membership = db.scalar(
        sa.select(Membership).where(
            Membership.review_id == review.id, Membership.user_id == person.id, Membership.kind == kind.value
        )
    ) or make_membership(db, review, person, kind)
    asked = ContributionRequest(
        review_id=review.id,
        membership_id=membership.id,
        recipient_id=person.id,
        recipient_kind=RecipientKind(kind.value).value,
        prompt=prompt,
        due_on=date(2026, 12, 18),
        asked_by_id=review.created_by_id,
        asked_at=at(0),
        status="answered",
        answered_at=at(1),
    )
    db.add(asked)
    db.flush()
    return asked


def answer(db, asked: ContributionRequest, text: str, minutes: int, status: AnswerStatus = AnswerStatus.SUBMITTED):
    sent = RequestAnswer(
        request_id=asked.id,
        text=f"<p>{text}</p>",
        status=status.value,
        submitted_at=at(minutes) if status != AnswerStatus.DRAFT else None,
    )
    db.add(sent)
    db.commit()
    return sent


def reflect(db, review: Review, writer: User, title: str, minutes: int, sharing: Sharing = Sharing.NAMED):
    written = Reflection(
        author_id=writer.id,
        review_id=review.id,
        title=title,
        body_html="<p>What I learned from the meeting.</p>",
        status=ReflectionStatus.SUBMITTED.value,
        sharing=sharing.value,
        submitted_at=at(minutes),
    )
    db.add(written)
    db.commit()
    return written


def family_sends(
    db,
    review: Review,
    person: User,
    title: str,
    minutes: int,
    status: ContributionStatus = ContributionStatus.SUBMITTED,
):
    membership = db.scalar(
        sa.select(Membership).where(Membership.review_id == review.id, Membership.user_id == person.id)
    ) or make_membership(db, review, person, MembershipKind.FAMILY)
    sent = FamilyContribution(
        membership_id=membership.id,
        review_id=review.id,
        title=title,
        text="<p>About my son and the school.</p>",
        status=status.value,
        submitted_at=at(minutes) if status != ContributionStatus.DRAFT else None,
    )
    db.add(sent)
    db.commit()
    return sent


def panel_writes(db, review: Review, person: User, text: str, minutes: int):
    membership = db.scalar(
        sa.select(Membership).where(
            Membership.review_id == review.id,
            Membership.user_id == person.id,
            Membership.kind == MembershipKind.PANEL_MEMBER.value,
        )
    ) or make_membership(db, review, person, MembershipKind.PANEL_MEMBER)
    note = PanelNote(review_id=review.id, membership_id=membership.id, text=f"<p>{text}</p>", created_at=at(minutes))
    db.add(note)
    db.commit()
    return note


@dataclass
class Gathered:
    review: Review
    author: User
    agency_answer: RequestAnswer
    practitioner_answer: RequestAnswer
    panel_answer: RequestAnswer
    named: Reflection
    anonymous: Reflection
    contribution: FamilyContribution
    note: PanelNote
    lead: User
    hidden_writer: User
    family: User
    panel: User


def gather(db, review: Review | None = None, author: User | None = None) -> Gathered:
    """One of everything the inbox gathers, one minute apart, and things it must leave out."""
    review = review or make_review(db, stage=Stage.CSPR_IN_PROGRESS)
    if author is None:
        author = make_user(db, role=Role.AUTHOR, name="Ada Author")
        make_membership(db, review, author, MembershipKind.AUTHOR)
    lead = make_user(db, name="Lee Lead", agency=make_agency(db, "Northshire Health"))
    practitioner = make_user(db, name="Pat Practitioner", agency=make_agency(db))
    panel = make_user(db, name="Penny Panel", agency=make_agency(db))
    named_writer = make_user(db, name="Nia Named", agency=make_agency(db))
    hidden_writer = make_user(db, name="Robin Hidden", agency=make_agency(db, "Northshire Police"))
    family = make_user(db, role=Role.FAMILY, name="Fran Family")
    gathered = Gathered(
        review=review,
        author=author,
        agency_answer=answer(db, ask(db, review, lead, MembershipKind.AGENCY_LEAD), "Health visits", 1),
        practitioner_answer=answer(db, ask(db, review, practitioner, MembershipKind.PRACTITIONER), "I visited", 2),
        panel_answer=answer(db, ask(db, review, panel, MembershipKind.PANEL_MEMBER), "The panel's view", 3),
        named=reflect(db, review, named_writer, "What I saw", 4),
        anonymous=reflect(db, review, hidden_writer, "A hard week", 5, Sharing.ANONYMOUS),
        contribution=family_sends(db, review, family, "My words", 6),
        note=panel_writes(db, review, panel, "Look at the school's records", 7),
        lead=lead,
        hidden_writer=hidden_writer,
        family=family,
        panel=panel,
    )
    # Left out: a draft answer, a private reflection, a family draft.
    answer(
        db,
        ask(db, review, practitioner, MembershipKind.PRACTITIONER, "Anything else?"),
        "Not yet",
        8,
        AnswerStatus.DRAFT,
    )
    reflect(db, review, named_writer, "Just for me", 9, Sharing.PRIVATE)
    family_sends(db, review, family, "Not finished", 10, ContributionStatus.DRAFT)
    return gathered


def items_of(db, review: Review) -> list[InboxItem]:
    return list(db.scalars(sa.select(InboxItem).where(InboxItem.review_id == review.id).order_by(InboxItem.id)))


def audit_of(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def gathered(db) -> Gathered:
    return gather(db)


@pytest.fixture
def as_author(client, gathered):
    sign_in(client, gathered.author)
    return client


def open_inbox(client, review: Review, **args) -> str:
    response = client.get(f"/reviews/{review.id}/inbox", query_string=args)
    assert response.status_code == 200
    return response.text


def item_for(db, column, thing_id: int) -> InboxItem:
    return db.scalar(sa.select(InboxItem).where(column == thing_id))


# Gathering ----------------------------------------------------------------------------------------------


def test_sync_gives_everything_sent_one_item_and_leaves_out_drafts_and_private_things(db, gathered):
    inbox.sync(db, gathered.review)
    inbox.sync(db, gathered.review)  # a second opening adds nothing
    db.commit()
    items = items_of(db, gathered.review)
    by_thing = {
        (item.request_answer_id, item.reflection_id, item.family_contribution_id, item.panel_note_id): item
        for item in items
    }
    assert len(items) == 7
    expected = {
        (gathered.agency_answer.id, None, None, None): (InboxSource.AGENCY, 1),
        (gathered.practitioner_answer.id, None, None, None): (InboxSource.PRACTITIONER, 2),
        (gathered.panel_answer.id, None, None, None): (InboxSource.PANEL, 3),
        (None, gathered.named.id, None, None): (InboxSource.PRACTITIONER, 4),
        (None, gathered.anonymous.id, None, None): (InboxSource.PRACTITIONER, 5),
        (None, None, gathered.contribution.id, None): (InboxSource.FAMILY, 6),
        (None, None, None, gathered.note.id): (InboxSource.PANEL, 7),
    }
    for key, (source, minutes) in expected.items():
        assert by_thing[key].source == source.value
        assert by_thing[key].received_at == at(minutes)
        assert by_thing[key].status == InboxStatus.NEW.value


def test_sync_picks_up_what_arrives_later_and_nothing_from_other_reviews(db, gathered):
    inbox.sync(db, gathered.review)
    other = gather(db)
    panel_writes(db, gathered.review, gathered.panel, "One more thing", 20)
    inbox.sync(db, gathered.review)
    db.commit()
    assert len(items_of(db, gathered.review)) == 8
    assert items_of(db, other.review) == []


def test_sync_asks_the_same_number_of_queries_however_much_there_is(db, gathered):
    def statements() -> int:
        with counting_queries(db) as seen:
            inbox.sync(db, gathered.review)
        return len(seen)

    few = statements()
    for number in range(10):
        panel_writes(db, gathered.review, gathered.panel, f"Note {number}", 30 + number)
        reflect(db, gathered.review, gathered.hidden_writer, f"Week {number}", 30 + number, Sharing.ANONYMOUS)
    assert statements() == few
    assert len(items_of(db, gathered.review)) == 27


def test_a_contribution_acknowledged_on_the_family_pages_shows_acknowledged_in_the_inbox(db, gathered, coordinator):
    inbox.sync(db, gathered.review)
    gathered.contribution.status = ContributionStatus.ACKNOWLEDGED.value
    gathered.contribution.acknowledged_at = at(40)
    gathered.contribution.acknowledged_by_id = coordinator.id
    db.commit()
    inbox.sync(db, gathered.review)
    db.commit()
    item = item_for(db, InboxItem.family_contribution_id, gathered.contribution.id)
    db.refresh(item)
    assert (item.status, item.acknowledged_at, item.acknowledged_by_id) == ("acknowledged", at(40), coordinator.id)
    assert item.read_at == at(40)


# The list -----------------------------------------------------------------------------------------------


def rows_of(html: str) -> list[str]:
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [text_of(row) for row in body.split("</tr>") if text_of(row)]


def test_the_inbox_lists_everything_newest_first_with_who_sent_it(as_author, gathered):
    rows = rows_of(open_inbox(as_author, gathered.review))
    assert len(rows) == 7
    assert rows[0].startswith("Note from a panel member Look at the school's records Penny Panel (panel member) Panel")
    assert rows[1].startswith("My words About my son and the school. Fran Family (family member) Family")
    assert "A practitioner from Northshire Police Practitioners" in rows[2]
    assert rows[3].startswith("What I saw What I learned from the meeting. Nia Named Practitioners")
    assert "Penny Panel (panel member) Panel" in rows[4]
    assert "Pat Practitioner (practitioner) Practitioners" in rows[5]
    assert rows[6].startswith("Answer to: What did your agency know? Health visits")
    assert "Lee Lead (agency lead, Northshire Health) Agency information 10 November 2026 at 9:01am New" in rows[6]
    page = text_of(open_inbox(as_author, gathered.review))
    assert "New: 7" in page and "Read: 0" in page and "Acknowledged: 0" in page
    assert "Not yet" not in page and "Just for me" not in page and "Not finished" not in page


def test_an_anonymous_reflection_never_shows_who_wrote_it(as_author, db, gathered):
    assert "Robin Hidden" not in open_inbox(as_author, gathered.review)
    item = item_for(db, InboxItem.reflection_id, gathered.anonymous.id)
    page = as_author.get(f"/reviews/{gathered.review.id}/inbox/{item.id}")
    assert page.status_code == 200
    assert "Robin Hidden" not in page.text
    assert "From A practitioner from Northshire Police" in text_of(page.text)


def test_filters_by_source_status_and_theme(as_author, db, gathered):
    open_inbox(as_author, gathered.review)
    read = item_for(db, InboxItem.panel_note_id, gathered.note.id)
    assert as_author.get(f"/reviews/{gathered.review.id}/inbox/{read.id}").status_code == 200
    family = item_for(db, InboxItem.family_contribution_id, gathered.contribution.id)
    schooling = inbox.find_or_create_theme(db, gathered.review, "Schooling", gathered.author)
    inbox.add_theme(db, inbox.load_entry(db, gathered.review, family.id), schooling, gathered.author)
    db.commit()
    panel = rows_of(open_inbox(as_author, gathered.review, source="panel"))
    assert len(panel) == 2 and all("(panel member) Panel" in row for row in panel)
    assert len(rows_of(open_inbox(as_author, gathered.review, source="practitioner"))) == 3
    read_rows = rows_of(open_inbox(as_author, gathered.review, status="read"))
    assert len(read_rows) == 1 and read_rows[0].startswith("Note from a panel member")
    assert len(rows_of(open_inbox(as_author, gathered.review, status="new"))) == 6
    themed_rows = rows_of(open_inbox(as_author, gathered.review, theme=str(schooling.id)))
    assert len(themed_rows) == 1 and themed_rows[0].startswith("My words") and themed_rows[0].endswith("Schooling")
    assert "Nothing matches these filters" in open_inbox(as_author, gathered.review, source="family", status="read")
    # A value that is not a choice means any.
    assert len(rows_of(open_inbox(as_author, gathered.review, source="elsewhere", theme="999"))) == 7


def test_pages_of_25_keep_the_filters(as_author, db, gathered):
    for number in range(30):
        panel_writes(db, gathered.review, gathered.panel, f"Note {number}", 100 + number)
    first = open_inbox(as_author, gathered.review, source="panel")
    assert len(rows_of(first)) == 25
    assert "32 items matching the filters, page 1 of 2" in text_of(first)
    assert f'href="/reviews/{gathered.review.id}/inbox?source=panel&amp;page=2"' in first
    second = rows_of(open_inbox(as_author, gathered.review, source="panel", page="2"))
    assert len(second) == 7
    assert all("Panel" in row for row in second)
    assert as_author.get(f"/reviews/{gathered.review.id}/inbox?page=3").status_code == 404


def test_the_inbox_asks_the_same_number_of_queries_however_many_items(as_author, db, gathered):
    def queries() -> int:
        with counting_queries(db) as statements:
            open_inbox(as_author, gathered.review)
        return len(statements)

    queries()  # the first request of a session also records when it was last seen
    few = queries()
    for number in range(6):
        answer(db, ask(db, gathered.review, gathered.lead, MembershipKind.AGENCY_LEAD, f"Q{number}"), "A", 50 + number)
        family_sends(db, gathered.review, gathered.family, f"More {number}", 50 + number)
        panel_writes(db, gathered.review, gathered.panel, f"Note {number}", 50 + number)
        reflect(db, gathered.review, gathered.hidden_writer, f"Week {number}", 50 + number, Sharing.ANONYMOUS)
    neglect = inbox.find_or_create_theme(db, gathered.review, "Neglect", gathered.author)
    for item in items_of(db, gathered.review):
        inbox.add_theme(db, inbox.load_entry(db, gathered.review, item.id), neglect, gathered.author)
    db.commit()
    assert queries() == few
    assert len(items_of(db, gathered.review)) == 31


# One item -----------------------------------------------------------------------------------------------


def open_item(client, db, gathered: Gathered, column, thing_id: int):
    open_inbox(client, gathered.review)
    item = item_for(db, column, thing_id)
    response = client.get(f"/reviews/{gathered.review.id}/inbox/{item.id}")
    assert response.status_code == 200
    db.refresh(item)
    return item, response.text


def test_opening_an_item_shows_it_in_full_marks_it_read_and_records_the_read(as_author, db, gathered):
    item, html = open_item(as_author, db, gathered, InboxItem.request_answer_id, gathered.agency_answer.id)
    page = text_of(html)
    assert "What was asked What did your agency know? Asked 10 November 2026 at 9:00am, due by 18 December 2026" in page
    assert "What they sent Health visits" in page
    assert item.status == InboxStatus.READ.value and item.read_at is not None
    reads = audit_of(db, "inbox_item.read")
    assert [(event.object_id, event.actor_id) for event in reads] == [(str(item.id), gathered.author.id)]
    assert "Health visits" not in reads[0].details
    # Reading it again keeps the first time it was read.
    first_read = item.read_at
    as_author.get(f"/reviews/{gathered.review.id}/inbox/{item.id}")
    db.refresh(item)
    assert item.read_at == first_read and len(audit_of(db, "inbox_item.read")) == 2


def test_rich_text_is_shown_cleaned(as_author, db, gathered):
    gathered.note.text = '<p>See <strong>this</strong></p><script>alert("x")</script>'
    db.commit()
    _item, html = open_item(as_author, db, gathered, InboxItem.panel_note_id, gathered.note.id)
    assert "See <strong>this</strong>" in html
    assert "<script>alert" not in html


def test_reading_a_family_contribution_is_recorded_on_it_too(as_author, db, gathered):
    open_item(as_author, db, gathered, InboxItem.family_contribution_id, gathered.contribution.id)
    assert [event.object_id for event in audit_of(db, "family_contribution.read")] == [str(gathered.contribution.id)]


def test_acknowledging_an_answer_locks_it(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.request_answer_id, gathered.practitioner_answer.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/acknowledge"
    response = submit(as_author, url, {}, page=f"/reviews/{gathered.review.id}/inbox/{item.id}")
    assert response.status_code == 302
    db.refresh(item)
    db.refresh(gathered.practitioner_answer)
    assert item.status == InboxStatus.ACKNOWLEDGED.value and item.acknowledged_by_id == gathered.author.id
    assert gathered.practitioner_answer.status == AnswerStatus.ACKNOWLEDGED.value
    assert gathered.practitioner_answer.acknowledged_by_id == gathered.author.id
    assert not gathered.practitioner_answer.editable
    page = text_of(as_author.get(response.headers["Location"]).text)
    assert "Acknowledged. The person who sent it can no longer change it." in page
    assert "Status Acknowledged on" in page
    assert "This tells the person you have it" not in page
    assert len(audit_of(db, "inbox_item.acknowledged")) == 1


def test_acknowledging_a_family_contribution_locks_it(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.family_contribution_id, gathered.contribution.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/acknowledge"
    assert submit(as_author, url, {}, page=f"/reviews/{gathered.review.id}/inbox/{item.id}").status_code == 302
    db.refresh(gathered.contribution)
    assert gathered.contribution.status == ContributionStatus.ACKNOWLEDGED.value
    assert not gathered.contribution.editable
    with pytest.raises(contributions.ContributionLocked):
        contributions.save_contribution(
            db, gathered.contribution.membership, gathered.contribution, title="Changed", text="Changed"
        )
    # A second acknowledgement changes nothing and records nothing.
    assert submit(as_author, url, {}, page=f"/reviews/{gathered.review.id}/inbox/{item.id}").status_code == 302
    assert len(audit_of(db, "inbox_item.acknowledged")) == 1
    assert len(audit_of(db, "family_contribution.acknowledged")) == 1


def test_acknowledging_a_reflection_changes_only_the_inbox(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.reflection_id, gathered.named.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/acknowledge"
    response = submit(as_author, url, {}, page=f"/reviews/{gathered.review.id}/inbox/{item.id}")
    assert "Acknowledged." in text_of(as_author.get(response.headers["Location"]).text)
    db.refresh(item)
    assert item.status == InboxStatus.ACKNOWLEDGED.value
    assert "Acknowledged: 1" in text_of(open_inbox(as_author, gathered.review))


def attach(app, db, owner, **fields):
    """A PDF stored as an upload and attached to an answer or a family contribution."""
    with app.app_context():
        stored = owner(stored_name=uploads.store(db, SAMPLES["pdf"]), detected_type="pdf", **fields)
        stored.size_bytes = len(SAMPLES["pdf"])
        db.add(stored)
        db.commit()
    return stored


def test_files_are_download_links_and_downloads_are_recorded(app, as_author, db, gathered):
    attach(app, db, AnswerFile, answer_id=gathered.agency_answer.id, original_name="chronology.pdf")
    elsewhere = attach(app, db, AnswerFile, answer_id=gathered.panel_answer.id, original_name="minutes.pdf")
    family_file = attach(
        app, db, ContributionFile, contribution_id=gathered.contribution.id, original_name="drawing.pdf"
    )
    item, html = open_item(as_author, db, gathered, InboxItem.request_answer_id, gathered.agency_answer.id)
    assert "minutes.pdf" not in html
    link = re.search(r'href="([^"]+)" download>chronology.pdf', html).group(1)
    download = as_author.get(link)
    assert download.status_code == 200
    assert download.data == SAMPLES["pdf"]
    assert "attachment" in download.headers["Content-Disposition"]
    assert [event.object_id for event in audit_of(db, "inbox_item.file_downloaded")] == [str(item.id)]
    # Another answer's file is not found through this item.
    assert as_author.get(f"/reviews/{gathered.review.id}/inbox/{item.id}/files/{elsewhere.id}").status_code == 404
    family, html = open_item(as_author, db, gathered, InboxItem.family_contribution_id, gathered.contribution.id)
    contribution_url = f"/reviews/{gathered.review.id}/family/contributions/{gathered.contribution.id}"
    assert f'href="{contribution_url}/files/{family_file.id}" download>drawing.pdf' in html
    assert as_author.get(f"/reviews/{gathered.review.id}/inbox/{family.id}/files/{family_file.id}").status_code == 404


def test_an_item_of_another_review_is_not_found(as_author, db, gathered, coordinator):
    other = gather(db)
    inbox.sync(db, other.review)
    db.commit()
    elsewhere = item_for(db, InboxItem.panel_note_id, other.note.id)
    assert as_author.get(f"/reviews/{gathered.review.id}/inbox/{elsewhere.id}").status_code == 404
    assert as_author.get(f"/reviews/{other.review.id}/inbox/{elsewhere.id}").status_code == 404


# Themes and private notes -------------------------------------------------------------------------------


def test_themes_are_created_once_whatever_the_capitals_and_can_be_removed(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.panel_note_id, gathered.note.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/themes"
    page = f"/reviews/{gathered.review.id}/inbox/{item.id}"
    response = submit(as_author, url, {"new_theme": "  Information   sharing "}, page=page)
    assert response.status_code == 302
    assert "Theme added: Information sharing." in text_of(as_author.get(response.headers["Location"]).text)
    other = item_for(db, InboxItem.reflection_id, gathered.named.id)
    other_url = f"/reviews/{gathered.review.id}/inbox/{other.id}/themes"
    submit(as_author, other_url, {"new_theme": "INFORMATION SHARING"}, page=page)
    themes = list(db.scalars(sa.select(Theme).where(Theme.review_id == gathered.review.id)))
    assert [t.name for t in themes] == ["Information sharing"]
    db.refresh(other)
    assert [t.name for t in other.themes] == ["Information sharing"]
    # An existing theme, chosen from the list.
    submit(as_author, url, {"new_theme": "Neglect"}, page=page)
    neglect = db.scalar(sa.select(Theme).where(Theme.name == "Neglect"))
    response = submit(as_author, other_url, {"theme": str(neglect.id)}, page=page)
    assert response.status_code == 302
    db.refresh(other)
    assert [t.name for t in other.themes] == ["Information sharing", "Neglect"]
    # Removing takes it off this item only.
    remove = f"/reviews/{gathered.review.id}/inbox/{other.id}/themes/{neglect.id}/remove"
    assert submit(as_author, remove, {}, page=page).status_code == 302
    db.refresh(other)
    db.refresh(item)
    assert [t.name for t in other.themes] == ["Information sharing"]
    assert [t.name for t in item.themes] == ["Information sharing", "Neglect"]
    assert len(audit_of(db, "inbox_theme.created")) == 2
    assert len(audit_of(db, "inbox_item.theme_added")) == 4
    assert len(audit_of(db, "inbox_item.theme_removed")) == 1


def test_a_theme_form_with_nothing_chosen_or_another_reviews_theme_is_refused(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.panel_note_id, gathered.note.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/themes"
    page = f"/reviews/{gathered.review.id}/inbox/{item.id}"
    response = submit(as_author, url, {"new_theme": "  "}, page=page)
    assert response.status_code == 200
    assert "There is a problem Choose a theme or enter a new one" in text_of(response.text)
    assert 'href="#new_theme"' in response.text  # no theme to choose yet: the error is on the box shown
    other = gather(db)
    foreign = inbox.find_or_create_theme(db, other.review, "Housing", other.author)
    db.commit()
    response = submit(as_author, url, {"theme": str(foreign.id)}, page=page)
    assert "Choose a theme from the list" in text_of(response.text)
    response = submit(as_author, url, {"new_theme": "x" * 101}, page=page)
    assert "The theme's name must be 100 characters or fewer" in text_of(response.text)
    assert 'value="' + "x" * 101 + '"' in response.text
    db.refresh(item)
    assert item.themes == []
    remove = f"/reviews/{gathered.review.id}/inbox/{item.id}/themes/{foreign.id}/remove"
    assert submit(as_author, remove, {}, page=page).status_code == 404


def test_private_notes_are_kept_shown_and_audited_without_their_words(as_author, db, gathered):
    item, _html = open_item(as_author, db, gathered, InboxItem.reflection_id, gathered.anonymous.id)
    url = f"/reviews/{gathered.review.id}/inbox/{item.id}/notes"
    page = f"/reviews/{gathered.review.id}/inbox/{item.id}"
    response = submit(as_author, url, {"text": "Follow up with the police lead.\nAsk about March."}, page=page)
    assert response.status_code == 302
    shown = as_author.get(response.headers["Location"]).text
    assert "Follow up with the police lead.\nAsk about March.</p>" in shown  # shown with its line break
    assert "Your note has been added." in text_of(shown)
    notes = list(db.scalars(sa.select(InboxNote).where(InboxNote.inbox_item_id == item.id)))
    assert [(note.written_by_id, note.text) for note in notes] == [
        (gathered.author.id, "Follow up with the police lead.\nAsk about March.")
    ]
    added = audit_of(db, "inbox_note.added")
    assert len(added) == 1 and "police" not in added[0].details
    assert json.loads(added[0].details) == {"note_id": notes[0].id, "source": "practitioner"}
    empty = submit(as_author, url, {"text": "   "}, page=page)
    assert "There is a problem Enter your note" in text_of(empty.text)


def test_private_notes_are_paginated_newest_first(as_author, db, gathered):
    inbox.sync(db, gathered.review)
    item = item_for(db, InboxItem.panel_note_id, gathered.note.id)
    entry = inbox.load_entry(db, gathered.review, item.id)
    for number in range(22):
        inbox.add_note(db, entry, f"Thought {number}", gathered.author)
    db.commit()
    first = text_of(as_author.get(f"/reviews/{gathered.review.id}/inbox/{item.id}").text)
    assert first.index("Thought 21") < first.index("Thought 20") and "Thought 1 " not in first
    second = text_of(as_author.get(f"/reviews/{gathered.review.id}/inbox/{item.id}?page=2").text)
    assert "Thought 1 " in second and "Thought 0 " in second and "Thought 21" not in second


def test_a_coordinator_sees_the_authors_notes(client, db, gathered, coordinator):
    inbox.sync(db, gathered.review)
    item = item_for(db, InboxItem.panel_note_id, gathered.note.id)
    inbox.add_note(db, inbox.load_entry(db, gathered.review, item.id), "Check with the chair", gathered.author)
    db.commit()
    sign_in(client, coordinator)
    page = text_of(client.get(f"/reviews/{gathered.review.id}/inbox/{item.id}").text)
    assert "Check with the chair Ada Author" in page


# Panel members' notes -----------------------------------------------------------------------------------


def test_a_panel_member_writes_a_note_that_reaches_the_authors_inbox(client, db, gathered):
    sign_in(client, gathered.panel)
    url = f"/reviews/{gathered.review.id}/panel-notes/new"
    response = submit(client, url, {"text": "Read the <em>health</em> chronology.<script>x()</script>"})
    assert response.status_code == 302
    listed = client.get(response.headers["Location"]).text
    assert "Your note has been sent to the author." in text_of(listed)
    assert "Read the <em>health</em> chronology." in listed and "<script>x()" not in listed
    assert "Look at the school's records" in listed  # their earlier note
    written = audit_of(db, "panel_note.written")
    assert len(written) == 1 and "chronology" not in written[0].details
    author_client = client.application.test_client()
    sign_in(author_client, gathered.author)
    assert "Read the health chronology." in text_of(open_inbox(author_client, gathered.review))


def test_panel_members_see_only_their_own_notes(client, db, gathered):
    colleague = make_user(db, name="Cal Colleague", agency=make_agency(db))
    panel_writes(db, gathered.review, colleague, "My own view", 60)
    sign_in(client, colleague)
    page = text_of(client.get(f"/reviews/{gathered.review.id}/panel-notes").text)
    assert "My own view" in page
    assert "Look at the school's records" not in page


def test_an_empty_panel_note_is_refused_and_keeps_nothing(client, db, gathered):
    sign_in(client, gathered.panel)
    response = submit(client, f"/reviews/{gathered.review.id}/panel-notes/new", {"text": "<p> </p>"})
    assert response.status_code == 200
    assert "There is a problem Enter your note for the author" in text_of(response.text)
    assert db.scalar(sa.select(sa.func.count(PanelNote.id))) == 1


def test_panel_notes_are_paginated(client, db, gathered):
    for number in range(25):
        panel_writes(db, gathered.review, gathered.panel, f"Point {number}", 200 + number)
    sign_in(client, gathered.panel)
    first = text_of(client.get(f"/reviews/{gathered.review.id}/panel-notes").text)
    assert "Sent (page 1 of 2)" in first and "Point 24" in first and "Point 4 " not in first
    second = text_of(client.get(f"/reviews/{gathered.review.id}/panel-notes?page=2").text)
    assert "Point 4 " in second and "Look at the school's records" in second


def test_the_audit_never_holds_the_words(db, gathered):
    inbox.sync(db, gathered.review)
    entry = inbox.load_entry(db, gathered.review, item_for(db, InboxItem.panel_note_id, gathered.note.id).id)
    inbox.record_read(db, entry, gathered.author)
    inbox.add_note(db, entry, "Secret thought", gathered.author)
    inbox.acknowledge(db, entry, gathered.author)
    db.commit()
    details = " ".join(event.details for event in db.scalars(sa.select(AuditEvent)))
    assert "Secret" not in details and "school" not in details
    assert utcnow() >= entry.item.acknowledged_at
