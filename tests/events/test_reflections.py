"""Reflections: private drafts, submitting with a choice of sharing, what the review's author sees.

The pages are driven as a practitioner would use them; the cross-site scripting corpus is saved
through the form one payload at a time and each page is read back with the HTML parser.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from portal.events import reflections
from portal.events.models import (
    Audience,
    EventKind,
    Reflection,
    Sharing,
)
from portal.reviews.models import MembershipKind, Stage
from portal.richtext import editable_text
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import counting_queries, csrf_token, sign_in, submit, text_of
from tests.factories import make_agency, make_event, make_membership, make_review, make_user, take_place
from tests.test_richtext import PAYLOADS, problems_in

SECRET_WORDS = "I worried the health visitor's notes were never read"


@pytest.fixture
def agency(db):
    return make_agency(db, "Northshire NHS Foundation Trust")


@pytest.fixture
def practitioner(db, agency):
    return make_user(db, role=Role.PRACTITIONER, name="Priya Shah", email="priya.shah@nhs.example", agency=agency)


@pytest.fixture
def review(db, practitioner):
    review = make_review(db, stage=Stage.CSPR_IN_PROGRESS, reference="LSCP-2026-041", anonymised_name="Child H")
    make_membership(db, review, practitioner, MembershipKind.PRACTITIONER)
    make_membership(db, review, make_user(db, role=Role.AUTHOR), MembershipKind.AUTHOR)
    return review


@pytest.fixture
def as_practitioner(client, practitioner):
    sign_in(client, practitioner)
    return client


def audit_rows(db, reflection_id: int) -> list[AuditEvent]:
    return list(
        db.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.object_type == "reflection", AuditEvent.object_id == str(reflection_id))
            .order_by(AuditEvent.id)
        )
    )


# The rules -----------------------------------------------------------------------------------------


def test_a_reflection_on_an_event_is_about_the_events_review_too(db, practitioner, review):
    event = make_event(
        db, kind=EventKind.PRACTITIONER_EVENT.value, audience=Audience.REVIEW_MEMBERS.value, review_id=review.id
    )
    reflection = reflections.start_reflection(db, practitioner, event=event, title="Before the day", body="Notes")
    assert (reflection.event_id, reflection.review_id) == (event.id, review.id)
    assert reflection.is_draft and reflection.sharing == Sharing.PRIVATE.value
    assert reflection.body_html == "<p>Notes</p>"


def test_nobody_reflects_on_an_event_they_cannot_see_or_a_review_they_are_not_in(db, practitioner, review):
    outsider = make_user(db, role=Role.PRACTITIONER)
    members_only = make_event(
        db, kind=EventKind.PRACTITIONER_EVENT.value, audience=Audience.REVIEW_MEMBERS.value, review_id=review.id
    )
    with pytest.raises(reflections.ReflectionRefused):
        reflections.start_reflection(db, outsider, event=members_only, title="x", body="y")
    with pytest.raises(reflections.ReflectionRefused):
        reflections.start_reflection(db, outsider, review=review, title="x", body="y")
    assert reflections.event_to_reflect_on(db, outsider, members_only.id) is None
    assert reflections.review_to_reflect_on(db, outsider, review.id) is None
    # An event for everyone is open to anyone's reflection.
    briefing = make_event(db)
    assert reflections.start_reflection(db, outsider, event=briefing, title="x", body="y").review_id is None


def test_a_review_without_an_author_offers_only_keeping_it_private(db, practitioner):
    no_author = make_review(db, stage=Stage.RAPID_REVIEW)
    make_membership(db, no_author, practitioner, MembershipKind.PRACTITIONER)
    reflection = reflections.start_reflection(db, practitioner, review=no_author, title="x", body="y")
    assert reflections.sharing_choices(db, reflection) == [Sharing.PRIVATE]
    with pytest.raises(reflections.ReflectionRefused, match="no independent author"):
        reflections.submit_reflection(db, reflection, Sharing.ANONYMOUS)
    briefing = reflections.start_reflection(db, practitioner, event=make_event(db), title="x", body="y")
    assert reflections.sharing_choices(db, briefing) == [Sharing.PRIVATE]


def test_a_submitted_reflection_is_final(db, practitioner, review):
    reflection = reflections.start_reflection(db, practitioner, review=review, title="x", body="y")
    reflections.submit_reflection(db, reflection, Sharing.NAMED)
    assert reflection.submitted_at is not None
    for change in (
        lambda: reflections.save_draft(db, reflection, title="z", body="z"),
        lambda: reflections.submit_reflection(db, reflection, Sharing.PRIVATE),
        lambda: reflections.delete_draft(db, reflection),
    ):
        with pytest.raises(reflections.ReflectionRefused, match="can no longer be changed"):
            change()


def test_an_empty_reflection_cannot_be_submitted(db, practitioner, review):
    reflection = reflections.start_reflection(db, practitioner, review=review, title="Just a title", body="")
    with pytest.raises(reflections.ReflectionRefused, match="Write your reflection"):
        reflections.submit_reflection(db, reflection, Sharing.PRIVATE)


def test_every_change_is_audited_without_the_words(db, practitioner, review):
    reflection = reflections.start_reflection(db, practitioner, review=review, title="Private title", body=SECRET_WORDS)
    reflections.save_draft(db, reflection, title="Private title", body=SECRET_WORDS + " again")
    reflections.submit_reflection(db, reflection, Sharing.ANONYMOUS)
    draft = reflections.start_reflection(db, practitioner, review=review, title="Private title", body=SECRET_WORDS)
    draft_id = draft.id
    reflections.delete_draft(db, draft)
    db.commit()

    rows = audit_rows(db, reflection.id) + audit_rows(db, draft_id)
    assert [row.action for row in rows] == [
        "reflection.started",
        "reflection.saved",
        "reflection.submitted",
        "reflection.started",
        "reflection.deleted",
    ]
    assert all(row.actor_id == practitioner.id and row.review_id == review.id for row in rows)
    assert json.loads(rows[2].details)["sharing"] == "anonymous"
    for row in rows:
        assert "worried" not in row.details and "Private title" not in row.details
    assert db.get(Reflection, draft_id) is None


def test_the_author_sees_a_name_only_when_it_was_shared_with_one(db, practitioner, review, agency):
    colleague = make_user(db, role=Role.PRACTITIONER, name="Tom Okafor", email="tom@council.example", agency=agency)
    make_membership(db, review, colleague, MembershipKind.PRACTITIONER)
    named = reflections.start_reflection(db, colleague, review=review, title="Named", body="With my name")
    reflections.submit_reflection(db, named, Sharing.NAMED)
    anonymous = reflections.start_reflection(db, practitioner, review=review, title="Anonymous", body=SECRET_WORDS)
    reflections.submit_reflection(db, anonymous, Sharing.ANONYMOUS)
    private = reflections.start_reflection(db, practitioner, review=review, title="Private", body="Mine")
    reflections.submit_reflection(db, private, Sharing.PRIVATE)
    reflections.start_reflection(db, practitioner, review=review, title="Draft", body="Not yet")
    elsewhere = make_review(db, stage=Stage.CSPR_IN_PROGRESS)
    make_membership(db, elsewhere, practitioner, MembershipKind.PRACTITIONER)
    make_membership(db, elsewhere, make_user(db, role=Role.AUTHOR), MembershipKind.AUTHOR)
    other = reflections.start_reflection(db, practitioner, review=elsewhere, title="Other review", body="x")
    reflections.submit_reflection(db, other, Sharing.NAMED)
    db.commit()

    shared = reflections.shared_reflections_for_review(db, review.id)

    assert [(item.reflection.title, item.attribution) for item in shared] == [
        ("Named", "Tom Okafor"),
        ("Anonymous", "a practitioner from Northshire NHS Foundation Trust"),
    ]
    assert shared[1].anonymous
    assert "Priya" not in shared[1].attribution and "priya.shah" not in shared[1].attribution


def test_an_anonymous_writer_without_an_agency_is_still_not_named(db, review):
    loner = make_user(db, role=Role.PRACTITIONER, name="Sam Loner")
    make_membership(db, review, loner, MembershipKind.PRACTITIONER)
    reflection = reflections.start_reflection(db, loner, review=review, title="x", body="y")
    reflections.submit_reflection(db, reflection, Sharing.ANONYMOUS)
    [shared] = reflections.shared_reflections_for_review(db, review.id)
    assert shared.attribution == "a practitioner from a partner agency"


def test_the_words_come_back_for_editing_as_they_were_typed(db, practitioner, review):
    typed = "First thought\nstill the first\n\nSee https://example.org/guide & more"
    reflection = reflections.start_reflection(db, practitioner, review=review, title="x", body=typed)
    assert editable_text(reflection.body_html) == typed
    pasted = "<ul><li><strong>One</strong></li></ul>"
    reflections.save_draft(db, reflection, title="x", body=pasted)
    assert editable_text(reflection.body_html) == pasted


# The pages -----------------------------------------------------------------------------------------


def test_a_practitioner_writes_saves_and_shares_a_reflection_anonymously(as_practitioner, db, practitioner, review):
    event = make_event(
        db,
        title="Practitioner event: Child H",
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=review.id,
    )
    take_place(db, event, practitioner)
    make_event(db, title="Not registered for this one")

    listing = as_practitioner.get("/reflections")
    assert listing.status_code == 200
    assert "You have not written any reflections yet" in listing.text
    assert 'href="/reflections/new"' in listing.text and "Write a reflection" in listing.text

    form = as_practitioner.get("/reflections/new")
    # Offered: the event they registered for and the review they take part in, and nothing else.
    assert re.findall(r'<option value="(event-\d+|review-\d+)"', form.text) == [
        f"event-{event.id}",
        f"review-{review.id}",
    ]
    assert "Leave a blank line between paragraphs" in form.text
    assert "Web and email addresses become links" in form.text

    response = submit(
        as_practitioner,
        "/reflections/new",
        {"about": f"event-{event.id}", "title": "Before the day", "body": "First\n\nSee https://example.org"},
    )
    assert response.status_code == 302
    page = as_practitioner.get(response.headers["Location"])
    assert "Your draft is saved. Only you can read it." in page.text
    assert '<p>First</p><p>See <a href="https://example.org" rel="noopener noreferrer">' in page.text
    assert "Practitioner event: Child H" in text_of(page.text)
    assert "Not shared: only you can read a draft" in text_of(page.text)
    reflection = db.scalar(sa.select(Reflection).where(Reflection.author_id == practitioner.id))

    edit = as_practitioner.get(f"/reflections/{reflection.id}/edit")
    assert "First\n\nSee https://example.org</textarea>" in edit.text
    response = submit(
        as_practitioner, f"/reflections/{reflection.id}/edit", {"title": "After the day", "body": SECRET_WORDS}
    )
    assert response.status_code == 302

    choose = as_practitioner.get(f"/reflections/{reflection.id}/submit")
    words = text_of(choose.text)
    assert "Keep it to myself" in words
    assert "Share with the review's author with my name" in words
    assert "Share with the review's author without my name (they will see only your agency and role)" in words
    assert "a practitioner from Northshire NHS Foundation Trust" in words
    assert "They will not see your name or email address" in words
    assert "you cannot change it" in words

    response = submit(as_practitioner, f"/reflections/{reflection.id}/submit", {"sharing": "anonymous"})
    assert response.status_code == 302
    page = as_practitioner.get(response.headers["Location"])
    words = text_of(page.text)
    assert "shared with the review's author, without your name" in words
    assert "Shared with the author without your name" in words
    assert SECRET_WORDS in words
    assert "Change draft" not in words and "Delete draft" not in words
    # Final: the edit page now sends them back with an explanation, and nothing changes.
    again = as_practitioner.get(f"/reflections/{reflection.id}/edit")
    assert again.status_code == 302
    assert "can no longer be changed" in as_practitioner.get(again.headers["Location"]).text
    [shared] = reflections.shared_reflections_for_review(db, review.id)
    assert shared.attribution == "a practitioner from Northshire NHS Foundation Trust"


def test_a_reflection_opened_from_a_review_needs_no_choice(as_practitioner, db, practitioner, review):
    form = as_practitioner.get(f"/reflections/new?review={review.id}")
    assert "What is your reflection about?" not in form.text
    assert "Review LSCP-2026-041, Child H" in form.text
    response = submit(
        as_practitioner, f"/reflections/new?review={review.id}", {"title": "On the review", "body": "Words"}
    )
    assert response.status_code == 302
    reflection = db.scalar(sa.select(Reflection).where(Reflection.author_id == practitioner.id))
    assert (reflection.review_id, reflection.event_id) == (review.id, None)


def test_without_an_author_the_submit_page_offers_only_keeping_it(as_practitioner, db, practitioner):
    no_author = make_review(db, stage=Stage.RAPID_REVIEW)
    make_membership(db, no_author, practitioner, MembershipKind.PRACTITIONER)
    reflection = reflections.start_reflection(db, practitioner, review=no_author, title="x", body="y")
    db.commit()
    page = as_practitioner.get(f"/reflections/{reflection.id}/submit")
    assert "Keep it to myself" in page.text
    assert "Share with the review" not in page.text
    assert "has no independent author" in page.text
    # A hand-made post asking to share is refused in words, and nothing is submitted.
    response = submit(as_practitioner, f"/reflections/{reflection.id}/submit", {"sharing": "named"})
    assert response.status_code == 200
    assert "Select one of the choices shown" in response.text
    db.refresh(reflection)
    assert reflection.is_draft


def test_mistakes_are_explained_and_nothing_typed_is_lost(as_practitioner, db, practitioner, review):
    response = submit(as_practitioner, "/reflections/new", {"about": "", "title": "", "body": "Kept <words>"})
    assert response.status_code == 200
    assert "<title>Error: " in response.text
    assert "Select what your reflection is about" in response.text
    assert "Enter a title for your reflection" in response.text
    assert "Kept &lt;words&gt;</textarea>" in response.text
    # Something chosen that the person may not write about is refused the same way.
    other = make_review(db)
    response = submit(as_practitioner, "/reflections/new", {"about": f"review-{other.id}", "title": "t", "body": "b"})
    assert "Select what your reflection is about" in response.text
    response = submit(as_practitioner, "/reflections/new", {"about": "review-x", "title": "t", "body": "b"})
    assert "Select what your reflection is about" in response.text
    response = submit(as_practitioner, f"/reflections/new?review={review.id}", {"title": "t" * 201, "body": "b"})
    assert "Title must be 200 characters or fewer" in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(Reflection)) == 0


def test_a_draft_can_be_deleted_but_a_submitted_reflection_cannot(as_practitioner, db, practitioner, review):
    draft = reflections.start_reflection(db, practitioner, review=review, title="Draft", body="x")
    final = reflections.start_reflection(db, practitioner, review=review, title="Final", body="x")
    reflections.submit_reflection(db, final, Sharing.PRIVATE)
    db.commit()
    page = as_practitioner.get(f"/reflections/{draft.id}")
    token = csrf_token(page.text)
    response = as_practitioner.post(f"/reflections/{draft.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Your draft has been deleted" in as_practitioner.get(response.headers["Location"]).text
    response = as_practitioner.post(f"/reflections/{final.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    remaining = db.scalars(sa.select(Reflection.title).where(Reflection.author_id == practitioner.id))
    assert list(remaining) == ["Final"]
    assert as_practitioner.post(f"/reflections/{final.id}/delete").status_code == 400


def test_nobody_else_can_open_a_reflection(client, db, practitioner, review):
    reflection = reflections.start_reflection(db, practitioner, review=review, title="Mine alone", body=SECRET_WORDS)
    db.commit()
    sign_in(client, make_user(db, role=Role.PRACTITIONER))
    for path in ("", "/edit", "/submit"):
        response = client.get(f"/reflections/{reflection.id}{path}")
        assert response.status_code == 404
        assert "Mine alone" not in response.text
    assert "Mine alone" not in client.get("/reflections").text


def test_the_list_pages_twenty_at_a_time_newest_change_first(as_practitioner, db, practitioner, review):
    for number in range(25):
        reflections.start_reflection(db, practitioner, review=review, title=f"Reflection {number:02d}", body="x")
    db.commit()
    first = as_practitioner.get("/reflections")
    titles = re.findall(r">(Reflection \d\d)</a></th>", first.text)
    assert len(titles) == 20 and titles[0] == "Reflection 24"
    assert "25 reflections, page 1 of 2" in text_of(first.text)
    second = as_practitioner.get("/reflections?page=2")
    assert re.findall(r">(Reflection \d\d)</a></th>", second.text)[-1] == "Reflection 00"
    assert as_practitioner.get("/reflections?page=3").status_code == 404


def test_the_list_makes_the_same_number_of_queries_however_many_reflections(as_practitioner, db, practitioner, review):
    events = [make_event(db, title=f"Event {n}") for n in range(3)]
    reflections.start_reflection(db, practitioner, event=events[0], title="One", body="x")
    db.commit()
    as_practitioner.get("/reflections")  # the first page after signing in also renews the session
    with counting_queries(db) as few:
        assert as_practitioner.get("/reflections").status_code == 200
    for number in range(30):
        if number % 2:
            reflections.start_reflection(db, practitioner, event=events[number % 3], title=f"E{number}", body="x")
        else:
            reflections.start_reflection(db, practitioner, review=review, title=f"R{number}", body="x")
    db.commit()
    with counting_queries(db) as many:
        assert as_practitioner.get("/reflections").status_code == 200
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.AUTHOR, Role.FAMILY])
def test_only_practitioners_have_reflections(client, db, role):
    sign_in(client, make_user(db, role=role))
    assert client.get("/reflections").status_code == 403
    assert client.get("/reflections/new").status_code == 403


# The cross-site scripting corpus, through the pages ------------------------------------------------


class ElementText(HTMLParser):
    """The markup inside the element with one id, and the text of another, from a whole page."""

    def __init__(self, markup_id: str, text_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.markup_id, self.text_id = markup_id, text_id
        self.inside: str | None = None
        self.depth = 0
        self.markup: list[str] = []
        self.text: list[str] = []
        self.tags_in_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.inside:
            self.depth += 1
            if self.inside == self.markup_id:
                self.markup.append(self.get_starttag_text())
            else:
                self.tags_in_text.append(tag)
        elif dict(attrs).get("id") in {self.markup_id, self.text_id}:
            self.inside, self.depth = dict(attrs)["id"], 0

    def handle_startendtag(self, tag, attrs):
        if self.inside == self.markup_id:
            self.markup.append(self.get_starttag_text())
        elif self.inside:
            self.tags_in_text.append(tag)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if self.depth == 0:
            self.inside = None
            return
        self.depth -= 1
        if self.inside == self.markup_id:
            self.markup.append(f"</{tag}>")

    def handle_data(self, data):
        if self.inside == self.markup_id:
            self.markup.append(data.replace("&", "&amp;").replace("<", "&lt;"))
        elif self.inside == self.text_id:
            self.text.append(data)

    def handle_comment(self, data):
        if self.inside:
            self.markup.append(f"<!--{data}-->")


def test_every_payload_saved_through_the_form_comes_back_harmless(as_practitioner, db, practitioner, review):
    failures = []
    bodies_shown = 0
    for payload in PAYLOADS:
        response = submit(as_practitioner, f"/reflections/new?review={review.id}", {"title": payload, "body": payload})
        assert response.status_code == 302, f"{payload!r} answered {response.status_code}"
        page = as_practitioner.get(response.headers["Location"])
        reflection = db.scalar(
            sa.select(Reflection).where(Reflection.author_id == practitioner.id).order_by(Reflection.id.desc()).limit(1)
        )
        stored = problems_in(reflection.body_html)
        found = ElementText("reflection-body", "reflection-title")
        found.feed(page.text)
        found.close()
        shown = problems_in("".join(found.markup))
        bodies_shown += bool(found.markup)
        # The title is plain text: the heading holds exactly what was typed, and no element at all.
        title_ok = "".join(found.text).strip() == payload.strip() and not found.tags_in_text
        if stored or shown or not title_ok:
            failures.append(f"{payload!r}: stored {stored}, shown {shown}, title intact {title_ok}")
    listing = as_practitioner.get("/reflections")
    assert "<script" not in listing.text.split("</header>", 1)[1].split('<script type="module"')[0]
    assert not failures, "\n".join(failures)
    # Many payloads leave words behind; the check above really read those pages' bodies.
    assert bodies_shown > len(PAYLOADS) // 3
