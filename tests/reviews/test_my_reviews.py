"""My reviews: each member sees only their own reviews, and only what their part allows."""

from __future__ import annotations

from sqlalchemy import event

from portal.reviews.memberships import end_membership
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from tests.conftest import sign_in
from tests.factories import make_agency, make_membership, make_review, make_user


def test_shows_only_the_persons_own_open_reviews(client, db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    mine = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW, anonymised_name="Child H")
    also_mine = make_review(db, coordinator=coordinator, anonymised_name="Child K")
    not_mine = make_review(db, coordinator=coordinator, anonymised_name="Child Q")
    ended = make_review(db, coordinator=coordinator, anonymised_name="Child Z")
    person = make_user(db, agency=make_agency(db, "Northshire Police"))
    make_membership(db, mine, person, MembershipKind.PANEL_MEMBER)
    make_membership(db, mine, person, MembershipKind.PRACTITIONER)
    make_membership(db, also_mine, person, MembershipKind.PRACTITIONER)
    make_membership(db, not_mine, make_user(db), MembershipKind.PRACTITIONER)
    gone = make_membership(db, ended, person, MembershipKind.PRACTITIONER)
    end_membership(db, gone, coordinator, "No longer involved")
    db.commit()

    sign_in(client, person)
    page = client.get("/my-reviews")
    assert page.status_code == 200
    assert "<title>My reviews" in page.text
    for review in (mine, also_mine):
        assert review.reference in page.text and f'href="/reviews/{review.id}"' in page.text
    assert "Child H" in page.text and "Rapid Review" in page.text
    assert "Panel member, Practitioner" in page.text
    for review in (not_mine, ended):
        assert review.reference not in page.text and review.anonymised_name not in page.text


def test_someone_with_no_reviews_is_told_so(client, db):
    make_membership(db, make_review(db), make_user(db), MembershipKind.FAMILY)
    sign_in(client, make_user(db, role=Role.FAMILY))
    page = client.get("/my-reviews")
    assert "You are not taking part in any review at the moment" in page.text
    assert "LSCP-" not in page.text


def test_an_author_awaiting_declaration_sees_only_the_link_to_declare(client, db):
    review = make_review(db, stage=Stage.CSPR_COMMISSIONED, anonymised_name="Child H")
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR, declared=False)
    sign_in(client, author)
    page = client.get("/my-reviews").text
    assert "Declare your independence" in page and f"/reviews/{review.id}/independence" in page
    assert review.reference in page and "Child H" in page
    assert "CSPR commissioned" not in page and f'href="/reviews/{review.id}"' not in page


def test_coordinators_are_sent_to_all_reviews(client, db):
    sign_in(client, make_user(db, role=Role.COORDINATOR))
    response = client.get("/my-reviews")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reviews")


def test_long_lists_come_a_page_at_a_time(client, db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    person = make_user(db, role=Role.FAMILY)
    references = [f"LSCP-2025-{number:03d}" for number in range(1, 23)]
    for reference in references:
        make_membership(
            db, make_review(db, coordinator=coordinator, reference=reference), person, MembershipKind.FAMILY
        )
    sign_in(client, person)
    first = client.get("/my-reviews").text
    assert references[0] in first and references[19] in first and references[20] not in first
    assert "Page 1 of 2" in first and "Next" in first
    second = client.get("/my-reviews?page=2").text
    assert references[20] in second and references[0] not in second
    assert "<title>My reviews (page 2 of 2)" in second
    assert client.get("/my-reviews?page=3").status_code == 404
    assert client.get("/my-reviews?page=nonsense").status_code == 200


def test_the_page_needs_a_fixed_number_of_queries(client, db, app):
    person = make_user(db, role=Role.PRACTITIONER, agency=make_agency(db))

    def count_queries() -> int:
        engine = app.extensions["portal.db"].kw["bind"].engine
        seen = []

        def before(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", before)
        try:
            assert client.get("/my-reviews").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(seen)

    sign_in(client, person)
    coordinator = make_user(db, role=Role.COORDINATOR)
    make_membership(db, make_review(db, coordinator=coordinator), person, MembershipKind.PANEL_MEMBER)
    count_queries()  # the first request after signing in does some one-off work of its own
    few = count_queries()
    for _ in range(8):
        review = make_review(db, coordinator=coordinator)
        make_membership(db, review, person, MembershipKind.PANEL_MEMBER)
        make_membership(db, review, person, MembershipKind.PRACTITIONER)
    assert count_queries() == few
