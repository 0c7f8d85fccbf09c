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
from portal.reviews.models import Review, Stage
from portal.security.models import Role
from tests.authoring.test_publication import REASON, decided, ready_review
from tests.conftest import submit
from tests.factories import make_user
from tests.reviews.test_access import Route
from tests.visitors import AUTHOR, COORDINATOR, VISITORS, assert_answered, enter_as, visit

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


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_the_author_reads_and_only_coordinators_change_anything(client, db, scene, route, visitor):
    review, other = scene
    enter_as(client, db, visitor, review, other)
    response = visit(client, route, {"review": review.id}, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want in (403, 404):
        assert review.reference not in response.text
        assert REASON not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    review, other = scene
    enter_as(client, db, AUTHOR, review, other)
    url = f"/reviews/{review.id}/publication/decision"
    assert submit(client, url, {"decision": "publish"}, page="/account/password").status_code == 403
    assert db.query(Publication).filter_by(review_id=review.id).one().decision == "do_not_publish"


def test_a_review_with_no_decision_has_no_dates_to_record(client, db, scene):
    review, other = scene
    enter_as(client, db, COORDINATOR, review, other)
    assert client.get(f"/reviews/{other.id}/publication").status_code == 200
    assert client.get(f"/reviews/{other.id}/publication/dates").status_code == 404
