"""Draining the outbox: ``flask notifications work``.

Each message is claimed, sent and marked in one short transaction. On PostgreSQL the claim is
``FOR UPDATE SKIP LOCKED``, so any number of workers on any number of machines share the queue
without sending a message twice; a worker that dies mid-send holds no lease, its transaction is
rolled back and the message is still pending for the next one. SQLite (development) runs one worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.notifications import outbox
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.notifications.senders import PermanentFailure, Sender, TemporaryFailure

log = logging.getLogger(__name__)
LONGEST_WAIT = timedelta(hours=1)


def retry_delay(attempts: int, first_wait_seconds: int) -> timedelta:
    """Exponential backoff: the first wait after one failure, doubling each time, at most an hour."""
    return min(timedelta(seconds=first_wait_seconds * 2 ** (attempts - 1)), LONGEST_WAIT)


def claim_next(db: Session, now: datetime) -> OutboxMessage | None:
    """The oldest due message a machine can send: letters wait for the worker who gives them."""
    return db.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.PENDING.value,
            OutboxMessage.send_after <= now,
            OutboxMessage.channel != Channel.LETTER.value,
        )
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def deliver_one(db: Session, sender: Sender, config: Mapping, now: Callable[[], datetime] = utcnow) -> bool:
    """Send the next due message, if any, and commit what happened. False when nothing was due."""
    message = claim_next(db, now())
    if message is None:
        db.rollback()
        return False
    if not outbox.consent_holds(db, message):
        outbox.record_no_consent(message, now())
        db.commit()
        return True
    message.attempts += 1
    try:
        try:
            sender.send(message)
        except (TemporaryFailure, PermanentFailure):
            raise
        except Exception as error:
            # A fault of our own (a message that cannot be built, say) must not stop the worker and
            # every message behind it: it is tried again like any failure, then given up and shown.
            log.exception("unexpected error sending outbox message %s", message.id)
            raise TemporaryFailure(f"unexpected error ({type(error).__name__})") from error
    except (TemporaryFailure, PermanentFailure) as error:
        message.last_error = str(error)
        if isinstance(error, PermanentFailure) or message.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
            message.status = MessageStatus.FAILED.value
            message.failed_at = now()
            outbox.redact(message)
            log.warning("gave up on outbox message %s after %s attempts: %s", message.id, message.attempts, error)
        else:
            message.send_after = now() + retry_delay(message.attempts, config["NOTIFY_RETRY_SECONDS"])
            log.info("outbox message %s will be tried again at %s: %s", message.id, message.send_after, error)
    else:
        outbox.record_sent(message, now())
    db.commit()
    return True


def drain(db: Session, sender: Sender, config: Mapping, *, limit: int | None = None) -> int:
    """Send everything due now (or ``limit`` messages); the number handled."""
    handled = 0
    while limit is None or handled < limit:
        if not deliver_one(db, sender, config):
            break
        handled += 1
    return handled


def work(session_factory: Callable[[], Session], sender: Sender, config: Mapping, *, once: bool = False) -> None:
    """Keep draining the outbox, resting between empty polls, until stopped (or once, with ``once``)."""
    while True:
        with session_factory() as db:
            try:
                drain(db, sender, config)
            except sa.exc.OperationalError:
                # The database went away for a moment: nothing was lost, try again after a rest.
                log.exception("the outbox could not be read; trying again shortly")
                db.rollback()
        if once:
            return
        time.sleep(config["NOTIFY_POLL_SECONDS"])
