"""Need-to-know on the publication pages: the review's author may read, only coordinators change anything.

The publication page loads the review with ``needs=Part.PUBLICATION``: the declared author and every
coordinator see it, everyone else gets 404 and never learns the review exists. Every other route is a
coordinator's decision and refuses every other role outright (403), the review's author included.
Every visitor is tried on every row of ROUTES; ``tests/authoring/test_access_coverage.py`` fails for a
route missing from the table.
"""

from __future__ import annotations

from datetime import date

import pytest

from portal.authoring.models import Publication, PublicationDecision
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.models import Role
from tests.authoring.test_publication import REASON, decided, ready_review
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_user
from tests.reviews.test_access import Route

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
AUTHOR = "the review's author"
AUTHOR_UNDECLARED = "the review's author, independence not yet declared"
OTHER_AUTHOR = "author of another review"
PANEL_MEMBER = "panel member"
AGENCY_LEAD = "agency lead"
PRACTITIONER = "practitioner member"
FAMILY = "family member of the review"
FAMILY_OTHER_REVIEW = "family member of another review"
VISITORS = (
    ANONYMOUS,
    COORDINATOR,
    AUTHOR,
    AUTHOR_UNDECLARED,
    OTHER_AUTHOR,
    PANEL_MEMBER,
    AGENCY_LEAD,
    PRACTITIONER,
    FAMILY,
    FAMILY_OTHER_REVIEW,
)
READERS = frozenset({COORDINATOR, AUTHOR})
ONLY_COORDINATORS = frozenset({COORDINATOR})


def coordinators_only(endpoint: str, method: str, url: str, **kwargs) -> Route:
    return Route(endpoint, method, url, ONLY_COORDINATORS, refused=403, **kwargs)


ROUTES: list[Route] = [
    Route("publication.overview", "GET", "/reviews/{review}/publication", READERS),
    coordinators_only("publication.decision", "GET", "/reviews/{review}/publication/decision"),
    coordinators_only(
        "publication.decision",
        "POST",
        "/reviews/{review}/publication/decision",
        ok=302,
        data={"decision": "do_not_publish", "reason": REASON, "improvements": "Better checks"},
    ),
    coordinators_only("publication.dates", "GET", "/reviews/{review}/publication/dates"),
    coordinators_only(
        "publication.dates",
        "POST",
        "/reviews/{review}/publication/dates",
        ok=302,
        data={
            "sent_to_panel_on": ["1", "9", "2026"],
            "sent_to_secretary_of_state_on": ["1", "9", "2026"],
            "publication_date": ["1", "10", "2026"],
        },
    ),
    coordinators_only("publication.publish", "GET", "/reviews/{review}/publication/publish"),
    coordinators_only("publication.publish", "POST", "/reviews/{review}/publication/publish", ok=302),
    coordinators_only("publication.nspcc", "GET", "/reviews/{review}/publication/nspcc"),
    coordinators_only(
        "publication.nspcc",
        "POST",
        "/reviews/{review}/publication/nspcc",
        ok=302,
        data={"sent_on": ["2", "11", "2026"]},
    ),
    coordinators_only("publication.take_down", "POST", "/reviews/{review}/publication/take-down", ok=302),
]


@pytest.fixture
def scene(db) -> tuple[Review, Review]:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = ready_review(db, coordinator)
    decided(db, review, coordinator, PublicationDecision.DO_NOT_PUBLISH, publication_date=date(2026, 10, 1))
    other = ready_review(db, coordinator, stage=Stage.CSPR_IN_PROGRESS)
    return review, other


def enter_as(client, db, review: Review, other: Review, visitor: str) -> None:
    if visitor == ANONYMOUS:
        return
    memberships = {
        COORDINATOR: (Role.COORDINATOR, None, review),
        AUTHOR: (Role.AUTHOR, MembershipKind.AUTHOR, review),
        AUTHOR_UNDECLARED: (Role.AUTHOR, MembershipKind.AUTHOR, review),
        OTHER_AUTHOR: (Role.AUTHOR, MembershipKind.AUTHOR, other),
        PANEL_MEMBER: (Role.PRACTITIONER, MembershipKind.PANEL_MEMBER, review),
        AGENCY_LEAD: (Role.PRACTITIONER, MembershipKind.AGENCY_LEAD, review),
        PRACTITIONER: (Role.PRACTITIONER, MembershipKind.PRACTITIONER, review),
        FAMILY: (Role.FAMILY, MembershipKind.FAMILY, review),
        FAMILY_OTHER_REVIEW: (Role.FAMILY, MembershipKind.FAMILY, other),
    }
    role, kind, where = memberships[visitor]
    needs_agency = kind in (MembershipKind.PANEL_MEMBER, MembershipKind.AGENCY_LEAD)
    person = make_user(db, role=role, agency=make_agency(db) if needs_agency else None)
    if kind is not None:
        make_membership(db, where, person, kind, declared=visitor != AUTHOR_UNDECLARED)
    sign_in(client, person)


def expected(route: Route, visitor: str) -> int:
    if visitor == ANONYMOUS:
        return 302
    return route.ok if visitor in route.succeeds else route.refused


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_the_author_reads_and_only_coordinators_change_anything(client, db, scene, route, visitor):
    review, other = scene
    enter_as(client, db, review, other, visitor)
    url = route.url.format(review=review.id)
    if route.method == "GET":
        response = client.get(url)
    else:
        token_page = "/account/password" if visitor != ANONYMOUS else "/password-reset"
        response = submit(client, url, route.data, page=token_page)
    want = expected(route, visitor)
    assert response.status_code == want, f"{visitor} on {route.id}: {response.status_code}, expected {want}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
    elif want in (403, 404):
        assert review.reference not in response.text
        assert REASON not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    review, other = scene
    enter_as(client, db, review, other, AUTHOR)
    url = f"/reviews/{review.id}/publication/decision"
    assert submit(client, url, {"decision": "publish"}, page="/account/password").status_code == 403
    assert db.query(Publication).filter_by(review_id=review.id).one().decision == "do_not_publish"


def test_a_review_with_no_decision_has_no_dates_to_record(client, db, scene):
    _review, other = scene
    enter_as(client, db, _review, other, COORDINATOR)
    assert client.get(f"/reviews/{other.id}/publication").status_code == 200
    assert client.get(f"/reviews/{other.id}/publication/dates").status_code == 404
