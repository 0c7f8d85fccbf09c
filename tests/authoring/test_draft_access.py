"""Need-to-know on the drafts pages: coordinators and the review's declared author; everyone else 404.

Panel members and family members read shared versions through their own pages, never these. Every
visitor is tried on every row of ROUTES; ``test_access_coverage.py`` fails for a route left out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.authoring import drafts
from portal.authoring.models import Draft
from portal.reviews.models import Review, Stage
from portal.security.models import Role
from tests.conftest import submit
from tests.factories import make_review, make_user
from tests.families.test_uploads import SAMPLES
from tests.reviews.test_access import Route
from tests.visitors import AUTHOR, COORDINATOR, PANEL_MEMBER, VISITORS, assert_answered, enter_as, fill, visit

WRITERS = frozenset({COORDINATOR, AUTHOR})
BASE = "/reviews/{review}/drafts"
DRAFT = BASE + "/{draft}"
SECTION = DRAFT + "/sections/{section}"

ROUTES: list[Route] = [
    Route("drafts.drafts_list", "GET", BASE, WRITERS),
    Route("drafts.new_draft", "POST", BASE + "/new", WRITERS, ok=302),
    Route("drafts.upload_draft", "GET", BASE + "/upload", WRITERS),
    Route("drafts.upload_draft", "POST", BASE + "/upload", WRITERS, ok=302, data={"title": "Uploaded"}),
    Route("drafts.draft", "GET", DRAFT, WRITERS),
    Route("drafts.draft_file", "GET", "/reviews/{review}/drafts/{uploaded}/file", WRITERS),
    Route("drafts.edit_draft", "GET", DRAFT + "/edit", WRITERS),
    Route("drafts.edit_draft", "POST", DRAFT + "/edit", WRITERS, ok=302, data={"title": "Renamed"}),
    Route("drafts.delete_draft", "GET", DRAFT + "/delete", WRITERS),
    Route("drafts.delete_draft", "POST", DRAFT + "/delete", WRITERS, ok=302),
    Route("drafts.add_section", "GET", DRAFT + "/sections/new", WRITERS),
    Route("drafts.add_section", "POST", DRAFT + "/sections/new", WRITERS, ok=302, data={"heading": "More"}),
    Route("drafts.edit_section", "GET", SECTION, WRITERS),
    Route("drafts.edit_section", "POST", SECTION, WRITERS, ok=302, data={"heading": "Opening", "body": "Text"}),
    Route("drafts.remove_section", "POST", SECTION + "/remove", WRITERS, ok=302),
    Route("drafts.move_section", "POST", SECTION + "/move", WRITERS, ok=302, data={"direction": "down"}),
    Route("drafts.compare", "GET", BASE + "/compare?older={draft}&newer={uploaded}", WRITERS),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int]
    review: Review
    other: Review


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    written = drafts.create_written_draft(db, review.id, by=coordinator)
    with app.app_context():
        uploaded = drafts.create_uploaded_draft(
            db, review.id, title="From Word", original_name="report.pdf", data=SAMPLES["pdf"], by=coordinator
        )
    db.commit()
    return Scene(
        review.reference,
        {"review": review.id, "draft": written.id, "section": written.sections[0].id, "uploaded": uploaded.id},
        review,
        other,
    )


def request_data(route: Route, values: dict[str, int]) -> dict:
    data = fill(route.data, values)
    if route.id == "drafts.upload_draft POST":
        data["file"] = (io.BytesIO(SAMPLES["pdf"]), "report.pdf")
    return data


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_coordinators_and_the_reviews_author_get_in(client, db, scene, route, visitor):
    enter_as(client, db, visitor, scene.review, scene.other)
    response = visit(client, route, scene.values, visitor, data=request_data(route, scene.values))
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want == 404:
        assert scene.reference not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, PANEL_MEMBER, scene.review, scene.other)
    url = fill(DRAFT + "/delete", scene.values)
    assert submit(client, url, {}, page="/account/password").status_code == 404
    assert db.scalar(sa.select(sa.func.count(Draft.id)).where(Draft.review_id == scene.review.id)) == 2


def test_a_version_is_not_found_through_another_review(client, db, scene):
    enter_as(client, db, COORDINATOR, scene.review, scene.other)
    other = scene.other.id
    assert client.get(f"/reviews/{other}/drafts/{scene.values['draft']}").status_code == 404
    assert client.get(f"/reviews/{other}/drafts/{scene.values['uploaded']}/file").status_code == 404
    section = scene.values["section"]
    assert client.get(f"/reviews/{other}/drafts/{scene.values['draft']}/sections/{section}").status_code == 404
