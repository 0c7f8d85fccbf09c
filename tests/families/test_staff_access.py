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
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.models import Role
from portal.security.passwords import hash_password
from tests.conftest import sign_in, submit
from tests.factories import DEFAULT_PASSWORD, make_agency, make_membership, make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.reviews.test_access import Route

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
AUTHOR = "the review's author"
AUTHOR_UNDECLARED = "the review's author, independence not yet declared"
PANEL_MEMBER = "panel member"
PRACTITIONER = "practitioner member"
FAMILY_SELF = "the family member the pages are about"
FAMILY_OTHER_REVIEW = "family member of another review"
OTHER_AUTHOR = "author of another review"
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
    review_id: int
    other_review_id: int
    member: FamilyMember


@pytest.fixture(autouse=True)
def _upload_dir(app, tmp_path):
    before = app.config.get("UPLOAD_DIR")
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield
    app.config["UPLOAD_DIR"] = before


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
        review.id,
        other.id,
        member,
    )


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    if visitor == ANONYMOUS:
        return
    if visitor == FAMILY_SELF:
        sign_in(client, scene.member.person)
        return
    review = db.get(Review, scene.review_id)
    other = db.get(Review, scene.other_review_id)
    memberships = {
        COORDINATOR: (Role.COORDINATOR, None, review),
        AUTHOR: (Role.AUTHOR, MembershipKind.AUTHOR, review),
        AUTHOR_UNDECLARED: (Role.AUTHOR, MembershipKind.AUTHOR, review),
        PANEL_MEMBER: (Role.PRACTITIONER, MembershipKind.PANEL_MEMBER, review),
        PRACTITIONER: (Role.PRACTITIONER, MembershipKind.PRACTITIONER, review),
        FAMILY_OTHER_REVIEW: (Role.FAMILY, MembershipKind.FAMILY, other),
        OTHER_AUTHOR: (Role.AUTHOR, MembershipKind.AUTHOR, other),
    }
    role, kind, where = memberships[visitor]
    person = make_user(db, role=role, agency=make_agency(db) if kind == MembershipKind.PANEL_MEMBER else None)
    if kind is not None:
        make_membership(db, where, person, kind, declared=visitor != AUTHOR_UNDECLARED)
    sign_in(client, person)


def fill(value, values: dict[str, int]):
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value.format(**values) if isinstance(value, str) else value


def expected(route: Route, visitor: str) -> int:
    if visitor == ANONYMOUS:
        return 302
    return route.ok if visitor in route.succeeds else route.refused


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_coordinators_and_the_reviews_author_get_in(client, db, scene, route, visitor):
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
    elif want == 404:
        assert scene.reference not in response.text
        if visitor != FAMILY_SELF:  # who sees their own name in the page header
            assert "Alex Doe" not in response.text


def test_a_member_of_another_review_is_not_found_through_this_review(client, db, scene):
    other = db.get(Review, scene.other_review_id)
    enter_as(client, db, scene, COORDINATOR)
    assert client.get(f"/reviews/{other.id}/family/{scene.member.id}").status_code == 404
    assert client.get(f"/reviews/{other.id}/family/updates/{scene.values['update']}").status_code == 404
    assert client.get(f"/reviews/{other.id}/family/letters/{scene.values['letter']}").status_code == 404


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    route = next(r for r in ROUTES if r.id == "family_admin.record_consent POST")
    response = submit(client, fill(route.url, scene.values), fill(route.data, scene.values), page="/account/password")
    assert response.status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0
