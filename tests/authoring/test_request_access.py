"""Who may use the contribution request pages; everyone else is refused, most with 404.

Asking, the review's list and withdrawing are for the review's declared author and coordinators.
A request and its answer are for the person asked alone: other members of the same review, the
author and coordinators included, get 404 on the answer pages (they read answers in the inbox).
Every visitor is tried on every row; ``test_access_coverage.py`` fails for a route missing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.authoring import requests
from portal.authoring.models import ContributionRequest
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security.models import Role, User
from tests import visitors
from tests.conftest import submit
from tests.factories import make_agency, make_membership, make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.reviews.test_access import Route
from tests.visitors import (
    AGENCY_LEAD,
    ANONYMOUS,
    AUTHOR,
    COORDINATOR,
    PANEL_MEMBER,
    PRACTITIONER,
    assert_answered,
    visit,
)

# Here the agency lead is the person the request was sent to (see ``asked_with_a_file``).
ASKED = "the agency lead asked"
VISITORS = tuple(ASKED if visitor == AGENCY_LEAD else visitor for visitor in visitors.VISITORS)
PLACES = {**visitors.PLACES, ASKED: visitors.PLACES[AGENCY_LEAD]}
ASKERS = frozenset({COORDINATOR, AUTHOR})
PRACTITIONER_ROLE = frozenset({PANEL_MEMBER, ASKED, PRACTITIONER})
NOT_PRACTITIONERS = frozenset(VISITORS) - PRACTITIONER_ROLE - {ANONYMOUS}
# The answer pages are for the practitioner role: anyone else is refused outright, before any request is looked up.
FOR_PRACTITIONERS = {visitor: 403 for visitor in NOT_PRACTITIONERS}
ANSWER = "/requests/{request}"


def for_the_person_asked(endpoint: str, method: str, url: str, **kwargs) -> Route:
    return Route(endpoint, method, url, frozenset({ASKED}), special=FOR_PRACTITIONERS, **kwargs)


ROUTES: list[Route] = [
    Route("requests.review_requests", "GET", "/reviews/{review}/requests", ASKERS),
    Route("requests.ask", "GET", "/reviews/{review}/requests/new", ASKERS),
    Route(
        "requests.ask",
        "POST",
        "/reviews/{review}/requests/new",
        ASKERS,
        ok=302,
        data={"recipients": "{lead}", "prompt": "What did you know?", "working_days": "10", "send": "x"},
    ),
    Route("requests.withdraw", "POST", "/reviews/{review}/requests/{request}/withdraw", ASKERS, ok=302),
    Route("requests.overdue", "GET", "/requests/overdue", frozenset({COORDINATOR}), refused=403),
    Route("requests.mine", "GET", "/requests", PRACTITIONER_ROLE, refused=403),
    for_the_person_asked("requests.answer", "GET", ANSWER),
    for_the_person_asked("requests.answer", "POST", ANSWER, ok=302, data={"text": "We knew.", "save": "x"}),
    # No file chosen: the page comes back asking for one (files themselves are tested in test_requests.py).
    for_the_person_asked("requests.add_file", "POST", ANSWER + "/files", data={"another-add": "x"}),
    for_the_person_asked("requests.answer_file", "GET", ANSWER + "/files/{file}"),
    for_the_person_asked("requests.remove_file", "POST", ANSWER + "/files/{file}/remove", ok=302),
]


@dataclass
class Scene:
    review: Review
    other: Review
    author: User


@pytest.fixture
def scene(db, coordinator) -> Scene:
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Q")
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    author = make_user(db, role=Role.AUTHOR)
    return Scene(review, other, author)


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    visitors.enter_as(client, db, visitor, scene.review, scene.other, PLACES)


def asked_with_a_file(app, db, scene: Scene, visitor: str) -> dict[str, int]:
    """A request with a saved answer and file: to the visitor when they are the lead asked, else to another lead."""
    membership = db.scalar(
        sa.select(Membership).where(
            Membership.review_id == scene.review.id, Membership.kind == MembershipKind.AGENCY_LEAD.value
        )
    )
    if visitor != ASKED:
        assert membership is None
        membership = make_membership(
            db, scene.review, make_user(db, agency=make_agency(db)), MembershipKind.AGENCY_LEAD
        )
    with app.app_context():
        [asked] = requests.ask(
            db, scene.review, [membership.id], prompt="Q", guidance=None, working_days=10, actor=scene.author
        )
        added = requests.add_answer_file(db, asked, original_name="a.pdf", data=SAMPLES["pdf"], by=membership.user)
    db.commit()
    return {"review": scene.review.id, "request": asked.id, "file": added.id, "lead": membership.id}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_expected_visitors_get_in(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    values = asked_with_a_file(client.application, db, scene, visitor)
    response = visit(client, route, values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want in (403, 404):
        assert scene.review.reference not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    values = asked_with_a_file(client.application, db, scene, PANEL_MEMBER)
    url = f"/requests/{values['request']}"
    response = submit(client, url, {"text": "Not mine", "send": "x"}, page="/account/password")
    assert response.status_code == 404
    withdraw = f"/reviews/{scene.review.id}/requests/{values['request']}/withdraw"
    assert submit(client, withdraw, {}, page="/account/password").status_code == 404
    asked = db.get(ContributionRequest, values["request"])
    db.refresh(asked)
    assert asked.status == "open"
    assert asked.answer.text == ""
