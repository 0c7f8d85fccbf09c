"""Need-to-know on every review route: who gets in, and everyone else gets 404.

One row per route (and method) in ROUTES says which visitors succeed. Every visitor in VISITORS is
tried on every row: someone signed out is sent to sign in; each global role without a membership;
each kind of membership of *this* review; and a member of a *different* review. Anyone not listed
as succeeding gets the row's ``refused`` answer — 404 for anything about one review, so a
non-member cannot even learn that a review exists.

Adding a route: add a Route to ROUTES. ``test_every_review_route_is_in_the_table`` fails until you do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from portal.reviews.models import (
    AgencyReturnRequest,
    ClosureDay,
    Membership,
    MembershipKind,
    MonitoringRequest,
    Review,
    Stage,
)
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_review, make_user

REVIEW_BLUEPRINTS = ("reviews", "rapid_review", "memberships", "clocks")

# Visitors --------------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
# Signed in with a global role and no membership of any review.
COORDINATOR = "coordinator"
PRACTITIONER = "practitioner (no membership)"
AUTHOR = "author (no membership)"
FAMILY = "family (no membership)"
# Holding one membership of the review in the URL.
AUTHOR_DECLARED = "author, independence declared"
AUTHOR_UNDECLARED = "author, independence not yet declared"
PANEL_MEMBER = "panel member"
AGENCY_LEAD = "agency lead"
PRACTITIONER_MEMBER = "practitioner member"
FAMILY_MEMBER = "family member"
# A declared author — the membership that sees most — of another review.
OTHER_REVIEW_MEMBER = "author of a different review"

# (global role, membership kind on this review, declared, on the other review instead)
VISITORS: dict[str, tuple[Role, MembershipKind | None, bool, bool] | None] = {
    ANONYMOUS: None,
    COORDINATOR: (Role.COORDINATOR, None, True, False),
    PRACTITIONER: (Role.PRACTITIONER, None, True, False),
    AUTHOR: (Role.AUTHOR, None, True, False),
    FAMILY: (Role.FAMILY, None, True, False),
    AUTHOR_DECLARED: (Role.AUTHOR, MembershipKind.AUTHOR, True, False),
    AUTHOR_UNDECLARED: (Role.AUTHOR, MembershipKind.AUTHOR, False, False),
    PANEL_MEMBER: (Role.PRACTITIONER, MembershipKind.PANEL_MEMBER, True, False),
    AGENCY_LEAD: (Role.PRACTITIONER, MembershipKind.AGENCY_LEAD, True, False),
    PRACTITIONER_MEMBER: (Role.PRACTITIONER, MembershipKind.PRACTITIONER, True, False),
    FAMILY_MEMBER: (Role.FAMILY, MembershipKind.FAMILY, True, False),
    OTHER_REVIEW_MEMBER: (Role.AUTHOR, MembershipKind.AUTHOR, True, True),
}
SIGNED_IN_VISITORS = frozenset(VISITORS) - {ANONYMOUS}

# Who sees what, written out rather than derived from access.py so that the table checks it.
ONLY_COORDINATORS = frozenset({COORDINATOR})
SUMMARY_READERS = frozenset(
    {COORDINATOR, AUTHOR_DECLARED, PANEL_MEMBER, AGENCY_LEAD, PRACTITIONER_MEMBER, FAMILY_MEMBER}
)
NON_COORDINATORS = SIGNED_IN_VISITORS - {COORDINATOR}


@dataclass(frozen=True)
class Route:
    """What one route answers. ``url`` and ``data`` may name the scene's objects: {review}, {membership}…"""

    endpoint: str
    method: str
    url: str
    succeeds: frozenset[str]
    ok: int = 200  # what success looks like (a POST that works redirects: 302)
    refused: int = 404  # what every other signed-in visitor gets
    data: dict[str, str | list[str]] = field(default_factory=dict)
    # Visitors who get something other than ``ok`` or ``refused`` (say, a redirect elsewhere).
    special: dict[str, int] = field(default_factory=dict)

    def expected(self, visitor: str) -> int:
        if visitor == ANONYMOUS:
            return 302
        if visitor in self.special:
            return self.special[visitor]
        return self.ok if visitor in self.succeeds else self.refused

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method}"


# Coordinator pages that are about no single review: other roles are refused outright (403).
def coordinator_page(endpoint: str, url: str) -> Route:
    return Route(endpoint, "GET", url, ONLY_COORDINATORS, refused=403)


def coordinator_only(endpoint: str, url: str, method: str = "GET", **kwargs) -> Route:
    return Route(endpoint, method, url, ONLY_COORDINATORS, **kwargs)


ROUTES: list[Route] = [
    # reviews
    coordinator_page("reviews.list_reviews", "/reviews"),
    coordinator_page("reviews.new_review", "/reviews/new"),
    Route("reviews.review", "GET", "/reviews/{review}", SUMMARY_READERS),
    coordinator_only("reviews.move", "/reviews/{review}/move"),
    coordinator_only("reviews.monitoring", "/reviews/{review}/monitoring"),
    coordinator_only(
        "reviews.monitoring_answered", "/reviews/{review}/monitoring/{monitoring_request}/answered", "POST", ok=302
    ),
    # rapid_review
    coordinator_only("rapid_review.overview", "/reviews/{review}/rapid-review"),
    coordinator_only("rapid_review.notify_recommendation", "/reviews/{review}/rapid-review/notify-recommendation"),
    coordinator_only("rapid_review.notification", "/reviews/{review}/rapid-review/notification"),
    coordinator_only("rapid_review.agency_returns", "/reviews/{review}/rapid-review/agency-returns"),
    coordinator_only(
        "rapid_review.return_received", "/reviews/{review}/rapid-review/agency-returns/{return_request}/received"
    ),
    coordinator_only("rapid_review.meeting", "/reviews/{review}/rapid-review/meeting"),
    coordinator_only("rapid_review.cspr_recommendation", "/reviews/{review}/rapid-review/cspr-recommendation"),
    coordinator_only("rapid_review.decision", "/reviews/{review}/rapid-review/decision"),
    coordinator_only("rapid_review.outcome_sent", "/reviews/{review}/rapid-review/outcome-sent"),
    # memberships
    coordinator_only("memberships.manage", "/reviews/{review}/members"),
    coordinator_only(
        "memberships.manage",
        "/reviews/{review}/members",
        "POST",
        ok=302,
        data={"person": "{candidate}", "kind": MembershipKind.PRACTITIONER.value},
    ),
    coordinator_only("memberships.end", "/reviews/{review}/members/{membership}/end"),
    coordinator_only(
        "memberships.end", "/reviews/{review}/members/{membership}/end", "POST", ok=302, data={"reason": "Left"}
    ),
    Route("memberships.independence", "GET", "/reviews/{review}/independence", frozenset({AUTHOR_UNDECLARED})),
    Route(
        "memberships.independence",
        "POST",
        "/reviews/{review}/independence",
        frozenset({AUTHOR_UNDECLARED}),
        ok=302,
        data={"statements": ["case", "agencies"]},
    ),
    Route("memberships.my_reviews", "GET", "/my-reviews", NON_COORDINATORS, special={COORDINATOR: 302}),
    # clocks
    coordinator_page("clocks.overview", "/reviews/clocks"),
    coordinator_page("clocks.closure_days", "/closure-days"),
    Route(
        "clocks.delete_closure_day",
        "POST",
        "/closure-days/{closure_day}/delete",
        ONLY_COORDINATORS,
        ok=302,
        refused=403,
    ),
]


def review_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in REVIEW_BLUEPRINTS}


def test_every_review_route_is_in_the_table(app):
    missing = review_endpoints(app) - {route.endpoint for route in ROUTES}
    assert not missing, f"add these routes to ROUTES in {__name__} with who may use them: {sorted(missing)}"


def test_the_table_names_only_real_routes_and_methods(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for route in ROUTES:
        assert route.endpoint in rules, f"{route.endpoint} is not a route"
        assert route.method in rules[route.endpoint].methods, f"{route.id}: the route does not answer {route.method}"


# The scene: one review everyone is tried against, another review, and what the URLs point at -------------


@dataclass
class Scene:
    review_id: int
    reference: str
    other_review_id: int
    values: dict[str, int]


@pytest.fixture
def scene(db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW)
    other = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW)
    # Someone already taking part (whose membership the "end" routes end), and someone to appoint.
    target = make_membership(db, review, make_user(db), MembershipKind.PRACTITIONER)
    candidate = make_user(db, role=Role.PRACTITIONER)
    lead_agency = make_agency(db)
    lead = make_membership(db, review, make_user(db, agency=lead_agency), MembershipKind.AGENCY_LEAD)
    return_request = AgencyReturnRequest(
        review_id=review.id,
        agency_id=lead_agency.id,
        lead_membership_id=lead.id,
        requested_on=date(2026, 11, 3),
        due_on=date(2026, 11, 10),
        requested_by_id=coordinator.id,
    )
    monitoring_request = MonitoringRequest(
        review_id=review.id,
        kind="information",
        details="The chronology from the health visiting service",
        requested_on=date(2026, 11, 3),
        due_on=date(2026, 11, 17),
        requested_by_id=coordinator.id,
    )
    # Far in the future, so that removing it is never refused as being in the past.
    closure_day = ClosureDay(day=date(2099, 12, 29), description="Office move", created_by_id=coordinator.id)
    db.add_all([return_request, monitoring_request, closure_day])
    db.commit()
    return Scene(
        review.id,
        review.reference,
        other.id,
        {
            "review": review.id,
            "membership": target.id,
            "candidate": candidate.id,
            "return_request": return_request.id,
            "monitoring_request": monitoring_request.id,
            "closure_day": closure_day.id,
        },
    )


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    spec = VISITORS[visitor]
    if spec is None:
        return
    role, kind, declared, elsewhere = spec
    needs_agency = kind in {MembershipKind.PANEL_MEMBER, MembershipKind.AGENCY_LEAD}
    person = make_user(db, role=role, agency=make_agency(db) if needs_agency else None)
    if kind is not None:
        review = db.get(Review, scene.other_review_id if elsewhere else scene.review_id)
        make_membership(db, review, person, kind, declared=declared)
    sign_in(client, person)


def fill(value, values: dict[str, int]):
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value.format(**values)


def visit(client, route: Route, scene: Scene, signed_in: bool):
    url = fill(route.url, scene.values)
    if route.method == "GET":
        return client.get(url)
    # The form token comes from a page every visitor can open.
    token_page = "/account/password" if signed_in else "/password-reset"
    return submit(client, url, fill(route.data, scene.values), page=token_page)


@pytest.mark.parametrize("visitor", list(VISITORS))
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_expected_visitors_get_in(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    response = visit(client, route, scene, signed_in=visitor != ANONYMOUS)
    expected = route.expected(visitor)
    assert response.status_code == expected, f"{visitor} on {route.id}: {response.status_code}, expected {expected}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
    elif expected == 404:
        # Nothing about the review leaks in the answer.
        assert scene.reference not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    route = next(r for r in ROUTES if r.id == "memberships.end POST")
    assert visit(client, route, scene, signed_in=True).status_code == 404
    target = db.get(Membership, scene.values["membership"])
    db.refresh(target)
    assert target.is_open
