"""The outbox worker: due messages in order, retries with backoff, giving up, redaction, and surviving a crash."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.notifications import outbox, worker
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.notifications.senders import REDACTED_BODY, SmtpSender
from tests import databases
from tests.conftest import Mailbox, free_port, make_test_app
from tests.notifications.test_senders import Refusing


def put(db: Session, key: str, *, send_after: datetime | None = None, **fields) -> None:
    values = {"kind": "test", "to": f"{key.replace(':', '.')}@example.org", "subject": key, "body": f"About {key}"}
    outbox.enqueue(db, key=key, send_after=send_after, **{**values, **fields})


def stored(db: Session, key: str) -> OutboxMessage:
    return db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == key).execution_options(populate_existing=True)
    ).one()


def subjects(mailbox: Mailbox) -> list[str]:
    return [message["Subject"] for message in mailbox.messages]


def unreachable(config) -> dict:
    """The app's settings, with the mail server on a port where nothing listens."""
    return {**config, "MAIL_PORT": free_port()}


class Recording:
    """A sender that keeps what it was given, for tests about the worker rather than about SMTP."""

    def __init__(self):
        self.sent: list[str] = []

    def send(self, message: OutboxMessage) -> None:
        self.sent.append(message.idempotency_key)


def test_the_backoff_doubles_from_the_first_wait_up_to_an_hour():
    assert [worker.retry_delay(attempts, 30) for attempts in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
    ]
    assert worker.retry_delay(12, 30) == timedelta(hours=1)


def test_due_messages_go_oldest_first_and_later_ones_wait(app, db, mailbox):
    now = utcnow()
    put(db, "second", send_after=now - timedelta(minutes=1))
    put(db, "first", send_after=now - timedelta(minutes=2))
    put(db, "third", send_after=now - timedelta(minutes=1))
    put(db, "tomorrow", send_after=now + timedelta(days=1))
    db.commit()

    handled = worker.drain(db, SmtpSender(app.config), app.config)

    assert handled == 3
    assert subjects(mailbox) == ["first", "second", "third"]
    for key in ("first", "second", "third"):
        sent = stored(db, key)
        assert (sent.status, sent.attempts, sent.last_error) == (MessageStatus.SENT.value, 1, None)
        assert sent.sent_at is not None
    later = stored(db, "tomorrow")
    assert (later.status, later.attempts) == (MessageStatus.PENDING.value, 0)


def test_withdrawn_messages_are_never_sent(app, db, mailbox):
    put(db, "reminder:1:1")
    outbox.withdraw(db, key_prefix="reminder:1:")
    db.commit()

    assert worker.drain(db, SmtpSender(app.config), app.config) == 0
    assert mailbox.messages == []


def test_an_unreachable_server_leaves_the_message_pending_with_a_later_time(app, db, mailbox):
    put(db, "confirm:1")
    db.commit()
    config = unreachable(app.config)
    first_try = utcnow() + timedelta(seconds=1)

    assert worker.deliver_one(db, SmtpSender(config), config, now=lambda: first_try)

    message = stored(db, "confirm:1")
    assert message.status == MessageStatus.PENDING.value
    assert message.attempts == 1
    assert "could not reach the mail server" in message.last_error
    first_wait = worker.retry_delay(1, app.config["NOTIFY_RETRY_SECONDS"])
    assert message.send_after == first_try + first_wait
    # Not due again until then.
    assert not worker.deliver_one(db, SmtpSender(config), config, now=lambda: first_try + first_wait / 2)

    second_try = message.send_after
    assert worker.deliver_one(db, SmtpSender(config), config, now=lambda: second_try)
    message = stored(db, "confirm:1")
    assert message.attempts == 2
    assert message.send_after == second_try + worker.retry_delay(2, app.config["NOTIFY_RETRY_SECONDS"])
    assert message.send_after - second_try == 2 * first_wait
    assert mailbox.messages == []


def test_when_the_server_comes_back_every_message_arrives_exactly_once(app, db, mailbox):
    keys = [f"confirm:{number}" for number in range(4)]
    for key in keys:
        put(db, key)
    db.commit()
    down = unreachable(app.config)
    assert worker.drain(db, SmtpSender(down), down) == 4
    assert {stored(db, key).attempts for key in keys} == {1}

    later = utcnow() + timedelta(hours=2)
    handled = 0
    while worker.deliver_one(db, SmtpSender(app.config), app.config, now=lambda: later):
        handled += 1
    assert worker.drain(db, SmtpSender(app.config), app.config) == 0

    assert handled == 4
    assert Counter(subjects(mailbox)) == dict.fromkeys(keys, 1)
    for key in keys:
        message = stored(db, key)
        assert (message.status, message.attempts) == (MessageStatus.SENT.value, 2)


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
def test_a_refused_message_fails_at_once(app, db, step):
    handler = Refusing(step, "550 5.1.1 Mailbox unavailable")
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        put(db, "confirm:refused")
        db.commit()
        config = {**app.config, "MAIL_PORT": controller.port}
        assert worker.drain(db, SmtpSender(config), config) == 1
    finally:
        controller.stop()

    message = stored(db, "confirm:refused")
    assert message.status == MessageStatus.FAILED.value
    assert message.attempts == 1
    assert message.failed_at is not None
    assert message.sent_at is None
    assert "550" in message.last_error
    assert handler.accepted == 0


def test_after_the_last_attempt_the_message_is_given_up(app, db):
    put(db, "confirm:stuck")
    db.commit()
    config = {**unreachable(app.config), "NOTIFY_MAX_ATTEMPTS": 3}
    when = utcnow()

    for attempt in (1, 2, 3):
        assert worker.deliver_one(db, SmtpSender(config), config, now=lambda when=when: when)
        message = stored(db, "confirm:stuck")
        assert message.attempts == attempt
        if attempt < 3:
            assert message.status == MessageStatus.PENDING.value
            assert message.failed_at is None
            when = message.send_after

    assert message.status == MessageStatus.FAILED.value
    assert message.failed_at == when
    assert "could not reach the mail server" in message.last_error
    assert not worker.deliver_one(db, SmtpSender(config), config, now=lambda: when + timedelta(days=1))
    total, failed = outbox.failed_messages(db, offset=0, limit=10)
    assert (total, [row.idempotency_key for row in failed]) == (1, ["confirm:stuck"])


SECRET = "Reset your password: http://portal.test/reset/s3cr3t-t0ken"


def test_a_secret_is_delivered_and_then_removed_from_the_outbox(app, db, mailbox):
    put(db, "reset:1", body=SECRET, redact_after_send=True)
    put(db, "confirm:ordinary", body="Your place is confirmed.")
    db.commit()

    worker.drain(db, SmtpSender(app.config), app.config)

    [reset] = [m for m in mailbox.messages if m["Subject"] == "reset:1"]
    assert "s3cr3t-t0ken" in reset.get_payload(decode=True).decode()
    assert stored(db, "reset:1").body == REDACTED_BODY
    assert stored(db, "confirm:ordinary").body == "Your place is confirmed."


def test_a_secret_stays_while_retrying_and_is_removed_on_giving_up(app, db):
    put(db, "reset:2", body=SECRET, redact_after_send=True)
    db.commit()
    config = {**unreachable(app.config), "NOTIFY_MAX_ATTEMPTS": 2}
    when = utcnow()

    worker.deliver_one(db, SmtpSender(config), config, now=lambda: when)
    assert stored(db, "reset:2").body == SECRET, "the next attempt needs the body"

    worker.deliver_one(db, SmtpSender(config), config, now=lambda: stored(db, "reset:2").send_after)
    message = stored(db, "reset:2")
    assert message.status == MessageStatus.FAILED.value
    assert message.body == REDACTED_BODY


class DiesOnSecond:
    """A worker whose process is stopped (Ctrl+C, or killed) while it sends the second message."""

    def __init__(self):
        self.sent: list[str] = []

    def send(self, message: OutboxMessage) -> None:
        if len(self.sent) == 1:
            raise KeyboardInterrupt
        self.sent.append(message.idempotency_key)


def test_a_worker_stopped_mid_batch_loses_nothing_and_sends_nothing_twice(app, db):
    keys = [f"batch:{number}" for number in range(5)]
    start = utcnow() - timedelta(minutes=10)
    for offset, key in enumerate(keys):
        put(db, key, send_after=start + timedelta(seconds=offset))
    db.commit()
    sessions = app.extensions["portal.db"]

    dying = DiesOnSecond()
    with pytest.raises(KeyboardInterrupt):
        worker.work(sessions, dying, app.config, once=True)

    assert dying.sent == ["batch:0"]
    assert stored(db, "batch:0").status == MessageStatus.SENT.value
    for key in keys[1:]:
        message = stored(db, key)
        assert (message.status, message.attempts, message.sent_at) == (MessageStatus.PENDING.value, 0, None)

    next_worker = Recording()
    worker.work(sessions, next_worker, app.config, once=True)

    assert next_worker.sent == keys[1:]
    assert {stored(db, key).status for key in keys} == {MessageStatus.SENT.value}


def test_the_command_sends_what_is_due(app, db, mailbox):
    put(db, "confirm:cli")
    put(db, "reminder:cli", send_after=utcnow() + timedelta(days=2))
    db.commit()

    result = app.test_cli_runner().invoke(args=["notifications", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert "Sending notifications by smtp" in result.output
    assert subjects(mailbox) == ["confirm:cli"]
    assert stored(db, "confirm:cli").status == MessageStatus.SENT.value
    assert stored(db, "reminder:cli").status == MessageStatus.PENDING.value


# Several workers on PostgreSQL ---------------------------------------------------------------------

WORKERS = 8
MESSAGES = 200


@pytest.mark.skipif(
    databases.backend() != "postgresql", reason="SQLite (development) runs one worker: it has no row locks to skip"
)
def test_several_workers_share_one_outbox_and_send_each_message_once(tmp_path, smtp_server):
    # A database of its own: the workers commit for real, which the shared rolled-back one must never see.
    controller, mailbox = smtp_server
    mailbox.messages.clear()
    url, drop = databases.create_database(tmp_path)
    worker_app = make_test_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    sessions = worker_app.extensions["portal.db"]
    try:
        migrated = worker_app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert migrated.exit_code == 0, migrated.output
        keys = [f"load:{number}" for number in range(MESSAGES)]
        with sessions() as db:
            for key in keys:
                put(db, key)
            db.commit()

        start = threading.Barrier(WORKERS)
        sent_by: dict[str, list[str]] = {}
        failures: list[BaseException] = []

        class Counting(SmtpSender):
            def send(self, message: OutboxMessage) -> None:
                super().send(message)
                sent_by.setdefault(threading.current_thread().name, []).append(message.idempotency_key)

        def run() -> None:
            try:
                start.wait(timeout=30)
                worker.work(sessions, Counting(worker_app.config), worker_app.config, once=True)
            except BaseException as error:  # handed to the test thread, which fails with it
                failures.append(error)

        threads = [threading.Thread(target=run, name=f"worker-{number}") for number in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures

        assert Counter(subjects(mailbox)) == dict.fromkeys(keys, 1)
        assert len(sent_by) > 1, "one worker did everything: the others never got a message"
        with sessions() as db:
            rows = db.execute(
                sa.select(OutboxMessage.status, OutboxMessage.attempts, sa.func.count()).group_by(
                    OutboxMessage.status, OutboxMessage.attempts
                )
            ).all()
        assert rows == [(MessageStatus.SENT.value, 1, MESSAGES)]
    finally:
        mailbox.messages.clear()
        sessions.kw["bind"].dispose()
        drop()


def test_an_unexpected_error_in_one_message_does_not_stop_the_worker(app, db, caplog):
    class BrokenForOne:
        sent: list[str] = []

        def send(self, message):
            if message.subject == "Broken":
                raise UnicodeEncodeError("ascii", "é", 0, 1, "cannot be encoded")
            self.sent.append(message.subject)

    with app.app_context():
        for subject in ("Broken", "Fine"):
            outbox.enqueue(db, key=f"unexpected:{subject}", kind="test", to="a@example.org", subject=subject, body="x")
    db.commit()

    assert worker.drain(db, BrokenForOne(), app.config) == 2

    broken = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.subject == "Broken"))
    assert (broken.status, broken.attempts, broken.last_error) == (
        "pending",
        1,
        "unexpected error (UnicodeEncodeError)",
    )
    assert BrokenForOne.sent == ["Fine"]
    assert "unexpected error sending outbox message" in caplog.text
