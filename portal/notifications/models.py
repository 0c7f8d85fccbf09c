"""The outbox: every message the portal sends is first a row here, written with the change that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.security.models import User


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    # A letter is printed and given or posted by a named worker: no machine sends it. It waits in the
    # outbox as a task until the worker records it as handed over, and consent is checked then.
    LETTER = "letter"

    @property
    def label(self) -> str:
        return {Channel.EMAIL: "Email", Channel.SMS: "Text message", Channel.LETTER: "Letter"}[self]


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a worker (or for its send_after time)
    SENT = "sent"  # handed to the mail server
    FAILED = "failed"  # given up after the last attempt; shown to coordinators
    WITHDRAWN = "withdrawn"  # no longer true (a reminder for a cancelled place): never to be sent
    NOT_SENT = "not_sent"  # the person's consent did not cover it when its time came

    @property
    def label(self) -> str:
        return {
            MessageStatus.PENDING: "Waiting to send",
            MessageStatus.SENT: "Sent",
            MessageStatus.FAILED: "Not sent",
            MessageStatus.WITHDRAWN: "Withdrawn",
            MessageStatus.NOT_SENT: "Not sent: no consent",
        }[self]


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(f"channel IN {one_of(Channel)}", name="channel_known"),
        sa.CheckConstraint(f"status IN {one_of(MessageStatus)}", name="status_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        sa.CheckConstraint(
            "consent_scope IS NULL OR (recipient_id IS NOT NULL AND review_id IS NOT NULL)", name="consent_has_whose"
        ),
        # What workers look for: pending messages whose time has come, oldest first.
        sa.Index("ix_outbox_messages_due", "status", "send_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same key twice is the same message: a retried request or a re-run job never sends it again.
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(50))  # e.g. "event_confirmation", for people reading the log
    channel: Mapped[str] = mapped_column(sa.String(10), default=Channel.EMAIL.value)
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # A message that needs the recipient's consent names the scope and the review it is about; the
    # worker asks the consent ledger again at the moment of sending.
    consent_scope: Mapped[str | None] = mapped_column(sa.String(20))
    review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(320))  # for a letter: the worker who takes it
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    attachment_name: Mapped[str | None] = mapped_column(sa.String(100))
    attachment_type: Mapped[str | None] = mapped_column(sa.String(100))  # e.g. "text/calendar; method=REQUEST"
    attachment: Mapped[str | None] = mapped_column(sa.Text)
    # Messages carrying a secret (a password reset link) lose their body once sent or given up.
    redact_after_send: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default=MessageStatus.PENDING.value)
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    recipient: Mapped[User | None] = relationship()

    @property
    def status_enum(self) -> MessageStatus:
        return MessageStatus(self.status)

    @property
    def channel_enum(self) -> Channel:
        return Channel(self.channel)

    @property
    def status_label(self) -> str:
        if self.channel == Channel.LETTER.value:
            if self.status == MessageStatus.PENDING.value:
                return "Waiting for the worker to give it"
            if self.status == MessageStatus.SENT.value:
                return "Given or posted"
        return self.status_enum.label
