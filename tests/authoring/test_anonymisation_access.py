"""Need-to-know on the anonymisation pages: the review's author and coordinators; everyone else 404.

Protected terms are the family's real names and addresses, so nobody else may learn even that the
list exists. Waiving a hit and undoing a final mark are coordinators' decisions: those routes refuse
every other role outright (403), the review's author included. Every visitor is tried on every row of
ROUTES; ``tests/authoring/test_access_coverage.py`` fails for a route missing from the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.authoring import anonymisation
from portal.authoring.models import Draft, DraftKind, DraftSection, ProtectedTerm, TermCategory
from portal.db import utcnow
from portal.reviews.models import Review, Stage
from portal.security.models import Role
from tests.conftest import submit
from tests.factories import make_review, make_user
from tests.reviews.test_access import Route
from tests.visitors import AUTHOR, COORDINATOR, PANEL_MEMBER, VISITORS, assert_answered, enter_as, fill, visit

STAFF = frozenset({COORDINATOR, AUTHOR})
ONLY_COORDINATORS = frozenset({COORDINATOR})
PROTECTED_NAME = "Ann Smith"

ROUTES: list[Route] = [
    Route("anonymisation.protected_terms", "GET", "/reviews/{review}/protected-terms", STAFF),
    Route(
        "anonymisation.protected_terms",
        "POST",
        "/reviews/{review}/protected-terms",
        STAFF,
        ok=302,
        data={"category": "school", "term": "Hill Top Primary"},
    ),
    Route("anonymisation.remove_term", "POST", "/reviews/{review}/protected-terms/{term}/remove", STAFF, ok=302),
    Route("anonymisation.check", "GET", "/reviews/{review}/drafts/{draft}/anonymisation", STAFF),
    Route(
        "anonymisation.waive_hit",
        "GET",
        "/reviews/{review}/drafts/{draft}/anonymisation/{fingerprint}/waive",
        ONLY_COORDINATORS,
        refused=403,
    ),
    Route(
        "anonymisation.waive_hit",
        "POST",
        "/reviews/{review}/drafts/{draft}/anonymisation/{fingerprint}/waive",
        ONLY_COORDINATORS,
        ok=302,
        refused=403,
        data={"reason": "A national service, not a person"},
    ),
    Route("anonymisation.mark_final", "POST", "/reviews/{review}/drafts/{draft}/anonymisation/final", STAFF, ok=302),
    Route(
        "anonymisation.undo_final",
        "GET",
        "/reviews/{review}/drafts/{final}/anonymisation/undo-final",
        ONLY_COORDINATORS,
        refused=403,
    ),
    Route(
        "anonymisation.undo_final",
        "POST",
        "/reviews/{review}/drafts/{final}/anonymisation/undo-final",
        ONLY_COORDINATORS,
        ok=302,
        refused=403,
        data={"reason": "The panel asked for a change"},
    ),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int | str]
    review: Review
    other: Review


def _draft(db, review, by, version: int, body: str, *, final: bool = False) -> Draft:
    draft = Draft(
        review_id=review.id,
        version=version,
        title="Report for the partnership",
        kind=DraftKind.WRITTEN.value,
        created_by_id=by.id,
        final_at=utcnow() if final else None,
        final_by_id=by.id if final else None,
    )
    draft.sections = [DraftSection(position=1, heading="What happened", body=body)]
    db.add(draft)
    db.flush()
    return draft


@pytest.fixture
def scene(db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    term = ProtectedTerm(
        review_id=review.id, term=PROTECTED_NAME, category=TermCategory.CHILD_NAME.value, added_by_id=coordinator.id
    )
    db.add(term)
    final = _draft(db, review, coordinator, 1, "<p>The family moved house twice.</p>", final=True)
    draft = _draft(db, review, coordinator, 2, f"<p>The health visitor saw {PROTECTED_NAME} at home.</p>")
    db.commit()
    (found,) = anonymisation.check_version(db, review, draft).hits
    return Scene(
        review.reference,
        {"review": review.id, "term": term.id, "draft": draft.id, "final": final.id, "fingerprint": found.fingerprint},
        review,
        other,
    )


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_reviews_author_and_coordinators_get_in(client, db, scene, route, visitor):
    enter_as(client, db, visitor, scene.review, scene.other)
    response = visit(client, route, scene.values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want in (403, 404):
        assert scene.reference not in response.text
        assert PROTECTED_NAME not in response.text


def test_a_refused_visitor_learns_and_changes_nothing(client, db, scene):
    enter_as(client, db, PANEL_MEMBER, scene.review, scene.other)
    url = fill("/reviews/{review}/protected-terms/{term}/remove", scene.values)
    assert submit(client, url, {}, page="/account/password").status_code == 404
    assert db.get(ProtectedTerm, scene.values["term"]) is not None


def test_a_draft_of_another_review_is_not_found_through_this_one(client, db, scene):
    enter_as(client, db, COORDINATOR, scene.review, scene.other)
    other = scene.other.id
    assert client.get(f"/reviews/{other}/drafts/{scene.values['draft']}/anonymisation").status_code == 404
    response = submit(
        client, f"/reviews/{other}/protected-terms/{scene.values['term']}/remove", {}, page="/account/password"
    )
    assert response.status_code == 404
