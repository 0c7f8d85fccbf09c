"""Senders: the SMTP sender against real mail servers on 127.0.0.1, and the console sender for development."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from portal.db import utcnow
from portal.notifications.models import OutboxMessage
from portal.notifications.senders import (
    ConsoleSender,
    PermanentFailure,
    SmtpSender,
    TemporaryFailure,
    build_email,
)
from tests.conftest import free_port

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def outbox_message(**fields) -> OutboxMessage:
    values = {
        "id": 41,
        "idempotency_key": "event_confirmation:3:1",
        "kind": "event_confirmation",
        "to_address": "priya.shah@example.org",
        "subject": "Your place is confirmed: Working with families",
        "body": "Dear Priya,\n\nYour place is confirmed.",
        "attachment": None,
        "attachment_name": None,
        "attachment_type": None,
        "send_after": utcnow(),
    }
    values.update(fields)
    return OutboxMessage(**values)


class Refusing:
    """A mail server that refuses at one step of the conversation with the given reply."""

    def __init__(self, step: str, reply: str):
        self.step, self.reply = step, reply
        self.accepted = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.step == "RCPT":
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.step == "DATA":
            return self.reply
        self.accepted += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def refusing_server() -> Iterator:
    started: list[Controller] = []

    def start(step: str, reply: str) -> tuple[Refusing, dict]:
        handler = Refusing(step, reply)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return handler, smtp_config(controller.port)

    yield start
    for controller in started:
        controller.stop()


def smtp_config(port: int) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_SENDER": "no-reply@portal.test",
    }


def test_the_smtp_sender_delivers_to_a_real_server(smtp_server):
    controller, mailbox = smtp_server
    mailbox.messages.clear()

    SmtpSender(smtp_config(controller.port)).send(outbox_message())

    [received] = mailbox.messages
    assert received["To"] == "priya.shah@example.org"
    assert received["From"] == "no-reply@portal.test"
    assert received["Subject"] == "Your place is confirmed: Working with families"
    assert "Your place is confirmed." in received.get_payload(decode=True).decode()
    assert received["Message-ID"].startswith("<outbox-41-")


def test_an_unreachable_server_is_a_temporary_failure():
    with pytest.raises(TemporaryFailure, match="could not reach the mail server"):
        SmtpSender(smtp_config(free_port())).send(outbox_message())


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
def test_a_5xx_answer_is_a_permanent_failure(refusing_server, step):
    handler, config = refusing_server(step, "550 5.1.1 Mailbox unavailable")
    with pytest.raises(PermanentFailure, match="550"):
        SmtpSender(config).send(outbox_message())
    assert handler.accepted == 0


@pytest.mark.parametrize("step", ["RCPT", "DATA"])
def test_a_4xx_answer_is_a_temporary_failure(refusing_server, step):
    _handler, config = refusing_server(step, "451 4.3.0 Try again later")
    with pytest.raises(TemporaryFailure, match="451"):
        SmtpSender(config).send(outbox_message())


def test_the_console_sender_prints_the_whole_message(capsys):
    ConsoleSender("no-reply@portal.test").send(outbox_message())

    printed = capsys.readouterr().out
    assert "not sent: development" in printed
    assert "To: priya.shah@example.org" in printed
    assert "Subject: Your place is confirmed: Working with families" in printed
    assert "Your place is confirmed." in printed


def test_a_calendar_attachment_is_a_proper_mime_part():
    message = outbox_message(
        attachment=CALENDAR, attachment_name="event.ics", attachment_type="text/calendar; method=REQUEST"
    )

    built = build_email(message, "no-reply@portal.test")
    # Read back as a mail program would, from the bytes on the wire.
    received = email.message_from_bytes(built.as_bytes(), policy=email.policy.default)

    assert received.get_content_type() == "multipart/mixed"
    assert received.get_body(("plain",)).get_content().startswith("Dear Priya,")
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "event.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content().replace("\r\n", "\n") == CALENDAR.replace("\r\n", "\n")


def test_a_message_without_an_attachment_is_plain_text():
    received = email.message_from_bytes(
        build_email(outbox_message(), "no-reply@portal.test").as_bytes(), policy=email.policy.default
    )
    assert received.get_content_type() == "text/plain"
    assert list(received.iter_attachments()) == []
