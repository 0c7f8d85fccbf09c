"""Whatever people do, in whatever order, the waiting list keeps its promises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from portal.events import services
from portal.events.models import Event, Registration, RegistrationStatus
from portal.events.services import EventChangeRefused
from portal.security.models import Role
from tests.factories import make_event, make_user

PEOPLE = 5

steps = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, PEOPLE - 1)),
        st.tuples(st.just("cancel"), st.integers(0, PEOPLE - 1)),
        st.tuples(st.just("capacity"), st.integers(1, 4)),
    ),
    max_size=15,
)


@pytest.fixture(autouse=True)
def context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


class Expected:
    """The waiting list as people understand it: places in order of arrival, then a queue served in order."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.confirmed: list[int] = []
        self.waiting: list[int] = []

    def fill(self) -> None:
        while self.waiting and len(self.confirmed) < self.capacity:
            self.confirmed.append(self.waiting.pop(0))

    def register(self, person: int) -> None:
        if person in self.confirmed or person in self.waiting:
            return
        (self.confirmed if len(self.confirmed) < self.capacity else self.waiting).append(person)

    def cancel(self, person: int) -> None:
        if person in self.waiting:
            self.waiting.remove(person)
        else:
            self.confirmed.remove(person)
            self.fill()


def actual(db: Session, event: Event) -> tuple[set[int], list[int]]:
    rows = db.execute(
        sa.select(Registration.user_id, Registration.status)
        .where(Registration.event_id == event.id)
        .order_by(Registration.queue_number)
    ).all()
    confirmed = {user_id for user_id, status in rows if status == RegistrationStatus.CONFIRMED.value}
    waiting = [user_id for user_id, status in rows if status == RegistrationStatus.WAITING.value]
    return confirmed, waiting


def test_the_waiting_list_keeps_its_promises_whatever_happens(db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    people = [make_user(db, role=Role.PRACTITIONER) for _ in range(PEOPLE)]

    @settings(
        max_examples=35,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(capacity=st.integers(1, 3), steps=steps)
    def check(capacity: int, steps: list[tuple[str, int]]) -> None:
        # A fresh event for every example; all of it is rolled back with the test.
        event = make_event(db, coordinator=coordinator, capacity=capacity)
        expected = Expected(capacity)
        for action, value in steps:
            if action == "register":
                services.register_for_event(db, event.id, people[value])
                expected.register(people[value].id)
            elif action == "cancel":
                person = people[value]
                if person.id not in expected.confirmed and person.id not in expected.waiting:
                    continue
                services.cancel_registration(db, event.id, person)
                expected.cancel(person.id)
            elif value < len(expected.confirmed):
                with pytest.raises(EventChangeRefused):
                    services.update_event(db, event.id, actor=coordinator, capacity=value)
            else:
                services.update_event(db, event.id, actor=coordinator, capacity=value)
                expected.capacity = value
                expected.fill()

            confirmed, waiting = actual(db, event)
            taken = services.places(db, event)
            assert len(confirmed) == taken.confirmed <= event.capacity, "more people confirmed than places"
            if waiting:
                assert taken.confirmed == event.capacity, "someone waits while a place is free"
            registrations = [services.registration_of(db, event, person) for person in people]
            by_person = {r.user_id: services.waiting_position(db, r) for r in registrations if r is not None}
            assert [by_person[user_id] for user_id in waiting] == list(range(1, len(waiting) + 1))
            # Freed places went to whoever had waited longest, and the queue kept its order.
            assert confirmed == set(expected.confirmed)
            assert waiting == expected.waiting

    check()
