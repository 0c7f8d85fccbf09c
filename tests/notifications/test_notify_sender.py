"""The GOV.UK Notify sender against a stand-in for Notify on 127.0.0.1, and routing messages by channel."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import sqlalchemy as sa

from portal.notifications import outbox, worker
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.notifications.senders import (
    ConsoleSender,
    NotifySender,
    PermanentFailure,
    SmtpSender,
    TemporaryFailure,
    sender_for,
)
from tests.conftest import free_port
from tests.factories import make_user
from tests.notifications.test_senders import CALENDAR, outbox_message, smtp_config

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"portal_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
SMS_TEMPLATE = "8e222534-7f05-4972-86e3-17c5d9f894e2"
MOBILE = "07700 900123"

# What Notify answers when it refuses, as its API documentation describes.
REFUSALS = {
    400: ("BadRequestError", "Can't send to this recipient using a team-only API key"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: ("RateLimitError", "Exceeded rate limit for key type TEAM of 3000 requests per 60 seconds"),
    500: ("Exception", "Internal server error"),
}
# Each template and the placeholders it was made with in Notify.
TEMPLATES = {EMAIL_TEMPLATE: ("email", {"subject", "body"}), SMS_TEMPLATE: ("sms", {"body"})}
RECIPIENT_FIELD = {"email": "email_address", "sms": "phone_number"}


@dataclass
class Received:
    path: str
    body: dict
    claims: dict
    problem: str | None  # why Notify would have refused the request itself; None when it is sound
    status: int


@dataclass
class FakeNotify:
    """Stands in for GOV.UK Notify: checks every request as Notify would, then answers like it."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    # Statuses to answer with, in order, before going back to accepting (201).
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0

    @property
    def accepted(self) -> list[Received]:
        return [request for request in self.received if request.status == 201]

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, dict]:
        claims: dict = {}
        try:
            body = json.loads(raw)
        except ValueError:
            return self._record(path, {}, claims, "the body is not JSON", 400)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
        except jwt.InvalidTokenError as error:
            return self._record(path, body, claims, f"token: {error}", 403)
        if claims["iss"] != SERVICE_ID:
            return self._record(path, body, claims, "token issued for another service", 403)
        if abs(time.time() - claims["iat"]) > 30:
            return self._record(path, body, claims, "token issued too long ago", 403)
        problem = self._problem_with(path, body)
        if problem:
            return self._record(path, body, claims, problem, 400)
        status = self.answers.pop(0) if self.answers else 201
        return self._record(path, body, claims, None, status)

    @staticmethod
    def _problem_with(path: str, body: dict) -> str | None:
        kind = path.removeprefix("/v2/notifications/")
        if kind not in RECIPIENT_FIELD:
            return f"no such endpoint {path}"
        template = TEMPLATES.get(body.get("template_id"))
        if template is None or template[0] != kind:
            return f"template {body.get('template_id')} is not a {kind} template"
        if not body.get(RECIPIENT_FIELD[kind]):
            return f"{RECIPIENT_FIELD[kind]} is missing"
        missing = template[1] - set(body.get("personalisation") or {})
        if missing:
            return f"Missing personalisation: {', '.join(sorted(missing))}"
        if not body.get("reference"):
            return "no reference"
        return None

    def _record(self, path: str, body: dict, claims: dict, problem: str | None, status: int) -> tuple[int, dict]:
        self.received.append(Received(path, body, claims, problem, status))
        if status != 201:
            error, message = REFUSALS.get(status, ("BadRequestError", problem or "refused"))
            if problem:
                message = problem
            return status, {"errors": [{"error": error, "message": message}], "status_code": status}
        kind = path.removeprefix("/v2/notifications/")
        content = {"body": body["personalisation"]["body"]}
        if kind == "email":
            content |= {"subject": body["personalisation"]["subject"], "from_email": "portal@notifications.test"}
        else:
            content |= {"from_number": "GOVUK"}
        notification_id = str(uuid.uuid4())
        return 201, {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"{self.url}/v2/notifications/{notification_id}",
            "template": {
                "id": body["template_id"],
                "version": 1,
                "uri": f"{self.url}/v2/template/{body['template_id']}",
            },
        }


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    fake = FakeNotify()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(fake.delay)
            status, answer = fake.answer(self.path, self.headers, raw)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def notify_settings(notify: FakeNotify, **overrides) -> dict:
    return {
        "PORTAL_ENV": "development",
        "MAIL_BACKEND": "notify",
        "MAIL_SENDER": "no-reply@portal.test",
        "GOVUK_NOTIFY_API_KEY": API_KEY,
        "GOVUK_NOTIFY_BASE_URL": notify.url,
        "GOVUK_NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
        "GOVUK_NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
        **overrides,
    }


def text_message(**fields) -> OutboxMessage:
    values = {
        "channel": Channel.SMS.value,
        "idempotency_key": "event_reminder:3:1",
        "kind": "event_reminder",
        "to_address": MOBILE,
        "subject": "Reminder: Working with families",
        "body": "Reminder: Working with families is on Tuesday 3 March at 9:30am.",
    }
    return outbox_message(**{**values, **fields})


# Sending --------------------------------------------------------------------------------------


def test_an_email_goes_to_notify_once_through_the_email_template(notify):
    NotifySender(notify_settings(notify)).send(outbox_message(channel=Channel.EMAIL.value))

    [request] = notify.received
    assert request.problem is None
    assert request.path == "/v2/notifications/email"
    assert request.body == {
        "email_address": "priya.shah@example.org",
        "template_id": EMAIL_TEMPLATE,
        "personalisation": {
            "subject": "Your place is confirmed: Working with families",
            "body": "Dear Priya,\n\nYour place is confirmed.",
        },
        "reference": "event_confirmation:3:1",
    }
    assert request.claims["iss"] == SERVICE_ID
    assert request.status == 201


def test_a_text_message_goes_to_notify_once_through_the_text_template(notify):
    NotifySender(notify_settings(notify)).send(text_message())

    [request] = notify.received
    assert request.problem is None
    assert request.path == "/v2/notifications/sms"
    assert request.body == {
        "phone_number": MOBILE,
        "template_id": SMS_TEMPLATE,
        "personalisation": {"body": "Reminder: Working with families is on Tuesday 3 March at 9:30am."},
        "reference": "event_reminder:3:1",
    }
    assert request.claims["iss"] == SERVICE_ID


def test_a_calendar_invitation_is_sent_as_an_email_saying_where_to_download_the_entry(notify):
    message = outbox_message(
        channel=Channel.EMAIL.value,
        attachment=CALENDAR,
        attachment_name="event.ics",
        attachment_type="text/calendar; method=REQUEST",
    )

    NotifySender(notify_settings(notify)).send(message)

    [request] = notify.accepted
    body = request.body["personalisation"]["body"]
    assert body.startswith("Dear Priya,\n\nYour place is confirmed.\n\n")
    assert body.endswith("open the event page in the portal and choose Download calendar entry.")
    assert "BEGIN:VCALENDAR" not in json.dumps(request.body)


def test_a_cancelled_calendar_entry_asks_the_person_to_remove_it_themselves(notify):
    message = outbox_message(
        channel=Channel.EMAIL.value,
        attachment=CALENDAR.replace("REQUEST", "CANCEL"),
        attachment_name="cancelled.ics",
        attachment_type="text/calendar; method=CANCEL",
    )

    NotifySender(notify_settings(notify)).send(message)

    [request] = notify.accepted
    assert request.body["personalisation"]["body"].endswith("Please remove the event from your calendar yourself.")
    assert "Download calendar entry" not in request.body["personalisation"]["body"]


# Failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "explained"), [(400, "team-only API key"), (403, "Invalid token: API key not found")]
)
def test_a_refused_request_is_a_permanent_failure(notify, status, explained):
    notify.answers = [status]

    with pytest.raises(PermanentFailure) as failure:
        NotifySender(notify_settings(notify)).send(text_message())

    assert str(failure.value).startswith(f"GOV.UK Notify answered {status}")
    assert explained in str(failure.value)
    assert SECRET not in str(failure.value)


@pytest.mark.parametrize(("status", "explained"), [(429, "Exceeded rate limit"), (500, "Internal server error")])
def test_a_busy_or_broken_notify_is_a_temporary_failure(notify, status, explained):
    notify.answers = [status]

    with pytest.raises(TemporaryFailure, match=f"GOV.UK Notify answered {status}: {explained}"):
        NotifySender(notify_settings(notify)).send(outbox_message(channel=Channel.EMAIL.value))


def test_notify_out_of_reach_is_a_temporary_failure(notify):
    settings = notify_settings(notify, GOVUK_NOTIFY_BASE_URL=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(TemporaryFailure, match=r"could not reach GOV.UK Notify \(ConnectionError\)"):
        NotifySender(settings).send(text_message())


def test_notify_too_slow_to_answer_is_a_temporary_failure(notify):
    notify.delay = 1.0

    with pytest.raises(TemporaryFailure, match=r"could not reach GOV.UK Notify \(ReadTimeout\)"):
        NotifySender(notify_settings(notify), timeout=0.2).send(text_message())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("GOVUK_NOTIFY_EMAIL_TEMPLATE_ID", outbox_message(channel=Channel.EMAIL.value)),
        ("GOVUK_NOTIFY_SMS_TEMPLATE_ID", text_message()),
    ],
)
def test_a_missing_template_is_named_and_nothing_is_sent(notify, setting, message):
    with pytest.raises(PermanentFailure, match=f"PORTAL_{setting} is not set"):
        NotifySender(notify_settings(notify, **{setting: None})).send(message)

    assert notify.received == []


def test_a_key_that_is_not_a_notify_key_sends_nothing_and_is_not_repeated(notify):
    with pytest.raises(PermanentFailure) as failure:
        NotifySender(notify_settings(notify, GOVUK_NOTIFY_API_KEY="not-a-real-key")).send(text_message())

    assert "PORTAL_GOVUK_NOTIFY_API_KEY" in str(failure.value)
    assert "not-a-real-key" not in str(failure.value)
    assert notify.received == []


def test_the_sender_never_shows_its_key(notify):
    assert SECRET not in repr(NotifySender(notify_settings(notify)))


# Through the worker ---------------------------------------------------------------------------


def queue_text(db, key: str = "event_reminder:1:1") -> None:
    person = make_user(db)
    person.phone = MOBILE
    outbox.enqueue(
        db,
        key=key,
        kind="event_reminder",
        to=person,
        subject="Reminder",
        body="Your event is tomorrow at 9:30am.",
        channel=Channel.SMS,
    )
    db.commit()


def stored(db, key: str = "event_reminder:1:1") -> OutboxMessage:
    return db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == key).execution_options(populate_existing=True)
    ).one()


@pytest.mark.parametrize("status", [429, 500])
def test_the_worker_tries_again_after_a_temporary_failure_and_delivers_exactly_once(app, db, notify, caplog, status):
    caplog.set_level(logging.DEBUG)
    config = {**app.config, **notify_settings(notify)}
    sender = sender_for(config)
    queue_text(db)
    notify.answers = [status]

    assert worker.drain(db, sender, config) == 1
    waiting = stored(db)
    assert waiting.status == MessageStatus.PENDING.value
    assert f"GOV.UK Notify answered {status}" in waiting.last_error
    assert notify.accepted == []

    later = waiting.send_after + timedelta(seconds=1)
    assert worker.deliver_one(db, sender, config, now=lambda: later)
    assert not worker.deliver_one(db, sender, config, now=lambda: later + timedelta(days=1))

    sent = stored(db)
    assert sent.status == MessageStatus.SENT.value
    assert sent.attempts == 2
    [delivered] = notify.accepted
    assert delivered.body["phone_number"] == MOBILE
    assert delivered.body["personalisation"] == {"body": "Your event is tomorrow at 9:30am."}
    assert delivered.body["reference"] == "event_reminder:1:1"
    assert len(notify.received) == 2
    assert SECRET not in caplog.text and API_KEY not in caplog.text


@pytest.mark.parametrize("status", [400, 403])
def test_the_worker_gives_up_at_once_on_a_refusal_without_revealing_the_key(app, db, notify, caplog, status):
    caplog.set_level(logging.DEBUG)
    config = {**app.config, **notify_settings(notify)}
    queue_text(db)
    notify.answers = [status]

    assert worker.drain(db, sender_for(config), config) == 1

    failed = stored(db)
    assert failed.status == MessageStatus.FAILED.value
    assert failed.attempts == 1
    assert failed.last_error.startswith(f"GOV.UK Notify answered {status}")
    assert len(notify.received) == 1
    for secret in (SECRET, API_KEY):
        assert secret not in failed.last_error
        assert secret not in caplog.text


# Routing by channel ---------------------------------------------------------------------------


def test_with_smtp_for_email_text_messages_still_go_through_notify(notify, smtp_server):
    controller, mailbox = smtp_server
    mailbox.messages.clear()
    settings = {**smtp_config(controller.port), **notify_settings(notify, MAIL_BACKEND="smtp")}
    sender = sender_for(settings)

    sender.send(outbox_message(channel=Channel.EMAIL.value))
    sender.send(text_message())

    [email] = mailbox.messages
    assert email["To"] == "priya.shah@example.org"
    [request] = notify.accepted
    assert request.path == "/v2/notifications/sms"
    assert request.body["phone_number"] == MOBILE


def test_with_notify_for_email_both_channels_go_through_notify(notify):
    sender = sender_for(notify_settings(notify))

    sender.send(outbox_message(channel=Channel.EMAIL.value))
    sender.send(text_message())

    assert [request.path for request in notify.accepted] == ["/v2/notifications/email", "/v2/notifications/sms"]


def test_in_development_without_a_key_text_messages_are_printed(capsys):
    settings = {"MAIL_BACKEND": "console", "MAIL_SENDER": "no-reply@portal.test", "PORTAL_ENV": "development"}

    sender_for(settings).send(text_message())

    printed = capsys.readouterr().out
    assert "text message (not sent: development)" in printed
    assert f"To: {MOBILE}" in printed
    assert "Reminder: Working with families is on Tuesday 3 March at 9:30am." in printed


def test_with_a_key_text_messages_go_through_notify_even_while_email_is_printed(notify, capsys):
    sender_for(notify_settings(notify, MAIL_BACKEND="console")).send(text_message())

    assert len(notify.accepted) == 1
    assert "text message" not in capsys.readouterr().out


def test_in_production_without_a_key_a_text_message_fails_and_says_why():
    settings = {**smtp_config(25), "MAIL_BACKEND": "smtp", "PORTAL_ENV": "production"}

    with pytest.raises(PermanentFailure, match="PORTAL_GOVUK_NOTIFY_API_KEY"):
        sender_for(settings).send(text_message())


def test_the_mail_server_is_never_given_a_text_message(smtp_server):
    controller, mailbox = smtp_server
    mailbox.messages.clear()

    with pytest.raises(PermanentFailure, match="email only"):
        SmtpSender(smtp_config(controller.port)).send(text_message())

    assert mailbox.messages == []


def test_email_through_notify_needs_a_key(notify):
    with pytest.raises(RuntimeError, match="PORTAL_GOVUK_NOTIFY_API_KEY is not set"):
        sender_for(notify_settings(notify, GOVUK_NOTIFY_API_KEY=None))


def test_the_backend_setting_chooses_the_email_sender(notify):
    settings = {**smtp_config(25), **notify_settings(notify)}

    assert isinstance(sender_for({**settings, "MAIL_BACKEND": "smtp"}).email, SmtpSender)
    assert isinstance(sender_for({**settings, "MAIL_BACKEND": "console"}).email, ConsoleSender)
    assert isinstance(sender_for(settings).email, NotifySender)
    with pytest.raises(RuntimeError, match="unknown PORTAL_MAIL_BACKEND 'carrier-pigeon': use smtp, notify or console"):
        sender_for({**settings, "MAIL_BACKEND": "carrier-pigeon"})


def test_the_stand_in_refuses_a_token_signed_with_another_secret(notify):
    other_key = f"portal_test-{SERVICE_ID}-{uuid.uuid4()}"

    with pytest.raises(PermanentFailure, match=r"GOV\.UK Notify answered 403"):
        NotifySender(notify_settings(notify, GOVUK_NOTIFY_API_KEY=other_key)).send(text_message())

    [request] = notify.received
    assert request.problem.startswith("token")
    assert notify.accepted == []
