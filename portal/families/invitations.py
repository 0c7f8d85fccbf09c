"""Invitations that let a family member into the portal for the first time.

A family member has no agency account. They are let in by an invitation bound to them and to one
review: a link by email or text message, or a short code in a letter a worker gives them. It works
once, for 14 days, and only while they are still a family member of that review.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.notifications import outbox
from portal.notifications.models import Channel
from portal.reviews.models import Membership, MembershipKind
from portal.security import audit, services
from portal.security.models import Invitation, InvitationChannel, Role, User

LIFETIME = timedelta(days=14)
# No 0/O or 1/I: the code is read off paper and typed by hand. 32 symbols, so 5 bits each.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 50 bits: with typing throttled, far beyond guessing in 14 days


class InvitationRefused(ValueError):
    """This person cannot be invited to this review (not one of its family members)."""


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    NOT_A_MEMBER = "not a family member of the review"


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    # The letter's code, for the one page that prints it; None for links, which go out by message.
    code: str | None = None


def _link_hash(token: str) -> str:
    # A link token carries 256 random bits, so a plain hash cannot be reversed.
    return hashlib.sha256(token.encode()).hexdigest()


def _code_hash(code: str) -> str:
    # A letter code has only 50 bits: keyed with the app's secret, a copy of the table cannot be searched offline.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"invitation-code:{normalise_code(code)}".encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """The code as stored: capitals, without the spaces and hyphens people type."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def group_code(code: str) -> str:
    """'ABCDEFGHJK' as 'ABCD-EFGH-JK', easier to read and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def family_membership(db: Session, person_id: int, review_id: int) -> Membership | None:
    """The person's open family membership of the review, if they have one."""
    return db.scalar(
        sa.select(Membership).where(
            Membership.user_id == person_id,
            Membership.review_id == review_id,
            Membership.kind == MembershipKind.FAMILY.value,
            Membership.ended_at.is_(None),
        )
    )


def invite(db: Session, person: User, review_id: int, *, by: User, channel: InvitationChannel) -> IssuedInvitation:
    """Invite a family member to a review by email, text message or letter; older invitations stop working.

    Email and text messages are queued in the outbox (not consent-gated: this is how people are first
    asked). For a letter the code is returned once, to be printed; only its hash is kept.
    """
    channel = InvitationChannel(channel)
    if not person.has_role(Role.FAMILY) or family_membership(db, person.id, review_id) is None:
        raise InvitationRefused(f"{person.name} is not a family member of this review")
    if channel == InvitationChannel.SMS and not person.phone:
        raise InvitationRefused(f"There is no mobile number for {person.name}")
    now = utcnow()
    superseded = db.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id == person.id,
            Invitation.review_id == review_id,
            Invitation.used_at.is_(None),
            Invitation.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    ).rowcount
    if channel == InvitationChannel.LETTER:
        secret = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        secret_hash = _code_hash(secret)
    else:
        secret = secrets.token_urlsafe(32)
        secret_hash = _link_hash(secret)
    invitation = Invitation(
        user_id=person.id,
        review_id=review_id,
        channel=channel.value,
        secret_hash=secret_hash,
        created_by_id=by.id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.add(invitation)
    db.flush()
    if channel != InvitationChannel.LETTER:
        link = outbox.link_to("invitations.invitation", token=secret)
        message = Channel.SMS if channel == InvitationChannel.SMS else Channel.EMAIL
        template = "families/invitations/email.txt" if message == Channel.EMAIL else "families/invitations/sms.txt"
        outbox.enqueue(
            db,
            key=f"invitation:{invitation.id}",
            kind="family_invitation",
            to=person,
            subject="You are invited to take part in a review",
            body=render_template(template, person=person, link=link, expires_at=invitation.expires_at),
            channel=message,
            # The link lets someone in: once sent, the outbox keeps no readable copy.
            redact_after_send=True,
        )
    audit.record(
        db,
        "invitation.created",
        object_type="invitation",
        object_id=invitation.id,
        review_id=review_id,
        actor_id=by.id,
        details={"user_id": person.id, "channel": channel.value, "superseded": superseded},
    )
    return IssuedInvitation(invitation, group_code(secret) if channel == InvitationChannel.LETTER else None)


def _check(db: Session, invitation: Invitation | None) -> Refusal | None:
    if invitation is None:
        return Refusal.UNKNOWN
    if invitation.used_at is not None:
        return Refusal.USED
    if invitation.superseded_at is not None:
        return Refusal.SUPERSEDED
    if invitation.expires_at <= utcnow():
        return Refusal.EXPIRED
    if (
        not invitation.user.has_role(Role.FAMILY)
        or family_membership(db, invitation.user_id, invitation.review_id) is None
    ):
        return Refusal.NOT_A_MEMBER
    return None


def _usable(db: Session, invitation: Invitation | None, how: str) -> Invitation | None:
    refusal = _check(db, invitation)
    if refusal is None:
        return invitation
    audit.record(
        db,
        "invitation.refused",
        object_type="invitation",
        object_id=invitation.id if invitation else None,
        review_id=invitation.review_id if invitation else None,
        details={"reason": refusal.value, "how": how},
    )
    return None


def find_by_link(db: Session, token: str) -> Invitation | None:
    """The invitation a link opens, if it still may be used; refusals are audited."""
    invitation = db.scalar(
        sa.select(Invitation).where(
            Invitation.secret_hash == _link_hash(token), Invitation.channel != InvitationChannel.LETTER.value
        )
    )
    return _usable(db, invitation, "link")


def find_by_code(db: Session, code: str) -> Invitation | None:
    """The invitation a letter's code opens, if it still may be used; refusals are audited."""
    invitation = db.scalar(
        sa.select(Invitation).where(
            Invitation.secret_hash == _code_hash(code), Invitation.channel == InvitationChannel.LETTER.value
        )
    )
    return _usable(db, invitation, "letter code")


def still_usable(db: Session, invitation_id: int) -> Invitation | None:
    """An invitation found earlier in this browser, checked again (it may have been used or replaced since)."""
    return _usable(db, db.get(Invitation, invitation_id), "letter code")


def accept(db: Session, invitation: Invitation, password: str) -> User:
    """Use the invitation: set the person's password and activate them. The caller signs them in."""
    person = invitation.user
    invitation.used_at = utcnow()
    # A person invited twice to one review, or to two reviews, is let in once: other open links stop too.
    db.execute(
        sa.update(Invitation)
        .where(Invitation.user_id == person.id, Invitation.used_at.is_(None), Invitation.id != invitation.id)
        .values(superseded_at=invitation.used_at)
    )
    services.set_password(db, person, password)
    if not person.active:
        services.set_active(db, person, True, actor_id=person.id)
    audit.record(
        db,
        "invitation.used",
        object_type="invitation",
        object_id=invitation.id,
        review_id=invitation.review_id,
        actor_id=person.id,
        details={"channel": invitation.channel},
    )
    return person
