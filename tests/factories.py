"""Factories for test data: ``make_user(db, role=Role.COORDINATOR)`` and friends."""

from __future__ import annotations

import itertools

import pyotp
from sqlalchemy.orm import Session

from portal.security import services
from portal.security.models import Agency, Role, User

DEFAULT_PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def make_agency(db: Session, name: str | None = None) -> Agency:
    return services.get_or_create_agency(db, name or f"Agency {next(_numbers)}")


def make_user(
    db: Session,
    *,
    role: Role = Role.PRACTITIONER,
    email: str | None = None,
    name: str | None = None,
    password: str | None = DEFAULT_PASSWORD,
    agency: Agency | None = None,
    active: bool = True,
    with_totp: bool | None = None,
) -> User:
    number = next(_numbers)
    user = services.create_user(
        db,
        email=email or f"person{number}@example.org",
        name=name or f"Person {number}",
        role=role,
        agency=agency,
        password=password,
    )
    user.active = active
    if with_totp if with_totp is not None else role.needs_two_factor:
        user.totp_secret = pyotp.random_base32()
    db.commit()
    return user
