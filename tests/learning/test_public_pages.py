"""The public learning pages show published, anonymised material only, to anyone, without a session."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.authoring.models import DraftComment, PublicationDecision
from portal.db import utcnow
from portal.learning.models import Briefing
from portal.reviews.clocks import london_today
from portal.reviews.models import Stage
from tests.authoring.test_publication import (
    DRAFT_WORDS,
    FINAL_WORDS,
    IMPROVEMENTS,
    REASON,
    SUMMARY,
    decided,
    ready_review,
)
from tests.conftest import counting_queries, sign_in, text_of
from tests.factories import make_review

BRIEFING_WORDS = "Ask where the family lived before."
COMMENT_WORDS = "The dates in paragraph two are wrong."


@pytest.fixture
def published(db, coordinator):
    review = ready_review(db, coordinator, anonymised_name="Child P")
    publication = decided(db, review, coordinator, published=True, publication_date=date(2026, 10, 1))
    return review, publication


def test_the_list_shows_published_reviews_and_nothing_else(client, db, coordinator, published):
    waiting = ready_review(db, coordinator, anonymised_name="Child W")
    decided(db, waiting, coordinator)  # decided, not yet published
    make_review(db, coordinator=coordinator, anonymised_name="Child Q")
    page = text_of(client.get("/learning").text)
    assert "Child P 1 October 2026 Report published" in page
    assert "Child W" not in page and "Child Q" not in page


def test_a_published_report_shows_its_final_version_summary_and_published_briefing(client, db, coordinator, published):
    review, publication = published
    db.add(
        DraftComment(
            draft_id=publication.draft_id,
            user_id=coordinator.id,
            text=COMMENT_WORDS,
        )
    )
    db.add(
        Briefing(
            review_id=review.id, title="Moving families", body=f"<p>{BRIEFING_WORDS}</p>", written_by_id=coordinator.id
        )
    )
    db.commit()
    page = text_of(client.get(f"/learning/{publication.public_slug}").text)
    assert FINAL_WORDS in page and SUMMARY in page
    assert DRAFT_WORDS not in page
    assert COMMENT_WORDS not in page
    assert BRIEFING_WORDS not in page  # not published yet
    assert coordinator.name not in page  # who decided and who marked it final stay private

    briefing = db.query(Briefing).filter_by(review_id=review.id).one()
    briefing.published_at = utcnow()
    db.commit()
    assert BRIEFING_WORDS in text_of(client.get(f"/learning/{publication.public_slug}").text)


def test_not_publishing_shows_the_improvements_and_never_the_reason_or_the_report(client, db, coordinator):
    review = ready_review(db, coordinator, stage=Stage.NOT_PUBLISHED)
    publication = decided(db, review, coordinator, PublicationDecision.DO_NOT_PUBLISH, published=True)
    db.add(
        Briefing(
            review_id=review.id,
            title="Moving",
            body=f"<p>{BRIEFING_WORDS}</p>",
            written_by_id=coordinator.id,
            published_at=utcnow(),
        )
    )
    db.commit()
    page = text_of(client.get(f"/learning/{publication.public_slug}").text)
    assert IMPROVEMENTS in page and SUMMARY in page
    for hidden in (REASON, FINAL_WORDS, DRAFT_WORDS, BRIEFING_WORDS):
        assert hidden not in page
    assert "Information about improvements published" in text_of(client.get("/learning").text)


def test_unknown_and_unpublished_addresses_are_not_found(client, db, coordinator, published):
    review = ready_review(db, coordinator)
    waiting = decided(db, review, coordinator)
    waiting.public_slug = "child-waiting"  # an address reserved but never made public
    waiting.online_until = date(2099, 1, 1)
    db.commit()
    assert client.get("/learning/no-such-review").status_code == 404
    assert client.get("/learning/child-waiting").status_code == 404


def test_a_page_past_its_minimum_period_stays_until_taken_down(client, db, published):
    _review, publication = published
    publication.online_until = london_today() - timedelta(days=400)
    db.commit()
    assert client.get(f"/learning/{publication.public_slug}").status_code == 200


def test_the_pages_need_no_session_and_set_no_cookie(client, published):
    _review, publication = published
    for url in ("/learning", f"/learning/{publication.public_slug}"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Sign out" not in response.text


def test_a_signed_in_person_reads_the_same_page(client, db, coordinator, published):
    _review, publication = published
    sign_in(client, coordinator)
    assert FINAL_WORDS in text_of(client.get(f"/learning/{publication.public_slug}").text)


def test_the_list_is_paginated(client, db, coordinator):
    for number in range(21):
        review = make_review(
            db, coordinator=coordinator, stage=Stage.NOT_PUBLISHED, anonymised_name=f"Child {number:02d}"
        )
        decided(
            db,
            review,
            coordinator,
            PublicationDecision.DO_NOT_PUBLISH,
            published=True,
            publication_date=date(2026, 1, 1) + timedelta(days=number),
        )
    first = text_of(client.get("/learning").text)
    assert "Child 20" in first and "Child 00" not in first
    assert "Child 00" in text_of(client.get("/learning?page=2").text)
    assert client.get("/learning?page=3").status_code == 404


def test_the_list_asks_the_same_number_of_queries_however_many_reviews(client, db, coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert client.get("/learning").status_code == 200
        return len(statements)

    def publish_some(count: int, start: int) -> None:
        for number in range(start, start + count):
            review = make_review(db, coordinator=coordinator, stage=Stage.NOT_PUBLISHED)
            decided(
                db,
                review,
                coordinator,
                PublicationDecision.DO_NOT_PUBLISH,
                published=True,
                publication_date=date(2026, 1, 1) + timedelta(days=number),
            )

    publish_some(1, 0)
    few = queries()
    publish_some(15, 1)
    assert queries() == few
