"""Pre-publication review: sharing a version for a window, reading it, comments, replies, resolutions, responses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.authoring import prepublication
from portal.authoring.models import (
    Draft,
    DraftComment,
    DraftKind,
    DraftRead,
    DraftResponse,
    DraftSection,
    DraftShare,
)
from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.db import utcnow
from portal.families.models import FamilyMember, PreferredChannel
from portal.notifications.models import OutboxMessage
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user


@dataclass
class Scene:
    review: Review
    draft: Draft
    author: User
    panel: User
    family: User
    family_without_consent: User
    memberships: dict[str, Membership]
    app: object = None


def make_draft(db, review: Review, by: User, *, version: int = 1, sections: int = 3) -> Draft:
    draft = Draft(review_id=review.id, version=version, title="Report for the panel", kind=DraftKind.WRITTEN.value)
    draft.created_by_id = by.id
    db.add(draft)
    db.flush()
    for position in range(1, sections + 1):
        db.add(
            DraftSection(
                draft_id=draft.id, position=position, heading=f"Part {position}", body=f"<p>Text {position}</p>"
            )
        )
    db.commit()
    return draft


def make_family(db, review: Review, name: str, *, wants_to_see: bool | None) -> tuple[User, Membership]:
    person = make_user(db, role=Role.FAMILY, name=name)
    membership = make_membership(db, review, person, MembershipKind.FAMILY)
    db.add(
        FamilyMember(
            membership_id=membership.id, relationship_to_child="Mother", preferred_channel=PreferredChannel.EMAIL.value
        )
    )
    if wants_to_see is not None:
        agree_to_see(db, person, review, wants_to_see)
    db.commit()
    return person, membership


def agree_to_see(db, person: User, review: Review, given: bool) -> None:
    ledger.record_choice(
        db, person=person, review_id=review.id, scope=ConsentScope.SEE_DRAFT, given=given, text_version="test"
    )
    db.commit()


@pytest.fixture
def scene(app, db, coordinator) -> Scene:
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Q")
    author = make_user(db, role=Role.AUTHOR, name="Ann Author")
    memberships = {"author": make_membership(db, review, author, MembershipKind.AUTHOR)}
    panel = make_user(db, name="Pat Panel", agency=make_agency(db))
    memberships["panel"] = make_membership(db, review, panel, MembershipKind.PANEL_MEMBER)
    family, memberships["family"] = make_family(db, review, "Fran Family", wants_to_see=True)
    other, memberships["family_without_consent"] = make_family(db, review, "Gus Guardian", wants_to_see=None)
    draft = make_draft(db, review, author)
    return Scene(review, draft, author, panel, family, other, memberships, app)


def share(db, scene: Scene, *who: str, opens_at=None, closes_at=None, message=None) -> DraftShare:
    return share_draft(db, scene, scene.draft, who, opens_at=opens_at, closes_at=closes_at, message=message)


def share_draft(db, scene: Scene, draft: Draft, who, *, opens_at=None, closes_at=None, message=None) -> DraftShare:
    """Share through the service, inside the app (messages are rendered from templates, with links)."""
    now = utcnow()
    with scene.app.app_context():
        shared = prepublication.share_version(
            db,
            draft,
            [scene.memberships[name].id for name in who],
            opens_at=opens_at or now - timedelta(hours=1),
            closes_at=closes_at or now + timedelta(days=7),
            message=message,
            actor=scene.author,
        )
    db.commit()
    return shared.share


def share_page(scene: Scene) -> str:
    return f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/share"


def read_page(scene: Scene) -> str:
    return f"/drafts-to-read/{scene.draft.id}"


def actions(db, prefix: str = "") -> list[str]:
    return list(
        db.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id))
    )


# Sharing -------------------------------------------------------------------------------------------------


def test_the_share_page_lists_panel_and_consenting_family_and_names_those_who_have_not_asked(client, scene):
    sign_in(client, scene.author)
    page = text_of(client.get(share_page(scene)).text)
    assert "Pat Panel (panel member)" in page
    assert "Fran Family (family member)" in page
    assert "Has not asked to see the draft: Gus Guardian" in page
    assert "Gus Guardian (family member)" not in page


def test_the_author_shares_a_version_which_freezes_it_and_messages_each_reader(client, db, scene):
    sign_in(client, scene.author)
    tomorrow = (utcnow() + timedelta(days=10)).date()
    response = submit(
        client,
        share_page(scene),
        {
            "readers": [str(scene.memberships["panel"].id), str(scene.memberships["family"].id)],
            "closes_day": [str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)],
            "closes_time": "5pm",
            "message": "Please read part 2 closely.",
        },
    )
    assert response.status_code == 302
    assert "Version 1 is shared with 2 people." in text_of(client.get(response.headers["Location"]).text)
    db.refresh(scene.draft)
    assert scene.draft.frozen
    shared = db.scalars(sa.select(DraftShare)).one()
    assert {person.name for person in shared.recipients} == {"Pat Panel", "Fran Family"}
    assert shared.opens_at <= utcnow() < shared.closes_at
    messages = {
        m.recipient_id: m for m in db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "draft_shared"))
    }
    family_message, panel_message = messages[scene.family.id], messages[scene.panel.id]
    assert family_message.consent_scope == ConsentScope.SEE_DRAFT.value
    assert family_message.review_id == scene.review.id
    assert scene.review.reference not in family_message.subject + family_message.body
    assert f"/drafts-to-read/{scene.draft.id}" in family_message.body
    assert "Please read part 2 closely." in family_message.body
    assert scene.review.reference in panel_message.subject
    assert actions(db, "report_draft.shared") == ["report_draft.shared"]


def test_a_share_keeps_what_was_typed_when_the_window_is_wrong(client, db, scene):
    sign_in(client, scene.author)
    today = utcnow().date()
    response = submit(
        client,
        share_page(scene),
        {
            "readers": [str(scene.memberships["panel"].id)],
            "opens_day": [str(today.day), str(today.month), str(today.year + 1)],
            "opens_time": "9am",
            "closes_day": [str(today.day), str(today.month), str(today.year)],
            "closes_time": "5pm",
            "message": "Kept message",
        },
    )
    assert response.status_code == 200
    page = text_of(response.text)
    assert "There is a problem" in page
    assert "The window must close after it opens" in page
    assert "Kept message" in response.text
    assert db.scalar(sa.select(sa.func.count(DraftShare.id))) == 0
    db.refresh(scene.draft)
    assert not scene.draft.frozen


def test_a_family_member_who_has_not_asked_to_see_the_draft_cannot_be_chosen(db, scene):
    with pytest.raises(prepublication.PrepublicationRefused):
        share(db, scene, "family_without_consent")
    db.rollback()
    assert db.scalar(sa.select(sa.func.count(DraftShare.id))) == 0


# Who may read, and when ------------------------------------------------------------------------------------


def test_the_window_is_open_from_its_first_moment_until_just_before_it_closes(db, scene):
    opens_at = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    closes_at = datetime(2030, 3, 8, 17, 0, tzinfo=UTC)
    share(db, scene, "panel", "family", opens_at=opens_at, closes_at=closes_at)
    for person in (scene.panel, scene.family):
        assert prepublication.reading_for(db, person, scene.draft.id, at=opens_at - timedelta(seconds=1)) is None
        assert prepublication.reading_for(db, person, scene.draft.id, at=opens_at) is not None
        assert prepublication.reading_for(db, person, scene.draft.id, at=closes_at - timedelta(seconds=1)) is not None
        assert prepublication.reading_for(db, person, scene.draft.id, at=closes_at) is None
        assert prepublication.drafts_to_read(db, person, at=closes_at)[1].total == 0
        assert prepublication.drafts_to_read(db, person, at=opens_at)[1].total == 1


@pytest.mark.parametrize("when", ["before it opens", "after it closes"])
def test_outside_the_window_the_version_is_not_found(client, db, scene, when):
    now = utcnow()
    if when == "before it opens":
        share(db, scene, "family", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=1))
    else:
        share(db, scene, "family", opens_at=now - timedelta(days=2), closes_at=now - timedelta(seconds=1))
    sign_in(client, scene.family)
    assert client.get(read_page(scene)).status_code == 404
    assert "There is nothing for you to read" in text_of(client.get("/drafts-to-read").text)
    assert db.scalar(sa.select(sa.func.count(DraftRead.id))) == 0


def test_a_version_not_shared_with_the_person_is_not_found(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.family)
    assert client.get(read_page(scene)).status_code == 404
    assert client.get(read_page(scene) + "/comment").status_code == 404


def test_a_family_member_who_changes_their_mind_can_no_longer_read_it(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    assert client.get(read_page(scene)).status_code == 200
    agree_to_see(db, scene.family, scene.review, False)
    assert client.get(read_page(scene)).status_code == 404
    assert "There is nothing for you to read" in text_of(client.get("/drafts-to-read").text)


def test_a_reader_who_leaves_the_review_can_no_longer_read_it(client, db, scene):
    share(db, scene, "panel")
    scene.memberships["panel"].ended_at = utcnow()
    db.commit()
    sign_in(client, scene.panel)
    assert client.get(read_page(scene)).status_code == 404


def test_drafts_to_read_lists_open_versions_with_their_closing_time(client, db, scene):
    share(db, scene, "panel", "family", closes_at=datetime(2099, 6, 1, 16, 0, tzinfo=UTC))
    sign_in(client, scene.family)
    page = text_of(client.get("/drafts-to-read").text)
    assert "The report about Child Q" in page
    assert "You can read it until 1 June 2099 at 5:00pm" in page  # London summer time
    assert scene.review.reference not in page


# Reading --------------------------------------------------------------------------------------------------


def test_every_read_is_recorded_and_audited(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    for _ in range(3):
        assert client.get(read_page(scene)).status_code == 200
    read = db.scalars(sa.select(DraftRead)).one()
    assert (read.user_id, read.times) == (scene.panel.id, 3)
    assert read.first_read_at < read.last_read_at
    assert actions(db, "report_draft.read_shared") == ["report_draft.read_shared"] * 3


def test_the_version_page_shows_every_section(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    page = text_of(client.get(read_page(scene)).text)
    for position in (1, 2, 3):
        assert f"Part {position} Text {position}" in page


def test_family_members_see_their_name_at_the_top_bottom_and_between_sections(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    html = client.get(read_page(scene)).text
    band = "Shared with Fran Family only — do not copy"
    # Top, between each of the three sections (two), and bottom.
    assert text_of(html).count(band) == 4
    assert html.index(band) < html.index("Part 1") < html.rindex(band)
    for url in ("/comment", "/your-comments", "/response"):
        assert band in text_of(client.get(read_page(scene) + url).text), url


def test_panel_members_see_no_watermark(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    assert "do not copy" not in client.get(read_page(scene)).text


def test_family_members_are_offered_nothing_to_download(client, db, scene):
    scene.draft.stored_name, scene.draft.original_name, scene.draft.detected_type = "a" * 32, "report.pdf", "pdf"
    db.commit()
    share(db, scene, "family")
    sign_in(client, scene.family)
    html = client.get(read_page(scene)).text
    assert "download" not in html.lower()
    assert "report.pdf" not in html
    assert "/file" not in html
    assert client.get(f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/file").status_code == 404


# Comments, replies and resolutions -------------------------------------------------------------------------


def comment(client, scene: Scene, text: str, section: DraftSection | None = None):
    url = read_page(scene) + "/comment" + (f"?section={section.id}" if section else "")
    return submit(client, url, {"text": text})


def test_a_reader_comments_on_a_section_and_on_the_whole_version(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    second = scene.draft.sections[1]
    assert comment(client, scene, "The date in this part is wrong.", second).status_code == 302
    assert comment(client, scene, "Thank you for listening.").status_code == 302
    rows = db.scalars(sa.select(DraftComment).order_by(DraftComment.id)).all()
    assert [(row.section_id, row.text) for row in rows] == [
        (second.id, "The date in this part is wrong."),
        (None, "Thank you for listening."),
    ]
    mine = text_of(client.get(read_page(scene) + "/your-comments").text)
    assert "On “Part 2” You wrote" in mine
    assert "The date in this part is wrong." in mine and "No reply yet." in mine
    assert actions(db, "draft_comment") == ["draft_comment.added"] * 2


def test_an_empty_comment_is_refused_and_a_long_one_is_kept(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    empty = comment(client, scene, "   ")
    assert empty.status_code == 200 and "Enter your comment" in text_of(empty.text)
    long_text = "x" * 5001
    too_long = comment(client, scene, long_text)
    assert too_long.status_code == 200
    assert long_text in too_long.text
    assert db.scalar(sa.select(sa.func.count(DraftComment.id))) == 0


def test_a_section_of_another_version_is_not_found(client, db, scene):
    other = make_draft(db, scene.review, scene.author, version=2)
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    assert client.get(read_page(scene) + f"/comment?section={other.sections[0].id}").status_code == 404


def test_panel_members_see_only_their_own_comments(client, db, scene):
    share(db, scene, "panel", "family")
    sign_in(client, scene.family)
    comment(client, scene, "Family words")
    client.post("/sign-out", data={})
    panel_client = client.application.test_client()
    sign_in(panel_client, scene.panel)
    comment(panel_client, scene, "Panel words")
    mine = text_of(panel_client.get(read_page(scene) + "/your-comments").text)
    assert "Panel words" in mine
    assert "Family words" not in mine


def test_the_author_replies_and_resolves_and_the_reader_sees_the_reply(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    comment(client, scene, "The date in this part is wrong.", scene.draft.sections[0])
    row = db.scalars(sa.select(DraftComment)).one()

    author = client.application.test_client()
    sign_in(author, scene.author)
    base = f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/comments"
    listing = text_of(author.get(base).text)
    assert "Fran Family" in listing and "The date in this part is wrong." in listing and "Not resolved" in listing

    assert submit(author, f"{base}/{row.id}/reply", {"reply": "Thank you, I will check it."}).status_code == 302
    refused = submit(author, f"{base}/{row.id}/resolve", {"change_made": "  "})
    assert refused.status_code == 200
    assert "Enter what changed in the report, or why nothing changed" in text_of(refused.text)
    db.refresh(row)
    assert row.resolved_at is None
    assert submit(author, f"{base}/{row.id}/resolve", {"change_made": "Changed paragraph 3"}).status_code == 302
    db.refresh(row)
    assert row.change_made == "Changed paragraph 3" and row.resolved_by_id == scene.author.id
    listing = text_of(author.get(base).text)
    assert "Resolved by Ann Author" in listing and "What changed: Changed paragraph 3" in listing

    mine = text_of(client.get(read_page(scene) + "/your-comments").text)
    assert "Thank you, I will check it." in mine
    assert "Changed paragraph 3" not in mine  # the record of what changed is for the author's side
    assert actions(db, "draft_comment.re") == ["draft_comment.replied", "draft_comment.resolved"]


def test_a_resolved_comment_cannot_be_resolved_again(db, scene):
    share(db, scene, "panel")
    reading = prepublication.reading_for(db, scene.panel, scene.draft.id)
    row = prepublication.add_comment(db, reading, section=None, text="Check this", by=scene.panel)
    prepublication.resolve(db, row, scene.draft, "No change: it is right", by=scene.author)
    with pytest.raises(prepublication.PrepublicationRefused):
        prepublication.resolve(db, row, scene.draft, "Again", by=scene.author)


# Responses -------------------------------------------------------------------------------------------------


def test_a_family_members_latest_response_counts_and_earlier_ones_are_kept(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    url = read_page(scene) + "/response"
    assert submit(client, url, {"kind": "accurate"}).status_code == 302
    assert submit(client, url, {"kind": "concerns", "text": "Part 2 is not how it was."}).status_code == 302
    assert db.scalar(sa.select(sa.func.count(DraftResponse.id))) == 2
    assert "Your answer now: I have concerns" in text_of(client.get(url).text)
    author = client.application.test_client()
    sign_in(author, scene.author)
    listing = text_of(author.get(f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/comments").text)
    assert "Fran Family: I have concerns" in listing and "Part 2 is not how it was." in listing
    assert "This is accurate" not in listing


def test_a_response_needs_an_answer(client, db, scene):
    share(db, scene, "family")
    sign_in(client, scene.family)
    response = submit(client, read_page(scene) + "/response", {"text": "Some words"})
    assert response.status_code == 200
    assert "Choose one answer" in text_of(response.text)
    assert "Some words" in response.text


def test_panel_members_give_no_overall_response(client, db, scene):
    share(db, scene, "panel")
    sign_in(client, scene.panel)
    assert client.get(read_page(scene) + "/response").status_code == 404


# The coordinator's table of readers ---------------------------------------------------------------------------


def test_the_coordinator_sees_who_has_read_the_version_and_when(as_coordinator, client, db, scene):
    share(db, scene, "panel", "family")
    reading = prepublication.reading_for(db, scene.family, scene.draft.id)
    prepublication.record_read(db, reading, scene.family)
    prepublication.record_read(db, reading, scene.family)
    prepublication.respond(db, reading, kind=prepublication.ResponseKind.ACCURATE, text=None, by=scene.family)
    db.commit()
    page = text_of(as_coordinator.get(f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/readers").text)
    assert "2 readers" in page
    assert "Fran Family" in page and "This is accurate" in page
    assert "Pat Panel" in page and "Not read" in page


# Query counts -------------------------------------------------------------------------------------------------


def add_readers(db, scene: Scene, count: int, start: int) -> list[str]:
    names = []
    for number in range(start, start + count):
        person = make_user(db, name=f"Reader {number}", agency=make_agency(db))
        scene.memberships[f"reader{number}"] = make_membership(db, scene.review, person, MembershipKind.PANEL_MEMBER)
        names.append(f"reader{number}")
    return names


def fill_version(db, scene: Scene, who: list[str]) -> None:
    shared = share(db, scene, *who)
    for person in shared.recipients:
        reading = prepublication.reading_for(db, person, scene.draft.id)
        prepublication.record_read(db, reading, person)
        comment_row = prepublication.add_comment(db, reading, section=scene.draft.sections[0], text="Hmm", by=person)
        prepublication.reply(db, comment_row, scene.draft, "Noted", by=scene.author)
        if person.role == Role.FAMILY:
            prepublication.respond(db, reading, kind=prepublication.ResponseKind.CONCERNS, text=None, by=person)
    db.commit()


@pytest.mark.parametrize("page", ["comments", "readers", "overview", "share"])
def test_the_authors_pages_ask_the_same_number_of_queries_however_much_there_is(as_coordinator, db, scene, page):
    urls = {
        "comments": f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/comments",
        "readers": f"/reviews/{scene.review.id}/drafts/{scene.draft.id}/readers",
        "overview": f"/reviews/{scene.review.id}/pre-publication",
        "share": share_page(scene),
    }

    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(urls[page]).status_code == 200
        return len(statements)

    fill_version(db, scene, ["panel", "family"])
    queries()  # the first request of a session also records when it was last seen
    few = queries()
    fill_version(db, scene, add_readers(db, scene, 8, 1))
    for number in range(3):
        _family, scene.memberships[f"family{number}"] = make_family(
            db, scene.review, f"Kin {number}", wants_to_see=True
        )
    assert queries() == few


@pytest.mark.parametrize("page", ["list", "read", "your-comments"])
def test_the_readers_pages_ask_the_same_number_of_queries_however_much_there_is(client, db, scene, page):
    urls = {"list": "/drafts-to-read", "read": read_page(scene), "your-comments": read_page(scene) + "/your-comments"}
    fill_version(db, scene, ["family"])
    sign_in(client, scene.family)

    def queries() -> int:
        with counting_queries(db) as statements:
            assert client.get(urls[page]).status_code == 200
        return len(statements)

    queries()
    few = queries()
    for version in range(2, 6):
        more = make_draft(db, scene.review, scene.author, version=version, sections=6)
        share_draft(db, scene, more, ["family"])
    reading = prepublication.reading_for(db, scene.family, scene.draft.id)
    for _ in range(5):
        prepublication.add_comment(db, reading, section=None, text="More", by=scene.family)
    db.commit()
    assert queries() == few


def test_a_family_member_finds_the_report_from_their_review_page(client, db, scene):
    sign_in(client, scene.family)
    about = f"/family/reviews/{scene.review.id}"
    assert "Read the report before it is shared" not in text_of(client.get(about).text)
    share(db, scene, "family", closes_at=datetime(2099, 1, 10, 12, 0, tzinfo=UTC))
    page = client.get(about).text
    assert "Read the report before it is shared" in text_of(page)
    assert "you can read it until 10 January 2099 at 12:00pm" in text_of(page)
    assert f'href="/drafts-to-read/{scene.draft.id}"' in page
