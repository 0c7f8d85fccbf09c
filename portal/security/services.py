"""Rules for people and their credentials. Plain functions over a Session; routes stay thin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.security import audit
from portal.security.models import Agency, PasswordResetToken, RecoveryCode, Role, TrustedDevice, User
from portal.security.passwords import hash_password, needs_rehash, verify_password
from portal.security.sessions import end_sessions

RECOVERY_CODE_COUNT = 10


class UserExists(ValueError):
    """Someone already has this email address."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_or_create_agency(db: Session, name: str) -> Agency:
    agency = db.scalar(sa.select(Agency).where(Agency.name == name))
    if agency is None:
        agency = Agency(name=name)
        db.add(agency)
        db.flush()
        audit.record(db, "agency.created", object_type="agency", object_id=agency.id, details={"name": name})
    return agency


def create_user(
    db: Session,
    *,
    email: str,
    name: str,
    role: Role,
    agency: Agency | None = None,
    password: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Register a person; they sign in with a password (if given now or reset later) or single sign-on."""
    if find_user_by_email(db, email) is not None:
        raise UserExists(email)
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role.value,
        agency=agency,
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        "user.created",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
        details={"role": role.value, "agency": agency.name if agency else None},
    )
    return user


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The active person with this email and password, or None — at the same cost whichever check fails."""
    user = find_user_by_email(db, email)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        audit.record(
            db,
            "sign_in.failed",
            object_type="user",
            object_id=user.id if user else None,
            details={"reason": "no such account" if user is None else "wrong password or inactive"},
        )
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(db: Session, user: User, password: str, *, keep_session_id: int | None = None) -> None:
    """Change a password and end every other session of that person at once."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    ended = end_sessions(db, user.id, "password changed", except_record_id=keep_session_id)
    forgotten = forget_devices(db, user.id)
    audit.record(
        db,
        "user.password_changed",
        object_type="user",
        object_id=user.id,
        details={"sessions_ended": ended, "devices_forgotten": forgotten},
    )


def set_active(db: Session, user: User, active: bool, *, actor_id: int | None = None) -> None:
    user.active = active
    ended = 0 if active else end_sessions(db, user.id, "deactivated")
    forgotten = 0 if active else forget_devices(db, user.id)
    audit.record(
        db,
        "user.activated" if active else "user.deactivated",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
        details={"sessions_ended": ended, "devices_forgotten": forgotten},
    )


def forget_devices(db: Session, user_id: int) -> int:
    """Forget every browser this person asked us to remember, so each needs the second step again."""
    return db.execute(sa.delete(TrustedDevice).where(TrustedDevice.user_id == user_id)).rowcount


def set_role(db: Session, user: User, role: Role, *, actor_id: int | None = None) -> None:
    """Change a person's role; their sessions end so the new permissions apply from the next sign-in."""
    previous = user.role
    user.role = role.value
    if not role.needs_two_factor:
        user.totp_secret = None
    ended = end_sessions(db, user.id, "role changed")
    audit.record(
        db,
        "user.role_changed",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
        details={"from": previous, "to": role.value, "sessions_ended": ended},
    )


# Password reset ---------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    # Tokens and recovery codes carry >= 128 bits of randomness, so a fast hash is enough here.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_password_reset(db: Session, user: User, lifetime: timedelta) -> str:
    """Create a single-use reset token and return the secret part for the emailed link."""
    token = secrets.token_urlsafe(32)
    db.add(PasswordResetToken(user_id=user.id, token_hash=_digest(token), expires_at=utcnow() + lifetime))
    audit.record(db, "password_reset.requested", object_type="user", object_id=user.id, actor_id=user.id)
    return token


def find_password_reset(db: Session, token: str) -> PasswordResetToken | None:
    """The reset this token belongs to, if it is unused, unexpired and its owner is active."""
    reset = db.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        return None
    return reset


def complete_password_reset(db: Session, reset: PasswordResetToken, password: str) -> User:
    reset.used_at = utcnow()
    # Any other reset link sent before this one stops working too.
    db.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == reset.user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=reset.used_at)
    )
    set_password(db, reset.user, password)
    return reset.user


# Two-factor sign-in -----------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    # One step either side allows for a phone clock a little out.
    for offset in (-1, 0, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def verify_totp(db: Session, user: User, code: str) -> bool:
    """Accept a code from the authenticator app once: a code already used cannot be used again."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


@dataclass(frozen=True)
class TwoFactorSetup:
    recovery_codes: list[str]


def confirm_totp_setup(db: Session, user: User, secret: str, code: str) -> TwoFactorSetup | None:
    """Save the authenticator once the person proves it works; returns fresh recovery codes."""
    step = _matching_step(secret, code)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    codes = replace_recovery_codes(db, user)
    audit.record(db, "two_factor.set_up", object_type="user", object_id=user.id, actor_id=user.id)
    return TwoFactorSetup(codes)


def replace_recovery_codes(db: Session, user: User) -> list[str]:
    db.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    return codes


def use_recovery_code(db: Session, user: User, code: str) -> bool:
    code = "".join(code.split()).lower()
    recovery = db.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _digest(code), RecoveryCode.used_at.is_(None)
        )
    )
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    audit.record(db, "two_factor.recovery_code_used", object_type="user", object_id=user.id, actor_id=user.id)
    return True


def recovery_codes_left(db: Session, user: User) -> int:
    return (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )
