"""Senders hand one outbox message to the outside world: SMTP or GOV.UK Notify, or the console in development.

A sender raises ``TemporaryFailure`` for problems worth trying again (the server is down, busy or
answers 4xx) and ``PermanentFailure`` when trying again cannot help (the address is refused, 5xx).
``sender_for`` gives the worker one sender that passes each message on by its channel.
"""

from __future__ import annotations

import logging
import smtplib
import sys
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol

from notifications_python_client.errors import APIError, InvalidResponse
from notifications_python_client.notifications import NotificationsAPIClient

from portal.config import NOTIFY_API_KEY_FORMAT, NOTIFY_API_URL
from portal.notifications.models import Channel, OutboxMessage

log = logging.getLogger(__name__)

REDACTED_BODY = "(Removed after sending: this message carried a secret link.)"


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def channel_of(message: OutboxMessage) -> str:
    """The message's channel; one not yet saved has none and, like the column's default, is an email."""
    return message.channel or Channel.EMAIL.value


def build_email(message: OutboxMessage, sender_address: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender_address
    email["To"] = message.to_address
    email["Subject"] = message.subject
    # The outbox id lets a receiving system spot a message delivered twice after a crash.
    email["Message-ID"] = f"<outbox-{message.id}-{message.idempotency_key.replace(':', '-')}@portal.invalid>"
    email.set_content(message.body)
    if message.attachment is not None:
        maintype, _, rest = message.attachment_type.partition("/")
        subtype, *parameters = [part.strip() for part in rest.split(";")]
        params = dict(parameter.split("=", 1) for parameter in parameters if "=" in parameter)
        email.add_attachment(
            message.attachment.encode(),
            maintype=maintype,
            subtype=subtype,
            filename=message.attachment_name,
            params=params,
        )
    return email


class ConsoleSender:
    """Development only: prints each message (production refuses to start with it)."""

    def __init__(self, sender_address: str):
        self.sender_address = sender_address

    def send(self, message: OutboxMessage) -> None:
        if channel_of(message) == Channel.SMS:
            text = f"To: {message.to_address}\n\n{message.body}"
            print(f"\n----- text message (not sent: development) -----\n{text}\n-----", file=sys.stdout, flush=True)
            return
        email = build_email(message, self.sender_address)
        print(f"\n----- email (not sent: development) -----\n{email}\n-----", file=sys.stdout, flush=True)


class SmtpSender:
    def __init__(self, config: Mapping):
        self.config = config

    def send(self, message: OutboxMessage) -> None:
        if channel_of(message) != Channel.EMAIL:
            raise PermanentFailure(f"the mail server sends email only, not {message.channel} messages")
        config = self.config
        email = build_email(message, config["MAIL_SENDER"])
        try:
            with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure)(
                f"the mail server refused the address ({', '.join(map(str, codes))})"
            ) from error
        except smtplib.SMTPResponseException as error:
            text = f"the mail server answered {error.smtp_code}"
            raise (PermanentFailure if error.smtp_code >= 500 else TemporaryFailure)(text) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"could not reach the mail server ({type(error).__name__})") from error


NOTIFY_ATTACHMENT_NOTES = {
    "REQUEST": (
        "This email cannot carry a calendar file. To add the event to your calendar, open the event page "
        "in the portal and choose Download calendar entry."
    ),
    "CANCEL": "This email cannot carry a calendar file. Please remove the event from your calendar yourself.",
}


def notify_email_body(message: OutboxMessage) -> str:
    """The email's text for Notify, which cannot attach a file to a plain template: say where to get it."""
    if message.attachment is None:
        return message.body
    method = "REQUEST"
    for parameter in (message.attachment_type or "").split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "method":
            method = value.strip().strip('"').upper()
    note = NOTIFY_ATTACHMENT_NOTES.get(method, NOTIFY_ATTACHMENT_NOTES["REQUEST"])
    return f"{message.body.rstrip()}\n\n{note}"


class NotifySender:
    """Email and text messages through GOV.UK Notify, each through a template showing what the portal wrote."""

    def __init__(self, config: Mapping, *, timeout: float = 15):
        self.api_key = config.get("GOVUK_NOTIFY_API_KEY") or ""
        self.email_template_id = config.get("GOVUK_NOTIFY_EMAIL_TEMPLATE_ID")
        self.sms_template_id = config.get("GOVUK_NOTIFY_SMS_TEMPLATE_ID")
        self.client = None
        if NOTIFY_API_KEY_FORMAT.fullmatch(self.api_key):
            self.client = NotificationsAPIClient(
                self.api_key, base_url=config.get("GOVUK_NOTIFY_BASE_URL") or NOTIFY_API_URL, timeout=timeout
            )

    def __repr__(self) -> str:
        # Never the key, even in a traceback's locals or a debugger.
        return f"<NotifySender email template {self.email_template_id} sms template {self.sms_template_id}>"

    def send(self, message: OutboxMessage) -> None:
        if self.client is None:
            raise PermanentFailure("PORTAL_GOVUK_NOTIFY_API_KEY is missing or not a GOV.UK Notify API key")
        channel = channel_of(message)
        if channel == Channel.EMAIL:
            send = self.client.send_email_notification
            fields = {
                "email_address": message.to_address,
                "template_id": self._template("EMAIL", self.email_template_id),
                "personalisation": {"subject": message.subject, "body": notify_email_body(message)},
            }
        elif channel == Channel.SMS:
            send = self.client.send_sms_notification
            fields = {
                "phone_number": message.to_address,
                "template_id": self._template("SMS", self.sms_template_id),
                "personalisation": {"body": message.body},
            }
        else:
            raise PermanentFailure(f"GOV.UK Notify cannot send {message.channel} messages")
        try:
            send(**fields, reference=message.idempotency_key)
        except InvalidResponse:
            # Notify said yes (2xx) but its answer could not be read: the message is on its way, and
            # trying again would send it twice.
            log.warning("GOV.UK Notify accepted outbox message %s with an unreadable answer", message.id)
        except APIError as error:
            raise self._failure(error) from None

    @staticmethod
    def _template(channel: str, template_id: str | None) -> str:
        if not template_id:
            raise PermanentFailure(f"PORTAL_GOVUK_NOTIFY_{channel}_TEMPLATE_ID is not set")
        return template_id

    def _failure(self, error: APIError) -> TemporaryFailure | PermanentFailure:
        # Raised "from None" and rebuilt from plain values: the client's exception holds the response and
        # so the request, whose signed token must not reach a log through a chained traceback.
        if error.response is None:
            reason = type(error.__cause__).__name__ if error.__cause__ else "no answer"
            return TemporaryFailure(f"could not reach GOV.UK Notify ({reason})")
        status = error.status_code
        text = self._without_key(f"GOV.UK Notify answered {status}: {_describe(error)}")
        if status == 429 or status >= 500:
            return TemporaryFailure(text)
        # 400 (a bad number or address, or a recipient a trial-mode key may not send to), 403 (the key
        # is wrong or revoked) and anything else: the same request would be refused again.
        return PermanentFailure(text)

    def _without_key(self, text: str) -> str:
        secret = self.api_key[-36:]
        for part in (self.api_key, secret):
            if part:
                text = text.replace(part, "[key removed]")
        return text


def _describe(error: APIError) -> str:
    message = error.message
    if isinstance(message, list):
        message = "; ".join(
            str(item.get("message") or item.get("error")) if isinstance(item, dict) else str(item) for item in message
        )
    return str(message)[:300]


class Undeliverable:
    """Stands in for a sender the settings do not provide, so the message is shown as not sent."""

    def __init__(self, reason: str):
        self.reason = reason

    def send(self, message: OutboxMessage) -> None:
        raise PermanentFailure(self.reason)


class ChannelSender:
    """Passes each message to the sender for its channel: email one way, text messages another."""

    def __init__(self, email: Sender, sms: Sender):
        self.email = email
        self.sms = sms

    def send(self, message: OutboxMessage) -> None:
        channel = channel_of(message)
        if channel == Channel.EMAIL:
            self.email.send(message)
        elif channel == Channel.SMS:
            self.sms.send(message)
        else:
            raise PermanentFailure(f"no sender for {message.channel!r} messages")


def sender_for(config: Mapping) -> ChannelSender:
    """The worker's sender: email by PORTAL_MAIL_BACKEND, text messages through Notify when a key is set."""
    backend = config["MAIL_BACKEND"]
    has_key = bool(config.get("GOVUK_NOTIFY_API_KEY"))
    notify = NotifySender(config) if has_key else None
    if backend == "console":
        email: Sender = ConsoleSender(config["MAIL_SENDER"])
    elif backend == "smtp":
        email = SmtpSender(config)
    elif backend == "notify":
        if notify is None:
            raise RuntimeError("PORTAL_MAIL_BACKEND is notify but PORTAL_GOVUK_NOTIFY_API_KEY is not set")
        email = notify
    else:
        raise RuntimeError(f"unknown PORTAL_MAIL_BACKEND {backend!r}: use smtp, notify or console")
    if notify is not None:
        sms: Sender = notify
    elif config.get("PORTAL_ENV") == "production":
        sms = Undeliverable("text messages need PORTAL_GOVUK_NOTIFY_API_KEY, which is not set")
    else:
        sms = ConsoleSender(config["MAIL_SENDER"])
    return ChannelSender(email, sms)
