"""Updates for a review's family: delivered only where consent covers the channel when it is sent."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentScope
from portal.families import services
from portal.families.models import FamilyMember, FamilyUpdate, PreferredChannel
from portal.notifications import worker
from portal.notifications.models import Channel, OutboxMessage
from portal.notifications.senders import SmtpSender
from tests.conftest import submit, text_of
from tests.factories import make_review

HARD = (
    "The independent reviewer's comprehensive methodological considerations necessitated "
    "substantial reconsideration of the multi-agency chronological documentation, notwithstanding "
    "organisational interdependencies affecting contemporaneous safeguarding arrangements."
)
EASY = "We met today. The report is not done yet. We will write to you again soon. Thank you."


@dataclass
class TextsAndEmail:
    """A sender for the test worker: emails go to the real SMTP server; text messages are kept here."""

    email: SmtpSender
    texts: list[tuple[str, str]] = field(default_factory=list)

    def send(self, message: OutboxMessage) -> None:
        if message.channel == Channel.SMS.value:
            self.texts.append((message.to_address, message.body))
        else:
            self.email.send(message)


def add_member(db, review, actor, name: str, channel: PreferredChannel, **extra) -> FamilyMember:
    details = services.FamilyDetails(
        name=name,
        email=f"{name.lower()}@example.org",
        relationship_to_child="Aunt",
        preferred_channel=channel,
        **extra,
    )
    member = services.add_family_member(db, review, details, actor)
    db.commit()
    return member


def agree(db, member, channel: ConsentChannel, given: bool = True) -> None:
    ledger.record_choice(
        db,
        person=member.person,
        review_id=member.membership.review_id,
        scope=ConsentScope.UPDATES,
        channel=channel,
        given=given,
        text_version="2026-11",
    )
    db.commit()


def test_an_update_reaches_only_members_whose_consent_covers_their_channel(
    as_coordinator, app, db, coordinator, mailbox
):
    review = make_review(db, coordinator=coordinator)
    ann = add_member(db, review, coordinator, "Ann", PreferredChannel.EMAIL)
    ben = add_member(db, review, coordinator, "Ben", PreferredChannel.EMAIL)
    cat = add_member(db, review, coordinator, "Cat", PreferredChannel.SMS, phone="+447700900001")
    dan = add_member(db, review, coordinator, "Dan", PreferredChannel.SMS, phone="+447700900002")
    eve = add_member(
        db, review, coordinator, "Eve", PreferredChannel.LETTER, postal_address="2 Lane", letter_worker="Jo Smith"
    )
    agree(db, ann, ConsentChannel.EMAIL)
    agree(db, ben, ConsentChannel.EMAIL, given=False)
    agree(db, cat, ConsentChannel.SMS)
    agree(db, dan, ConsentChannel.EMAIL)  # agreed to email, but prefers text messages
    agree(db, eve, ConsentChannel.LETTER)

    response = submit(
        as_coordinator,
        f"/reviews/{review.id}/family/updates/new",
        {"subject": "News", "body": EASY, "send": "Send update"},
    )
    assert response.status_code == 302
    confirmation = text_of(as_coordinator.get(response.headers["Location"]).text)
    assert "1 of them get it by letter" in confirmation
    assert "Eve Letter through Jo Smith Waiting for the worker to give it" in confirmation
    assert "Ann Email Waiting to send" in confirmation

    sender = TextsAndEmail(SmtpSender(app.config))
    assert worker.drain(db, sender, app.config) == 4  # Eve's letter waits for Jo Smith
    assert [message["To"] for message in mailbox.messages] == ["ann@example.org"]
    assert mailbox.messages[0]["Subject"] == "News"
    assert [to for to, _body in sender.texts] == ["+447700900001"]
    assert EASY in sender.texts[0][1]

    statuses = dict(db.execute(sa.select(OutboxMessage.recipient_id, OutboxMessage.status)).all())
    assert statuses == {
        ann.person.id: "sent",
        ben.person.id: "not_sent",
        cat.person.id: "sent",
        dan.person.id: "not_sent",
        eve.person.id: "pending",
    }
    keys = set(db.scalars(sa.select(OutboxMessage.idempotency_key)))
    update = db.scalar(sa.select(FamilyUpdate))
    assert f"family_update:{update.id}:{cat.person.id}:sms" in keys

    ben_page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{ben.id}").text)
    assert "News Email Not sent: no consent" in ben_page and "not sent: no consent" in ben_page
    ann_page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{ann.id}").text)
    assert "News Email Sent" in ann_page

    listing = text_of(as_coordinator.get(f"/reviews/{review.id}/family/updates").text)
    assert "News" in listing
    # Sent 2, waiting 1 (the letter), no consent 2, not sent 0.
    assert "2 1 2 0" in listing


def test_consent_withdrawn_after_sending_is_queued_still_wins(as_coordinator, app, db, coordinator, mailbox):
    review = make_review(db, coordinator=coordinator)
    ann = add_member(db, review, coordinator, "Ann", PreferredChannel.EMAIL)
    agree(db, ann, ConsentChannel.EMAIL)
    submit(
        as_coordinator, f"/reviews/{review.id}/family/updates/new", {"subject": "News", "body": EASY, "send": "Send"}
    )
    submit(as_coordinator, f"/reviews/{review.id}/family/{ann.id}/consent", {"updates_email": "no"})

    assert mailbox.received() == []
    page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{ann.id}").text)
    assert "News Email Not sent: no consent" in page


def test_checking_the_reading_age_warns_for_hard_text_and_sends_nothing(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    url = f"/reviews/{review.id}/family/updates/new"
    hard = submit(as_coordinator, url, {"subject": "News", "body": HARD, "check": "Check reading age"})
    assert hard.status_code == 200
    assert "govuk-warning-text" in hard.text
    assert "above the target of 9" in text_of(hard.text)
    assert "comprehensive methodological" in hard.text, "the text is kept"

    easy = submit(as_coordinator, url, {"subject": "News", "body": EASY, "check": "Check reading age"})
    assert "govuk-warning-text" not in easy.text
    assert "within the target of 9" in text_of(easy.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(FamilyUpdate)) == 0


def test_hard_text_can_still_be_sent(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    url = f"/reviews/{review.id}/family/updates/new"
    assert submit(as_coordinator, url, {"subject": "News", "body": HARD, "send": "Send update"}).status_code == 302
    assert db.scalar(sa.select(FamilyUpdate.body)) == HARD


def test_an_update_with_no_subject_or_text_says_what_to_fix(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    response = submit(
        as_coordinator, f"/reviews/{review.id}/family/updates/new", {"subject": " ", "body": "", "send": "Send update"}
    )
    assert response.status_code == 200
    assert "Enter a subject" in response.text and "Enter the update" in response.text


def test_the_updates_list_is_paginated(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    for number in range(services.UPDATES_PER_PAGE + 1):
        services.send_update(db, review, f"Update {number}", EASY, coordinator)
    db.commit()
    first = text_of(as_coordinator.get(f"/reviews/{review.id}/family/updates").text)
    second = text_of(as_coordinator.get(f"/reviews/{review.id}/family/updates?page=2").text)
    assert first.count("Update ") >= services.UPDATES_PER_PAGE
    assert "Update 0 " in second and "Update 0 " not in first
