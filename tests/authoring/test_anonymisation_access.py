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
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_review, make_user
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
    review_id: int
    other_review_id: int


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
        review.id,
        other.id,
    )


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    if visitor == ANONYMOUS:
        return
    review = db.get(Review, scene.review_id)
    other = db.get(Review, scene.other_review_id)
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


def fill(value, values: dict):
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value.format(**values) if isinstance(value, str) else value


def expected(route: Route, visitor: str) -> int:
    if visitor == ANONYMOUS:
        return 302
    return route.ok if visitor in route.succeeds else route.refused


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_reviews_author_and_coordinators_get_in(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    url = fill(route.url, scene.values)
    if route.method == "GET":
        response = client.get(url)
    else:
        token_page = "/account/password" if visitor != ANONYMOUS else "/password-reset"
        response = submit(client, url, fill(route.data, scene.values), page=token_page)
    want = expected(route, visitor)
    assert response.status_code == want, f"{visitor} on {route.id}: {response.status_code}, expected {want}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
    elif want in (403, 404):
        assert scene.reference not in response.text
        assert PROTECTED_NAME not in response.text


def test_a_refused_visitor_learns_and_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    url = fill("/reviews/{review}/protected-terms/{term}/remove", scene.values)
    assert submit(client, url, {}, page="/account/password").status_code == 404
    assert db.get(ProtectedTerm, scene.values["term"]) is not None


def test_a_draft_of_another_review_is_not_found_through_this_one(client, db, scene):
    enter_as(client, db, scene, COORDINATOR)
    other = scene.other_review_id
    assert client.get(f"/reviews/{other}/drafts/{scene.values['draft']}/anonymisation").status_code == 404
    response = submit(
        client, f"/reviews/{other}/protected-terms/{scene.values['term']}/remove", {}, page="/account/password"
    )
    assert response.status_code == 404
