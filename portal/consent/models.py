"""Consent as an append-only ledger: every choice is a new row; current consent is the latest row.

The ledger sits below the notifications layer so the outbox can ask, at the moment of sending,
whether a person still agrees to hear from us on that channel, without importing any capability.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.security.models import User


class ConsentScope(enum.StrEnum):
    UPDATES = "updates"  # news about the review, on a chosen channel
    AUTHOR_CONTACT = "author_contact"  # the independent author may get in touch
    CONTRIBUTE = "contribute"  # they want to give their account in their own words
    SEE_DRAFT = "see_draft"  # they want to read the report before it is published
    QUOTE_ANONYMOUSLY = "quote_anonymously"  # their words may appear in the report without their name


class ConsentChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"


def choice_for(scope: ConsentScope, channel: str) -> tuple[ConsentScope, ConsentChannel | None]:
    """The ledger choice a message on ``channel`` needs: updates are agreed per channel, the rest are not."""
    return (scope, ConsentChannel(channel) if scope == ConsentScope.UPDATES else None)


class ConsentMethod(enum.StrEnum):
    ONLINE = "online"  # chosen by the person in the portal
    RECORDED_BY_STAFF = "recorded_by_staff"  # told to a worker in a conversation, who recorded it


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    __table_args__ = (
        sa.CheckConstraint(f"scope IN {one_of(ConsentScope)}", name="scope_known"),
        sa.CheckConstraint(f"channel IS NULL OR channel IN {one_of(ConsentChannel)}", name="channel_known"),
        sa.CheckConstraint(f"method IN {one_of(ConsentMethod)}", name="method_known"),
        # Updates are agreed channel by channel; the other scopes have no channel.
        sa.CheckConstraint("(scope = 'updates') = (channel IS NOT NULL)", name="channel_only_for_updates"),
        sa.CheckConstraint("method = 'online' OR recorded_by_id IS NOT NULL", name="staff_record_names_recorder"),
        sa.CheckConstraint("length(trim(text_version)) > 0", name="text_version_given"),
        # Finding the latest row for each choice is the one query the ledger answers.
        sa.Index("ix_consent_records_current", "person_id", "review_id", "scope", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str | None] = mapped_column(sa.String(10))
    given: Mapped[bool]
    # Which version of the explanation the person had read when they chose.
    text_version: Mapped[str] = mapped_column(sa.String(20))
    method: Mapped[str] = mapped_column(sa.String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
