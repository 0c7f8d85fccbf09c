"""Senders hand one outbox message to the outside world: SMTP in production, the console in development.

A sender raises ``TemporaryFailure`` for problems worth trying again (the server is down, busy or
answers 4xx) and ``PermanentFailure`` when trying again cannot help (the address is refused, 5xx).
"""

from __future__ import annotations

import smtplib
import sys
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol

from portal.notifications.models import OutboxMessage

REDACTED_BODY = "(Removed after sending: this message carried a secret link.)"


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


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
        email = build_email(message, self.sender_address)
        print(f"\n----- email (not sent: development) -----\n{email}\n-----", file=sys.stdout, flush=True)


class SmtpSender:
    def __init__(self, config: Mapping):
        self.config = config

    def send(self, message: OutboxMessage) -> None:
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


def sender_for(config: Mapping) -> Sender:
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        return ConsoleSender(config["MAIL_SENDER"])
    if backend == "smtp":
        return SmtpSender(config)
    raise RuntimeError(f"unknown PORTAL_MAIL_BACKEND {backend!r}: use smtp or console")
