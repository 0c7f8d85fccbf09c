"""Email delivery: SMTP in production, the console in development.

The console sender writes the whole message to standard output so a developer can follow a
password reset link; production refuses to start with it (see ``portal.config``).
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage

from flask import current_app


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send_email(to: str, subject: str, body: str) -> None:
    message = build_message(to, subject, body)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "console":
        print(f"\n----- email (not sent: development) -----\n{message}\n-----", file=sys.stdout, flush=True)
        return
    if backend != "smtp":
        raise RuntimeError(f"unknown PORTAL_MAIL_BACKEND {backend!r}: use smtp or console")
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
