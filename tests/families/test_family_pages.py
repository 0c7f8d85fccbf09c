"""A family member's own pages: their reviews, the explanation, their choices, updates and stopping contact."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentMethod, ConsentRecord, ConsentScope
from portal.db import utcnow
from portal.families.explanation import EXPLANATION, EXPLANATION_VERSION
from portal.families.family_pages import UPDATES_PER_PAGE
from portal.families.models import FamilyUpdate
from portal.families.readability import readability
from portal.notifications import outbox
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.notifications.worker import drain
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.models import Role, User
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_membership, make_review, make_user
from tests.notifications.test_worker import Recording

ALL_YES = {
    "updates": "yes",
    "update_channels": ["email"],
    "author_contact": "yes",
    "contribute": "yes",
    "see_draft": "yes",
    "quote_anonymously": "yes",
}


# Headings, list items, labels and the like stand on lines of their own: a reader takes each as a
# sentence, so the reading age is measured that way too.
LINE_ENDS = re.compile(r"</(h[1-6]|p|li|legend|label|a|button|div|span)>|<br>", re.I)


def main_text(html: str) -> str:
    """The words of the page's main content, without the header, banners and footer."""
    match = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    assert match, "the page has no <main>"
    return text_of(match.group(1))


def reading_age(html: str) -> int:
    """The reading age of the page's main content, each line of it read as one sentence."""
    match = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    assert match, "the page has no <main>"
    words = text_of(LINE_ENDS.sub(lambda end: " . " + end.group(0), match.group(1)))
    # One full stop per line: a line that already ends a sentence, or holds no words, adds none.
    return readability(re.sub(r"([.?!:])(\s*\.)+", r"\1", words).lstrip(". ")).reading_age


def make_family_member(db, review: Review, **fields) -> User:
    person = make_user(db, role=Role.FAMILY, **fields)
    make_membership(db, review, person, MembershipKind.FAMILY)
    return person


def rows_of(db, person: User, review: Review) -> list[ConsentRecord]:
    return list(
        db.scalars(
            sa.select(ConsentRecord)
            .where(ConsentRecord.person_id == person.id, ConsentRecord.review_id == review.id)
            .order_by(ConsentRecord.id)
        )
    )


@pytest.fixture
def review(db) -> Review:
    return make_review(db, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child H")


@pytest.fixture
def person(db, review) -> User:
    return make_family_member(db, review, name="Sam Jones")


# Home ------------------------------------------------------------------------------------------------


def test_the_family_home_shows_only_their_own_reviews_and_where_each_has_reached(client, db, review, person):
    second = make_review(db, stage=Stage.PUBLISHED, anonymised_name="Child K")
    make_membership(db, second, person, MembershipKind.FAMILY)
    someone_elses = make_review(db, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child W")
    make_family_member(db, someone_elses)
    sign_in(client, person)

    page = main_text(client.get("/").text)

    assert "The review about Child H" in page
    assert "The review is going on now." in page
    assert "The review about Child K" in page
    assert "The report has been shared with the public." in page
    assert "Child W" not in page
    assert "CSPR" not in page
    html = client.get("/").text
    assert f'href="/family/reviews/{review.id}"' in html
    assert f'href="/family/reviews/{second.id}/updates"' in html
    assert f"/family/reviews/{someone_elses.id}" not in html


def test_every_page_offers_a_family_member_a_way_to_stop_all_contact(client, db, review, person):
    sign_in(client, person)
    for url in ("/", f"/family/reviews/{review.id}/updates", "/account/password"):
        assert 'href="/family/stop-contact">Stop all contact</a>' in client.get(url).text, url


def test_staff_are_not_shown_the_stop_contact_link(client, db):
    sign_in(client, make_user(db, role=Role.PRACTITIONER))
    assert "Stop all contact" not in client.get("/").text


# The explanation -------------------------------------------------------------------------------------


def test_the_explanation_page_is_easy_to_read_and_leads_to_the_choices(client, db, review, person):
    sign_in(client, person)
    response = client.get(f"/family/reviews/{review.id}")

    page = main_text(response.text)
    assert "What this review is and your choices" in page
    for section in EXPLANATION:
        assert section.heading in page
    assert "It is about learning, not blame." in page
    assert readability(page).reading_age <= 9, f"reading age {readability(page).reading_age}"
    assert reading_age(response.text) <= 9
    assert f'href="/family/reviews/{review.id}/choices"' in response.text
    assert "Choose what you agree to" in page
    assert review.reference not in response.text


FAMILY_PAGES = [
    "/",
    "/family/reviews/{review}",
    "/family/reviews/{review}/choices",
    "/family/reviews/{review}/your-choices",
    "/family/reviews/{review}/updates",
    "/family/stop-contact",
]


@pytest.mark.parametrize("url", FAMILY_PAGES)
def test_every_family_page_is_easy_to_read(client, db, review, person, url):
    sign_in(client, person)
    submit(client, f"/family/reviews/{review.id}/choices", ALL_YES)
    html = client.get(url.format(review=review.id)).text
    assert reading_age(html) <= 9, f"{url}: reading age {reading_age(html)}: {main_text(html)}"


def test_the_page_after_stopping_contact_is_easy_to_read(client, db, review, person):
    sign_in(client, person)
    assert reading_age(submit(client, "/family/stop-contact", {}).text) <= 9


# Choices ---------------------------------------------------------------------------------------------


def test_choices_are_recorded_with_the_version_read_and_said_back_in_plain_words(client, db, review, person):
    sign_in(client, person)
    response = submit(
        client,
        f"/family/reviews/{review.id}/choices",
        {**ALL_YES, "contribute": "no", "quote_anonymously": "no"},
    )
    assert response.status_code == 302
    summary = client.get(response.headers["Location"])

    page = main_text(summary.text)
    assert "Your choices are saved" in summary.text
    assert "We will send you updates about the review by email." in page
    assert "The person who writes the review can get in touch with you." in page
    assert "You do not want to tell us about your family for now." in page
    assert "You want to read the report before it is shared." in page
    assert "The report will not use your words." in page

    current = ledger.current_consent(db, person.id, review.id)
    assert {choice: record.given for choice, record in current.items()} == {
        (ConsentScope.UPDATES, ConsentChannel.EMAIL): True,
        (ConsentScope.UPDATES, ConsentChannel.SMS): False,
        (ConsentScope.UPDATES, ConsentChannel.LETTER): False,
        (ConsentScope.AUTHOR_CONTACT, None): True,
        (ConsentScope.CONTRIBUTE, None): False,
        (ConsentScope.SEE_DRAFT, None): True,
        (ConsentScope.QUOTE_ANONYMOUSLY, None): False,
    }
    for record in current.values():
        assert (record.text_version, record.method, record.recorded_by_id) == (
            EXPLANATION_VERSION,
            ConsentMethod.ONLINE.value,
            None,
        )


def test_only_changed_choices_are_added_to_the_ledger(client, db, review, person):
    sign_in(client, person)
    url = f"/family/reviews/{review.id}/choices"
    submit(client, url, ALL_YES)
    first = len(rows_of(db, person, review))

    submit(client, url, ALL_YES)
    assert len(rows_of(db, person, review)) == first, "saving the same answers again added rows"

    submit(client, url, {**ALL_YES, "see_draft": "no"})
    added = rows_of(db, person, review)[first:]
    assert first == 7  # the first answers: three ways to send updates and four other questions
    assert [(r.scope, r.channel, r.given, r.text_version) for r in added] == [
        ("see_draft", None, False, EXPLANATION_VERSION)
    ]


def test_changing_one_choice_adds_one_row(client, db, review):
    person = make_family_member(db, review, name="Alex Jones")
    person.phone = "07700 900123"
    db.commit()
    sign_in(client, person)
    url = f"/family/reviews/{review.id}/choices"
    submit(client, url, ALL_YES)
    before = len(rows_of(db, person, review))

    submit(client, url, {**ALL_YES, "update_channels": ["email", "sms"]})

    added = rows_of(db, person, review)[before:]
    assert [(r.scope, r.channel, r.given, r.text_version) for r in added] == [
        ("updates", "sms", True, EXPLANATION_VERSION)
    ]


def test_the_form_shows_the_choices_already_made(client, db, review, person):
    ledger.record_choice(
        db,
        person=person,
        review_id=review.id,
        scope=ConsentScope.UPDATES,
        channel=ConsentChannel.EMAIL,
        given=True,
        text_version="2026-01",
    )
    ledger.record_choice(
        db, person=person, review_id=review.id, scope=ConsentScope.SEE_DRAFT, given=False, text_version="2026-01"
    )
    db.commit()
    sign_in(client, person)

    html = client.get(f"/family/reviews/{review.id}/choices").text

    checked = re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([a-z]+)"[^>]*checked', html)
    assert sorted(checked) == [("see_draft", "no"), ("update_channels", "email"), ("updates", "yes")]
    assert f"To {person.email}" in html


def test_wanting_updates_needs_at_least_one_way_and_nothing_is_recorded_until_then(client, db, review, person):
    sign_in(client, person)
    response = submit(client, f"/family/reviews/{review.id}/choices", {**ALL_YES, "update_channels": []})

    assert response.status_code == 200
    assert "Choose at least one way for us to send you updates" in response.text
    assert response.text.count('href="#update_channels"') == 1
    # What they chose is still there.
    assert re.search(r'name="see_draft"[^>]*value="yes"[^>]*checked', response.text)
    assert rows_of(db, person, review) == []


def test_text_messages_need_a_mobile_number_and_the_person_is_told_kindly(client, db, review, person):
    assert person.phone is None
    sign_in(client, person)
    response = submit(client, f"/family/reviews/{review.id}/choices", {**ALL_YES, "update_channels": ["sms"]})

    assert response.status_code == 200
    assert "We do not have a mobile number for you. Choose another way. Or ask the review team to add it." in (
        response.text
    )
    assert re.search(r'name="update_channels"[^>]*value="sms"[^>]*checked', response.text)
    assert rows_of(db, person, review) == []


def test_no_updates_ignores_the_ways_ticked_and_withdraws_them(client, db, review, person):
    sign_in(client, person)
    url = f"/family/reviews/{review.id}/choices"
    submit(client, url, ALL_YES)

    submit(client, url, {**ALL_YES, "updates": "no", "update_channels": ["email", "sms"]})

    assert not ledger.allows(
        db, person_id=person.id, review_id=review.id, scope=ConsentScope.UPDATES, channel=ConsentChannel.EMAIL
    )
    summary = main_text(client.get(f"/family/reviews/{review.id}/your-choices").text)
    assert "We will not send you updates. You can still read them here." in summary


def test_every_question_must_be_answered(client, db, review, person):
    sign_in(client, person)
    response = submit(client, f"/family/reviews/{review.id}/choices", {"updates": "maybe"})

    for message in (
        "Select yes if we can send you updates about the review",
        "Select yes if the independent author can contact you",
        "Select yes if you want to tell the review about your family in your own words",
        "Select yes if you want to read the report before it is published",
        "Select yes if the report can use your words without your name",
    ):
        assert message in response.text
    assert rows_of(db, person, review) == []


# Stop all contact ------------------------------------------------------------------------------------


def test_stopping_all_contact_withdraws_everything_and_a_queued_update_is_not_sent(app, client, db, review, person):
    second = make_review(db, stage=Stage.CSPR_COMMISSIONED)
    make_membership(db, second, person, MembershipKind.FAMILY)
    sign_in(client, person)
    submit(client, f"/family/reviews/{review.id}/choices", ALL_YES)
    submit(client, f"/family/reviews/{second.id}/choices", {**ALL_YES, "contribute": "no"})
    outbox.enqueue(
        db,
        key=f"family-update:test:{person.id}",
        kind="family_update",
        to=person,
        subject="News about the review",
        body="The author has started to talk to people.",
        channel=Channel.EMAIL,
        consent=(ConsentScope.UPDATES, review.id),
    )
    db.commit()

    page = client.get("/family/stop-contact")
    assert "We cannot take back anything we have already sent." in page.text
    response = submit(client, "/family/stop-contact", {})

    assert response.status_code == 200
    assert "We have stopped all contact" in response.text
    for each in (review, second):
        current = ledger.current_consent(db, person.id, each.id)
        assert current and not any(record.given for record in current.values())
        assert all(record.text_version == EXPLANATION_VERSION for record in current.values())

    sender = Recording()
    drain(db, sender, app.config)

    assert sender.sent == []
    message = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient_id == person.id)).one()
    db.refresh(message)
    assert message.status == MessageStatus.NOT_SENT.value
    assert message.last_error.startswith("not sent: no consent")


def test_a_consented_update_is_sent_when_contact_has_not_stopped(app, client, db, review, person):
    sign_in(client, person)
    submit(client, f"/family/reviews/{review.id}/choices", ALL_YES)
    key = f"family-update:sent:{person.id}"
    outbox.enqueue(
        db,
        key=key,
        kind="family_update",
        to=person,
        subject="News",
        body="News",
        consent=(ConsentScope.UPDATES, review.id),
    )
    db.commit()
    sender = Recording()
    drain(db, sender, app.config)
    assert sender.sent == [key]


def test_stopping_contact_leaves_other_family_members_choices_alone(client, db, review, person):
    other = make_family_member(db, review)
    ledger.record_choice(
        db, person=other, review_id=review.id, scope=ConsentScope.SEE_DRAFT, given=True, text_version="2026-11"
    )
    db.commit()
    sign_in(client, person)
    submit(client, "/family/stop-contact", {})
    assert ledger.allows(db, person_id=other.id, review_id=review.id, scope=ConsentScope.SEE_DRAFT)


# Updates ---------------------------------------------------------------------------------------------


def write_update(db, review: Review, subject: str, body: str, *, days_ago: int = 0) -> FamilyUpdate:
    update = FamilyUpdate(
        review_id=review.id,
        subject=subject,
        body=body,
        written_by_id=review.created_by_id,
        created_at=utcnow() - timedelta(days=days_ago),
    )
    db.add(update)
    db.commit()
    return update


def test_updates_are_shown_newest_first_as_plain_text_with_line_breaks_kept(client, db, review, person):
    write_update(db, review, "The review has started", "First news.", days_ago=10)
    write_update(db, review, "Meeting the author", "Line one\nLine two\n\n<b>Not bold</b>", days_ago=1)
    write_update(db, make_review(db), "About someone else's review", "Private", days_ago=0)
    sign_in(client, person)

    html = client.get(f"/family/reviews/{review.id}/updates").text

    assert html.index("Meeting the author") < html.index("The review has started")
    assert "Line one<br>Line two</p>" in html
    assert "&lt;b&gt;Not bold&lt;/b&gt;" in html and "<b>Not bold</b>" not in html
    assert "About someone else" not in html


def test_updates_are_paginated_with_a_fixed_number_of_queries(client, db, review, person):
    for number in range(UPDATES_PER_PAGE + 3):
        write_update(db, review, f"Update number {number}", "Some news.", days_ago=number)
    sign_in(client, person)

    first = client.get(f"/family/reviews/{review.id}/updates")
    with counting_queries(db) as statements:
        second = client.get(f"/family/reviews/{review.id}/updates?page=2")

    assert "Update number 0<" in first.text and f"Update number {UPDATES_PER_PAGE}<" not in first.text
    assert f"Update number {UPDATES_PER_PAGE + 2}<" in second.text
    assert 'aria-label="Pages of updates"' in first.text
    assert client.get(f"/family/reviews/{review.id}/updates?page=9").status_code == 404
    few = len(statements)
    for number in range(20):
        write_update(db, review, f"More news {number}", "More.", days_ago=30 + number)
    with counting_queries(db) as statements:
        client.get(f"/family/reviews/{review.id}/updates?page=2")
    assert len(statements) == few


def test_a_review_with_no_updates_says_so(client, db, review, person):
    sign_in(client, person)
    assert "There are no updates yet." in client.get(f"/family/reviews/{review.id}/updates").text
