"""Coordinators creating, changing, publishing and cancelling events, and the list of every event."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.db import LONDON, utcnow
from portal.events import services
from portal.events.forms import parse_time
from portal.events.models import Audience, Event, EventKind, EventStatus, Mode, Registration, RegistrationStatus
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from tests.conftest import counting_queries, submit, text_of
from tests.factories import make_event, make_review, make_user

NEXT_YEAR = date.today().year + 1
SUMMER_DAY = date(NEXT_YEAR, 7, 15)  # British Summer Time: London is UTC+1
WINTER_DAY = date(NEXT_YEAR, 1, 20)  # Greenwich Mean Time: London is UTC


def date_parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def event_form(**changes) -> dict:
    """A complete, valid answer to the event form (an in-person training day next summer)."""
    data = {
        "title": "Neglect: seeing the whole child",
        "summary": "A morning on recognising cumulative harm.\n\nBring a case to discuss.",
        "kind": EventKind.TRAINING.value,
        "review": "",
        "audience": Audience.ALL_PRACTITIONERS.value,
        "day": date_parts(SUMMER_DAY),
        "starts": "10:30am",
        "ends": "2pm",
        "mode": Mode.IN_PERSON.value,
        "venue": "Room 4, Northshire Town Hall",
        "accessibility": "Step-free access from the car park; hearing loop in Room 4",
        "joining_link": "",
        "capacity": "30",
        "opens": date_parts(date.today()),
        "closes": date_parts(SUMMER_DAY - timedelta(days=1)),
    }
    data.update(changes)
    return data


def register(db: Session, app, event: Event, person: User, **kwargs) -> Registration:
    with app.test_request_context():
        registration = services.register_for_event(db, event.id, person, **kwargs)
        db.commit()
    return registration


def only_event(db) -> Event:
    return db.scalars(sa.select(Event)).one()


# Reading times -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("10:30", time(10, 30)),
        ("10:30am", time(10, 30)),
        ("10.30 am", time(10, 30)),
        ("2pm", time(14, 0)),
        ("2 p.m.", time(14, 0)),
        ("14:00", time(14, 0)),
        ("12pm", time(12, 0)),
        ("12:15am", time(0, 15)),
        ("Midday", time(12, 0)),
    ],
)
def test_times_are_read_as_people_type_them(typed, meant):
    assert parse_time(typed) == meant


@pytest.mark.parametrize("typed", ["25:00", "10:75", "13pm", "0am", "half ten", "10", "1030", "10:3"])
def test_things_that_are_not_times_are_refused(typed):
    assert parse_time(typed) is None


# Creating an event ---------------------------------------------------------------------------------------


def test_creating_an_event_saves_a_draft_in_utc_and_opens_its_page(as_coordinator, db, coordinator):
    response = submit(as_coordinator, "/events/new", event_form())
    assert response.status_code == 302
    event = only_event(db)
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    assert event.status == EventStatus.DRAFT.value
    # 10:30am and 2pm in British Summer Time are 9:30 and 13:00 UTC.
    assert event.starts_at == datetime.combine(SUMMER_DAY, time(9, 30), tzinfo=UTC)
    assert event.ends_at == datetime.combine(SUMMER_DAY, time(13, 0), tzinfo=UTC)
    assert event.summary_html == "<p>A morning on recognising cumulative harm.</p><p>Bring a case to discuss.</p>"
    assert event.joining_link is None
    # Registration opens at midnight London time today and closes at the end of the day before.
    today_midnight = datetime.combine(date.today(), time(0, 0), tzinfo=LONDON)
    assert event.registration_opens_at == today_midnight.astimezone(UTC)
    day_before_end = datetime.combine(SUMMER_DAY - timedelta(days=1), time(23, 59, 59), tzinfo=LONDON)
    assert event.registration_closes_at == day_before_end.astimezone(UTC)

    page = as_coordinator.get(response.headers["Location"], follow_redirects=True)
    words = text_of(page.text)
    assert "saved as a draft" in words
    assert "Manage this event" in words
    assert "0 of 30" in words


def test_winter_times_are_the_same_in_utc_and_registration_closes_at_the_start_on_the_day(as_coordinator, db):
    form = event_form(day=date_parts(WINTER_DAY), starts="09:15", ends="11:00", closes=date_parts(WINTER_DAY))
    assert submit(as_coordinator, "/events/new", form).status_code == 302
    event = only_event(db)
    assert event.starts_at == datetime.combine(WINTER_DAY, time(9, 15), tzinfo=UTC)
    # Closing "on the day" would be after the start: registration closes when the event starts.
    assert event.registration_closes_at == event.starts_at


def test_the_form_says_what_to_fix_and_keeps_what_was_typed(as_coordinator, db):
    form = event_form(
        title="",
        starts="",
        ends="quarter past",
        capacity="0",
        closes=date_parts(SUMMER_DAY + timedelta(days=3)),
        venue="",
    )
    response = submit(as_coordinator, "/events/new", form)
    assert response.status_code == 200
    words = text_of(response.text)
    assert "Enter the event title" in words
    assert "Enter a start time, like 10:30am or 14:30" in words
    assert "Enter a real end time, like 10:30am or 14:30" in words
    assert "The number of places must be 1 or more" in words
    assert "Enter the venue" in words
    assert "<title>Error: " in response.text
    # What was typed is still there to correct.
    assert 'value="quarter past"' in response.text
    assert 'value="0"' in response.text
    assert "A morning on recognising cumulative harm." in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_the_form_checks_the_answers_that_depend_on_each_other(as_coordinator, db):
    response = submit(
        as_coordinator,
        "/events/new",
        event_form(
            kind=EventKind.PRACTITIONER_EVENT.value,
            mode=Mode.ONLINE.value,
            venue="",
            joining_link="http://meet.example.org/room",
            starts="3pm",
            ends="14:00",
            capacity="thirty",
            closes=date_parts(SUMMER_DAY + timedelta(days=1)),
        ),
    )
    words = text_of(response.text)
    assert "Select the review this practitioner event is for" in words
    assert "Enter a joining link starting with https://" in words
    assert "The end time must be after the start time" in words
    assert "The number of places must be a whole number, like 30" in words
    assert "The date registration closes must be on or before the day of the event" in words
    assert "Enter the venue" not in words  # only the online event's link is needed


def test_members_only_events_need_a_review_and_online_events_a_link(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    missing = submit(
        as_coordinator,
        "/events/new",
        event_form(audience=Audience.REVIEW_MEMBERS.value, mode=Mode.ONLINE.value, venue=""),
    )
    assert "Select the review whose members can come" in text_of(missing.text)
    assert "Enter the joining link" in text_of(missing.text)
    assert f"{review.reference}, {review.anonymised_name}" in missing.text

    saved = submit(
        as_coordinator,
        "/events/new",
        event_form(
            kind=EventKind.PRACTITIONER_EVENT.value,
            audience=Audience.REVIEW_MEMBERS.value,
            review=str(review.id),
            mode=Mode.ONLINE.value,
            joining_link="https://meet.example.org/room-7",
        ),
    )
    assert saved.status_code == 302
    event = only_event(db)
    assert (event.review_id, event.joining_link, event.venue) == (review.id, "https://meet.example.org/room-7", None)


def test_a_time_the_clocks_skip_is_refused(as_coordinator, db):
    # The clocks go forward at 1am on the last Sunday of March: 1:30am that day never happens.
    march_end = date(NEXT_YEAR, 3, 31)
    last_sunday = march_end - timedelta(days=(march_end.weekday() + 1) % 7)
    response = submit(
        as_coordinator,
        "/events/new",
        event_form(day=date_parts(last_sunday), starts="1:30am", closes=date_parts(last_sunday)),
    )
    assert "The clocks go forward that night, so that start time does not exist" in text_of(response.text)


# Publishing and changing ----------------------------------------------------------------------------------


def test_create_publish_and_move_the_event_tells_everyone_registered(app, as_coordinator, db, mailbox):
    assert submit(as_coordinator, "/events/new", event_form()).status_code == 302
    event = only_event(db)
    page = as_coordinator.get(f"/events/{event.id}")
    assert "Publish the event" in page.text
    published = submit(as_coordinator, f"/events/{event.id}/publish", {}, page=f"/events/{event.id}")
    assert published.status_code == 302
    db.refresh(event)
    assert event.status == EventStatus.PUBLISHED.value

    attendee = make_user(db, email="sam.visitor@health.example.org")
    register(db, app, event, attendee)
    mailbox.received()  # the confirmation
    mailbox.messages.clear()

    edit_page = as_coordinator.get(f"/events/{event.id}/edit")
    assert 'value="10:30am"' in edit_page.text and 'value="2pm"' in edit_page.text
    response = submit(as_coordinator, f"/events/{event.id}/edit", event_form(starts="11am", ends="3pm"))
    assert response.status_code == 302
    db.refresh(event)
    assert event.starts_at == datetime.combine(SUMMER_DAY, time(10, 0), tzinfo=UTC)
    changed = mailbox.last_to("sam.visitor@health.example.org")
    assert changed["Subject"] == "Event changed: Neglect: seeing the whole child"


def test_changing_only_the_title_tells_nobody(app, as_coordinator, db, coordinator, mailbox):
    submit(as_coordinator, "/events/new", event_form())
    event = only_event(db)
    submit(as_coordinator, f"/events/{event.id}/publish", {}, page=f"/events/{event.id}")
    register(db, app, event, make_user(db))
    mailbox.received()
    mailbox.messages.clear()
    submit(as_coordinator, f"/events/{event.id}/edit", event_form(title="Neglect: the whole child"))
    assert mailbox.received() == []


def test_the_capacity_cannot_drop_below_the_places_taken(app, as_coordinator, db, coordinator):
    event = make_event(db, coordinator=coordinator, capacity=5)
    for _ in range(3):
        register(db, app, event, make_user(db))
    day = date_parts(event.starts_at.astimezone(LONDON).date())
    form = event_form(capacity="2", day=day, closes=day)
    response = submit(as_coordinator, f"/events/{event.id}/edit", form)
    assert response.status_code == 200
    assert "3 people already have a place: the capacity cannot be fewer" in text_of(response.text)
    assert 'value="2"' in response.text
    db.refresh(event)
    assert event.capacity == 5


def test_publishing_twice_says_it_is_already_published(app, as_coordinator, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    response = submit(as_coordinator, f"/events/{event.id}/publish", {}, page=f"/events/{event.id}")
    assert response.status_code == 302
    assert "Only a draft event can be published" in as_coordinator.get(response.headers["Location"]).text


# Cancelling ----------------------------------------------------------------------------------------------


def test_cancelling_needs_a_reason_warns_who_is_told_and_tells_them(app, as_coordinator, db, coordinator, mailbox):
    event = make_event(db, coordinator=coordinator, capacity=1)
    register(db, app, event, make_user(db, email="first@school.example.org"))
    register(db, app, event, make_user(db, email="second@school.example.org"))  # waiting
    mailbox.received()
    mailbox.messages.clear()

    page = as_coordinator.get(f"/events/{event.id}/cancel")
    assert "2 people registered will be told the event is cancelled" in text_of(page.text)
    missing = submit(as_coordinator, f"/events/{event.id}/cancel", {"reason": "  "})
    assert "Enter why the event is cancelled" in text_of(missing.text)

    done = submit(as_coordinator, f"/events/{event.id}/cancel", {"reason": "The trainer is unwell"})
    assert done.status_code == 302
    db.refresh(event)
    assert (event.status, event.cancel_reason) == (EventStatus.CANCELLED.value, "The trainer is unwell")
    for address in ("first@school.example.org", "second@school.example.org"):
        assert mailbox.last_to(address)["Subject"] == f"Event cancelled: {event.title}"

    # A cancelled event cannot be changed or cancelled again.
    for url in (f"/events/{event.id}/edit", f"/events/{event.id}/cancel"):
        words = text_of(as_coordinator.get(url).text)
        assert "A cancelled event cannot be changed" in words
        assert "The trainer is unwell" in words
    refused = submit(as_coordinator, f"/events/{event.id}/edit", event_form(), page=f"/events/{event.id}")
    assert "A cancelled event cannot be changed" in text_of(refused.text)


def test_missing_events_are_404(as_coordinator):
    for url in ("/events/999999/edit", "/events/999999/cancel", "/events/999999/registrations"):
        assert as_coordinator.get(url).status_code == 404


# The list of every event -----------------------------------------------------------------------------------


def titles_in_order(html: str) -> list[str]:
    return re.findall(
        r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="/events/\d+">([^<]+)</a>', html
    )


def test_the_list_shows_upcoming_events_soonest_first_then_past_ones(app, as_coordinator, db, coordinator):
    now = utcnow()
    make_event(db, coordinator=coordinator, title="Next month", starts_at=now + timedelta(days=30))
    make_event(db, coordinator=coordinator, title="Next week", starts_at=now + timedelta(days=7), publish=False)
    make_event(db, coordinator=coordinator, title="Last year", starts_at=now - timedelta(days=300))
    make_event(db, coordinator=coordinator, title="Last week", starts_at=now - timedelta(days=7))
    cancelled = make_event(db, coordinator=coordinator, title="Called off", starts_at=now + timedelta(days=60))
    with app.test_request_context():
        services.cancel_event(db, cancelled.id, actor=coordinator, reason="Room lost")
        db.commit()

    response = as_coordinator.get("/events/manage")
    assert titles_in_order(response.text) == ["Next week", "Next month", "Called off", "Last week", "Last year"]
    assert "Create an event" in response.text

    drafts = as_coordinator.get("/events/manage?status=draft")
    assert titles_in_order(drafts.text) == ["Next week"]
    assert titles_in_order(as_coordinator.get("/events/manage?status=nonsense").text)[0] == "Next week"


def test_the_list_shows_fill_level_waiting_list_and_attendance_rate(app, as_coordinator, db, coordinator):
    event = make_event(db, coordinator=coordinator, title="Learning from Child F", capacity=2)
    people = [make_user(db) for _ in range(3)]
    for person in people:
        register(db, app, event, person)
    words = text_of(as_coordinator.get("/events/manage").text)
    assert "Learning from Child F Learning briefing" in words
    assert "2 of 2 Full 1" in words

    # Once it is over, the share of those marked who came.
    db.execute(
        sa.update(Event)
        .where(Event.id == event.id)
        .values(
            starts_at=utcnow() - timedelta(days=2),
            ends_at=utcnow() - timedelta(days=2) + timedelta(hours=2),
            registration_opens_at=utcnow() - timedelta(days=30),
            registration_closes_at=utcnow() - timedelta(days=3),
        )
    )
    confirmed = db.scalars(
        sa.select(Registration).where(Registration.status == RegistrationStatus.CONFIRMED.value)
    ).all()
    confirmed[0].attendance, confirmed[1].attendance = "attended", "no_show"
    db.commit()
    words = text_of(as_coordinator.get("/events/manage").text)
    assert "50% 1 of 2 marked" in words


def test_the_list_shows_25_events_a_page(app, as_coordinator, db, coordinator):
    bulk_events(db, coordinator, 30)
    first = as_coordinator.get("/events/manage")
    assert len(titles_in_order(first.text)) == 25
    assert "30 events, page 1 of 2" in text_of(first.text)
    assert len(titles_in_order(as_coordinator.get("/events/manage?page=2").text)) == 5


def bulk_events(db, coordinator: User, count: int, *, registrations_each: int = 0) -> None:
    """Many published events at once, each with some people registered, inserted in bulk for speed."""
    now = utcnow().replace(microsecond=0)
    rows = [
        {
            "uid": f"bulk-{coordinator.id}-{number}@test",
            "title": f"Bulk event {number}",
            "summary_html": "",
            "kind": EventKind.TRAINING.value,
            "audience": Audience.ALL_PRACTITIONERS.value,
            "starts_at": now + timedelta(days=number - count // 2),
            "ends_at": now + timedelta(days=number - count // 2, hours=2),
            "mode": Mode.ONLINE.value,
            "joining_link": "https://meet.example.org/bulk",
            "capacity": 5,
            "registration_opens_at": now + timedelta(days=number - count // 2 - 400),
            "registration_closes_at": now + timedelta(days=number - count // 2, hours=-1),
            "status": EventStatus.PUBLISHED.value,
            "created_by_id": coordinator.id,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(count)
    ]
    db.execute(sa.insert(Event), rows)
    if registrations_each:
        people = [make_user(db) for _ in range(registrations_each)]
        event_ids = db.scalars(sa.select(Event.id).where(Event.uid.like(f"bulk-{coordinator.id}-%"))).all()
        db.execute(
            sa.insert(Registration),
            [
                {
                    "event_id": event_id,
                    "user_id": person.id,
                    "status": RegistrationStatus.CONFIRMED.value if number < 5 else RegistrationStatus.WAITING.value,
                    "queue_number": number + 1,
                    "registered_at": now,
                    "calendar_sequence": 1,
                    "attendance": "attended" if number == 0 else None,
                }
                for event_id in event_ids
                for number, person in enumerate(people)
            ],
        )
    db.commit()


def test_the_list_makes_the_same_number_of_queries_with_10_or_1000_events(as_coordinator, db, coordinator):
    bulk_events(db, coordinator, 10, registrations_each=6)
    as_coordinator.get("/events/manage")  # a first visit warms the session's caches
    with counting_queries(db) as small_queries:
        small = as_coordinator.get("/events/manage")
    assert len(titles_in_order(small.text)) == 10

    other = make_user(db, role=Role.COORDINATOR)
    bulk_events(db, other, 990, registrations_each=6)
    with counting_queries(db) as big_queries:
        big = as_coordinator.get("/events/manage")
    assert "1000 events, page 1 of 40" in text_of(big.text)
    assert "5 of 5 Full 1" in text_of(big.text)
    assert len(big_queries) == len(small_queries), "\n".join(big_queries)


def test_creating_an_event_is_audited(as_coordinator, db, coordinator):
    submit(as_coordinator, "/events/new", event_form())
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == coordinator.id)).all()
    assert "event.created" in actions
