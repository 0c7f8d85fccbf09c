"""Password hashing with argon2id."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Checked against when no account matches, so unknown emails cost the same time as wrong passwords.
_DUMMY_HASH = _hasher.hash("not a real password, only a timing decoy")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always does the full work, even with no hash to check."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords that are guessed first, lower-cased."""
    text = resources.files("portal.security").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why a new password would be easy to guess, as an error message; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        return "Choose a password that is harder to guess. This one is used by a lot of people"
    local_part = (email or "").split("@", 1)[0].lower()
    # Very short local parts ("jo") turn up inside ordinary words, so only refuse a real match.
    if len(local_part) >= 3 and local_part in lowered:
        return "Your password must not contain your email address"
    return None
