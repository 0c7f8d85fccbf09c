"""The practitioner's pages: the list of events with its filters, and what the event page shows to whom."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from icalendar import Calendar

from portal.db import LONDON, utcnow
from portal.events import services
from portal.events.models import (
    Attendance,
    Audience,
    EventKind,
    Mode,
    Registration,
    RegistrationStatus,
)
from portal.reviews.models import MembershipKind
from portal.security.models import Role
from tests.conftest import sign_in, text_of
from tests.factories import make_agency, make_event, make_membership, make_review, make_user, take_place

JOINING_LINK = "https://meet.example.org/learning-day-4821"


def titles_in(html: str) -> list[str]:
    return [unescape(title) for title in re.findall(r'<a class="govuk-link" href="/events/\d+">([^<]+)</a>', html)]


@pytest.fixture
def practitioner(db):
    return make_user(db, role=Role.PRACTITIONER, agency=make_agency(db, "Northshire Health Visiting"))


@pytest.fixture
def as_practitioner(client, practitioner):
    sign_in(client, practitioner)
    return client


# The list ----------------------------------------------------------------------------------------------


def test_the_list_shows_events_the_person_may_attend_soonest_first(as_practitioner, db, coordinator, practitioner):
    make_event(db, coordinator=coordinator, title="Later briefing", starts_at=utcnow() + timedelta(days=30))
    make_event(db, coordinator=coordinator, title="Sooner briefing", starts_at=utcnow() + timedelta(days=5))
    make_event(db, coordinator=coordinator, title="Draft briefing", publish=False)
    make_event(db, coordinator=coordinator, title="Past briefing", starts_at=utcnow() - timedelta(days=2))
    review = make_review(db, coordinator=coordinator)
    make_event(
        db,
        coordinator=coordinator,
        title="Another review's learning day",
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=review.id,
    )
    mine = make_review(db, coordinator=coordinator)
    make_membership(db, mine, practitioner, MembershipKind.PRACTITIONER)
    make_event(
        db,
        coordinator=coordinator,
        title="My review's learning day",
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=mine.id,
        starts_at=utcnow() + timedelta(days=10),
    )

    page = as_practitioner.get("/events")

    assert page.status_code == 200
    assert titles_in(page.text) == ["Sooner briefing", "My review's learning day", "Later briefing"]
    words = text_of(page.text)
    assert "In person: Council House, Room 4" in words
    assert "20 of 20 places left" in words


def test_a_full_event_and_the_persons_own_status_show_in_the_list(as_practitioner, db, coordinator, practitioner):
    full = make_event(
        db, coordinator=coordinator, title="Full briefing", capacity=1, starts_at=utcnow() + timedelta(days=3)
    )
    take_place(db, full, make_user(db))
    take_place(db, full, practitioner, RegistrationStatus.WAITING)
    booked = make_event(
        db, coordinator=coordinator, title="Booked briefing", mode=Mode.ONLINE.value, venue=None, capacity=5
    )
    take_place(db, booked, practitioner)

    words = text_of(as_practitioner.get("/events").text)

    assert "Full briefing" in words and "Full \N{EN DASH} join the waiting list" in words
    assert "Number 1 on the waiting list" in words
    assert "Booked briefing" in words and "Place confirmed" in words and "4 of 5 places left" in words
    assert "Where Online" in words


def test_the_list_filters_by_kind_and_month_with_a_plain_get_form(as_practitioner, db, coordinator):
    now_london = utcnow().astimezone(LONDON)
    # The 15th of next month at 10am London time, wherever today falls in the month.
    next_month = (now_london.replace(day=28) + timedelta(days=4)).replace(day=15, hour=10, minute=0)
    make_event(db, coordinator=coordinator, title="Training next month", kind="training", starts_at=next_month)
    make_event(db, coordinator=coordinator, title="Briefing next month", starts_at=next_month + timedelta(hours=1))
    make_event(
        db,
        coordinator=coordinator,
        title="Training later",
        kind="training",
        starts_at=next_month + timedelta(days=62),
    )

    page = as_practitioner.get("/events")
    label = f"{next_month:%B %Y}"
    assert f'<option value="{next_month:%Y-%m}">{label}</option>' in page.text
    assert 'method="get"' in page.text

    by_kind = as_practitioner.get("/events?kind=training")
    assert titles_in(by_kind.text) == ["Training next month", "Training later"]
    by_month = as_practitioner.get(f"/events?month={next_month:%Y-%m}")
    assert titles_in(by_month.text) == ["Training next month", "Briefing next month"]
    both = as_practitioner.get(f"/events?kind=training&month={next_month:%Y-%m}")
    assert titles_in(both.text) == ["Training next month"]
    assert f"in {label}" in text_of(both.text)
    # What was chosen stays chosen.
    assert re.search(r'<option value="training" selected', both.text)
    # Nonsense is ignored rather than refused.
    nonsense = as_practitioner.get("/events?kind=party&month=1999-99&page=zero")
    assert nonsense.status_code == 200
    assert len(titles_in(nonsense.text)) == 3


def test_the_list_shows_20_events_a_page_and_keeps_the_filter_between_pages(as_practitioner, db, coordinator):
    for number in range(23):
        make_event(
            db,
            coordinator=coordinator,
            title=f"Training {number + 1:02d}",
            kind="training",
            starts_at=utcnow() + timedelta(days=2, hours=number),
        )
    make_event(db, coordinator=coordinator, title="A briefing", starts_at=utcnow() + timedelta(days=1))

    first = as_practitioner.get("/events?kind=training")
    assert titles_in(first.text) == [f"Training {number:02d}" for number in range(1, 21)]
    assert "23 events of type training, page 1 of 2" in text_of(first.text)
    assert 'href="/events?kind=training&amp;page=2"' in first.text

    second = as_practitioner.get("/events?kind=training&page=2")
    assert titles_in(second.text) == ["Training 21", "Training 22", "Training 23"]
    past_the_end = as_practitioner.get("/events?kind=training&page=9")
    assert titles_in(past_the_end.text) == ["Training 21", "Training 22", "Training 23"]


def test_coordinators_see_every_published_event_in_the_list(client, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    make_event(
        db,
        coordinator=coordinator,
        title="Members-only learning day",
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=review.id,
    )
    make_event(db, coordinator=coordinator, title="Still a draft", publish=False)
    sign_in(client, coordinator)

    assert titles_in(client.get("/events").text) == ["Members-only learning day"]


# The event page ------------------------------------------------------------------------------------------


def test_the_event_page_describes_the_event_to_someone_not_registered(as_practitioner, db, coordinator):
    start = datetime(2027, 3, 2, 10, 0, tzinfo=LONDON).astimezone(UTC)
    event = make_event(
        db,
        coordinator=coordinator,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        mode=Mode.ONLINE.value,
        venue=None,
        joining_link=JOINING_LINK,
        capacity=12,
    )

    page = as_practitioner.get(f"/events/{event.id}")

    assert page.status_code == 200
    words = text_of(page.text)
    assert "<strong>neglect</strong>" in page.text
    assert "Tuesday 2 March 2027, 10:00am to 1:00pm" in words
    assert "Step-free access from the car park." in words
    assert "12 of 12 places left" in words
    assert "Open until" in words
    assert JOINING_LINK not in page.text
    assert f'href="/events/{event.id}/register"' in page.text and "Register" in words
    assert "Download calendar entry" not in words


def test_a_confirmed_place_shows_the_joining_link_the_calendar_entry_and_cancelling(
    as_practitioner, db, coordinator, practitioner
):
    event = make_event(db, coordinator=coordinator, mode=Mode.ONLINE.value, venue=None, joining_link=JOINING_LINK)
    take_place(db, event, practitioner, calendar_sequence=2)

    page = as_practitioner.get(f"/events/{event.id}")

    words = text_of(page.text)
    assert "Your place is confirmed." in words
    assert f'href="{JOINING_LINK}"' in page.text
    assert "Download calendar entry" in words and "Cancel my place" in words
    assert "19 of 20 places left" in words

    download = as_practitioner.get(f"/events/{event.id}/calendar.ics")
    assert download.status_code == 200
    assert download.mimetype == "text/calendar"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    entry = Calendar.from_ical(download.data).walk("VEVENT")[0]
    assert str(entry["UID"]) == event.uid
    assert int(entry["SEQUENCE"]) == 2  # the one already sent: downloading changes nothing
    sequence = db.query(Registration.calendar_sequence).filter_by(event_id=event.id, user_id=practitioner.id)
    assert sequence.scalar() == 2


def test_someone_waiting_sees_their_position_and_no_joining_link(as_practitioner, db, coordinator, practitioner):
    event = make_event(
        db, coordinator=coordinator, mode=Mode.ONLINE.value, venue=None, joining_link=JOINING_LINK, capacity=1
    )
    take_place(db, event, make_user(db))
    take_place(db, event, make_user(db), RegistrationStatus.WAITING)
    take_place(db, event, practitioner, RegistrationStatus.WAITING)

    page = as_practitioner.get(f"/events/{event.id}")

    words = text_of(page.text)
    assert "You are number 2 on the waiting list." in words
    assert "2 people on the waiting list" in words
    assert JOINING_LINK not in page.text
    assert "Leave the waiting list" in words
    assert "Download calendar entry" not in words
    assert as_practitioner.get(f"/events/{event.id}/calendar.ics").status_code == 404


def test_a_full_event_offers_the_waiting_list(as_practitioner, db, coordinator):
    event = make_event(db, coordinator=coordinator, capacity=1)
    take_place(db, event, make_user(db))

    words = text_of(as_practitioner.get(f"/events/{event.id}").text)

    assert "Join the waiting list" in words
    assert "Full" in words


def test_a_cancelled_event_says_so_with_the_reason(as_practitioner, db, coordinator, practitioner):
    event = make_event(db, coordinator=coordinator)
    services.cancel_event(db, event.id, actor=coordinator, reason="The speaker is unwell; we will arrange a new date.")
    db.commit()

    page = as_practitioner.get(f"/events/{event.id}")

    assert "This event has been cancelled. The speaker is unwell; we will arrange a new date." in text_of(page.text)
    assert f"/events/{event.id}/register" not in page.text


def test_registration_that_has_closed_is_explained(as_practitioner, db, coordinator):
    event = make_event(db, coordinator=coordinator, registration_closes_at=utcnow() - timedelta(hours=1))

    page = as_practitioner.get(f"/events/{event.id}")
    assert "Registration for this event has closed" in text_of(page.text)
    assert f'href="/events/{event.id}/register"' not in page.text

    register = as_practitioner.get(f"/events/{event.id}/register")
    assert register.status_code == 200
    assert "Registration for this event has closed." in text_of(register.text)
    assert 'name="access_needs"' not in register.text


def test_the_certificate_is_there_only_for_people_who_attended(as_practitioner, db, coordinator, practitioner):
    start = datetime(2026, 1, 14, 9, 30, tzinfo=LONDON).astimezone(UTC)
    event = make_event(
        db,
        coordinator=coordinator,
        title="Neglect: recognising the signs",
        kind=EventKind.TRAINING.value,
        starts_at=start,
        ends_at=start + timedelta(hours=3, minutes=30),
        registration_opens_at=start - timedelta(days=30),
        registration_closes_at=start - timedelta(days=1),
    )
    registration = take_place(db, event, practitioner)
    assert as_practitioner.get(f"/events/{event.id}/certificate").status_code == 404

    registration.attendance = Attendance.NO_SHOW.value
    db.commit()
    assert as_practitioner.get(f"/events/{event.id}/certificate").status_code == 404

    registration.attendance = Attendance.ATTENDED.value
    db.commit()
    event_page = as_practitioner.get(f"/events/{event.id}")
    assert "Get your certificate of attendance" in text_of(event_page.text)
    certificate = as_practitioner.get(f"/events/{event.id}/certificate")

    assert certificate.status_code == 200
    words = text_of(certificate.text)
    assert "Certificate of attendance" in words
    assert practitioner.name in words
    assert "Northshire Health Visiting" in words
    assert "Neglect: recognising the signs" in words
    assert "Type of event Training" in words
    assert "14 January 2026" in words
    assert "3 hours 30 minutes" in words
    assert "use your browser's print option" in words
    assert "portal-print-page" in certificate.text  # the print styles hide the page's chrome
    assert "<script>" not in certificate.text


def test_my_events_lists_upcoming_then_past_with_status_and_position(as_practitioner, db, coordinator, practitioner):
    soon = make_event(db, coordinator=coordinator, title="Soon", capacity=1, starts_at=utcnow() + timedelta(days=2))
    take_place(db, soon, make_user(db))
    take_place(db, soon, make_user(db), RegistrationStatus.WAITING)
    take_place(db, soon, practitioner, RegistrationStatus.WAITING)
    later = make_event(db, coordinator=coordinator, title="Later", starts_at=utcnow() + timedelta(days=40))
    take_place(db, later, practitioner)
    start = utcnow() - timedelta(days=30)
    done = make_event(
        db,
        coordinator=coordinator,
        title="Done",
        starts_at=start,
        registration_opens_at=start - timedelta(days=20),
        registration_closes_at=start - timedelta(days=1),
    )
    take_place(db, done, practitioner, attendance=Attendance.ATTENDED.value)
    left = make_event(db, coordinator=coordinator, title="Left", starts_at=utcnow() + timedelta(days=9))
    take_place(db, left, practitioner, RegistrationStatus.CANCELLED)
    make_event(db, coordinator=coordinator, title="Not mine")

    page = as_practitioner.get("/events/mine")

    assert page.status_code == 200
    upcoming, past = page.text.split('id="past"')
    assert titles_in(upcoming) == ["Soon", "Left", "Later"]
    assert titles_in(past) == ["Done"]
    words = text_of(page.text)
    assert "Soon" in words and "Number 2 on the waiting list" in words
    assert "Later" in words and "Place confirmed" in words
    assert "Cancelled" in words
    assert "Attended" in words and f"/events/{done.id}/certificate" in page.text
    assert "Not mine" not in words


def test_the_home_page_shows_the_next_events(as_practitioner, db, coordinator, practitioner):
    event = make_event(db, coordinator=coordinator, title="Coming up soon", starts_at=utcnow() + timedelta(days=4))
    take_place(db, event, practitioner)

    words = text_of(as_practitioner.get("/").text)

    assert "Your next events" in words
    assert "Coming up soon" in words and "Place confirmed" in words
    assert "Find a learning event" in words


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.FAMILY])
def test_authors_and_families_cannot_see_events(client, db, coordinator, role):
    event = make_event(db, coordinator=coordinator)
    sign_in(client, make_user(db, role=role))

    assert client.get(f"/events/{event.id}").status_code == 404
    assert client.get("/events").status_code == 403


def test_services_and_pages_agree_on_places(db, coordinator):
    # A guard on the scene helpers the other tests rely on.
    event = make_event(db, coordinator=coordinator, capacity=2)
    take_place(db, event, make_user(db))
    take_place(db, event, make_user(db), RegistrationStatus.WAITING)
    assert services.places(db, event) == services.Places(confirmed=1, waiting=1, capacity=2)
