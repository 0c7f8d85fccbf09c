"""Coordinators see the messages the portal gave up on, and can send them again."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.db import utcnow
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.notifications.senders import REDACTED_BODY
from portal.security.audit import AuditEvent
from tests.conftest import submit, text_of


def failed_message(db, number: int = 1, **fields) -> OutboxMessage:
    now = utcnow()
    values = {
        "idempotency_key": f"test-failed-{number}-{now.timestamp()}",
        "kind": "event_confirmation",
        "to_address": f"nobody{number}@unreachable.example",
        "subject": f"Your place is confirmed: Briefing {number}",
        "body": f"The secret body of message {number}",
        "status": MessageStatus.FAILED.value,
        "attempts": 8,
        "last_error": "550 mailbox unavailable",
        "failed_at": now - timedelta(minutes=number),
    }
    values.update(fields)
    message = OutboxMessage(**values)
    db.add(message)
    db.commit()
    return message


def test_the_page_lists_what_was_given_up_on_but_never_the_body(as_coordinator, db):
    failed_message(db, 1)
    db.add(
        OutboxMessage(
            idempotency_key="sent-one",
            kind="event_reminder",
            to_address="fine@example.org",
            subject="Sent fine",
            body="x",
            status=MessageStatus.SENT.value,
            sent_at=utcnow(),
        )
    )
    db.commit()
    response = as_coordinator.get("/notifications/failed")
    words = text_of(response.text)
    assert "1 message not sent" in words
    assert (
        "nobody1@unreachable.example Your place is confirmed: Briefing 1 Event confirmation 8 550 mailbox unavailable"
        in words
    )
    assert "The secret body" not in response.text
    assert "Sent fine" not in words


def test_the_home_page_warns_when_messages_were_given_up_on(as_coordinator, db):
    assert "could not be sent" not in text_of(as_coordinator.get("/").text)
    failed_message(db, 1)
    failed_message(db, 2)
    home = as_coordinator.get("/")
    assert "2 messages could not be sent" in text_of(home.text)
    assert 'href="/notifications/failed"' in home.text


def test_trying_again_puts_the_message_back_in_the_queue_and_is_audited(as_coordinator, db):
    message = failed_message(db, 1)
    response = submit(as_coordinator, f"/notifications/{message.id}/try-again", {}, page="/notifications/failed")
    assert response.status_code == 302
    assert "will be sent again shortly" in text_of(as_coordinator.get(response.headers["Location"]).text)
    db.refresh(message)
    assert (message.status, message.attempts, message.failed_at) == (MessageStatus.PENDING.value, 0, None)
    audited = db.scalars(
        sa.select(AuditEvent.object_type).where(
            AuditEvent.action == "notification.try_again", AuditEvent.object_id == str(message.id)
        )
    ).all()
    assert audited == ["outbox_message"]
    # It is no longer among the failures, and a second try is a 404.
    assert "Every message has been sent" in text_of(as_coordinator.get("/notifications/failed").text)
    again = submit(as_coordinator, f"/notifications/{message.id}/try-again", {}, page="/notifications/failed")
    assert again.status_code == 404


def test_a_message_whose_secret_link_was_removed_is_not_sent_again(as_coordinator, db):
    message = failed_message(db, 1, kind="password_reset", redact_after_send=True, body=REDACTED_BODY)
    page = as_coordinator.get("/notifications/failed")
    assert "ask the person to request a new link" in text_of(page.text)
    assert f"/notifications/{message.id}/try-again" not in page.text
    response = submit(as_coordinator, f"/notifications/{message.id}/try-again", {}, page="/notifications/failed")
    assert "ask the person to request a new link" in text_of(as_coordinator.get(response.headers["Location"]).text)
    db.refresh(message)
    assert message.status == MessageStatus.FAILED.value


def test_the_list_is_paginated(as_coordinator, db):
    for number in range(30):
        failed_message(db, number)
    first = as_coordinator.get("/notifications/failed")
    assert "30 messages not sent, page 1 of 2" in text_of(first.text)
    assert first.text.count("unreachable.example</th>") == 25
    assert as_coordinator.get("/notifications/failed?page=2").text.count("unreachable.example</th>") == 5
    assert as_coordinator.get("/notifications/failed?page=9").text.count("unreachable.example</th>") == 5
