"""Who may open family members' own pages: only family members, and only about their own review.

One row per route (and method) in ROUTES says which visitors succeed. Someone signed out is sent to
sign in; staff and practitioners are refused outright (403: these pages are for families); a family
member who is not part of the review in the URL gets 404, so they cannot learn that it exists.
``tests/families/test_access_coverage.py`` fails for any route of the blueprint missing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from portal.authoring.models import ContributionRequest
from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.db import utcnow
from portal.families import contributions
from portal.families.explanation import EXPLANATION_VERSION
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security.models import Role
from tests import visitors
from tests.conftest import sign_in
from tests.factories import make_membership, make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.visitors import (
    ANONYMOUS,
    AUTHOR,
    COORDINATOR,
    FAMILY,
    FAMILY_OTHER_REVIEW,
    PRACTITIONER,
    assert_answered,
    visit,
)

FAMILY_MEMBER = "the family member"
SAME_REVIEW_FAMILY = "another family member of the same review"
ENDED_FAMILY = "a family member who has left the review"
VISITORS = (
    ANONYMOUS,
    COORDINATOR,
    AUTHOR,
    PRACTITIONER,
    FAMILY_MEMBER,
    SAME_REVIEW_FAMILY,
    FAMILY_OTHER_REVIEW,
    ENDED_FAMILY,
)
# The family member, another of the same review and the one who leaves it: each a family member of the review.
PLACES = {
    **visitors.PLACES,
    **dict.fromkeys((FAMILY_MEMBER, SAME_REVIEW_FAMILY, ENDED_FAMILY), visitors.PLACES[FAMILY]),
}
FAMILY_VISITORS = frozenset({FAMILY_MEMBER, SAME_REVIEW_FAMILY, FAMILY_OTHER_REVIEW, ENDED_FAMILY})
# Each family member of the review has their own pages about it: nothing in the URL names a person.
OF_THIS_REVIEW = frozenset({FAMILY_MEMBER, SAME_REVIEW_FAMILY})
# A contribution in the URL belongs to "the family member"; anyone else, even family of the review, gets 404.
OWN_ONLY = frozenset({FAMILY_MEMBER})
CONTRIBUTION = "/family/reviews/{review}/contributions/{contribution}"
ANSWER = "/family/reviews/{review}/requests/{request}"

CHOICES = {
    "updates": "yes",
    "update_channels": ["email"],
    "author_contact": "yes",
    "contribute": "no",
    "see_draft": "yes",
    "quote_anonymously": "no",
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: str
    succeeds: frozenset[str]
    ok: int = 200
    data: dict[str, str | list[str]] = field(default_factory=dict)

    def expected(self, visitor: str) -> int:
        if visitor == ANONYMOUS:
            return 302
        if visitor not in FAMILY_VISITORS:
            return 403
        return self.ok if visitor in self.succeeds else 404

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method}"


ROUTES: list[Route] = [
    Route("family.about", "GET", "/family/reviews/{review}", OF_THIS_REVIEW),
    Route("family.choices", "GET", "/family/reviews/{review}/choices", OF_THIS_REVIEW),
    Route("family.choices", "POST", "/family/reviews/{review}/choices", OF_THIS_REVIEW, ok=302, data=CHOICES),
    Route("family.your_choices", "GET", "/family/reviews/{review}/your-choices", OF_THIS_REVIEW),
    Route("family.updates", "GET", "/family/reviews/{review}/updates", OF_THIS_REVIEW),
    Route("family.stop_contact", "GET", "/family/stop-contact", FAMILY_VISITORS),
    Route("family.stop_contact", "POST", "/family/stop-contact", FAMILY_VISITORS),
    Route("family.contributions_list", "GET", "/family/reviews/{review}/contributions", OF_THIS_REVIEW),
    Route("family.new_contribution", "GET", "/family/reviews/{review}/contributions/new", OF_THIS_REVIEW),
    Route(
        "family.new_contribution",
        "POST",
        "/family/reviews/{review}/contributions/new",
        OF_THIS_REVIEW,
        ok=302,
        data={"title": "About my son", "text": "He loved football.", "save": "Save as draft"},
    ),
    Route("family.contribution", "GET", CONTRIBUTION, OWN_ONLY),
    Route("family.contribution", "POST", CONTRIBUTION, OWN_ONLY, ok=302, data={"title": "Changed", "save": "x"}),
    # No file chosen: the page comes back asking for one (the file itself is tested in test_contributions.py).
    Route("family.add_contribution_file", "POST", CONTRIBUTION + "/files", OWN_ONLY, data={"another-add": "x"}),
    Route("family.remove_contribution_file", "POST", CONTRIBUTION + "/files/{file}/remove", OWN_ONLY, ok=302),
    # The author's request in the URL was made to "the family member"; anyone else gets 404.
    Route("family.answer_request", "GET", ANSWER, OWN_ONLY),
    Route(
        "family.answer_request",
        "POST",
        ANSWER,
        OWN_ONLY,
        ok=302,
        data={"title": "My answer", "text": "He was kind.", "save": "Save as draft"},
    ),
]


def test_the_table_names_only_real_routes_and_methods(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for route in ROUTES:
        assert route.endpoint in rules, f"{route.endpoint} is not a route"
        assert route.method in rules[route.endpoint].methods, f"{route.id}: the route does not answer {route.method}"


@dataclass
class Scene:
    review: Review
    other: Review


@pytest.fixture
def scene(db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Q")
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Z")
    return Scene(review, other)


def enter_as(client, db, scene: Scene, visitor: str):
    if visitor == ANONYMOUS:
        return None
    person = visitors.make_visitor(db, visitor, scene.review, scene.other, PLACES)
    if visitor == ENDED_FAMILY:
        membership = db.scalars(sa.select(Membership).where(Membership.user_id == person.id)).one()
        membership.ended_at = utcnow()
        membership.ended_by_id = scene.review.created_by_id
        membership.end_reason = "Asked to leave the review"
        db.commit()
    sign_in(client, person)
    return person


def _owner_agreeing(db, scene: Scene, visitor: str, person) -> Membership:
    """The family membership the object belongs to ("the family member"'s own, else someone else's of the
    review); the owner and the visitor have both chosen to contribute, so only ownership decides."""
    owner = person
    if visitor != FAMILY_MEMBER:
        owner = make_user(db, role=Role.FAMILY)
        make_membership(db, scene.review, owner, MembershipKind.FAMILY)
    membership = db.scalars(
        sa.select(Membership).where(Membership.user_id == owner.id, Membership.review_id == scene.review.id)
    ).one()
    for someone in {owner, person} - {None}:
        if someone.role == Role.FAMILY:
            ledger.record_choice(
                db,
                person=someone,
                review_id=scene.review.id,
                scope=ConsentScope.CONTRIBUTE,
                given=True,
                text_version=EXPLANATION_VERSION,
            )
    return membership


def request_for(db, scene: Scene, visitor: str, person) -> dict[str, int]:
    """An open request from the author, to the visitor when they are "the family member", else to someone else."""
    membership = _owner_agreeing(db, scene, visitor, person)
    asked = ContributionRequest(
        review_id=scene.review.id,
        membership_id=membership.id,
        recipient_id=membership.user_id,
        recipient_kind=MembershipKind.FAMILY.value,
        prompt="What was he like?",
        due_on=utcnow().date(),
        asked_by_id=scene.review.created_by_id,
    )
    db.add(asked)
    db.commit()
    return {"request": asked.id}


def contribution_for(app, db, scene: Scene, visitor: str, person) -> dict[str, int]:
    """A draft with a file, by the visitor when they are "the family member", else by someone else of the review."""
    membership = _owner_agreeing(db, scene, visitor, person)
    owner = membership.user
    with app.app_context():
        item = contributions.save_contribution(db, membership, None, title="Mine", text="My words")
        added = contributions.add_file(db, item, original_name="photo.png", data=SAMPLES["png"], by=owner)
    db.commit()
    return {"contribution": item.id, "file": added.id}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_expected_visitors_get_in(client, db, scene, route, visitor):
    person = enter_as(client, db, scene, visitor)
    values = {"review": scene.review.id}
    if "/contributions" in route.url:
        values.update(contribution_for(client.application, db, scene, visitor, person))
    if "/requests/" in route.url:
        values.update(request_for(db, scene, visitor, person))
    response = visit(client, route, values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want == 404:
        assert "Child Q" not in response.text


def test_a_refused_family_member_records_nothing(client, db, scene):
    person = enter_as(client, db, scene, FAMILY_OTHER_REVIEW)
    route = next(r for r in ROUTES if r.id == "family.choices POST")
    assert visit(client, route, {"review": scene.review.id}, FAMILY_OTHER_REVIEW).status_code == 404
    assert ledger.current_consent(db, person.id, scene.review.id) == {}


def test_a_family_member_never_sees_another_family_members_choices(client, db, scene):
    first = visitors.make_visitor(db, FAMILY, scene.review)
    for scope in (ConsentScope.AUTHOR_CONTACT, ConsentScope.SEE_DRAFT):
        ledger.record_choice(
            db, person=first, review_id=scene.review.id, scope=scope, given=True, text_version=EXPLANATION_VERSION
        )
    db.commit()

    second = enter_as(client, db, scene, SAME_REVIEW_FAMILY)
    page = client.get(f"/family/reviews/{scene.review.id}/choices")

    assert page.status_code == 200
    assert not re.search(r"<input[^>]*checked", page.text), "the second family member sees answers they never gave"
    summary = client.get(f"/family/reviews/{scene.review.id}/your-choices").text
    assert "You have not made any choices yet" in summary
    assert first.email not in page.text and first.name not in page.text
    assert ledger.current_consent(db, second.id, scene.review.id) == {}


def test_an_ended_membership_is_not_one_of_their_reviews(client, db, scene):
    enter_as(client, db, scene, ENDED_FAMILY)
    home = client.get("/")
    assert "Child Q" not in home.text
    assert "You are not part of a review at the moment" in home.text
    assert db.query(Membership).filter_by(review_id=scene.review.id).count() == 1
