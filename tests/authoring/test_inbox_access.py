"""Need-to-know on the inbox and panel notes pages: who gets in, and everyone else gets 404.

The inbox holds people's own words, the author's themes and private notes: only the review's declared
author and coordinators see it. Panel members write notes for the author and see only their own,
so only a panel member of the review gets the panel notes pages (not even a coordinator, who reads
the notes in the inbox). Every visitor is tried on every row of ROUTES;
``tests/authoring/test_access_coverage.py`` fails for a route missing from the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.authoring import inbox
from portal.authoring.models import AnswerFile, InboxItem, InboxNote, PanelNote
from portal.reviews.models import Membership, Review
from portal.security.models import Role, User
from tests import visitors
from tests.authoring.test_inbox import attach, gather
from tests.conftest import sign_in, submit
from tests.factories import make_review, make_user
from tests.reviews.test_access import Route
from tests.visitors import (
    AUTHOR,
    AUTHOR_UNDECLARED,
    COORDINATOR,
    OTHER_AUTHOR,
    PANEL_MEMBER,
    VISITORS,
    assert_answered,
    fill,
    visit,
)

STAFF = frozenset({COORDINATOR, AUTHOR})
PANEL = frozenset({PANEL_MEMBER})

ITEM = "/reviews/{review}/inbox/{item}"
ROUTES: list[Route] = [
    Route("inbox.inbox_list", "GET", "/reviews/{review}/inbox", STAFF),
    Route("inbox.item", "GET", ITEM, STAFF),
    Route("inbox.answer_file", "GET", ITEM + "/files/{file}", STAFF),
    Route("inbox.acknowledge", "POST", ITEM + "/acknowledge", STAFF, ok=302),
    Route("inbox.add_theme", "POST", ITEM + "/themes", STAFF, ok=302, data={"new_theme": "Housing"}),
    Route("inbox.remove_theme", "POST", ITEM + "/themes/{theme}/remove", STAFF, ok=302),
    Route("inbox.add_note", "POST", ITEM + "/notes", STAFF, ok=302, data={"text": "Ask the chair"}),
    Route("inbox.panel_notes", "GET", "/reviews/{review}/panel-notes", PANEL),
    Route("inbox.new_panel_note", "GET", "/reviews/{review}/panel-notes/new", PANEL),
    Route("inbox.new_panel_note", "POST", "/reviews/{review}/panel-notes/new", PANEL, ok=302, data={"text": "A view"}),
]


@dataclass
class Scene:
    reference: str
    values: dict[str, int]
    review: Review
    other: Review
    author: User


@pytest.fixture
def scene(app, db) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator)
    gathered = gather(db, review)
    other = make_review(db, coordinator=coordinator)
    inbox.sync(db, review)
    item = db.scalar(sa.select(InboxItem).where(InboxItem.request_answer_id == gathered.agency_answer.id))
    stored = attach(app, db, AnswerFile, answer_id=gathered.agency_answer.id, original_name="chronology.pdf")
    theme = inbox.find_or_create_theme(db, review, "Neglect", gathered.author)
    inbox.add_theme(db, inbox.load_entry(db, review, item.id), theme, gathered.author)
    db.commit()
    values = {"review": review.id, "item": item.id, "file": stored.id, "theme": theme.id}
    return Scene(review.reference, values, review, other, gathered.author)


def enter_as(client, db, scene: Scene, visitor: str) -> None:
    """The review's own author (who asked for what is in the inbox) stands for both of the author visitors."""
    if visitor not in (AUTHOR, AUTHOR_UNDECLARED):
        visitors.enter_as(client, db, visitor, scene.review, scene.other)
        return
    if visitor == AUTHOR_UNDECLARED:
        # One author at a time: this review's author, before they declared their independence.
        membership = db.scalar(sa.select(Membership).where(Membership.user_id == scene.author.id))
        db.delete(membership.declaration)
        db.commit()
    sign_in(client, scene.author)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_those_listed_get_in(client, db, scene, route, visitor):
    enter_as(client, db, scene, visitor)
    response = visit(client, route, scene.values, visitor)
    want = route.expected(visitor)
    assert_answered(response, visitor, want, route.id)
    if want == 404:
        assert scene.reference not in response.text
        assert "Health visits" not in response.text


def test_a_refused_visitor_changes_nothing(client, db, scene):
    enter_as(client, db, scene, PANEL_MEMBER)
    url = fill(ITEM + "/notes", scene.values)
    assert submit(client, url, {"text": "Sneaky"}, page="/account/password").status_code == 404
    assert submit(client, fill(ITEM + "/acknowledge", scene.values), {}, page="/account/password").status_code == 404
    assert db.scalar(sa.select(sa.func.count(InboxNote.id))) == 0
    item = db.get(InboxItem, scene.values["item"])
    db.refresh(item)
    assert item.status == "new"


def test_the_author_of_another_review_cannot_reach_this_reviews_items_through_their_own(client, db, scene):
    enter_as(client, db, scene, OTHER_AUTHOR)
    assert client.get(f"/reviews/{scene.other.id}/inbox").status_code == 200
    assert client.get(f"/reviews/{scene.other.id}/inbox/{scene.values['item']}").status_code == 404
    url = f"/reviews/{scene.other.id}/inbox/{scene.values['item']}/files/{scene.values['file']}"
    assert client.get(url).status_code == 404


def test_a_panel_member_of_another_review_cannot_write_here(client, db, scene):
    visitors.enter_as(client, db, PANEL_MEMBER, scene.other)
    url = f"/reviews/{scene.review.id}/panel-notes/new"
    assert submit(client, url, {"text": "Elsewhere"}, page="/account/password").status_code == 404
    assert db.scalar(sa.select(sa.func.count(PanelNote.id)).where(PanelNote.review_id == scene.review.id)) == 1
