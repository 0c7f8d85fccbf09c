"""The outbox asks the consent ledger again at the moment of sending: nothing goes without consent."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentScope
from portal.families import letters, services
from portal.families.models import PreferredChannel
from portal.notifications import outbox, worker
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.security.models import Role
from tests.factories import make_review, make_user

TEXT = "2026-11"


@dataclass
class Recorder:
    """A sender that keeps what it was asked to send, with the consent the ledger held at that moment."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, message: OutboxMessage) -> None:
        self.sent.append((message.channel, message.subject))


@pytest.fixture(autouse=True)
def context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def choose(db, person, review, channel: ConsentChannel, given: bool) -> None:
    ledger.record_choice(
        db,
        person=person,
        review_id=review.id,
        scope=ConsentScope.UPDATES,
        channel=channel,
        given=given,
        text_version=TEXT,
    )
    db.commit()


def queue_update(db, person, review, channel: Channel, subject: str) -> None:
    """Queue an update as the families pages do; a letter goes through the family's named worker."""
    outbox.enqueue(
        db,
        key=f"update:{person.id}:{subject}",
        kind="family_update",
        to=person,
        subject=subject,
        body="There is news about the review.",
        channel=channel,
        consent=(ConsentScope.UPDATES, review.id),
        letter_worker="Jo Smith" if channel == Channel.LETTER else None,
    )
    db.commit()


def family_member(db):
    person = make_user(db, role=Role.FAMILY)
    person.phone = "+447700900123"
    db.commit()
    return person


def test_messages_queued_before_a_withdrawal_are_never_sent_and_the_log_says_why(app, db):
    review = make_review(db)
    person = family_member(db)
    choose(db, person, review, ConsentChannel.EMAIL, True)
    for number in range(3):
        queue_update(db, person, review, Channel.EMAIL, f"Update {number}")

    ledger.withdraw_everything(db, person=person, review_id=review.id, text_version=TEXT)
    db.commit()
    sender = Recorder()
    assert worker.drain(db, sender, app.config) == 3

    assert sender.sent == []
    messages = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {(m.status, m.attempts) for m in messages} == {("not_sent", 0)}
    assert {m.status_enum.label for m in messages} == {"Not sent: no consent"}
    assert all("no consent" in m.last_error for m in messages)


def test_consent_is_per_channel(app, db):
    review = make_review(db)
    person = family_member(db)
    choose(db, person, review, ConsentChannel.SMS, True)
    queue_update(db, person, review, Channel.EMAIL, "By email")
    queue_update(db, person, review, Channel.SMS, "By text")

    sender = Recorder()
    worker.drain(db, sender, app.config)

    assert sender.sent == [("sms", "By text")]
    statuses = dict(db.execute(sa.select(OutboxMessage.subject, OutboxMessage.status)).all())
    assert statuses == {"By email": "not_sent", "By text": "sent"}


def test_a_message_that_needs_consent_must_name_a_person(db):
    review = make_review(db)
    with pytest.raises(ValueError, match="must go to a person"):
        outbox.enqueue(
            db,
            key="k",
            kind="family_update",
            to="someone@example.org",
            subject="s",
            body="b",
            consent=(ConsentScope.UPDATES, review.id),
        )


# Any history of choices and messages, in any order: each message is sent (or, for a letter, given by
# the named worker) if and only if the person's latest choice for its channel, at the moment the worker
# reaches it, was yes.
events = st.lists(
    st.one_of(
        st.tuples(st.just("choose"), st.sampled_from(list(ConsentChannel)), st.booleans()),
        st.tuples(st.just("queue"), st.sampled_from(list(Channel))),
        st.tuples(st.just("withdraw_all")),
        st.tuples(st.just("drain")),
    ),
    max_size=20,
)
readers = itertools.count()


def letter_reader(db, review):
    """A family member of the review with a mobile number and a named worker for letters."""
    coordinator = make_user(db, role=Role.COORDINATOR)
    details = services.FamilyDetails(
        name="Eve Reader",
        email=f"reader{next(readers)}@example.org",
        relationship_to_child="Aunt",
        preferred_channel=PreferredChannel.LETTER,
        phone="+447700900123",
        postal_address="1 Canal Street",
        letter_worker="Jo Smith",
    )
    member = services.add_family_member(db, review, details, coordinator)
    db.commit()
    return member.person, coordinator


def give_waiting_letters(db, review, worker_in_charge, sender: Recorder) -> None:
    """The named worker records each waiting letter; the portal says whether it may be given."""
    waiting = db.scalars(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.channel == Channel.LETTER.value, OutboxMessage.status == "pending"
        )
    ).all()
    for message_id in waiting:
        task = letters.load_letter(db, review, message_id)
        if letters.close_letter(db, task, worker_in_charge) == MessageStatus.SENT:
            sender.sent.append((Channel.LETTER.value, task.message.subject))
        db.commit()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=events)
def test_no_message_is_ever_sent_on_a_channel_without_consent_at_that_moment(app, db, history):
    review = make_review(db)
    person, coordinator = letter_reader(db, review)
    consent = dict.fromkeys(ConsentChannel, False)
    queued: list[tuple[Channel, str]] = []
    expected_sent: list[tuple[str, str]] = []
    sender = Recorder()

    def drain() -> None:
        for channel, subject in queued:
            if consent[ConsentChannel(channel.value)]:
                expected_sent.append((channel.value, subject))
        queued.clear()
        worker.drain(db, sender, app.config)
        give_waiting_letters(db, review, coordinator, sender)

    for number, event in enumerate(history):
        if event[0] == "choose":
            _, channel, yes = event
            choose(db, person, review, channel, yes)
            consent[channel] = yes
        elif event[0] == "queue":
            subject = f"Message {number}"
            queue_update(db, person, review, event[1], subject)
            queued.append((event[1], subject))
        elif event[0] == "withdraw_all":
            ledger.withdraw_everything(db, person=person, review_id=review.id, text_version=TEXT)
            db.commit()
            consent = dict.fromkeys(consent, False)
        else:
            drain()
    drain()

    assert sorted(sender.sent) == sorted(expected_sent)
    not_sent = db.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.recipient_id == person.id, OutboxMessage.status == "not_sent")
    )
    assert not_sent == sum(1 for event in history if event[0] == "queue") - len(expected_sent)


@pytest.mark.parametrize("given", [True, False])
def test_a_message_needing_a_choice_without_channels_follows_that_choice_on_any_channel(app, db, given):
    review = make_review(db)
    person = family_member(db)
    ledger.record_choice(
        db, person=person, review_id=review.id, scope=ConsentScope.AUTHOR_CONTACT, given=given, text_version=TEXT
    )
    for channel in (Channel.EMAIL, Channel.SMS):
        outbox.enqueue(
            db,
            key=f"question:{channel}",
            kind="contribution_request",
            to=person,
            subject=f"A question by {channel}",
            body="The author would like to hear from you.",
            channel=channel,
            consent=(ConsentScope.AUTHOR_CONTACT, review.id),
        )
    db.commit()
    sender = Recorder()
    worker.drain(db, sender, app.config)
    assert sender.sent == ([("email", "A question by email"), ("sms", "A question by sms")] if given else [])
