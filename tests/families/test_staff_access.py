"""Need-to-know on the staff family pages: coordinators and the review's author; everyone else 404.

Family members' details and consent are for the people running the review, so even a family member
of the same review (the person the page is about) and panel members get 404 here. Every visitor is
tried on every row of ROUTES; ``tests/families/test_access_coverage.py`` fails for a missing route.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.consent.models import ConsentRecord
from portal.families import contributions, services
from portal.families.models import FamilyMember, PreferredChannel
from portal.notifications.models import Channel, OutboxMessage
from portal.reviews.models import Review, Stage
from portal.security.models import Role
from portal.security.passwords import hash_password
from tests import visitors
from tests.conftest import sign_in
from tests.factories import DEFAULT_PASSWORD, make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.reviews.test_access import Route
from tests.visitors import (
    ANONYMOUS,
    AUTHOR,
    AUTHOR_UNDECLARED,
    COORDINATOR,
    FAMILY_OTHER_REVIEW,
    OTHER_AUTHOR,
    PANEL_MEMBER,
    PRACTITIONER,
    assert_answered,
    visit,
)

FAMILY_SELF = "the family member the pages are about"
VISITORS = (
    ANONYMOUS,
    COORDINATOR,
    AUTHOR,
    AUTHOR_UNDECLARED,
    PANEL_MEMBER,
    PRACTITIONER,
    FAMILY_SELF,
    FAMILY_OTHER_REVIEW,
    OTHER_AUTHOR,
)
STAFF = frozenset({COORDINATOR, AUTHOR})

MEMBER_DATA = {
    "name": "Sam Carter",
    "relationship_to_child": "Mother",
    "email": "sam.carter@example.org",
    "preferred_channel": "email",
    "young_person": "no",
}

ROUTES: list[Route] = [
    Route("family_admin.family_members", "GET", "/reviews/{review}/family", STAFF),
    Route("family_admin.add_family_member", "GET", "/reviews/{review}/family/new", STAFF),
    Route("family_admin.add_family_member", "POST", "/reviews/{review}/family/new", STAFF, ok=302, data=MEMBER_DATA),
    Route("family_admin.family_member", "GET", "/reviews/{review}/family/{member}", STAFF),
    Route("family_admin.edit_family_member", "GET", "/reviews/{review}/family/{member}/edit", STAFF),
    Route(
        "family_admin.edit_family_member",
        "POST",
        "/reviews/{review}/family/{member}/edit",
        STAFF,
        ok=302,
        data={**MEMBER_DATA, "email": "alex@example.org"},
    ),
    Route("family_admin.record_consent", "GET", "/reviews/{review}/family/{member}/consent", STAFF),
    Route(
        "family_admin.record_consent",
        "POST",
        "/reviews/{review}/family/{member}/consent",
        STAFF,
        ok=302,
        data={"updates_email": "yes"},
    ),
    Route("family_admin.new_update", "GET", "/reviews/{review}/family/updates/new", STAFF),
    Route(
        "family_admin.new_update",
        "POST",
        "/reviews/{review}/family/updates/new",
        STAFF,
        ok=302,
        data={"subject": "News", "body": "We met today.", "send": "Send update"},
    ),
    Route("family_admin.updates", "GET", "/reviews/{review}/family/updates", STAFF),
    Route("family_admin.update", "GET", "/reviews/{review}/family/updates/{update}", STAFF),
    Route(
        "family_admin.invite",
        "POST",
        "/reviews/{review}/family/{member}/invite",
        STAFF,
        ok=302,
        data={"channel": "email"},
    ),
    Route("family_admin.letters_to_give", "GET", "/reviews/{review}/family/letters", STAFF),
    Route("family_admin.letter", "GET", "/reviews/{review}/family/letters/{letter}", STAFF),
    Route("family_admin.letter", "POST", "/reviews/{review}/family/letters/{letter}", STAFF, ok=302),
    Route("family_admin.contributions_list", "GET", "/reviews/{review}/family/contributions", STAFF),
    Route("family_admin.contribution", "GET", "/reviews/{review}/family/contributions/{contribution}", STAFF),
    Route(
        "family_admin.contribution_file",
        "GET",
        "/reviews/{review}/family/contributions/{contribution}/files/{file}",
        STAFF,
    ),
    Route(
        "family_admin.acknowledge_contribution",
        "POST",
        "/reviews/{review}/family/contributions/{contribution}/acknowledge",
        STAFF,
        ok=302,
    ),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int]
    review: Review
    other: Review
    member: FamilyMember


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    member = services.add_family_member(
        db,
        review,
        services.FamilyDetails(
            name="Alex Doe",
            email="alex@example.org",
            relationship_to_child="Father",
            preferred_channel=PreferredChannel.EMAIL,
        ),
        coordinator,
    )
    # The family member can sign in (their invitation is another part's work).
    member.person.password_hash = hash_password(DEFAULT_PASSWORD)
    services.add_family_member(
        db,
        review,
        services.FamilyDetails(
            name="Chris Doe",
            email="chris@example.org",
            relationship_to_child="Grandmother",
            preferred_channel=PreferredChannel.LETTER,
            postal_address="1 High Street\nTown",
            letter_worker="Pat Worker",
        ),
        coordinator,
    )
    update = services.send_update(db, review, "First news", "We met today.", coordinator).update
    letter = db.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.channel == Channel.LETTER.value))
    # A contribution the family member has sent, with a file.
    with app.app_context():
        sent = contributions.save_contribution(db, member.membership, None, title="My words", text="About my son")
        added = contributions.add_file(db, sent, original_name="letter.pdf", data=SAMPLES["pdf"], by=member.person)
        contributions.submit_contribution(db, member.membership, sent)
    db.commit()
    return Scene(
        review.reference,
        {
            "review": review.id,
            "member": member.id,
            "update": update.id,
            "contribution": sent.id,
            "file": added.id,
            "letter": letter,
        },
        review,
        other,
        member,
    )


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    if visitor == FAMILY_SELF:
        sign_in(client, scene.member.person)
    else:
        visitors.enter_as(client, db, visitor, scene.review, scene.other)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_coordinators_and_the_reviews_author_get_in(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    response = visit(client, route, scene.values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want == 404:
        assert scene.reference not in response.text
        if visitor != FAMILY_SELF:  # who sees their own name in the page header
            assert "Alex Doe" not in response.text


def test_a_member_of_another_review_is_not_found_through_this_review(client, db, scene):
    enter_as(client, db, scene, COORDINATOR)
    other = scene.other.id
    assert client.get(f"/reviews/{other}/family/{scene.member.id}").status_code == 404
    assert client.get(f"/reviews/{other}/family/updates/{scene.values['update']}").status_code == 404
    assert client.get(f"/reviews/{other}/family/letters/{scene.values['letter']}").status_code == 404


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    route = next(r for r in ROUTES if r.id == "family_admin.record_consent POST")
    assert visit(client, route, scene.values, PANEL_MEMBER).status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0
