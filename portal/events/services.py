"""The rules of learning events: who may come, registration and the waiting list, changes and cancellations.

Every change to who has a place happens with the event's row locked, so simultaneous requests from
any number of web workers queue one behind another: nobody is confirmed beyond capacity, queue
numbers follow the order registrations were committed, and a freed place goes to the first person
waiting in the same transaction that freed it. Messages are written to the outbox in that same
transaction, so a change and the news of it are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from flask import abort, current_app, render_template
from sqlalchemy.orm import Session

from portal.db import LONDON, utcnow
from portal.events.calendar import calendar_attachment
from portal.events.models import Audience, Event, EventStatus, Registration, RegistrationStatus
from portal.notifications import outbox
from portal.reviews.clocks import closure_days
from portal.reviews.models import Membership
from portal.security import audit
from portal.security.models import Role, User
from portal.working_days import working_days_before

REMINDER_TIME = time(9, 0)  # reminders go out at 9am London time


class RegistrationRefused(Exception):
    """A registration the rules do not allow; the message is written for the person asking."""


class EventChangeRefused(Exception):
    """A change to an event the rules do not allow; the message is written for the coordinator."""


# Who may see and attend ---------------------------------------------------------------------------


def _review_ids_of(user: User):
    return sa.select(Membership.review_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))


def open_to(user: User) -> sa.ColumnElement[bool]:
    """Events this practitioner may see: published or cancelled, for everyone or for their review."""
    return sa.and_(
        Event.status.in_([EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value]),
        sa.or_(Event.audience == Audience.ALL_PRACTITIONERS.value, Event.review_id.in_(_review_ids_of(user))),
    )


def can_see(db: Session, user: User, event: Event) -> bool:
    if user.role == Role.COORDINATOR:
        return True
    if user.role != Role.PRACTITIONER:
        return False
    if db.scalar(sa.select(sa.literal(True)).where(Event.id == event.id, open_to(user))):
        return True
    # Someone who registered keeps sight of the event even if they later leave the review.
    return registration_of(db, event, user) is not None


def load_event_for(db: Session, user: User, event_id: int) -> Event:
    """The event, or 404 when this person may not know it exists (drafts are for coordinators)."""
    event = db.get(Event, event_id)
    if event is None or not can_see(db, user, event):
        abort(404)
    return event


def registration_of(db: Session, event: Event, user: User) -> Registration | None:
    return db.scalar(sa.select(Registration).where(Registration.event_id == event.id, Registration.user_id == user.id))


def waiting_position(db: Session, registration: Registration) -> int | None:
    """1 for the first person waiting; None for anyone not waiting."""
    if registration.status != RegistrationStatus.WAITING.value:
        return None
    ahead = db.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITING.value,
            Registration.queue_number < registration.queue_number,
        )
    )
    return (ahead or 0) + 1


@dataclass(frozen=True)
class Places:
    confirmed: int
    waiting: int
    capacity: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.confirmed, 0)


def places(db: Session, event: Event) -> Places:
    counts = dict(
        db.execute(
            sa.select(Registration.status, sa.func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        ).all()
    )
    return Places(
        confirmed=counts.get(RegistrationStatus.CONFIRMED.value, 0),
        waiting=counts.get(RegistrationStatus.WAITING.value, 0),
        capacity=event.capacity,
    )


# Registration and the waiting list ----------------------------------------------------------------


def lock_event(db: Session, event_id: int) -> Event:
    """The event, locked until the transaction ends: the one queue every change to its places joins."""
    if db.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks; taking the database's write lock now serialises the same way.
        db.execute(sa.update(Event).where(Event.id == event_id).values(id=Event.id))
    event = db.scalars(
        sa.select(Event).where(Event.id == event_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if event is None:
        abort(404)
    return event


def register_for_event(
    db: Session, event_id: int, user: User, *, access_needs: str | None = None, now: datetime | None = None
) -> Registration:
    """A place if one is free, otherwise the end of the waiting list; tells the person which."""
    event = lock_event(db, event_id)
    # The clock is read once the lock is held, so registration times follow the queue: a request that
    # started first but waited for the lock must not look as if it came before those served ahead of it.
    now = now or utcnow()
    if not can_see(db, user, event):
        abort(404)
    if not event.registration_open(now):
        raise RegistrationRefused(_closed_reason(event, now))
    registration = registration_of(db, event, user)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED.value:
        return registration  # a second click, or a second tab: nothing changes
    taken = places(db, event)
    status = RegistrationStatus.CONFIRMED if taken.confirmed < event.capacity else RegistrationStatus.WAITING
    last_in_queue = db.scalar(
        sa.select(sa.func.max(Registration.queue_number)).where(Registration.event_id == event.id)
    )
    if registration is None:
        registration = Registration(event_id=event.id, user_id=user.id, calendar_sequence=0)
        db.add(registration)
    registration.user = user
    registration.event = event
    registration.status = status.value
    registration.queue_number = (last_in_queue or 0) + 1
    registration.access_needs = access_needs or None
    registration.registered_at = now
    registration.cancelled_at = None
    registration.confirmed_at = now if status == RegistrationStatus.CONFIRMED else None
    db.flush()
    if status == RegistrationStatus.CONFIRMED:
        _send_place(db, event, registration, kind="event_confirmation", now=now)
    else:
        _send(
            db,
            registration,
            "event_waiting",
            f"You are on the waiting list: {event.title}",
            now=now,
            position=waiting_position(db, registration),
        )
    audit.record(
        db,
        "event.registered",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=user.id,
        details={"registration": registration.id, "status": status.value},
    )
    return registration


def cancel_registration(db: Session, event_id: int, user: User, *, now: datetime | None = None) -> Registration:
    """Give up a place (or leave the waiting list); a freed place goes to the first person waiting."""
    now = now or utcnow()
    event = lock_event(db, event_id)
    registration = registration_of(db, event, user)
    if registration is None or registration.status == RegistrationStatus.CANCELLED.value:
        abort(404)
    had_place = registration.status == RegistrationStatus.CONFIRMED.value
    registration.status = RegistrationStatus.CANCELLED.value
    registration.cancelled_at = now
    registration.attendance = None
    _withdraw_reminder(db, registration)
    if had_place:
        _send_calendar_cancellation(
            db,
            event,
            registration,
            kind="event_registration_cancelled",
            subject=f"Your place is cancelled: {event.title}",
            now=now,
        )
    audit.record(
        db,
        "event.registration_cancelled",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=user.id,
        details={"registration": registration.id, "had_place": had_place},
    )
    if had_place and event.status == EventStatus.PUBLISHED.value and now < event.starts_at:
        promote_from_waiting_list(db, event, now=now)
    return registration


def promote_from_waiting_list(db: Session, event: Event, *, now: datetime | None = None) -> list[Registration]:
    """Fill free places from the front of the waiting list; the caller holds the event's lock."""
    now = now or utcnow()
    free = places(db, event).left
    if free == 0:
        return []
    promoted = list(
        db.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITING.value)
            .order_by(Registration.queue_number)
            .limit(free)
        )
    )
    for registration in promoted:
        registration.status = RegistrationStatus.CONFIRMED.value
        registration.confirmed_at = now
        _send_place(db, event, registration, kind="event_promotion", now=now)
        audit.record(
            db,
            "event.promoted_from_waiting_list",
            object_type="event",
            object_id=event.id,
            review_id=event.review_id,
            actor_id=None,
            details={"registration": registration.id},
        )
    return promoted


def _closed_reason(event: Event, now: datetime) -> str:
    if event.status == EventStatus.CANCELLED.value:
        return "This event has been cancelled"
    if now >= event.starts_at:
        return "This event has already started"
    if now < event.registration_opens_at:
        return "Registration for this event has not opened yet"
    return "Registration for this event has closed"


# Changes to an event ------------------------------------------------------------------------------

# A change to any of these is news for everyone registered: the time, or where to go.
NOTIFIABLE_FIELDS = ("starts_at", "ends_at", "mode", "venue", "joining_link")


def create_event(db: Session, *, actor: User, **fields) -> Event:
    """A draft event; nobody but coordinators sees it until it is published."""
    event = Event(created_by_id=actor.id, status=EventStatus.DRAFT.value, **fields)
    db.add(event)
    db.flush()
    audit.record(
        db,
        "event.created",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
        details={"title": event.title},
    )
    return event


def update_event(db: Session, event_id: int, *, actor: User, now: datetime | None = None, **fields) -> Event:
    """Change an event; if its time or place changed, everyone registered gets an updated invitation."""
    now = now or utcnow()
    event = lock_event(db, event_id)
    if event.status == EventStatus.CANCELLED.value:
        raise EventChangeRefused("A cancelled event cannot be changed")
    confirmed = places(db, event).confirmed
    if fields.get("capacity", event.capacity) < confirmed:
        raise EventChangeRefused(f"{confirmed} people already have a place: the capacity cannot be fewer")
    changed = sorted(name for name, value in fields.items() if getattr(event, name) != value)
    for name, value in fields.items():
        setattr(event, name, value)
    event.updated_at = now
    db.flush()
    audit.record(
        db,
        "event.updated",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
        details={"changed": changed},
    )
    if event.status == EventStatus.PUBLISHED.value:
        if set(changed) & set(NOTIFIABLE_FIELDS):
            for registration in _active_registrations(db, event):
                if registration.status == RegistrationStatus.CONFIRMED.value:
                    _send_place(db, event, registration, kind="event_changed", now=now)
                else:
                    _send(
                        db,
                        registration,
                        "event_changed",
                        f"Event changed: {event.title}",
                        now=now,
                        position=waiting_position(db, registration),
                    )
        if now < event.starts_at:
            promote_from_waiting_list(db, event, now=now)
    return event


def publish_event(db: Session, event_id: int, *, actor: User) -> Event:
    event = lock_event(db, event_id)
    if event.status != EventStatus.DRAFT.value:
        raise EventChangeRefused("Only a draft event can be published")
    event.status = EventStatus.PUBLISHED.value
    event.updated_at = utcnow()
    audit.record(
        db, "event.published", object_type="event", object_id=event.id, review_id=event.review_id, actor_id=actor.id
    )
    return event


def cancel_event(db: Session, event_id: int, *, actor: User, reason: str, now: datetime | None = None) -> Event:
    """Cancel the event for everyone: each person registered is told and their calendar entry removed."""
    now = now or utcnow()
    event = lock_event(db, event_id)
    if event.status == EventStatus.CANCELLED.value:
        raise EventChangeRefused("This event has already been cancelled")
    event.status = EventStatus.CANCELLED.value
    event.cancel_reason = reason
    event.updated_at = now
    for registration in _active_registrations(db, event):
        _withdraw_reminder(db, registration)
        if registration.status == RegistrationStatus.CONFIRMED.value:
            _send_calendar_cancellation(
                db, event, registration, kind="event_cancelled", subject=f"Event cancelled: {event.title}", now=now
            )
        else:
            _send(db, registration, "event_cancelled", f"Event cancelled: {event.title}", now=now)
    audit.record(
        db,
        "event.cancelled",
        object_type="event",
        object_id=event.id,
        review_id=event.review_id,
        actor_id=actor.id,
        details={"reason": reason},
    )
    return event


def _active_registrations(db: Session, event: Event) -> list[Registration]:
    return list(
        db.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.CANCELLED.value)
            .order_by(Registration.queue_number)
        )
    )


# Messages -----------------------------------------------------------------------------------------

SUBJECTS = {
    "event_confirmation": "Your place is confirmed: {title}",
    "event_promotion": "A place has come up for you: {title}",
    "event_changed": "Event changed: {title}",
    "event_reminder": "Reminder: {title}",
}


def _send_place(db: Session, event: Event, registration: Registration, *, kind: str, now: datetime) -> None:
    """A message with a calendar invitation (a new SEQUENCE), and the reminder rescheduled to match."""
    registration.calendar_sequence += 1
    organiser = current_app.config["MAIL_SENDER"]
    _send(
        db,
        registration,
        kind,
        SUBJECTS[kind].format(title=event.title),
        now=now,
        attachment=calendar_attachment(event, registration, organiser=organiser, now=now),
    )
    _withdraw_reminder(db, registration)
    _schedule_reminder(db, event, registration, now=now)


def _send_calendar_cancellation(
    db: Session, event: Event, registration: Registration, *, kind: str, subject: str, now: datetime
) -> None:
    registration.calendar_sequence += 1
    organiser = current_app.config["MAIL_SENDER"]
    _send(
        db,
        registration,
        kind,
        subject,
        now=now,
        attachment=calendar_attachment(event, registration, organiser=organiser, now=now, cancel=True),
    )


def _schedule_reminder(db: Session, event: Event, registration: Registration, *, now: datetime) -> None:
    days = current_app.config["EVENT_REMINDER_WORKING_DAYS"]
    start_day = event.starts_at.astimezone(LONDON).date()
    remind_on = working_days_before(start_day, days, closure_days(db)) if days else start_day
    send_at = datetime.combine(remind_on, REMINDER_TIME, tzinfo=LONDON)
    if send_at <= now or send_at >= event.starts_at:
        return  # too late for a reminder to be useful: the confirmation has just gone
    _send(
        db,
        registration,
        "event_reminder",
        SUBJECTS["event_reminder"].format(title=event.title),
        now=now,
        send_after=send_at,
        key=_reminder_key(registration) + str(registration.calendar_sequence),
    )


def _reminder_key(registration: Registration) -> str:
    return f"event_reminder:{registration.id}:"


def _withdraw_reminder(db: Session, registration: Registration) -> None:
    outbox.withdraw(db, key_prefix=_reminder_key(registration))


def _send(
    db: Session,
    registration: Registration,
    kind: str,
    subject: str,
    *,
    now: datetime,
    attachment: outbox.Attachment | None = None,
    send_after: datetime | None = None,
    key: str | None = None,
    position: int | None = None,
) -> None:
    event = registration.event
    body = render_template(
        f"events/email/{kind}.txt",
        event=event,
        registration=registration,
        position=position,
        link=outbox.link_to("events.event", event_id=event.id),
    )
    outbox.enqueue(
        db,
        key=key or f"{kind}:{registration.id}:{registration.calendar_sequence}:{now.isoformat()}",
        kind=kind,
        to=registration.user,
        subject=subject,
        body=body,
        attachment=attachment,
        send_after=send_after,
    )
