"""The public learning pages are open to everyone, signed in or not, and show only what is published.

Every visitor gets the same answer on every row of ROUTES: the page for published material, 404 for
a review that is not published, whoever asks (a coordinator included: the public page is not a way
to preview). ``tests/learning/test_access_coverage.py`` fails for a route missing from the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.authoring.models import PublicationDecision
from portal.reviews.models import Stage
from tests.authoring.test_publication import FINAL_WORDS, decided, ready_review
from tests.conftest import text_of
from tests.visitors import (
    ANONYMOUS,
    AUTHOR,
    COORDINATOR,
    FAMILY,
    PANEL_MEMBER,
    PRACTITIONER_NO_MEMBERSHIP,
    enter_as,
)

VISITORS = (ANONYMOUS, COORDINATOR, AUTHOR, PANEL_MEMBER, PRACTITIONER_NO_MEMBERSHIP, FAMILY)


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: str
    status: int  # the same for every visitor
    shows: str | None = None


ROUTES: list[Route] = [
    Route("learning_public.reviews", "/learning", 200),
    Route("learning_public.review", "/learning/{published}", 200, shows=FINAL_WORDS),
    Route("learning_public.review", "/learning/{unpublished}", 404),
]


@pytest.fixture
def scene(db, coordinator):
    review = ready_review(db, coordinator)
    published = decided(db, review, coordinator, published=True)
    waiting_review = ready_review(db, coordinator, stage=Stage.PRE_PUBLICATION)
    waiting = decided(db, waiting_review, coordinator, PublicationDecision.PUBLISH)
    waiting.public_slug = "child-not-yet-public"
    waiting.online_until = published.online_until
    db.commit()
    return review, {"published": published.public_slug, "unpublished": waiting.public_slug}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.url)
def test_everyone_gets_the_same_answer(client, db, scene, route, visitor):
    review, slugs = scene
    enter_as(client, db, visitor, review)
    response = client.get(route.url.format(**slugs))
    assert response.status_code == route.status, f"{visitor} on {route.url}: {response.status_code}"
    if route.shows:
        assert route.shows in text_of(response.text)
