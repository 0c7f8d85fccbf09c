"""Registration rules: places, the waiting list, who may come, and what people are told when things change."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage, Message

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from portal import working_days
from portal.db import LONDON, utcnow
from portal.events import services
from portal.events.models import Audience, Event, EventKind, Mode, Registration, RegistrationStatus
from portal.events.services import EventChangeRefused, RegistrationRefused
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.reviews.models import MembershipKind
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.factories import make_event, make_membership, make_review, make_user


def statuses(db: Session, event: Event) -> dict[int, str]:
    rows = db.execute(sa.select(Registration.user_id, Registration.status).where(Registration.event_id == event.id))
    return dict(rows.all())


def readable(message: Message) -> EmailMessage:
    """The received message with the modern email API (the mailbox keeps what the server was sent)."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def calendar_part(message: Message) -> EmailMessage | None:
    """The calendar attachment of an email, if it has one."""
    parts = [part for part in readable(message).walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) <= 1, "an email carries at most one calendar file"
    return parts[0] if parts else None


def body_of(message: Message) -> str:
    return readable(message).get_body(("plain",)).get_content()


@pytest.fixture
def context(app: Flask) -> Iterator[None]:
    """Services render email templates and build links, which needs the app."""
    with app.app_context():
        yield


@pytest.fixture
def people(db):
    return [make_user(db, role=Role.PRACTITIONER) for _ in range(5)]


pytestmark = pytest.mark.usefixtures("context")


# Places and the waiting list ----------------------------------------------------------------------


def test_nobody_is_confirmed_beyond_capacity(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, capacity=2)
    registrations = [services.register_for_event(db, event.id, person) for person in people[:4]]
    db.commit()

    assert [r.status for r in registrations] == ["confirmed", "confirmed", "waiting", "waiting"]
    taken = services.places(db, event)
    assert (taken.confirmed, taken.waiting, taken.left) == (2, 2, 0)


def test_queue_numbers_follow_registration_and_positions_count_from_one(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, capacity=1)
    registrations = [services.register_for_event(db, event.id, person) for person in people[:4]]

    assert [r.queue_number for r in registrations] == [1, 2, 3, 4]
    assert [services.waiting_position(db, r) for r in registrations] == [None, 1, 2, 3]


def test_someone_who_leaves_the_waiting_list_and_comes_back_goes_to_the_back(db, coordinator, people):
    first, second, leaver, newcomer = people[:4]
    event = make_event(db, coordinator=coordinator, capacity=2)
    for person in (first, second, leaver):
        services.register_for_event(db, event.id, person)
    original = services.cancel_registration(db, event.id, leaver)
    services.register_for_event(db, event.id, newcomer)

    back = services.register_for_event(db, event.id, leaver)

    assert back.id == original.id, "coming back reuses the one registration row a person has"
    assert back.status == RegistrationStatus.WAITING.value
    assert services.waiting_position(db, back) == 2
    assert services.waiting_position(db, services.registration_of(db, event, newcomer)) == 1


def test_someone_who_gave_up_a_place_and_comes_back_joins_the_waiting_list(db, coordinator, people):
    keeper, giver, waiting = people[:3]
    event = make_event(db, coordinator=coordinator, capacity=2)
    for person in (keeper, giver, waiting):
        services.register_for_event(db, event.id, person)
    services.cancel_registration(db, event.id, giver)

    again = services.register_for_event(db, event.id, giver)

    assert again.status == RegistrationStatus.WAITING.value
    assert services.waiting_position(db, again) == 1
    assert statuses(db, event)[waiting.id] == RegistrationStatus.CONFIRMED.value


def test_registering_twice_returns_the_same_registration_and_sends_nothing_more(db, coordinator, people):
    event = make_event(db, coordinator=coordinator)
    first = services.register_for_event(db, event.id, people[0], access_needs="A hearing loop")
    messages = db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))

    second = services.register_for_event(db, event.id, people[0])

    assert second.id == first.id
    assert second.queue_number == first.queue_number
    assert second.access_needs == "A hearing loop"
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == messages


# Who may register, and when -----------------------------------------------------------------------


def test_registration_is_refused_before_the_window_opens(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, registration_opens_at=utcnow() + timedelta(days=1))
    with pytest.raises(RegistrationRefused, match=r"^Registration for this event has not opened yet$"):
        services.register_for_event(db, event.id, people[0])
    assert services.registration_of(db, event, people[0]) is None


def test_registration_is_refused_after_the_window_closes(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, registration_closes_at=utcnow() + timedelta(days=1))
    later = utcnow() + timedelta(days=2)
    with pytest.raises(RegistrationRefused, match=r"^Registration for this event has closed$"):
        services.register_for_event(db, event.id, people[0], now=later)


def test_registration_is_refused_once_the_event_has_started(db, coordinator, people):
    event = make_event(db, coordinator=coordinator)
    with pytest.raises(RegistrationRefused, match=r"^This event has already started$"):
        services.register_for_event(db, event.id, people[0], now=event.starts_at + timedelta(minutes=5))


def test_registration_is_refused_for_a_cancelled_event(db, coordinator, people):
    event = make_event(db, coordinator=coordinator)
    services.cancel_event(db, event.id, actor=coordinator, reason="The trainer is ill")
    with pytest.raises(RegistrationRefused, match=r"^This event has been cancelled$"):
        services.register_for_event(db, event.id, people[0])


def test_a_draft_event_does_not_exist_for_practitioners(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, publish=False)
    with pytest.raises(NotFound):
        services.register_for_event(db, event.id, people[0])
    with pytest.raises(NotFound):
        services.load_event_for(db, people[0], event.id)
    assert services.load_event_for(db, coordinator, event.id).id == event.id


def test_an_event_for_a_reviews_members_does_not_exist_for_other_practitioners(db, coordinator, people):
    member, outsider = people[:2]
    review = make_review(db, coordinator=coordinator)
    make_membership(db, review, member, MembershipKind.PRACTITIONER)
    event = make_event(
        db,
        coordinator=coordinator,
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=review.id,
    )

    with pytest.raises(NotFound):
        services.load_event_for(db, outsider, event.id)
    with pytest.raises(NotFound):
        services.register_for_event(db, event.id, outsider)
    assert services.registration_of(db, event, outsider) is None

    assert services.register_for_event(db, event.id, member).status == RegistrationStatus.CONFIRMED.value
    assert services.load_event_for(db, member, event.id).id == event.id


def test_unknown_events_are_not_found(db, people):
    with pytest.raises(NotFound):
        services.register_for_event(db, 987654, people[0])


# A freed place ------------------------------------------------------------------------------------


def test_a_cancelled_place_goes_to_the_first_person_waiting_who_is_emailed_an_invitation(
    db, coordinator, people, mailbox
):
    holder, first_waiting, second_waiting = people[:3]
    event = make_event(db, coordinator=coordinator, capacity=1)
    for person in (holder, first_waiting, second_waiting):
        services.register_for_event(db, event.id, person)
    db.commit()
    mailbox.received()
    mailbox.messages.clear()

    services.cancel_registration(db, event.id, holder)
    db.commit()

    current = statuses(db, event)
    assert current[first_waiting.id] == RegistrationStatus.CONFIRMED.value
    assert current[second_waiting.id] == RegistrationStatus.WAITING.value
    assert services.waiting_position(db, services.registration_of(db, event, second_waiting)) == 1

    promotion = mailbox.last_to(first_waiting.email)
    assert promotion["Subject"] == f"A place has come up for you: {event.title}"
    assert "A place has come up and it is yours" in body_of(promotion)
    invitation = calendar_part(promotion)
    assert invitation is not None
    assert invitation.get_param("method") == "REQUEST"
    assert event.uid in invitation.get_content()
    assert "METHOD:CANCEL" in calendar_part(mailbox.last_to(holder.email)).get_content()
    assert not [m for m in mailbox.received() if m["To"] == second_waiting.email]


def test_leaving_the_waiting_list_promotes_nobody(db, coordinator, people):
    holder, waiting, behind = people[:3]
    event = make_event(db, coordinator=coordinator, capacity=1)
    for person in (holder, waiting, behind):
        services.register_for_event(db, event.id, person)

    services.cancel_registration(db, event.id, waiting)

    assert statuses(db, event) == {holder.id: "confirmed", waiting.id: "cancelled", behind.id: "waiting"}


def test_cancelling_without_a_registration_is_not_found(db, coordinator, people):
    event = make_event(db, coordinator=coordinator)
    with pytest.raises(NotFound):
        services.cancel_registration(db, event.id, people[0])


def test_raising_the_capacity_promotes_from_the_waiting_list(db, coordinator, people, mailbox):
    event = make_event(db, coordinator=coordinator, capacity=1)
    for person in people[:4]:
        services.register_for_event(db, event.id, person)
    db.commit()
    mailbox.received()
    mailbox.messages.clear()

    services.update_event(db, event.id, actor=coordinator, capacity=3)
    db.commit()

    assert list(statuses(db, event).values()).count("confirmed") == 3
    assert statuses(db, event)[people[3].id] == "waiting"
    subjects = {m["To"]: m["Subject"] for m in mailbox.received()}
    assert subjects == {
        people[1].email: f"A place has come up for you: {event.title}",
        people[2].email: f"A place has come up for you: {event.title}",
    }


def test_the_capacity_cannot_go_below_the_places_already_given(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, capacity=3)
    for person in people[:2]:
        services.register_for_event(db, event.id, person)

    with pytest.raises(EventChangeRefused, match=r"^2 people already have a place: the capacity cannot be fewer$"):
        services.update_event(db, event.id, actor=coordinator, capacity=1)
    services.update_event(db, event.id, actor=coordinator, capacity=2)
    assert event.capacity == 2


# Changes and cancellations of the event ----------------------------------------------------------


def test_a_new_time_is_sent_to_everyone_registered(db, coordinator, people, mailbox):
    confirmed, waiting, gone = people[:3]
    event = make_event(db, coordinator=coordinator, capacity=1)
    for person in (confirmed, waiting, gone):
        services.register_for_event(db, event.id, person)
    services.cancel_registration(db, event.id, gone)
    db.commit()
    mailbox.received()
    mailbox.messages.clear()

    moved = event.starts_at + timedelta(days=1)
    services.update_event(db, event.id, actor=coordinator, starts_at=moved, ends_at=moved + timedelta(hours=2))
    db.commit()

    received = {m["To"]: m for m in mailbox.received()}
    assert set(received) == {confirmed.email, waiting.email}
    for message in received.values():
        assert message["Subject"] == f"Event changed: {event.title}"
        assert "The time or place of this event has changed" in body_of(message)
    invitation = calendar_part(received[confirmed.email])
    assert invitation.get_param("method") == "REQUEST"
    assert "SEQUENCE:2" in invitation.get_content()
    assert calendar_part(received[waiting.email]) is None
    assert "still on the waiting list (number 1)" in body_of(received[waiting.email])


def test_a_new_venue_is_news_but_a_new_title_is_not(db, coordinator, people, mailbox):
    event = make_event(db, coordinator=coordinator)
    services.register_for_event(db, event.id, people[0])
    db.commit()
    mailbox.received()
    mailbox.messages.clear()

    services.update_event(db, event.id, actor=coordinator, title=f"{event.title} (part 1)")
    db.commit()
    assert mailbox.received() == []

    services.update_event(db, event.id, actor=coordinator, venue="Room 2, Northshire Library")
    db.commit()
    [message] = mailbox.received()
    assert "Room 2, Northshire Library" in body_of(message)


def test_cancelling_the_event_tells_everyone_and_removes_confirmed_places_from_calendars(
    db, coordinator, people, mailbox
):
    confirmed, waiting = people[:2]
    event = make_event(db, coordinator=coordinator, capacity=1)
    for person in (confirmed, waiting):
        services.register_for_event(db, event.id, person)
    db.commit()
    mailbox.received()
    mailbox.messages.clear()

    services.cancel_event(db, event.id, actor=coordinator, reason="The trainer is ill.")
    db.commit()

    received = {m["To"]: m for m in mailbox.received()}
    assert set(received) == {confirmed.email, waiting.email}
    for message in received.values():
        assert message["Subject"] == f"Event cancelled: {event.title}"
        assert "The trainer is ill." in body_of(message)
    removal = calendar_part(received[confirmed.email])
    assert removal.get_param("method") == "CANCEL"
    assert "METHOD:CANCEL" in removal.get_content()
    assert calendar_part(received[waiting.email]) is None
    with pytest.raises(EventChangeRefused, match="already been cancelled"):
        services.cancel_event(db, event.id, actor=coordinator, reason="Again")


def test_the_joining_link_is_emailed_only_to_people_with_a_place(db, coordinator, people, mailbox):
    link = "https://meet.example.org/j/12345"
    event = make_event(db, coordinator=coordinator, capacity=1, mode=Mode.ONLINE.value, venue=None, joining_link=link)
    confirmed, waiting = people[:2]
    for person in (confirmed, waiting):
        services.register_for_event(db, event.id, person)
    db.commit()

    assert link in body_of(mailbox.last_to(confirmed.email))
    assert link not in body_of(mailbox.last_to(waiting.email))


# Reminders ----------------------------------------------------------------------------------------


def reminders(db: Session, registration: Registration) -> list[OutboxMessage]:
    return list(
        db.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.kind == "event_reminder",
                OutboxMessage.idempotency_key.startswith(f"event_reminder:{registration.id}:"),
            )
            .order_by(OutboxMessage.id)
        )
    )


def test_the_reminder_goes_at_9am_two_working_days_before_skipping_christmas(app, db, coordinator, people):
    assert app.config["EVENT_REMINDER_WORKING_DAYS"] == 2
    starts = datetime(2026, 12, 29, 10, 0, tzinfo=LONDON)  # Tuesday after Christmas
    # 25 and 26 December, the weekend, and Monday 28th (the substitute for Boxing Day) are not working
    # days, so Thursday 24th is one working day before the event and Wednesday 23rd two.
    for day in (25, 26, 27, 28):
        assert not working_days.is_working_day(date(2026, 12, day))
    assert working_days.is_working_day(date(2026, 12, 24))
    assert working_days.working_days_before(date(2026, 12, 29), 1) == date(2026, 12, 24)
    assert working_days.working_days_before(date(2026, 12, 29), 2) == date(2026, 12, 23)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    event = make_event(
        db, coordinator=coordinator, starts_at=starts.astimezone(UTC), registration_opens_at=now - timedelta(days=1)
    )

    registration = services.register_for_event(db, event.id, people[0], now=now)

    [reminder] = reminders(db, registration)
    assert reminder.status == MessageStatus.PENDING.value
    assert reminder.send_after == datetime(2026, 12, 23, 9, 0, tzinfo=LONDON)
    assert reminder.send_after == datetime(2026, 12, 23, 9, 0, tzinfo=UTC)  # winter: London is on UTC
    assert reminder.subject == f"Reminder: {event.title}"
    assert reminder.recipient_id == people[0].id


def test_the_reminder_is_at_9am_london_time_in_summer(db, coordinator, people):
    starts = datetime(2027, 7, 14, 13, 30, tzinfo=LONDON)  # Wednesday
    now = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    event = make_event(
        db, coordinator=coordinator, starts_at=starts.astimezone(UTC), registration_opens_at=now - timedelta(days=1)
    )

    registration = services.register_for_event(db, event.id, people[0], now=now)

    [reminder] = reminders(db, registration)
    assert reminder.send_after == datetime(2027, 7, 12, 8, 0, tzinfo=UTC)  # Monday 9am British Summer Time


def test_people_on_the_waiting_list_get_no_reminder_until_promoted(db, coordinator, people):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    starts = datetime(2026, 12, 29, 10, 0, tzinfo=LONDON).astimezone(UTC)
    event = make_event(
        db, coordinator=coordinator, capacity=1, starts_at=starts, registration_opens_at=now - timedelta(days=1)
    )
    services.register_for_event(db, event.id, people[0], now=now)
    waiting = services.register_for_event(db, event.id, people[1], now=now)
    assert reminders(db, waiting) == []

    services.cancel_registration(db, event.id, people[0], now=now + timedelta(days=1))

    [reminder] = reminders(db, waiting)
    assert reminder.status == MessageStatus.PENDING.value
    assert reminder.send_after == datetime(2026, 12, 23, 9, 0, tzinfo=UTC)


def test_giving_up_a_place_withdraws_its_reminder(db, coordinator, people):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    starts = datetime(2026, 12, 29, 10, 0, tzinfo=LONDON).astimezone(UTC)
    event = make_event(db, coordinator=coordinator, starts_at=starts, registration_opens_at=now - timedelta(days=1))
    registration = services.register_for_event(db, event.id, people[0], now=now)

    services.cancel_registration(db, event.id, people[0], now=now + timedelta(hours=1))

    assert [r.status for r in reminders(db, registration)] == [MessageStatus.WITHDRAWN.value]


def test_cancelling_the_event_withdraws_every_reminder(db, coordinator, people):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    starts = datetime(2026, 12, 29, 10, 0, tzinfo=LONDON).astimezone(UTC)
    event = make_event(db, coordinator=coordinator, starts_at=starts, registration_opens_at=now - timedelta(days=1))
    registrations = [services.register_for_event(db, event.id, person, now=now) for person in people[:2]]

    services.cancel_event(db, event.id, actor=coordinator, reason="Snow", now=now + timedelta(days=1))

    for registration in registrations:
        assert [r.status for r in reminders(db, registration)] == [MessageStatus.WITHDRAWN.value]


def test_moving_the_event_reschedules_the_reminder(db, coordinator, people):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    starts = datetime(2026, 12, 29, 10, 0, tzinfo=LONDON).astimezone(UTC)
    event = make_event(db, coordinator=coordinator, starts_at=starts, registration_opens_at=now - timedelta(days=1))
    registration = services.register_for_event(db, event.id, people[0], now=now)

    moved = datetime(2027, 1, 13, 10, 0, tzinfo=LONDON).astimezone(UTC)  # a Wednesday
    services.update_event(
        db,
        event.id,
        actor=coordinator,
        starts_at=moved,
        ends_at=moved + timedelta(hours=3),
        now=now + timedelta(days=1),
    )

    old, new = reminders(db, registration)
    assert old.status == MessageStatus.WITHDRAWN.value
    assert new.status == MessageStatus.PENDING.value
    assert new.send_after == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def test_no_reminder_when_the_event_is_too_close(db, coordinator, people):
    event = make_event(db, coordinator=coordinator, starts_at=(utcnow() + timedelta(hours=3)).replace(microsecond=0))
    registration = services.register_for_event(db, event.id, people[0])
    assert reminders(db, registration) == []


# The audit trail ----------------------------------------------------------------------------------


def audit_actions(db: Session, event: Event) -> list[tuple[str, int | None]]:
    rows = db.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.object_type == "event", AuditEvent.object_id == str(event.id))
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


def test_every_change_is_in_the_audit_trail(db, coordinator, people):
    holder, waiting = people[:2]
    event = make_event(db, coordinator=coordinator, capacity=1)
    services.register_for_event(db, event.id, holder)
    services.register_for_event(db, event.id, waiting)
    services.cancel_registration(db, event.id, holder)
    services.update_event(db, event.id, actor=coordinator, venue="Room 2")
    services.cancel_event(db, event.id, actor=coordinator, reason="Snow")

    assert audit_actions(db, event) == [
        ("event.created", coordinator.id),
        ("event.published", coordinator.id),
        ("event.registered", holder.id),
        ("event.registered", waiting.id),
        ("event.registration_cancelled", holder.id),
        ("event.promoted_from_waiting_list", None),
        ("event.updated", coordinator.id),
        ("event.cancelled", coordinator.id),
    ]
