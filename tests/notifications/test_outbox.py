"""Putting messages in the outbox: once per key, in the caller's transaction, and withdrawn only while unsent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.notifications import outbox
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.security.models import Role
from tests.factories import make_user


def message(db: Session, key: str) -> OutboxMessage | None:
    return db.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == key).execution_options(populate_existing=True)
    )


def put(db: Session, key: str, **fields) -> None:
    values = {"kind": "test", "to": "someone@example.org", "subject": f"About {key}", "body": "Hello"}
    outbox.enqueue(db, key=key, **{**values, **fields})


def test_a_message_to_a_person_is_addressed_to_them(db):
    person = make_user(db, role=Role.PRACTITIONER)
    put(db, "welcome:1", to=person)

    stored = message(db, "welcome:1")
    assert (stored.to_address, stored.recipient_id) == (person.email, person.id)
    assert stored.status == MessageStatus.PENDING.value
    assert stored.attempts == 0


def test_the_same_key_twice_is_one_message(db):
    put(db, "confirm:7", subject="Your place is confirmed")
    put(db, "confirm:7", subject="Your place is confirmed (again)", body="A second copy")

    rows = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == "confirm:7")).all()
    assert len(rows) == 1
    assert (rows[0].subject, rows[0].body) == ("Your place is confirmed", "Hello")


def test_a_message_already_sent_is_not_queued_again_by_its_key(db):
    put(db, "confirm:8")
    sent = message(db, "confirm:8")
    sent.status, sent.sent_at = MessageStatus.SENT.value, utcnow()
    db.flush()

    put(db, "confirm:8")

    assert message(db, "confirm:8").status == MessageStatus.SENT.value
    assert db.scalar(sa.select(sa.func.count()).where(OutboxMessage.idempotency_key == "confirm:8")) == 1


def test_a_message_is_rolled_back_with_the_change_that_caused_it(db):
    with db.begin_nested() as change:
        put(db, "confirm:9")
        change.rollback()
    assert message(db, "confirm:9") is None


def test_withdrawing_stops_unsent_messages_with_the_prefix_and_leaves_sent_ones_alone(db):
    for key in ("reminder:4:1", "reminder:4:2", "reminder:4:3", "reminder:40:1", "other:reminder:4:1"):
        put(db, key, send_after=utcnow() + timedelta(days=3))
    already = message(db, "reminder:4:1")
    already.status, already.sent_at = MessageStatus.SENT.value, utcnow()
    gave_up = message(db, "reminder:4:3")
    gave_up.status, gave_up.failed_at = MessageStatus.FAILED.value, utcnow()
    db.flush()

    outbox.withdraw(db, key_prefix="reminder:4:")

    assert {key: message(db, key).status for key in ("reminder:4:1", "reminder:4:2", "reminder:4:3")} == {
        "reminder:4:1": MessageStatus.SENT.value,
        "reminder:4:2": MessageStatus.WITHDRAWN.value,
        "reminder:4:3": MessageStatus.FAILED.value,
    }
    # Neither a longer number with the same start nor a key containing the prefix elsewhere is touched.
    assert message(db, "reminder:40:1").status == MessageStatus.PENDING.value
    assert message(db, "other:reminder:4:1").status == MessageStatus.PENDING.value


def test_withdrawing_treats_wildcards_in_the_prefix_literally(db):
    put(db, "odd_%:1")
    put(db, "oddXY:1")

    outbox.withdraw(db, key_prefix="odd_%:")

    assert message(db, "odd_%:1").status == MessageStatus.WITHDRAWN.value
    assert message(db, "oddXY:1").status == MessageStatus.PENDING.value


def test_failed_messages_come_newest_first_with_the_total(db):
    now = utcnow()
    for number in range(3):
        put(db, f"failed:{number}")
        row = message(db, f"failed:{number}")
        row.status, row.failed_at, row.attempts = MessageStatus.FAILED.value, now + timedelta(minutes=number), 8
    put(db, "pending:1")
    db.flush()

    total, rows = outbox.failed_messages(db, offset=0, limit=2)

    assert total == 3
    assert [row.idempotency_key for row in rows] == ["failed:2", "failed:1"]
    assert [row.idempotency_key for row in outbox.failed_messages(db, offset=2, limit=2)[1]] == ["failed:0"]


def test_trying_again_queues_the_message_with_fresh_attempts(db):
    put(db, "failed:retry")
    row = message(db, "failed:retry")
    row.status, row.failed_at, row.attempts, row.last_error = MessageStatus.FAILED.value, utcnow(), 8, "refused"
    db.flush()

    outbox.try_again(db, row)
    db.flush()

    again = message(db, "failed:retry")
    assert again.status == MessageStatus.PENDING.value
    assert again.attempts == 0
    assert again.failed_at is None
    assert again.send_after <= utcnow()
