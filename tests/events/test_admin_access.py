"""Who may use the coordinators' event pages and the failed-messages page: one row per route and method.

Every page here is for coordinators only. The event in the URL is a published practitioner event for
one review's members. Visitors: someone signed out (sent to sign in); a coordinator; a practitioner
taking part in the review with a confirmed place; a practitioner outside the review; the review's
author; a family member of the review. Everyone but a coordinator is refused outright (403), whether
or not they may see the event itself: registrations, access needs and the outbox are never theirs.

Adding a route: add a Route to ROUTES. tests/events/test_access_coverage.py fails until you do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.events.models import Audience, EventKind, Registration
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.events.test_manage_events import event_form, register
from tests.factories import make_event, make_membership, make_review, make_user

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
REGISTERED = "practitioner taking part in the review, with a place"
OTHER_PRACTITIONER = "practitioner outside the review"
AUTHOR = "the review's author"
FAMILY = "a family member of the review"

VISITORS = (ANONYMOUS, COORDINATOR, REGISTERED, OTHER_PRACTITIONER, AUTHOR, FAMILY)


@dataclass(frozen=True)
class Route:
    """What one route answers: ``ok`` for a coordinator, 403 for every other signed-in visitor."""

    endpoint: str
    method: str
    url: str
    ok: int = 200
    data: dict[str, str | list[str]] = field(default_factory=dict)

    def expected(self, visitor: str) -> int:
        if visitor == ANONYMOUS:
            return 302
        return self.ok if visitor == COORDINATOR else 403

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method}"


ROUTES: list[Route] = [
    Route("event_admin.manage", "GET", "/events/manage"),
    Route("event_admin.new_event", "GET", "/events/new"),
    Route("event_admin.new_event", "POST", "/events/new", ok=302, data=event_form()),
    Route("event_admin.edit_event", "GET", "/events/{event}/edit"),
    Route("event_admin.publish", "POST", "/events/{draft}/publish", ok=302),
    Route("event_admin.cancel_event", "GET", "/events/{event}/cancel"),
    Route("event_admin.cancel_event", "POST", "/events/{event}/cancel", ok=302, data={"reason": "Snow"}),
    Route("event_admin.registrations", "GET", "/events/{event}/registrations"),
    Route("event_admin.registrations_csv", "GET", "/events/{event}/registrations.csv"),
    Route("event_admin.attendance", "GET", "/events/{event}/attendance"),
    Route(
        "event_admin.attendance",
        "POST",
        "/events/{event}/attendance",
        ok=302,
        data={"registration": "{registration}", "attendance": "attended"},
    ),
    Route("event_admin.mark_all_attended", "POST", "/events/{event}/attendance/all", ok=302),
    Route("notifications.failed", "GET", "/notifications/failed"),
    Route("notifications.try_again", "POST", "/notifications/{message}/try-again", ok=302),
]


def test_the_table_names_only_real_routes_and_methods(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for route in ROUTES:
        assert route.endpoint in rules, f"{route.endpoint} is not a route"
        assert route.method in rules[route.endpoint].methods, f"{route.id}: the route does not answer {route.method}"


@dataclass
class Scene:
    values: dict[str, int]
    people: dict[str, object]


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    registered = make_user(db)
    make_membership(db, review, registered, MembershipKind.PRACTITIONER)
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    family = make_user(db, role=Role.FAMILY)
    make_membership(db, review, family, MembershipKind.FAMILY)
    members_only = {"kind": EventKind.PRACTITIONER_EVENT.value, "review_id": review.id}
    # Under way since an hour ago, so the register can be taken.
    starts_at = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    event = make_event(
        db, coordinator=coordinator, starts_at=starts_at, audience=Audience.REVIEW_MEMBERS.value, **members_only
    )
    register(db, app, event, registered, now=starts_at - timedelta(days=1))
    draft = make_event(db, coordinator=coordinator, publish=False, **members_only)
    message = OutboxMessage(
        idempotency_key="access-table-failed",
        kind="event_confirmation",
        to_address="nobody@unreachable.example",
        subject="Your place is confirmed",
        body="…",
        status=MessageStatus.FAILED.value,
        attempts=8,
        failed_at=utcnow(),
    )
    db.add(message)
    db.commit()
    registration = db.scalar(sa.select(Registration.id).where(Registration.event_id == event.id))
    people = {
        COORDINATOR: coordinator,
        REGISTERED: registered,
        OTHER_PRACTITIONER: make_user(db),
        AUTHOR: author,
        FAMILY: family,
    }
    values = {"event": event.id, "draft": draft.id, "registration": registration, "message": message.id}
    return Scene(values, people)


def fill(value, values: dict[str, int]):
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value.format(**values)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_coordinators_get_in(client, db, scene, route, visitor):
    if visitor != ANONYMOUS:
        sign_in(client, scene.people[visitor])
    url = fill(route.url, scene.values)
    if route.method == "GET":
        response = client.get(url)
    else:
        token_page = "/account/password" if visitor != ANONYMOUS else "/password-reset"
        response = submit(client, url, fill(route.data, scene.values), page=token_page)
    expected = route.expected(visitor)
    assert response.status_code == expected, f"{visitor} on {route.id}: {response.status_code}, expected {expected}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]


def test_a_refused_visitor_changes_nothing(client, db, scene):
    sign_in(client, scene.people[REGISTERED])
    url = fill("/events/{event}/attendance/all", scene.values)
    assert submit(client, url, {}, page="/account/password").status_code == 403
    marks = db.scalars(sa.select(Registration.attendance).where(Registration.event_id == scene.values["event"]))
    assert list(marks) == [None]
