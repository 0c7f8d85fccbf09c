"""People, agencies and the records that keep their sign-in safe."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    PRACTITIONER = "practitioner"
    AUTHOR = "author"
    FAMILY = "family"

    @property
    def label(self) -> str:
        return {
            Role.COORDINATOR: "Coordinator",
            Role.PRACTITIONER: "Practitioner",
            Role.AUTHOR: "Independent author",
            Role.FAMILY: "Family member",
        }[self]

    @property
    def needs_two_factor(self) -> bool:
        # Coordinators and authors see every part of a review, so a password alone is not enough.
        return self in {Role.COORDINATOR, Role.AUTHOR}


ROLE_VALUES = tuple(role.value for role in Role)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)

    users: Mapped[list[User]] = relationship(back_populates="agency")


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),
        # Emails are stored lower-cased, which makes the unique constraint case-insensitive.
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
        sa.UniqueConstraint("sso_issuer", "sso_subject", name="uq_users_sso_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # A mobile number for text messages (family members who prefer them), in international form.
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    role: Mapped[str] = mapped_column(sa.String(20))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last time-step accepted, so a code seen once (over a shoulder, in a log) cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    sso_issuer: Mapped[str | None] = mapped_column(sa.String(500))
    sso_subject: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def needs_two_factor(self) -> bool:
        return self.role_enum.needs_two_factor

    def has_role(self, *roles: Role) -> bool:
        return self.role in {role.value for role in roles}


class UserSession(Base):
    """A signed-in (or signing-in) browser: the cookie holds only a random identifier for it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the cookie value: a copy of this table cannot be replayed as cookies.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    data: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(sa.String(40))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User | None] = relationship()


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A single-use code that stands in for the authenticator app when the phone is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used_at: Mapped[datetime | None]


class InvitationChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"  # a printed letter with a short code, typed on the invitation page


class Invitation(Base):
    """A single-use way in for a family member, bound to one person and one review."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.CheckConstraint(
            f"channel IN {tuple(channel.value for channel in InvitationChannel)!r}", name="channel_known"
        ),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Named as a table, not imported: reviews sit above security and import it.
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    # Only a hash of the link's token or the letter's code is kept: a copy of this table opens nothing.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Set when a newer invitation for the same person and review replaces this one.
    superseded_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SignInCode(Base):
    """A six-digit code sent to a family member signing in on a device we do not know yet."""

    __tablename__ = "sign_in_codes"
    __table_args__ = (
        sa.CheckConstraint("failed_attempts >= 0", name="failed_attempts_not_negative"),
        # Counting the codes sent to a person in the last hour is the query that throttles sending.
        sa.Index("ix_sign_in_codes_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    # Used, replaced by a newer code, or locked after too many wrong tries: it never works again.
    ended_at: Mapped[datetime | None]


class TrustedDevice(Base):
    """A browser a family member chose to have remembered, so it skips the second step for a while."""

    __tablename__ = "trusted_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # SHA-256 of the cookie's random value.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
