"""Who may use each practitioner event page: one row per route and method, every visitor written out.

The event in the URL is a practitioner event for one review's members. Visitors: someone signed out
(sent to sign in); a coordinator; a practitioner taking part in the review (eligible, not registered);
one taking part with a confirmed place they attended; a practitioner outside the review; the review's
author; a family member of the review. Anything about an event a visitor may not know exists is 404;
pages for another role altogether are 403.

Adding a route: add a Route to ROUTES. tests/events/test_access_coverage.py fails until you do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.events.models import Attendance, Audience, EventKind, RegistrationStatus
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_event, make_membership, make_review, make_user, take_place

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
ELIGIBLE = "practitioner taking part in the review, not registered"
REGISTERED = "practitioner with a place they attended"
OTHER_PRACTITIONER = "practitioner outside the review"
AUTHOR = "the review's author"
FAMILY = "a family member of the review"

SIGNED_IN_VISITORS = (COORDINATOR, ELIGIBLE, REGISTERED, OTHER_PRACTITIONER, AUTHOR, FAMILY)


@dataclass(frozen=True)
class Route:
    """What one route answers each signed-in visitor; someone signed out is always sent to sign in."""

    endpoint: str
    method: str
    url: str
    answers: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method}"


def answers(
    ok: int, succeeds: tuple[str, ...], *, not_for_role: tuple[str, ...] = (), **special: int
) -> dict[str, int]:
    """``ok`` for ``succeeds``, 403 for ``not_for_role``, 404 for everyone else unless ``special`` says."""
    table = {visitor: 404 for visitor in SIGNED_IN_VISITORS}
    table.update({visitor: 403 for visitor in not_for_role})
    table.update({visitor: ok for visitor in succeeds})
    for name, code in special.items():
        table[globals()[name.upper()]] = code
    return table


NOT_PRACTITIONERS = (COORDINATOR, AUTHOR, FAMILY)
PRACTITIONERS = (ELIGIBLE, REGISTERED, OTHER_PRACTITIONER)

ROUTES: list[Route] = [
    Route(
        "events.list_events",
        "GET",
        "/events",
        answers(200, (COORDINATOR, *PRACTITIONERS), not_for_role=(AUTHOR, FAMILY)),
    ),
    Route(
        "events.my_registrations", "GET", "/events/mine", answers(200, PRACTITIONERS, not_for_role=NOT_PRACTITIONERS)
    ),
    Route("events.event", "GET", "/events/{event}", answers(200, (COORDINATOR, ELIGIBLE, REGISTERED))),
    # Someone already registered is shown where they stand on the event page.
    Route(
        "events.register",
        "GET",
        "/events/{event}/register",
        answers(200, (ELIGIBLE,), not_for_role=NOT_PRACTITIONERS, registered=302),
    ),
    Route(
        "events.register",
        "POST",
        "/events/{event}/register",
        answers(302, (ELIGIBLE, REGISTERED), not_for_role=NOT_PRACTITIONERS),
    ),
    Route(
        "events.cancel_registration",
        "GET",
        "/events/{event}/cancel-registration",
        answers(200, (REGISTERED,), not_for_role=NOT_PRACTITIONERS),
    ),
    Route(
        "events.cancel_registration",
        "POST",
        "/events/{event}/cancel-registration",
        answers(302, (REGISTERED,), not_for_role=NOT_PRACTITIONERS),
    ),
    Route(
        "events.calendar_file",
        "GET",
        "/events/{event}/calendar.ics",
        answers(200, (REGISTERED,), not_for_role=NOT_PRACTITIONERS),
    ),
    Route(
        "events.certificate",
        "GET",
        "/events/{event}/certificate",
        answers(200, (REGISTERED,), not_for_role=NOT_PRACTITIONERS),
    ),
]


def test_every_visitor_is_written_out_for_every_route():
    for route in ROUTES:
        assert set(route.answers) == set(SIGNED_IN_VISITORS), route.id


def test_the_table_names_only_real_routes_and_methods(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for route in ROUTES:
        assert route.endpoint in rules, f"{route.endpoint} is not a route"
        assert route.method in rules[route.endpoint].methods, f"{route.id}: the route does not answer {route.method}"


@dataclass
class Scene:
    event_id: int
    title: str
    people: dict[str, object]


@pytest.fixture
def scene(db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    event = make_event(
        db,
        coordinator=coordinator,
        title="Practitioner event for a confidential review",
        kind=EventKind.PRACTITIONER_EVENT.value,
        audience=Audience.REVIEW_MEMBERS.value,
        review_id=review.id,
    )
    eligible = make_user(db, role=Role.PRACTITIONER)
    registered = make_user(db, role=Role.PRACTITIONER)
    author = make_user(db, role=Role.AUTHOR)
    family = make_user(db, role=Role.FAMILY)
    make_membership(db, review, eligible, MembershipKind.PRACTITIONER)
    make_membership(db, review, registered, MembershipKind.PRACTITIONER)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    make_membership(db, review, family, MembershipKind.FAMILY)
    take_place(db, event, registered, RegistrationStatus.CONFIRMED, attendance=Attendance.ATTENDED.value)
    return Scene(
        event.id,
        event.title,
        {
            COORDINATOR: coordinator,
            ELIGIBLE: eligible,
            REGISTERED: registered,
            OTHER_PRACTITIONER: make_user(db, role=Role.PRACTITIONER),
            AUTHOR: author,
            FAMILY: family,
        },
    )


def visit(client, route: Route, scene: Scene, signed_in: bool):
    url = route.url.format(event=scene.event_id)
    if route.method == "GET":
        return client.get(url)
    # The form token comes from a page every visitor can open.
    token_page = "/account/password" if signed_in else "/password-reset"
    return submit(client, url, route.data, page=token_page)


@pytest.mark.parametrize("visitor", [ANONYMOUS, *SIGNED_IN_VISITORS])
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_expected_visitors_get_in(client, db, scene, route, visitor):
    if visitor != ANONYMOUS:
        sign_in(client, scene.people[visitor])

    response = visit(client, route, scene, signed_in=visitor != ANONYMOUS)

    expected = 302 if visitor == ANONYMOUS else route.answers[visitor]
    assert response.status_code == expected, f"{visitor} on {route.id}: {response.status_code}, expected {expected}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
    elif expected in {403, 404}:
        assert scene.title not in response.text
