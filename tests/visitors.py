"""The people the access tables try on every route, and how each of them comes to be signed in.

An access test tries each visitor on each row of its ROUTES table against one review (the review in
the URL) and another review (so that a member of a different review is tried too). Each visitor is a
fresh person with the global role and the one membership their name says. A module adds its own
visitors (an agency lead of another agency, a reader a version was shared with) by passing its own
``places`` or by signing in a person its scene already made.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.reviews.models import MembershipKind, Review
from portal.security.models import Agency, Role, User
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_user

ANONYMOUS = "anonymous"
COORDINATOR = "coordinator"
AUTHOR = "the review's author"
AUTHOR_UNDECLARED = "the review's author, independence not yet declared"
OTHER_AUTHOR = "author of another review"
PANEL_MEMBER = "panel member"
AGENCY_LEAD = "agency lead"
PRACTITIONER = "practitioner member"
PRACTITIONER_NO_MEMBERSHIP = "practitioner (no membership)"
FAMILY = "family member of the review"
FAMILY_OTHER_REVIEW = "family member of another review"

# Everyone the author's pages are tried with: each kind of membership of the review, and of another one.
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


@dataclass(frozen=True)
class Place:
    """Where a visitor stands: their global role and the membership they hold, if any."""

    role: Role
    kind: MembershipKind | None = None
    elsewhere: bool = False  # the membership is of the other review, not the one in the URL
    declared: bool = True  # an author has declared their independence
    # True: an agency of their own, made for them; or the agency they work for.
    agency: Agency | bool = False


PLACES: dict[str, Place] = {
    COORDINATOR: Place(Role.COORDINATOR),
    AUTHOR: Place(Role.AUTHOR, MembershipKind.AUTHOR),
    AUTHOR_UNDECLARED: Place(Role.AUTHOR, MembershipKind.AUTHOR, declared=False),
    OTHER_AUTHOR: Place(Role.AUTHOR, MembershipKind.AUTHOR, elsewhere=True),
    # Panel members and agency leads speak for an agency; an agency lead cannot be appointed without one.
    PANEL_MEMBER: Place(Role.PRACTITIONER, MembershipKind.PANEL_MEMBER, agency=True),
    AGENCY_LEAD: Place(Role.PRACTITIONER, MembershipKind.AGENCY_LEAD, agency=True),
    PRACTITIONER: Place(Role.PRACTITIONER, MembershipKind.PRACTITIONER),
    PRACTITIONER_NO_MEMBERSHIP: Place(Role.PRACTITIONER),
    FAMILY: Place(Role.FAMILY, MembershipKind.FAMILY),
    FAMILY_OTHER_REVIEW: Place(Role.FAMILY, MembershipKind.FAMILY, elsewhere=True),
}


def make_visitor(
    db: Session, visitor: str, review: Review, other: Review | None = None, places: dict[str, Place] = PLACES
) -> User:
    """A new person standing where ``places`` puts ``visitor``: their role, and their membership of a review."""
    place = places[visitor]
    agency = make_agency(db) if place.agency is True else (place.agency or None)
    person = make_user(db, role=place.role, agency=agency)
    if place.kind is not None:
        make_membership(db, other if place.elsewhere else review, person, place.kind, declared=place.declared)
    return person


def enter_as(
    client: FlaskClient,
    db: Session,
    visitor: str,
    review: Review,
    other: Review | None = None,
    places: dict[str, Place] = PLACES,
) -> User | None:
    """Sign ``visitor`` in through the real pages; someone anonymous stays signed out (and is nobody)."""
    if visitor == ANONYMOUS:
        return None
    person = make_visitor(db, visitor, review, other, places)
    sign_in(client, person)
    return person


def fill(value, values: dict):
    """A URL or form data from a table row, with the scene's objects put in for {review}, {draft}…"""
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value.format(**values) if isinstance(value, str) else value


def visit(client: FlaskClient, route, values: dict, visitor: str, data: dict | None = None):
    """Open or submit the route as ``visitor``; ``data`` replaces the row's own (say, to add a file)."""
    url = fill(route.url, values)
    if route.method == "GET":
        return client.get(url)
    # The form token comes from a page every visitor can open.
    token_page = "/account/password" if visitor != ANONYMOUS else "/password-reset"
    return submit(client, url, fill(route.data, values) if data is None else data, page=token_page)


def assert_answered(response, visitor: str, want: int, route_id: str) -> None:
    """The answer the table expects; someone signed out is sent to sign in, to come back afterwards."""
    assert response.status_code == want, f"{visitor} on {route_id}: {response.status_code}, expected {want}"
    if visitor == ANONYMOUS:
        assert "/sign-in?next=" in response.headers["Location"]
