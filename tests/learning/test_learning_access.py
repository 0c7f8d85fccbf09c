"""Need-to-know on the action plan and the briefing pages: who gets in, and everyone else gets 404 (or 403).

The plan is for coordinators, the review's declared author, its panel members and agency leads; only
coordinators and the author change it, and an agency lead reports progress only on their own agency's
actions. A published briefing is for every practitioner and the review's members. Every visitor is
tried on every row of ROUTES; ``tests/learning/test_access_coverage.py`` fails for a missing route.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.learning import services
from portal.learning.models import ActionStatus, ActionUpdate, LearningPoint
from portal.reviews.models import Review, Stage
from portal.security.models import Agency, Role
from tests import visitors
from tests.conftest import submit
from tests.factories import make_agency, make_event, make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.reviews.test_access import Route
from tests.visitors import (
    AGENCY_LEAD,
    ANONYMOUS,
    AUTHOR,
    AUTHOR_UNDECLARED,
    COORDINATOR,
    FAMILY,
    FAMILY_OTHER_REVIEW,
    OTHER_AUTHOR,
    PANEL_MEMBER,
    PRACTITIONER,
    PRACTITIONER_NO_MEMBERSHIP,
    assert_answered,
    visit,
)

OTHER_AGENCY_LEAD = "agency lead of another agency"
VISITORS = (
    ANONYMOUS,
    COORDINATOR,
    AUTHOR,
    AUTHOR_UNDECLARED,
    PANEL_MEMBER,
    AGENCY_LEAD,
    OTHER_AGENCY_LEAD,
    PRACTITIONER,
    PRACTITIONER_NO_MEMBERSHIP,
    FAMILY,
    FAMILY_OTHER_REVIEW,
    OTHER_AUTHOR,
)
PLACES = {**visitors.PLACES, OTHER_AGENCY_LEAD: visitors.PLACES[AGENCY_LEAD]}
EDITORS = frozenset({COORDINATOR, AUTHOR})
READERS = EDITORS | {PANEL_MEMBER, AGENCY_LEAD, OTHER_AGENCY_LEAD}
REPORTERS = EDITORS | {AGENCY_LEAD}
PRACTITIONERS = frozenset({PANEL_MEMBER, AGENCY_LEAD, OTHER_AGENCY_LEAD, PRACTITIONER, PRACTITIONER_NO_MEMBERSHIP})
BRIEFING_READERS = PRACTITIONERS | {COORDINATOR, AUTHOR, FAMILY}

ACTION_DATA = {
    "description": "Train health visitors in the new escalation policy",
    "agency": "{agency}",
    "lead_name": "Head of Safeguarding",
    "due_on": ["1", "6", "2027"],
}
PLAN = "/reviews/{review}/action-plan"

ROUTES: list[Route] = [
    Route("learning.action_plan", "GET", PLAN, READERS),
    Route("learning.add_learning_point", "GET", PLAN + "/learning-points/new", EDITORS),
    Route(
        "learning.add_learning_point",
        "POST",
        PLAN + "/learning-points/new",
        EDITORS,
        ok=302,
        data={"text": "Escalation must be used when a plan drifts."},
    ),
    Route("learning.edit_learning_point", "GET", PLAN + "/learning-points/{point}/edit", EDITORS),
    Route(
        "learning.edit_learning_point",
        "POST",
        PLAN + "/learning-points/{point}/edit",
        EDITORS,
        ok=302,
        data={"text": "Changed wording."},
    ),
    Route(
        "learning.move_learning_point",
        "POST",
        PLAN + "/learning-points/{point}/move",
        EDITORS,
        ok=302,
        data={"direction": "down"},
    ),
    Route("learning.add_action", "GET", PLAN + "/learning-points/{point}/actions/new", EDITORS),
    Route(
        "learning.add_action", "POST", PLAN + "/learning-points/{point}/actions/new", EDITORS, ok=302, data=ACTION_DATA
    ),
    Route("learning.edit_action", "GET", PLAN + "/actions/{action}/edit", EDITORS),
    Route("learning.edit_action", "POST", PLAN + "/actions/{action}/edit", EDITORS, ok=302, data=ACTION_DATA),
    Route("learning.action", "GET", PLAN + "/actions/{action}", READERS),
    Route(
        "learning.action",
        "POST",
        PLAN + "/actions/{action}",
        REPORTERS,
        ok=302,
        data={"text": "Half the team trained.", "status": "in_progress"},
    ),
    Route("learning.evidence", "GET", PLAN + "/actions/{action}/updates/{update}/evidence", READERS),
    Route("learning.overdue", "GET", "/action-plans/overdue", frozenset({COORDINATOR}), refused=403),
    Route("learning.link_event", "GET", PLAN + "/learning-points/{point}/events", EDITORS),
    Route(
        "learning.link_event",
        "POST",
        PLAN + "/learning-points/{point}/events",
        EDITORS,
        ok=302,
        data={"event": "{other_event}"},
    ),
    Route("learning.unlink_event", "POST", PLAN + "/learning-points/{point}/events/{event}/unlink", EDITORS, ok=302),
    Route("learning.edit_briefing", "GET", "/reviews/{review}/briefing", EDITORS),
    Route(
        "learning.edit_briefing",
        "POST",
        "/reviews/{review}/briefing",
        EDITORS,
        ok=302,
        data={"title": "Learning from Child A", "body": "Listen to the child."},
    ),
    Route("learning.publish_briefing", "POST", "/reviews/{review}/briefing/publish", EDITORS, ok=302),
    Route("learning.read_rates", "GET", "/reviews/{review}/briefing/read-rates", EDITORS),
    Route("learning.briefings", "GET", "/briefings", PRACTITIONERS, refused=403),
    Route("learning.briefing", "GET", "/briefings/{briefing}", BRIEFING_READERS),
    Route("learning.confirm_read", "POST", "/briefings/{briefing}/read", PRACTITIONERS, ok=302, refused=403),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int]
    review: Review
    other_review: Review
    owner: Agency
    other_agency: Agency


def build_plan(app, db, coordinator, review, owner: Agency) -> dict[str, int]:
    """Two learning points, an action owned by ``owner`` with evidence, a linked event and a published briefing."""
    first = services.add_learning_point(db, review, "Plans drifted without escalation.", coordinator)
    services.add_learning_point(db, review, "The child's voice was not heard.", coordinator)
    action = services.add_action(
        db,
        first,
        services.ActionDetails(
            "Audit child protection plans", owner.id, "Named nurse", date.today() - timedelta(days=3)
        ),
        coordinator,
    )
    with app.app_context():
        update = services.report_progress(
            db,
            action,
            text="Audit started",
            status=ActionStatus.IN_PROGRESS,
            by=coordinator,
            evidence=("audit.pdf", SAMPLES["pdf"]),
        )
    event = make_event(db, coordinator=coordinator, title="Escalation workshop")
    other_event = make_event(db, coordinator=coordinator, title="Neglect briefing")
    services.link_event(db, first, event, coordinator)
    briefing = services.save_briefing(
        db, review, title="Learning from the review", body="<p>Listen.</p>", by=coordinator
    )
    services.publish_briefing(db, briefing, coordinator)
    db.commit()
    return {
        "point": first.id,
        "action": action.id,
        "update": update.id,
        "event": event.id,
        "other_event": other_event.id,
        "briefing": briefing.id,
    }


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    owner, other_agency = make_agency(db), make_agency(db)
    values = build_plan(app, db, coordinator, review, owner)
    values.update(review=review.id, agency=owner.id)
    return Scene(review.reference, values, review, other, owner, other_agency)


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    """The agency lead and practitioners work for the agency owning the action; the panel member does not."""
    works_for = {
        PANEL_MEMBER: scene.other_agency,
        AGENCY_LEAD: scene.owner,
        OTHER_AGENCY_LEAD: scene.other_agency,
        PRACTITIONER: scene.owner,
        PRACTITIONER_NO_MEMBERSHIP: scene.owner,
    }
    places = {**PLACES, **{name: replace(PLACES[name], agency=agency) for name, agency in works_for.items()}}
    visitors.enter_as(client, db, visitor, scene.review, scene.other_review, places)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_each_visitor_gets_only_what_their_part_allows(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    response = visit(client, route, scene.values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want in {403, 404}:
        assert scene.reference not in response.text
        assert "Plans drifted" not in response.text


def test_an_action_of_this_review_is_not_found_through_another_review(client, db, scene):
    enter_as(client, db, scene, COORDINATOR)
    other = scene.other_review.id
    assert client.get(f"/reviews/{other}/action-plan/actions/{scene.values['action']}").status_code == 404
    assert client.get(f"/reviews/{other}/action-plan/learning-points/{scene.values['point']}/edit").status_code == 404
    evidence = (
        f"/reviews/{other}/action-plan/actions/{scene.values['action']}/updates/{scene.values['update']}/evidence"
    )
    assert client.get(evidence).status_code == 404


def test_an_agency_lead_refused_another_agencys_action_changes_nothing(client, db, scene):
    enter_as(client, db, scene, OTHER_AGENCY_LEAD)
    url = f"/reviews/{scene.values['review']}/action-plan/actions/{scene.values['action']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Add a progress update" not in page.text
    response = submit(client, url, {"text": "Done", "status": "complete"}, page="/account/password")
    assert response.status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(ActionUpdate)) == 1


def test_a_panel_member_reads_the_plan_but_is_offered_no_changes(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    page = client.get(f"/reviews/{scene.values['review']}/action-plan")
    assert "Plans drifted without escalation." in page.text
    assert "Add a learning point" not in page.text
    assert "Move down" not in page.text
    assert db.scalar(sa.select(sa.func.count()).select_from(LearningPoint)) == 2
