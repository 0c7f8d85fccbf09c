"""Calendar invitations: files calendars accept, one entry per event that each message updates or removes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar
from sqlalchemy.orm import Session

from portal.events import services
from portal.events.models import Event, Mode
from portal.notifications.models import OutboxMessage
from portal.security.models import Role, User
from tests.events.test_registration_rules import calendar_part
from tests.factories import make_event, make_user

JOINING_LINK = "https://meet.example.org/j/4242"


@pytest.fixture(autouse=True)
def context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def person(db):
    return make_user(db, role=Role.PRACTITIONER, name="Priya Shah", email="priya.shah@example.org")


def calendars_sent_to(db: Session, user: User) -> list[tuple[str, Calendar]]:
    """Every calendar file in the outbox for this person, oldest first, with the attachment's content type."""
    rows = db.execute(
        sa.select(OutboxMessage.attachment_type, OutboxMessage.attachment)
        .where(OutboxMessage.recipient_id == user.id, OutboxMessage.attachment.is_not(None))
        .order_by(OutboxMessage.id)
    )
    return [(content_type, Calendar.from_ical(text)) for content_type, text in rows]


def entry(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


def test_the_invitation_is_a_request_calendars_understand(app, db, coordinator, person):
    starts = datetime(2027, 3, 9, 9, 30, tzinfo=UTC)
    event = make_event(
        db,
        coordinator=coordinator,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        venue="Council Chamber, Northshire Town Hall",
        summary_html="<p>A morning on <strong>disguised compliance</strong>.</p>",
    )
    services.register_for_event(db, event.id, person)

    [(content_type, calendar)] = calendars_sent_to(db, person)

    assert content_type == "text/calendar; method=REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    invitation = entry(calendar)
    assert str(invitation["UID"]) == event.uid
    assert invitation["SEQUENCE"] == 1
    assert invitation.decoded("DTSTART") == starts
    assert invitation.decoded("DTEND") == starts + timedelta(hours=3)
    assert invitation.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(invitation["SUMMARY"]) == event.title
    assert str(invitation["LOCATION"]) == "Council Chamber, Northshire Town Hall"
    assert str(invitation["STATUS"]) == "CONFIRMED"
    assert str(invitation["ORGANIZER"]) == f"mailto:{app.config['MAIL_SENDER']}"
    assert str(invitation["ATTENDEE"]) == "mailto:priya.shah@example.org"
    assert invitation["ATTENDEE"].params["CN"] == "Priya Shah"
    assert "disguised compliance" in str(invitation["DESCRIPTION"])
    assert "<strong>" not in str(invitation["DESCRIPTION"])


def test_times_are_written_in_utc(db, coordinator, person):
    # 10am on a summer morning in London is 9am UTC.
    starts = datetime(2027, 7, 14, 9, 0, tzinfo=UTC)
    event = make_event(db, coordinator=coordinator, starts_at=starts, ends_at=starts + timedelta(hours=3))
    services.register_for_event(db, event.id, person)

    text = db.scalar(sa.select(OutboxMessage.attachment).where(OutboxMessage.recipient_id == person.id))
    assert "DTSTART:20270714T090000Z" in text
    assert "DTEND:20270714T120000Z" in text


def test_a_changed_event_updates_the_same_entry_with_a_higher_sequence(db, coordinator, person):
    event = make_event(db, coordinator=coordinator)
    services.register_for_event(db, event.id, person)
    moved = event.starts_at + timedelta(days=7)

    services.update_event(db, event.id, actor=coordinator, starts_at=moved, ends_at=moved + timedelta(hours=2))
    services.update_event(db, event.id, actor=coordinator, venue="Room 2, Northshire Library")

    calendars = calendars_sent_to(db, person)
    assert [content_type for content_type, _ in calendars] == ["text/calendar; method=REQUEST"] * 3
    entries = [entry(calendar) for _, calendar in calendars]
    assert {str(item["UID"]) for item in entries} == {event.uid}
    assert [item["SEQUENCE"] for item in entries] == [1, 2, 3]
    assert entries[1].decoded("DTSTART") == moved
    assert str(entries[2]["LOCATION"]) == "Room 2, Northshire Library"


def test_a_cancelled_event_removes_the_same_entry(db, coordinator, person):
    event = make_event(db, coordinator=coordinator)
    services.register_for_event(db, event.id, person)

    services.cancel_event(db, event.id, actor=coordinator, reason="The trainer is ill")

    (_, invitation), (content_type, cancellation) = calendars_sent_to(db, person)
    assert content_type == "text/calendar; method=CANCEL"
    assert cancellation["METHOD"] == "CANCEL"
    removed = entry(cancellation)
    assert str(removed["STATUS"]) == "CANCELLED"
    assert str(removed["UID"]) == str(entry(invitation)["UID"]) == event.uid
    assert removed["SEQUENCE"] > entry(invitation)["SEQUENCE"]


def test_a_cancelled_place_removes_the_entry_and_a_new_place_brings_it_back_with_a_higher_sequence(
    db, coordinator, person
):
    event = make_event(db, coordinator=coordinator)
    services.register_for_event(db, event.id, person)
    services.cancel_registration(db, event.id, person)
    services.register_for_event(db, event.id, person)

    calendars = calendars_sent_to(db, person)
    assert [calendar["METHOD"] for _, calendar in calendars] == ["REQUEST", "CANCEL", "REQUEST"]
    assert [entry(calendar)["SEQUENCE"] for _, calendar in calendars] == [1, 2, 3]
    assert {str(entry(calendar)["UID"]) for _, calendar in calendars} == {event.uid}


def online_event(db: Session, coordinator: User) -> Event:
    return make_event(db, coordinator=coordinator, mode=Mode.ONLINE.value, venue=None, joining_link=JOINING_LINK)


def test_the_joining_link_is_in_invitations_to_online_events_only(db, coordinator, person):
    event = online_event(db, coordinator)
    services.register_for_event(db, event.id, person)
    services.cancel_event(db, event.id, actor=coordinator, reason="The trainer is ill")

    (_, invitation), (_, cancellation) = calendars_sent_to(db, person)
    assert str(entry(invitation)["LOCATION"]) == "Online"
    assert JOINING_LINK in str(entry(invitation)["DESCRIPTION"])
    assert JOINING_LINK not in cancellation.to_ical().decode()


def test_an_in_person_event_has_no_joining_link(db, coordinator, person):
    event = make_event(db, coordinator=coordinator, joining_link=JOINING_LINK)  # left over from when it was online
    services.register_for_event(db, event.id, person)

    [(_, invitation)] = calendars_sent_to(db, person)
    assert JOINING_LINK not in invitation.to_ical().decode()


def test_the_emails_carry_the_calendar_files(db, coordinator, person, mailbox):
    event = online_event(db, coordinator)
    services.register_for_event(db, event.id, person)
    db.commit()
    services.cancel_event(db, event.id, actor=coordinator, reason="The trainer is ill")
    db.commit()

    confirmation, cancellation = [m for m in mailbox.received() if m["To"] == person.email]

    request = calendar_part(confirmation)
    assert request.get_param("method") == "REQUEST"
    assert request.get_filename() == "event.ics"
    assert request.get_content_disposition() == "attachment"
    invitation = Calendar.from_ical(request.get_content())
    assert invitation["METHOD"] == "REQUEST"
    assert str(entry(invitation)["UID"]) == event.uid
    assert JOINING_LINK in str(entry(invitation)["DESCRIPTION"])

    cancel = calendar_part(cancellation)
    assert cancel.get_param("method") == "CANCEL"
    assert cancel.get_filename() == "cancelled.ics"
    removal = Calendar.from_ical(cancel.get_content())
    assert removal["METHOD"] == "CANCEL"
    assert str(entry(removal)["STATUS"]) == "CANCELLED"
    assert str(entry(removal)["UID"]) == event.uid
    assert entry(removal)["SEQUENCE"] > entry(invitation)["SEQUENCE"]
