"""Who may use each reflections page: practitioners only, and each person only their own reflections.

Everyone else signed in gets 403 (the pages are about nobody else's work); another practitioner gets
404 for someone's reflection, so they cannot learn that it exists. Every visitor is tried on every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.events import reflections
from portal.events.models import Audience, EventKind, Reflection
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_event, make_membership, make_review, make_user

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
OWNER = "practitioner who wrote the reflection"
OTHER_PRACTITIONER = "another practitioner, not in the review"
AUTHOR = "the review's author"
FAMILY = "a family member of the review"

VISITORS = (ANONYMOUS, COORDINATOR, OWNER, OTHER_PRACTITIONER, AUTHOR, FAMILY)
PRACTITIONERS = frozenset({OWNER, OTHER_PRACTITIONER})
ONLY_THE_OWNER = frozenset({OWNER})


@dataclass(frozen=True)
class Route:
    """What one route answers; ``url`` may name the scene's objects: {reflection}, {event}, {review}."""

    endpoint: str
    method: str
    url: str
    succeeds: frozenset[str]
    ok: int = 200
    refused: int = 404  # what a practitioner who is not allowed gets; other roles always get 403
    data: dict[str, str] = field(default_factory=dict)

    def expected(self, visitor: str) -> int:
        if visitor == ANONYMOUS:
            return 302
        if visitor not in PRACTITIONERS:
            return 403
        return self.ok if visitor in self.succeeds else self.refused

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method} {self.url}"


ROUTES: list[Route] = [
    Route("reflections.list_reflections", "GET", "/reflections", PRACTITIONERS),
    Route("reflections.new_reflection", "GET", "/reflections/new", PRACTITIONERS),
    Route("reflections.new_reflection", "GET", "/reflections/new?event={event}", ONLY_THE_OWNER),
    Route("reflections.new_reflection", "GET", "/reflections/new?review={review}", ONLY_THE_OWNER),
    Route(
        "reflections.new_reflection",
        "POST",
        "/reflections/new?review={review}",
        ONLY_THE_OWNER,
        ok=302,
        data={"title": "On the review", "body": "Words"},
    ),
    Route("reflections.reflection", "GET", "/reflections/{reflection}", ONLY_THE_OWNER),
    Route("reflections.edit_reflection", "GET", "/reflections/{reflection}/edit", ONLY_THE_OWNER),
    Route(
        "reflections.edit_reflection",
        "POST",
        "/reflections/{reflection}/edit",
        ONLY_THE_OWNER,
        ok=302,
        data={"title": "Changed", "body": "Changed words"},
    ),
    Route("reflections.submit_reflection", "GET", "/reflections/{reflection}/submit", ONLY_THE_OWNER),
    Route(
        "reflections.submit_reflection",
        "POST",
        "/reflections/{reflection}/submit",
        ONLY_THE_OWNER,
        ok=302,
        data={"sharing": "anonymous"},
    ),
    Route("reflections.delete_reflection", "POST", "/reflections/{reflection}/delete", ONLY_THE_OWNER, ok=302),
]


def test_the_table_names_every_reflections_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("reflections.")}
    assert endpoints == {route.endpoint for route in ROUTES}
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for route in ROUTES:
        assert route.method in rules[route.endpoint].methods, f"{route.id} does not answer {route.method}"


@dataclass
class Scene:
    values: dict[str, int]
    people: dict[str, object]
    title: str


@pytest.fixture
def scene(db) -> Scene:
    review = make_review(db, stage=Stage.CSPR_IN_PROGRESS)
    owner = make_user(db, role=Role.PRACTITIONER, agency=make_agency(db))
    author = make_user(db, role=Role.AUTHOR)
    family = make_user(db, role=Role.FAMILY)
    make_membership(db, review, owner, MembershipKind.PRACTITIONER)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    make_membership(db, review, family, MembershipKind.FAMILY)
    # An event only the review's practitioners may see, so a practitioner outside the review gets 404.
    event = make_event(
        db, kind=EventKind.PRACTITIONER_EVENT.value, audience=Audience.REVIEW_MEMBERS.value, review_id=review.id
    )
    title = "A reflection nobody else may know of"
    reflection = reflections.start_reflection(db, owner, review=review, title=title, body="Private words")
    db.commit()
    people = {
        COORDINATOR: make_user(db, role=Role.COORDINATOR),
        OWNER: owner,
        OTHER_PRACTITIONER: make_user(db, role=Role.PRACTITIONER),
        AUTHOR: author,
        FAMILY: family,
    }
    return Scene({"reflection": reflection.id, "event": event.id, "review": review.id}, people, title)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_only_the_expected_visitors_get_in(client, db, scene, route, visitor):
    if visitor != ANONYMOUS:
        sign_in(client, scene.people[visitor])
    url = route.url.format(**scene.values)
    if route.method == "GET":
        response = client.get(url)
    else:
        token_page = "/account/password" if visitor != ANONYMOUS else "/password-reset"
        response = submit(client, url, route.data, page=token_page)
    expected = route.expected(visitor)
    assert response.status_code == expected, f"{visitor} on {route.id}: {response.status_code}, expected {expected}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
    elif expected in {403, 404}:
        assert scene.title not in response.text


def test_a_refused_practitioner_changes_nothing(client, db, scene):
    sign_in(client, scene.people[OTHER_PRACTITIONER])
    reflection_id = scene.values["reflection"]
    for action, data in (
        ("edit", {"title": "Taken over", "body": "x"}),
        ("submit", {"sharing": "named"}),
        ("delete", {}),
    ):
        assert (
            submit(client, f"/reflections/{reflection_id}/{action}", data, page="/account/password").status_code == 404
        )
    reflection = db.get(Reflection, reflection_id)
    db.refresh(reflection)
    assert (reflection.title, reflection.is_draft) == (scene.title, True)
