"""Read-only queries for practitioners' event pages, each a fixed number of statements however much data.

Places taken and waiting-list positions are worked out by the database in the same statement as the
rows they belong to (grouped subqueries and a window function), never with one query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portal.db import LONDON
from portal.events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from portal.events.services import open_to
from portal.pagination import Pagination
from portal.security.models import Role, User
from portal.templating import london

MONTHS_AHEAD = 12


# Months for the filter ---------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def upcoming_months(now: datetime, count: int = MONTHS_AHEAD) -> list[date]:
    """The first day of this London month and of the ``count - 1`` months after it."""
    months = [month_start(now.astimezone(LONDON).date())]
    while len(months) < count:
        months.append(next_month(months[-1]))
    return months


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON)


# Registration window -----------------------------------------------------------------------------


def registration_closed_reason(event: Event, now: datetime) -> str | None:
    """Why nobody can register now, in the words the registration service uses; None while it is open."""
    if event.registration_open(now):
        return None
    if event.status == EventStatus.CANCELLED.value:
        return "This event has been cancelled"
    if event.status == EventStatus.DRAFT.value:
        return "Registration opens when the event is published"
    if now >= event.starts_at:
        return "This event has already started"
    if now < event.registration_opens_at:
        return f"Registration for this event opens on {london(event.registration_opens_at)}"
    return "Registration for this event has closed"


# The list of upcoming events ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: Event
    confirmed: int
    waiting: int
    my_status: str | None  # the signed-in person's registration, if any
    my_position: int | None  # their place on the waiting list, if waiting

    @property
    def places_left(self) -> int:
        return max(self.event.capacity - self.confirmed, 0)

    @property
    def my_status_label(self) -> str | None:
        return RegistrationStatus(self.my_status).label if self.my_status else None


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    pagination: Pagination


def _counts_by_event():
    """Confirmed and waiting registrations per event, as one grouped subquery."""
    confirmed = sa.func.sum(sa.case((Registration.status == RegistrationStatus.CONFIRMED.value, 1), else_=0))
    waiting = sa.func.sum(sa.case((Registration.status == RegistrationStatus.WAITING.value, 1), else_=0))
    return (
        sa.select(Registration.event_id, confirmed.label("confirmed"), waiting.label("waiting"))
        .where(Registration.status != RegistrationStatus.CANCELLED.value)
        .group_by(Registration.event_id)
        .subquery("counts")
    )


def upcoming_events(
    db: Session,
    user: User,
    *,
    now: datetime,
    kind: EventKind | None = None,
    month: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> EventPage:
    """Published events that have not started and this person may attend, soonest first, in two queries."""
    conditions = [Event.status == EventStatus.PUBLISHED.value, Event.starts_at > now]
    if user.role != Role.COORDINATOR:
        conditions.append(open_to(user))
    if kind is not None:
        conditions.append(Event.kind == kind.value)
    if month is not None:
        conditions += [
            Event.starts_at >= _london_midnight(month),
            Event.starts_at < _london_midnight(next_month(month)),
        ]
    total = db.scalar(sa.select(sa.func.count()).select_from(Event).where(*conditions)) or 0
    pagination = Pagination.of(total, per_page, page)

    counts = _counts_by_event()
    mine = aliased(Registration, name="mine")
    ahead = aliased(Registration, name="ahead")
    position = (
        sa.select(sa.func.count())
        .where(
            ahead.event_id == mine.event_id,
            ahead.status == RegistrationStatus.WAITING.value,
            ahead.queue_number <= mine.queue_number,
        )
        .correlate(mine)
        .scalar_subquery()
    )
    statement = (
        sa.select(
            Event,
            sa.func.coalesce(counts.c.confirmed, 0),
            sa.func.coalesce(counts.c.waiting, 0),
            mine.status,
            sa.case((mine.status == RegistrationStatus.WAITING.value, position), else_=None),
        )
        .outerjoin(counts, counts.c.event_id == Event.id)
        .outerjoin(mine, sa.and_(mine.event_id == Event.id, mine.user_id == user.id))
        .where(*conditions)
        .order_by(Event.starts_at, Event.id)
        .offset(pagination.offset)
        .limit(per_page)
    )
    rows = [
        EventRow(event, int(confirmed), int(waiting), status, position)
        for event, confirmed, waiting, status, position in db.execute(statement)
    ]
    return EventPage(rows, pagination)


# The person's own registrations ------------------------------------------------------------------


@dataclass(frozen=True)
class MyRegistration:
    registration: Registration
    event: Event
    position: int | None
    is_past: bool

    @property
    def status_label(self) -> str:
        if self.event.status == EventStatus.CANCELLED.value:
            return "Event cancelled"
        if self.registration.attendance:
            return self.registration.attendance_enum.label
        return self.registration.status_enum.label


@dataclass(frozen=True)
class MyRegistrationsPage:
    rows: list[MyRegistration]
    pagination: Pagination

    @property
    def upcoming(self) -> list[MyRegistration]:
        return [row for row in self.rows if not row.is_past]

    @property
    def past(self) -> list[MyRegistration]:
        return [row for row in self.rows if row.is_past]


def my_registrations(
    db: Session, user: User, *, now: datetime, page: int = 1, per_page: int = 20
) -> MyRegistrationsPage:
    """This person's registrations: events still to come soonest first, then past ones latest first."""
    mine = Registration.user_id == user.id
    total = db.scalar(sa.select(sa.func.count()).select_from(Registration).where(mine)) or 0
    pagination = Pagination.of(total, per_page, page)

    # Everyone waiting for the events this person registered for, numbered in queue order.
    queue = (
        sa.select(
            Registration.id.label("registration_id"),
            sa.func.row_number()
            .over(partition_by=Registration.event_id, order_by=Registration.queue_number)
            .label("position"),
        )
        .where(
            Registration.status == RegistrationStatus.WAITING.value,
            Registration.event_id.in_(sa.select(Registration.event_id).where(mine)),
        )
        .subquery("queue")
    )
    is_past = Event.ends_at <= now
    statement = (
        sa.select(Registration, Event, queue.c.position, is_past)
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(queue, queue.c.registration_id == Registration.id)
        .where(mine)
        .order_by(
            sa.case((is_past, 1), else_=0),
            sa.case((is_past, sa.null()), else_=Event.starts_at).asc(),
            Event.starts_at.desc(),
            Registration.id,
        )
        .offset(pagination.offset)
        .limit(per_page)
    )
    rows = [
        MyRegistration(registration, event, position, bool(past))
        for registration, event, position, past in db.execute(statement)
    ]
    return MyRegistrationsPage(rows, pagination)


def next_events(db: Session, user: User, *, now: datetime, limit: int = 3) -> list[MyRegistration]:
    """The next few events this person has a place at or is waiting for, for their home page."""
    statement = (
        sa.select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user.id,
            Registration.status != RegistrationStatus.CANCELLED.value,
            Event.status == EventStatus.PUBLISHED.value,
            Event.ends_at > now,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return [MyRegistration(registration, event, None, False) for registration, event in db.execute(statement)]


def duration_in_words(event: Event) -> str:
    """How long the event lasted: '3 hours 30 minutes', '1 hour', '45 minutes'."""
    minutes = int((event.ends_at - event.starts_at).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def _clock(value: datetime) -> str:
    return f"{value.hour % 12 or 12}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


def event_when(event: Event) -> str:
    """When an event runs, in London time: 'Tuesday 3 March 2026, 10:00am to 1:00pm'."""
    starts, ends = event.starts_at.astimezone(LONDON), event.ends_at.astimezone(LONDON)
    if starts.date() == ends.date():
        return f"{starts:%A} {starts.day} {starts:%B %Y}, {_clock(starts)} to {_clock(ends)}"
    return f"{london(event.starts_at)} to {london(event.ends_at)}"
