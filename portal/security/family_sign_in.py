"""The second step for family members signing in: a six-digit code, or a device they asked us to remember.

Family members have no agency account and often no authenticator app, so a new device is checked with
a code sent to their email (or phone). The code space is small, so tries are counted in the database:
a few wrong tries kill the code and only a few codes go out an hour, far too few to guess one.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.notifications import outbox
from portal.notifications.models import Channel
from portal.security import audit
from portal.security.models import SignInCode, TrustedDevice, User

CODE_LIFETIME = timedelta(minutes=15)
MAX_WRONG_TRIES = 5
MAX_CODES_PER_HOUR = 5
DEVICE_LIFETIME = timedelta(days=30)
DEVICE_COOKIE = "portal_device"


class CodeOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # try again
    DEAD = "dead"  # expired, used, replaced or locked: ask for a new code


def _code_hash(user_id: int, code: str) -> str:
    # A million possible codes: a plain hash would fall to a lookup table, so it is keyed with the app's secret.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sign-in-code:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def channel_for(user: User) -> Channel:
    """Where a person's codes go: their email when they have one, otherwise their phone."""
    return Channel.EMAIL if user.email else Channel.SMS


def codes_sent_in_the_last_hour(db: Session, user: User) -> int:
    since = utcnow() - timedelta(hours=1)
    return (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(SignInCode)
            .where(SignInCode.user_id == user.id, SignInCode.created_at > since)
        )
        or 0
    )


def send_code(db: Session, user: User) -> bool:
    """Send a new code, ending any earlier one. False when too many were sent in the last hour."""
    if codes_sent_in_the_last_hour(db, user) >= MAX_CODES_PER_HOUR:
        audit.record(db, "sign_in_code.limit_reached", object_type="user", object_id=user.id, actor_id=user.id)
        return False
    now = utcnow()
    db.execute(
        sa.update(SignInCode).where(SignInCode.user_id == user.id, SignInCode.ended_at.is_(None)).values(ended_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    record = SignInCode(
        user_id=user.id, code_hash=_code_hash(user.id, code), created_at=now, expires_at=now + CODE_LIFETIME
    )
    db.add(record)
    db.flush()
    channel = channel_for(user)
    template = "security/email/sign_in_code.txt" if channel == Channel.EMAIL else "security/sms/sign_in_code.txt"
    outbox.enqueue(
        db,
        key=f"sign_in_code:{record.id}",
        kind="sign_in_code",
        to=user,
        subject="Your code to sign in",
        body=render_template(template, person=user, code=code, minutes=int(CODE_LIFETIME.total_seconds() // 60)),
        channel=channel,
        redact_after_send=True,
    )
    audit.record(
        db,
        "sign_in_code.sent",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        details={"channel": channel.value},
    )
    return True


def current_code(db: Session, user: User) -> SignInCode | None:
    """The code that may still be used, if any."""
    record = db.scalar(
        sa.select(SignInCode)
        .where(SignInCode.user_id == user.id, SignInCode.ended_at.is_(None))
        .order_by(SignInCode.id.desc())
        .limit(1)
    )
    if record is None or record.expires_at <= utcnow() or record.failed_attempts >= MAX_WRONG_TRIES:
        return None
    return record


def check_code(db: Session, user: User, typed: str) -> CodeOutcome:
    """Check a typed code once. A right code works once; too many wrong tries end the code."""
    record = current_code(db, user)
    if record is None:
        audit.record(
            db, "sign_in_code.failed", object_type="user", object_id=user.id, details={"reason": "no live code"}
        )
        return CodeOutcome.DEAD
    typed = "".join(typed.split())
    if typed.isdigit() and len(typed) == 6 and hmac.compare_digest(record.code_hash, _code_hash(user.id, typed)):
        record.ended_at = utcnow()
        audit.record(db, "sign_in_code.accepted", object_type="user", object_id=user.id, actor_id=user.id)
        return CodeOutcome.ACCEPTED
    record.failed_attempts += 1
    if record.failed_attempts >= MAX_WRONG_TRIES:
        record.ended_at = utcnow()
        audit.record(db, "sign_in_code.locked", object_type="user", object_id=user.id)
        return CodeOutcome.DEAD
    audit.record(
        db, "sign_in_code.failed", object_type="user", object_id=user.id, details={"tries": record.failed_attempts}
    )
    return CodeOutcome.WRONG


# Remembered devices ------------------------------------------------------------------------------


def remember_device(db: Session, user: User) -> str:
    """Remember this browser for 30 days; returns the value for its cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    device = TrustedDevice(user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=now + DEVICE_LIFETIME)
    db.add(device)
    db.flush()
    audit.record(db, "device.remembered", object_type="trusted_device", object_id=device.id, actor_id=user.id)
    return token


def recognise_device(db: Session, user: User, token: str | None) -> bool:
    """True when the cookie is a remembered device of this person that has not expired."""
    if not token:
        return False
    device = db.scalar(
        sa.select(TrustedDevice).where(TrustedDevice.token_hash == _digest(token), TrustedDevice.user_id == user.id)
    )
    if device is None or device.expires_at <= utcnow():
        return False
    device.last_used_at = utcnow()
    audit.record(db, "device.recognised", object_type="trusted_device", object_id=device.id, actor_id=user.id)
    return True
