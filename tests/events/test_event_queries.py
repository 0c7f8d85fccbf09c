"""The practitioner's event pages make the same number of queries with 10 events as with 1,000."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import insert

from portal.db import utcnow
from portal.events.models import Event, EventStatus, Registration, RegistrationStatus
from portal.security.models import Role, User
from tests.conftest import counting_queries, sign_in, text_of
from tests.factories import make_event, make_user, take_place


def add_events(db, coordinator, count: int, *, first: int) -> list[int]:
    now = utcnow()
    rows = []
    for number in range(first, first + count):
        starts_at = now + timedelta(days=3, hours=number)
        rows.append(
            {
                "title": f"Briefing {number:04d}",
                "summary_html": "<p>Learning from a review.</p>",
                "kind": "briefing" if number % 2 else "training",
                "audience": "all_practitioners",
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=2),
                "mode": "online" if number % 3 else "in_person",
                "venue": None if number % 3 else "Council House",
                "capacity": 5,
                "registration_opens_at": now - timedelta(days=1),
                "registration_closes_at": starts_at - timedelta(hours=1),
                "status": EventStatus.PUBLISHED.value,
                "created_by_id": coordinator.id,
            }
        )
    db.execute(insert(Event), rows)
    db.commit()
    return list(db.scalars(sa.select(Event.id).where(Event.title.like("Briefing %")).order_by(Event.id)))


def add_people(db, count: int, *, first: int) -> list[int]:
    db.execute(
        insert(User),
        [
            {"email": f"bulk{number}@example.org", "name": f"Bulk {number}", "role": Role.PRACTITIONER.value}
            for number in range(first, first + count)
        ],
    )
    db.commit()
    return list(db.scalars(sa.select(User.id).where(User.email.like("bulk%")).order_by(User.id)))


def add_registrations(db, event_ids: list[int], people: list[int], *, per_event: int) -> None:
    """Up to ``per_event`` more people on each event, after those already there: places first, then the queue."""
    wanted = set(event_ids)
    capacity = dict(db.execute(sa.select(Event.id, Event.capacity).where(Event.id.in_(wanted))).all())
    last = dict(
        db.execute(
            sa.select(Registration.event_id, sa.func.max(Registration.queue_number)).group_by(Registration.event_id)
        ).all()
    )
    taken = set(db.execute(sa.select(Registration.event_id, Registration.user_id)).all())
    rows = []
    for event_id in event_ids:
        chosen = [person for person in people if (event_id, person) not in taken][:per_event]
        for offset, person in enumerate(chosen, start=1):
            queue_number = last.get(event_id, 0) + offset
            status = RegistrationStatus.CONFIRMED if queue_number <= capacity[event_id] else RegistrationStatus.WAITING
            rows.append(
                {
                    "event_id": event_id,
                    "user_id": person,
                    "status": status.value,
                    "queue_number": queue_number,
                    "calendar_sequence": 0,
                }
            )
    if rows:
        db.execute(insert(Registration), rows)
    db.commit()


@pytest.fixture
def scene(db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    practitioner = make_user(db, role=Role.PRACTITIONER)
    # The event whose page is counted; the practitioner waits for it, behind two colleagues.
    target = make_event(db, coordinator=coordinator, title="The counted event", capacity=1)
    take_place(db, target, make_user(db))
    take_place(db, target, make_user(db), RegistrationStatus.WAITING)
    take_place(db, target, practitioner, RegistrationStatus.WAITING)
    return coordinator, practitioner, target


def pages_for(target) -> dict[str, str]:
    return {
        "list": "/events",
        "list filtered": "/events?kind=training&page=2",
        "event": f"/events/{target.id}",
        "mine": "/events/mine",
        "home": "/",
    }


def count_pages(client, db, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with counting_queries(db) as statements:
            response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        counts[name] = len(statements)
    return counts


@pytest.mark.parametrize("viewer", ["practitioner", "coordinator"])
def test_the_event_pages_make_the_same_number_of_queries_with_10_and_1000_events(client, db, scene, viewer):
    coordinator, practitioner, target = scene
    person = practitioner if viewer == "practitioner" else coordinator
    people = add_people(db, 60, first=0)
    small_events = add_events(db, coordinator, 10, first=0)
    add_registrations(db, small_events[:3], people, per_event=3)
    add_registrations(db, [target.id], people, per_event=2)
    sign_in(client, person)
    urls = pages_for(target)
    if viewer == "coordinator":
        urls = {name: url for name, url in urls.items() if name in {"list", "list filtered", "event"}}
    for url in urls.values():
        client.get(url)  # warms caches (the signed-in person, compiled statements)

    small = count_pages(client, db, urls)

    big_events = add_events(db, coordinator, 990, first=10)
    assert len(big_events) == 1000
    add_registrations(db, big_events, people, per_event=8)
    add_registrations(db, [target.id], people, per_event=50)
    # The practitioner's own registrations grow too: two pages of "my events".
    add_registrations(db, big_events[:30], [practitioner.id], per_event=1)

    big = count_pages(client, db, urls)

    assert big == small
    big_list = client.get("/events")
    assert big_list.text.count('class="portal-event-list__item"') == 20
    waiting = db.scalar(
        sa.select(sa.func.count()).where(
            Registration.event_id == target.id, Registration.status == RegistrationStatus.WAITING.value
        )
    )
    assert waiting == 54
    event_words = text_of(client.get(f"/events/{target.id}").text)
    assert "54 people on the waiting list" in event_words
    if viewer == "practitioner":
        assert "You are number 2 on the waiting list." in event_words
        assert "Page 1 of 2" in client.get("/events/mine").text
