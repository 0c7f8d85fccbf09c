"""What coordinators see of events: the management list, who registered, and the register on the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.db import LONDON, utcnow
from portal.events.models import Attendance, Event, EventStatus, Registration, RegistrationStatus
from portal.pagination import Pagination
from portal.security import audit
from portal.security.models import User


class AttendanceRefused(Exception):
    """A mark on the register the rules do not allow; the message is written for the coordinator."""


def attendance_rate(attended: int, no_show: int) -> float | None:
    """Attended out of everyone marked; None until someone has been marked."""
    marked = attended + no_show
    return attended / marked if marked else None


# The management list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: Event
    confirmed: int
    waiting: int
    attended: int
    no_show: int

    @property
    def attendance_rate(self) -> float | None:
        return attendance_rate(self.attended, self.no_show)


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    pagination: Pagination


def _counted(status: str | None = None, attendance: str | None = None):
    condition = Registration.status == status if status else Registration.attendance == attendance
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _registration_counts():
    """Per event: places taken, people waiting, attended and did not attend — one grouped subquery."""
    return (
        sa.select(
            Registration.event_id,
            _counted(status=RegistrationStatus.CONFIRMED.value).label("confirmed"),
            _counted(status=RegistrationStatus.WAITING.value).label("waiting"),
            _counted(attendance=Attendance.ATTENDED.value).label("attended"),
            _counted(attendance=Attendance.NO_SHOW.value).label("no_show"),
        )
        .group_by(Registration.event_id)
        .subquery()
    )


def manage_list(
    db: Session, *, status: EventStatus | None = None, page: int = 1, per_page: int = 25, now: datetime | None = None
) -> EventPage:
    """Every event, soonest upcoming first and then past ones most recent first, with its numbers: two queries."""
    now = now or utcnow()
    where = [Event.status == status.value] if status else []
    total = db.scalar(sa.select(sa.func.count()).select_from(Event).where(*where)) or 0
    pagination = Pagination.of(total, per_page, page)
    counts = _registration_counts()
    is_past = sa.case((Event.ends_at <= now, 1), else_=0)
    rows = db.execute(
        sa.select(
            Event,
            sa.func.coalesce(counts.c.confirmed, 0),
            sa.func.coalesce(counts.c.waiting, 0),
            sa.func.coalesce(counts.c.attended, 0),
            sa.func.coalesce(counts.c.no_show, 0),
        )
        .outerjoin(counts, counts.c.event_id == Event.id)
        .where(*where)
        # Upcoming events by start ascending; past ones all share NULL there and fall to descending start.
        .order_by(is_past, sa.case((Event.ends_at > now, Event.starts_at)), Event.starts_at.desc(), Event.id)
        .offset(pagination.offset)
        .limit(per_page)
    ).all()
    return EventPage([EventRow(event, *numbers) for event, *numbers in rows], pagination)


# Registrations --------------------------------------------------------------------------------------

_STATUS_ORDER = sa.case(
    (Registration.status == RegistrationStatus.CONFIRMED.value, 0),
    (Registration.status == RegistrationStatus.WAITING.value, 1),
    else_=2,
)


@dataclass(frozen=True)
class RegistrationRow:
    registration: Registration
    position: int  # place in its own group: queue order for places, position on the waiting list

    @property
    def waiting_position(self) -> int | None:
        return self.position if self.registration.status == RegistrationStatus.WAITING.value else None


def _registrations_query(event: Event):
    position = sa.func.row_number().over(partition_by=Registration.status, order_by=Registration.queue_number)
    return (
        sa.select(Registration, position)
        .where(Registration.event_id == event.id)
        .options(joinedload(Registration.user).joinedload(User.agency))
        .order_by(_STATUS_ORDER, Registration.queue_number)
    )


def registrations_page(db: Session, event: Event, *, page: int = 1, per_page: int = 100) -> tuple[list, Pagination]:
    """Places in queue order, then the waiting list with positions, then cancellations; one page of them."""
    total = db.scalar(sa.select(sa.func.count()).select_from(Registration).where(Registration.event_id == event.id))
    pagination = Pagination.of(total or 0, per_page, page)
    rows = db.execute(_registrations_query(event).offset(pagination.offset).limit(per_page)).all()
    return [RegistrationRow(registration, position) for registration, position in rows], pagination


def all_registrations(db: Session, event: Event) -> list[RegistrationRow]:
    """Every registration of the event, in the order of the registrations page (for the spreadsheet)."""
    return [
        RegistrationRow(registration, position) for registration, position in db.execute(_registrations_query(event))
    ]


def record_registrations_read(db: Session, event: Event, actor: User, *, exported: bool = False) -> None:
    """Access needs can be health information: every read of them is in the audit trail."""
    audit.record(
        db,
        "event.registrations_exported" if exported else "event.registrations_viewed",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
    )


# The register on the day ---------------------------------------------------------------------------


def can_take_register(event: Event, now: datetime | None = None) -> bool:
    """From the start of the event's day (London) onwards, for a published event."""
    now = now or utcnow()
    if event.status != EventStatus.PUBLISHED.value:
        return False
    return now >= event.starts_at or now.astimezone(LONDON).date() == event.starts_at.astimezone(LONDON).date()


def register_refusal(event: Event, now: datetime | None = None) -> str | None:
    """Why the register cannot be taken yet, or None when it can."""
    if event.status == EventStatus.DRAFT.value:
        return "The register can be taken once the event is published and its day has come"
    if event.status == EventStatus.CANCELLED.value:
        return "This event was cancelled, so there is no register to take"
    if not can_take_register(event, now):
        return "You can take the register from the day of the event"
    return None


@dataclass(frozen=True)
class AttendanceSummary:
    confirmed: int
    attended: int
    no_show: int

    @property
    def unmarked(self) -> int:
        return self.confirmed - self.attended - self.no_show

    @property
    def rate(self) -> float | None:
        return attendance_rate(self.attended, self.no_show)


def register_of(db: Session, event: Event) -> list[Registration]:
    """Everyone with a place, in the order they registered, with their name and agency."""
    return list(
        db.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED.value)
            .options(joinedload(Registration.user).joinedload(User.agency))
            .order_by(Registration.queue_number)
        )
    )


def summarise(registrations: list[Registration]) -> AttendanceSummary:
    marks = [registration.attendance for registration in registrations]
    return AttendanceSummary(
        confirmed=len(registrations),
        attended=marks.count(Attendance.ATTENDED.value),
        no_show=marks.count(Attendance.NO_SHOW.value),
    )


def record_attendance(
    db: Session, event: Event, registration_id: int, mark: Attendance, *, actor: User, now: datetime | None = None
) -> Registration:
    """Mark one person with a place as attended or not; a second mark replaces the first."""
    now = now or utcnow()
    refusal = register_refusal(event, now)
    if refusal:
        raise AttendanceRefused(refusal)
    registration = db.scalar(
        sa.select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
    )
    if registration is None or registration.status != RegistrationStatus.CONFIRMED.value:
        raise AttendanceRefused("Only people with a place can be marked on the register")
    registration.attendance = mark.value
    registration.attendance_recorded_at = now
    registration.attendance_recorded_by_id = actor.id
    audit.record(
        db,
        "event.attendance_recorded",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
        details={"registration": registration.id, "attendance": mark.value},
    )
    return registration


def mark_all_attended(db: Session, event: Event, *, actor: User, now: datetime | None = None) -> int:
    """Mark everyone with a place and no mark yet as attended; how many were marked."""
    now = now or utcnow()
    refusal = register_refusal(event, now)
    if refusal:
        raise AttendanceRefused(refusal)
    marked = db.execute(
        sa.update(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED.value,
            Registration.attendance.is_(None),
        )
        .values(attendance=Attendance.ATTENDED.value, attendance_recorded_at=now, attendance_recorded_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    audit.record(
        db,
        "event.attendance_all_marked",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
        details={"marked": marked},
    )
    return marked
