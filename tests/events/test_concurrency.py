"""Simultaneous registrations from several worker processes on PostgreSQL: nobody is confirmed beyond capacity.

Each process builds its own app and connection pool, as gunicorn workers do, and they all start at the same
moment. The database is one of the test's own: the registrations commit for real, which the shared rolled-back
database must never see.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.events import services
from portal.events.models import Audience, EventKind, Mode, Registration, RegistrationStatus
from portal.security.models import Role, User
from tests import databases
from tests.conftest import make_test_app

PROCESSES = 8
PEOPLE = 200
CAPACITY = 50
CANCELLATIONS = 10
TIMEOUT = 120


def _take_part(url: str, jobs, results, start_registering, start_cancelling) -> None:
    """One worker process: register its share of people, then cancel the places it is given."""
    app = make_test_app(url)
    sessions = app.extensions["portal.db"]
    try:
        for phase, start, act in (
            ("registered", start_registering, services.register_for_event),
            ("cancelled", start_cancelling, services.cancel_registration),
        ):
            event_id, user_ids = jobs.get(timeout=TIMEOUT)
            errors = []
            start.wait(timeout=TIMEOUT)
            with app.app_context():
                for user_id in user_ids:
                    with sessions() as db:
                        try:
                            act(db, event_id, db.get(User, user_id))
                            db.commit()
                        except Exception:  # reported to the test, which fails with it
                            errors.append(traceback.format_exc())
            results.put((phase, errors))
    finally:
        sessions.kw["bind"].dispose()


def _registrations(db: Session, event_id: int) -> list[Registration]:
    return list(
        db.scalars(sa.select(Registration).where(Registration.event_id == event_id).order_by(Registration.queue_number))
    )


def _collect(results, phase: str) -> None:
    errors = []
    for _ in range(PROCESSES):
        got, process_errors = results.get(timeout=TIMEOUT)
        assert got == phase
        errors += process_errors
    assert errors == [], "\n".join(errors)


@pytest.mark.skipif(
    databases.backend() != "postgresql", reason="SQLite lets one transaction write at a time, so none can interleave"
)
def test_simultaneous_registrations_from_many_processes_never_overfill_the_event(tmp_path):
    url, drop = databases.create_database(tmp_path)
    setup_app = make_test_app(url)
    sessions = setup_app.extensions["portal.db"]
    context = multiprocessing.get_context("spawn")
    jobs = [context.Queue() for _ in range(PROCESSES)]
    results = context.Queue()
    start_registering, start_cancelling = context.Barrier(PROCESSES), context.Barrier(PROCESSES)
    processes = [
        context.Process(target=_take_part, args=(url, jobs[number], results, start_registering, start_cancelling))
        for number in range(PROCESSES)
    ]
    try:
        # Started first: they build their apps while the database is set up.
        for process in processes:
            process.start()
        migrated = setup_app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert migrated.exit_code == 0, migrated.output
        with sessions() as db, setup_app.app_context():
            coordinator = User(email="coordinator@example.org", name="Carys Morgan", role=Role.COORDINATOR.value)
            people = [
                User(email=f"practitioner{number}@example.org", name=f"Practitioner {number}", role="practitioner")
                for number in range(PEOPLE)
            ]
            db.add_all([coordinator, *people])
            db.flush()
            starts = (utcnow() + timedelta(days=21)).replace(microsecond=0)
            event = services.create_event(
                db,
                actor=coordinator,
                title="Learning from Child C",
                kind=EventKind.TRAINING.value,
                audience=Audience.ALL_PRACTITIONERS.value,
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                mode=Mode.IN_PERSON.value,
                venue="Council Chamber",
                capacity=CAPACITY,
                registration_opens_at=utcnow() - timedelta(days=1),
                registration_closes_at=starts - timedelta(days=1),
            )
            services.publish_event(db, event.id, actor=coordinator)
            db.commit()
            event_id, user_ids = event.id, [person.id for person in people]

        # Each process takes every eighth person, so all of them compete for the places from the first moment.
        for number, queue in enumerate(jobs):
            queue.put((event_id, user_ids[number::PROCESSES]))
        _collect(results, "registered")

        with sessions() as db:
            registrations = _registrations(db, event_id)
            confirmed = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED.value]
            waiting = [r for r in registrations if r.status == RegistrationStatus.WAITING.value]
            assert (len(confirmed), len(waiting)) == (CAPACITY, PEOPLE - CAPACITY)
            assert {r.user_id for r in registrations} == set(user_ids)
            assert [r.queue_number for r in registrations] == list(range(1, PEOPLE + 1))
            # The queue is in the order registrations were committed, and the first 50 of it have the places.
            assert all(a.registered_at < b.registered_at for a, b in pairwise(registrations))
            assert {r.queue_number for r in confirmed} == set(range(1, CAPACITY + 1))
            assert [services.waiting_position(db, r) for r in waiting] == list(range(1, PEOPLE - CAPACITY + 1))
            first_waiting = [r.user_id for r in waiting[:CANCELLATIONS]]
            giving_up = [r.user_id for r in confirmed[:: CAPACITY // CANCELLATIONS]]
        assert len(giving_up) == CANCELLATIONS

        for number, queue in enumerate(jobs):
            queue.put((event_id, giving_up[number::PROCESSES]))
        _collect(results, "cancelled")

        with sessions() as db:
            registrations = {r.user_id: r for r in _registrations(db, event_id)}
            statuses = {user_id: r.status for user_id, r in registrations.items()}
            assert [statuses[user_id] for user_id in giving_up] == ["cancelled"] * CANCELLATIONS
            assert [statuses[user_id] for user_id in first_waiting] == ["confirmed"] * CANCELLATIONS
            assert list(statuses.values()).count("confirmed") == CAPACITY
            still_waiting = sorted(
                (r for r in registrations.values() if r.status == "waiting"), key=lambda r: r.queue_number
            )
            assert len(still_waiting) == PEOPLE - CAPACITY - CANCELLATIONS
            assert still_waiting[0].queue_number > max(registrations[user_id].queue_number for user_id in first_waiting)
            positions = [services.waiting_position(db, r) for r in still_waiting]
            assert positions == list(range(1, len(still_waiting) + 1))
    finally:
        for process in processes:
            if process.pid is None:
                continue
            # After a failure the others may still be waiting for work that will never come.
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        sessions.kw["bind"].dispose()
        drop()
    assert [process.exitcode for process in processes] == [0] * PROCESSES, "a worker process failed"
