"""Putting messages in the outbox. Callers write in their own transaction; a worker sends after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.consent import ledger
from portal.consent.models import ConsentScope, choice_for
from portal.db import utcnow
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.notifications.senders import REDACTED_BODY
from portal.security.models import User

NO_CONSENT = "not sent: no consent for this channel at the time of sending"


def link_to(endpoint: str, **values) -> str:
    """A full link for a message, from the public address setting: messages outlive the request."""
    path = current_app.url_map.bind("portal").build(endpoint, values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # may carry parameters: "text/calendar; method=CANCEL"
    content: str


def enqueue(
    db: Session,
    *,
    key: str,
    kind: str,
    to: User | str,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
    send_after: datetime | None = None,
    redact_after_send: bool = False,
    channel: Channel = Channel.EMAIL,
    consent: tuple[ConsentScope, int] | None = None,
    letter_worker: str | None = None,
) -> None:
    """Queue one message in the caller's transaction; a second call with the same key does nothing.

    ``consent`` (scope, review id) makes sending depend on the recipient's consent at that moment.
    A letter names the ``letter_worker`` who will give it.
    """
    if consent is not None and not isinstance(to, User):
        raise ValueError("a message that needs consent must go to a person, not to a bare address")
    if (channel == Channel.LETTER) != bool(letter_worker):
        raise ValueError("a letter, and only a letter, names the worker who gives it")
    values = {
        "idempotency_key": key,
        "kind": kind,
        "channel": channel.value,
        "recipient_id": to.id if isinstance(to, User) else None,
        "to_address": letter_worker or _address_of(to, channel),
        "consent_scope": consent[0].value if consent else None,
        "review_id": consent[1] if consent else None,
        "subject": subject,
        "body": body,
        "attachment_name": attachment.filename if attachment else None,
        "attachment_type": attachment.content_type if attachment else None,
        "attachment": attachment.content if attachment else None,
        "redact_after_send": redact_after_send,
        "status": MessageStatus.PENDING.value,
        "send_after": send_after or utcnow(),
        "attempts": 0,
        "created_at": utcnow(),
    }
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["idempotency_key"]))


def _address_of(to: User | str, channel: Channel) -> str:
    if not isinstance(to, User):
        return to
    if channel == Channel.SMS:
        if not to.phone:
            raise ValueError(f"person {to.id} has no mobile number for a text message")
        return to.phone
    return to.email


def consent_holds(db: Session, message: OutboxMessage) -> bool:
    """Ask the ledger now, holding the person's row so a withdrawal waits until this send is over.

    ``ledger.record_choice`` takes the same row for update, so a choice is either seen by this check
    or made after the message has gone.
    """
    if message.consent_scope is None:
        return True
    db.execute(sa.select(User.id).where(User.id == message.recipient_id).with_for_update(read=True))
    scope, channel = choice_for(ConsentScope(message.consent_scope), message.channel)
    return ledger.allows(db, person_id=message.recipient_id, review_id=message.review_id, scope=scope, channel=channel)


def record_sent(message: OutboxMessage, at: datetime) -> None:
    message.status = MessageStatus.SENT.value
    message.sent_at = at
    message.last_error = None
    redact(message)


def record_no_consent(message: OutboxMessage, at: datetime) -> None:
    """The delivery log says why a message did not go: consent did not cover it when its time came."""
    message.status = MessageStatus.NOT_SENT.value
    message.last_error = NO_CONSENT
    message.failed_at = at
    redact(message)


def redact(message: OutboxMessage) -> None:
    if message.redact_after_send:
        message.body = REDACTED_BODY


def withdraw(db: Session, *, key_prefix: str) -> None:
    """Stop messages that have not gone yet (a reminder for a place given up). Sent ones stay sent."""
    db.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status == MessageStatus.PENDING.value,
        )
        .values(status=MessageStatus.WITHDRAWN.value)
    )


def failed_messages(db: Session, *, offset: int, limit: int) -> tuple[int, list[OutboxMessage]]:
    """Messages given up on, newest first, with how many there are."""
    where = OutboxMessage.status == MessageStatus.FAILED.value
    total = db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(where)) or 0
    rows = db.scalars(
        sa.select(OutboxMessage)
        .where(where)
        .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, list(rows)


def try_again(db: Session, message: OutboxMessage) -> None:
    """Put a message given up on back in the queue, with a fresh set of attempts."""
    message.status = MessageStatus.PENDING.value
    message.attempts = 0
    message.send_after = utcnow()
    message.failed_at = None
