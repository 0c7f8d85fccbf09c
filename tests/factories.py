"""Factories for test data: ``make_user(db, role=Role.COORDINATOR)`` and friends."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.events import services as event_services
from portal.events.models import Audience, Event, EventKind, Mode, Registration, RegistrationStatus
from portal.reviews.models import (
    TRANSITIONS,
    IndependenceDeclaration,
    Membership,
    MembershipKind,
    Review,
    Stage,
    StageChange,
)
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


def make_review(
    db: Session, *, coordinator: User | None = None, stage: Stage = Stage.INCIDENT_RECORDED, **fields
) -> Review:
    """A review at ``stage``, with the stage history that leads there (each move with a reason)."""
    coordinator = coordinator or make_user(db, role=Role.COORDINATOR)
    number = next(_numbers)
    review = Review(
        reference=fields.pop("reference", f"LSCP-2026-{number:03d}"),
        anonymised_name=fields.pop("anonymised_name", f"Child {chr(ord('A') + number % 26)}"),
        aware_on=fields.pop("aware_on", date(2026, 11, 2)),
        stage=stage.value,
        created_by_id=coordinator.id,
        **fields,
    )
    db.add(review)
    db.flush()
    path = _path_to(stage)
    for source, target in zip([None, *path[:-1]], path, strict=True):
        db.add(
            StageChange(
                review_id=review.id,
                from_stage=source.value if source else None,
                to_stage=target.value,
                reason="Set up for a test",
                actor_id=coordinator.id,
            )
        )
    db.commit()
    return review


def _path_to(stage: Stage) -> list[Stage]:
    """The shortest run of allowed moves from nothing to ``stage``."""
    paths: dict[Stage, list[Stage]] = {Stage.INCIDENT_RECORDED: [Stage.INCIDENT_RECORDED]}
    frontier = [Stage.INCIDENT_RECORDED]
    while frontier:
        current = frontier.pop(0)
        for target in sorted(TRANSITIONS[current]):
            if target not in paths:
                paths[target] = [*paths[current], target]
                frontier.append(target)
    return paths[stage]


def make_membership(
    db: Session,
    review: Review,
    user: User,
    kind: MembershipKind,
    *,
    agency: Agency | None = None,
    declared: bool = True,
) -> Membership:
    """An open membership; authors have declared their independence unless ``declared=False``."""
    membership = Membership(
        review_id=review.id,
        user_id=user.id,
        kind=kind.value,
        agency_id=(agency or user.agency).id if kind == MembershipKind.AGENCY_LEAD else None,
        started_by_id=review.created_by_id,
    )
    db.add(membership)
    db.flush()
    if kind == MembershipKind.AUTHOR and declared:
        db.add(
            IndependenceDeclaration(
                membership_id=membership.id, no_involvement_in_case=True, no_involvement_with_agencies=True
            )
        )
    db.commit()
    return membership


def make_event(
    db: Session,
    *,
    coordinator: User | None = None,
    starts_at: datetime | None = None,
    publish: bool = True,
    **fields,
) -> Event:
    """An event made through the services, as the pages make it: unless told otherwise, a published
    learning briefing for all practitioners, in person, for 20 people, about 20 days away, open for
    registration from yesterday (or a month before the start, if earlier) until an hour before it starts.
    """
    coordinator = coordinator or make_user(db, role=Role.COORDINATOR)
    now = utcnow()
    starts_at = starts_at or (now + timedelta(days=20)).replace(microsecond=0)
    values = {
        "title": "Learning from Child H",
        "summary_html": "<p>What the review found about <strong>neglect</strong>.</p>",
        "kind": EventKind.BRIEFING.value,
        "audience": Audience.ALL_PRACTITIONERS.value,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "mode": Mode.IN_PERSON.value,
        "venue": "Council House, Room 4",
        "accessibility": "Step-free access from the car park.",
        "capacity": 20,
        "registration_opens_at": min(now - timedelta(days=1), starts_at - timedelta(days=30)),
        "registration_closes_at": starts_at - timedelta(hours=1),
    }
    values.update(fields)
    event = event_services.create_event(db, actor=coordinator, **values)
    if publish:
        event_services.publish_event(db, event.id, actor=coordinator)
    db.commit()
    return event


def take_place(
    db: Session, event: Event, user: User, status: RegistrationStatus = RegistrationStatus.CONFIRMED, **fields
) -> Registration:
    """A registration written straight to the table, for scenes where registering is not the point."""
    queue = db.query(Registration).filter_by(event_id=event.id).count() + 1
    registration = Registration(event_id=event.id, user_id=user.id, status=status.value, queue_number=queue, **fields)
    db.add(registration)
    db.commit()
    return registration
