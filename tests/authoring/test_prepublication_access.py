"""Need-to-know on the pre-publication pages: who may share, read, comment, respond and see who has read.

The author's pages are for coordinators and the review's declared author; who has read a version is for
coordinators only. A shared version's pages are for the readers it was shared with (a panel member and a
consenting family member of the review), and the overall response for the family member only. Every visitor
is tried on every row of ROUTES; ``test_access_coverage.py`` fails for a route left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.authoring import prepublication
from portal.authoring.models import Draft, DraftComment, DraftKind, DraftSection, DraftShare
from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.db import utcnow
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.models import Role, User
from tests import visitors
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_review, make_user
from tests.reviews.test_access import Route
from tests.visitors import (
    AGENCY_LEAD,
    ANONYMOUS,
    AUTHOR,
    AUTHOR_UNDECLARED,
    COORDINATOR,
    FAMILY_OTHER_REVIEW,
    OTHER_AUTHOR,
    PANEL_MEMBER,
    PRACTITIONER,
    assert_answered,
    fill,
    visit,
)

PANEL_READER = "panel member it was shared with"
PANEL_NOT_SHARED = "panel member it was not shared with"
FAMILY_READER = "family member it was shared with"
VISITORS = (
    ANONYMOUS,
    COORDINATOR,
    AUTHOR,
    AUTHOR_UNDECLARED,
    OTHER_AUTHOR,
    PANEL_READER,
    PANEL_NOT_SHARED,
    AGENCY_LEAD,
    PRACTITIONER,
    FAMILY_READER,
    FAMILY_OTHER_REVIEW,
)
# The readers are the scene's own people; a panel member the version was not shared with is a new one.
PLACES = {**visitors.PLACES, PANEL_NOT_SHARED: visitors.PLACES[PANEL_MEMBER]}
SIGNED_IN = frozenset(VISITORS) - {ANONYMOUS}
WRITERS = frozenset({COORDINATOR, AUTHOR})
READERS = frozenset({PANEL_READER, FAMILY_READER})
RESPONDERS = frozenset({FAMILY_READER})
DRAFT = "/reviews/{review}/drafts/{draft}"
COMMENT = DRAFT + "/comments/{comment}"
READ = "/drafts-to-read/{draft}"

ROUTES: list[Route] = [
    Route("prepublication.overview", "GET", "/reviews/{review}/pre-publication", WRITERS),
    Route("prepublication.share", "GET", DRAFT + "/share", WRITERS),
    Route(
        "prepublication.share",
        "POST",
        DRAFT + "/share",
        WRITERS,
        ok=302,
        data={
            "readers": ["{panel_membership}"],
            "closes_day": ["1", "6", "2099"],
            "closes_time": "5pm",
        },
    ),
    Route("prepublication.comments", "GET", DRAFT + "/comments", WRITERS),
    Route("prepublication.reply", "GET", COMMENT + "/reply", WRITERS),
    Route("prepublication.reply", "POST", COMMENT + "/reply", WRITERS, ok=302, data={"reply": "Thank you"}),
    Route("prepublication.resolve", "GET", COMMENT + "/resolve", WRITERS),
    Route("prepublication.resolve", "POST", COMMENT + "/resolve", WRITERS, ok=302, data={"change_made": "No change"}),
    Route("prepublication.readers", "GET", DRAFT + "/readers", frozenset({COORDINATOR})),
    Route("prepublication.to_read", "GET", "/drafts-to-read", SIGNED_IN),
    Route("prepublication.read", "GET", READ, READERS),
    Route("prepublication.comment", "GET", READ + "/comment?section={section}", READERS),
    Route("prepublication.comment", "POST", READ + "/comment", READERS, ok=302, data={"text": "A comment"}),
    Route("prepublication.your_comments", "GET", READ + "/your-comments", READERS),
    Route("prepublication.respond", "GET", READ + "/response", RESPONDERS),
    Route("prepublication.respond", "POST", READ + "/response", RESPONDERS, ok=302, data={"kind": "accurate"}),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int]
    review: Review
    other: Review
    readers: dict[str, User]


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    draft = Draft(review_id=review.id, version=1, title="Report", kind=DraftKind.WRITTEN.value)
    draft.created_by_id = coordinator.id
    db.add(draft)
    db.flush()
    section = DraftSection(draft_id=draft.id, position=1, heading="Findings", body="<p>Words</p>")
    db.add(section)
    panel = make_user(db, agency=make_agency(db))
    panel_membership = make_membership(db, review, panel, MembershipKind.PANEL_MEMBER)
    family = make_user(db, role=Role.FAMILY)
    family_membership = make_membership(db, review, family, MembershipKind.FAMILY)
    ledger.record_choice(
        db, person=family, review_id=review.id, scope=ConsentScope.SEE_DRAFT, given=True, text_version="t"
    )
    with app.app_context():
        prepublication.share_version(
            db,
            draft,
            [panel_membership.id, family_membership.id],
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=7),
            message=None,
            actor=coordinator,
        )
    comment = DraftComment(draft_id=draft.id, section_id=section.id, user_id=panel.id, text="Check the dates")
    db.add(comment)
    db.commit()
    return Scene(
        review.reference,
        {
            "review": review.id,
            "draft": draft.id,
            "section": section.id,
            "comment": comment.id,
            "panel_membership": panel_membership.id,
        },
        review,
        other,
        {PANEL_READER: panel, FAMILY_READER: family},
    )


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    if visitor in scene.readers:
        sign_in(client, scene.readers[visitor])
    else:
        visitors.enter_as(client, db, visitor, scene.review, scene.other, PLACES)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_each_page_lets_in_only_those_who_may_use_it(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    response = visit(client, route, scene.values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want == 404:
        assert scene.reference not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_READER)
    url = fill(COMMENT + "/resolve", scene.values)
    assert submit(client, url, {"change_made": "Sneaky"}, page="/account/password").status_code == 404
    assert db.scalar(sa.select(DraftComment.resolved_at).where(DraftComment.id == scene.values["comment"])) is None
    assert db.scalar(sa.select(sa.func.count(DraftShare.id))) == 1


def test_a_version_and_its_comments_are_not_found_through_another_review(client, db, scene):
    enter_as(client, db, scene, COORDINATOR)
    other, draft, comment = scene.other.id, scene.values["draft"], scene.values["comment"]
    assert client.get(f"/reviews/{other}/drafts/{draft}/comments").status_code == 404
    assert client.get(f"/reviews/{other}/drafts/{draft}/readers").status_code == 404
    assert client.get(f"/reviews/{other}/drafts/{draft}/comments/{comment}/reply").status_code == 404
