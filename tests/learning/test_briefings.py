"""The one-page briefing: written and published by the coordinator or author, read by practitioners, each
"I have read this" recorded once with the reader's agency, and read rates per agency."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.learning import services
from portal.learning.models import Briefing, BriefingRead
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)


def publish(db, review, coordinator, title: str = "Learning from Child A") -> Briefing:
    briefing = services.save_briefing(db, review, title=title, body="<p>Listen to the child.</p>", by=coordinator)
    services.publish_briefing(db, briefing, coordinator)
    db.commit()
    return briefing


def confirm(client, briefing) -> object:
    return submit(client, f"/briefings/{briefing.id}/read", {}, page=f"/briefings/{briefing.id}")


def rates_rows(html: str) -> list[str]:
    """Each body row of the read-rates table as a person reads it."""
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.DOTALL)]


def test_the_author_writes_a_briefing_whose_markup_is_cleaned(client, db, review):
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    sign_in(client, author)
    response = submit(
        client,
        f"/reviews/{review.id}/briefing",
        {"title": "What we learned", "body": "<p>Ask <strong>twice</strong>.</p><script>alert(1)</script>"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "<strong>twice</strong>" in page
    assert "<script>alert" not in page
    assert "Not published yet" in page


def test_a_briefing_is_hidden_from_practitioners_until_it_is_published(client, as_coordinator, db, review, coordinator):
    briefing = services.save_briefing(db, review, title="Draft briefing", body="<p>Soon.</p>", by=coordinator)
    db.commit()
    practitioner_browser = client.application.test_client()
    sign_in(practitioner_browser, make_user(db))
    assert practitioner_browser.get(f"/briefings/{briefing.id}").status_code == 404
    assert "Draft briefing" not in practitioner_browser.get("/").text

    response = submit(as_coordinator, f"/reviews/{review.id}/briefing/publish", {}, page=f"/briefings/{briefing.id}")
    assert response.status_code == 302
    assert practitioner_browser.get(f"/briefings/{briefing.id}").status_code == 200
    home = text_of(practitioner_browser.get("/").text)
    assert "Briefings to read Draft briefing" in home


def test_a_practitioner_confirms_reading_once_and_it_leaves_their_home_page(client, db, review, coordinator):
    briefing = publish(db, review, coordinator)
    agency = make_agency(db)
    reader = make_user(db, agency=agency)
    sign_in(client, reader)
    assert "Learning from Child A" in client.get("/").text

    assert confirm(client, briefing).status_code == 302
    page = text_of(client.get(f"/briefings/{briefing.id}").text)
    assert "You told us you have read this briefing on" in page
    assert "I have read this" not in page
    assert "Learning from Child A" not in client.get("/").text

    again = submit(client, f"/briefings/{briefing.id}/read", {}, page="/account/password", follow_redirects=True)
    assert "You had already told us you have read this briefing." in again.text
    reads = db.scalars(sa.select(BriefingRead)).all()
    assert [(read.user_id, read.agency_id) for read in reads] == [(reader.id, agency.id)]


def test_confirming_twice_records_one_read(db, review, coordinator):
    briefing = publish(db, review, coordinator)
    reader = make_user(db, agency=make_agency(db))
    assert services.confirm_read(db, briefing, reader) is True
    assert services.confirm_read(db, briefing, reader) is False
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(BriefingRead)) == 1


def test_the_briefing_page_prints_on_its_own(client, db, review, coordinator):
    briefing = publish(db, review, coordinator)
    sign_in(client, make_user(db))
    page = client.get(f"/briefings/{briefing.id}").text
    assert "portal-print-page" in page
    assert 'class="govuk-back-link portal-no-print"' in page


def test_read_rates_count_each_agencys_confirmations_against_its_active_practitioners(
    as_coordinator, db, review, coordinator
):
    briefing = publish(db, review, coordinator)
    police, school = make_agency(db, "Police"), make_agency(db, "School")
    make_agency(db, "Youth Service")
    police_officers = [make_user(db, agency=police) for _ in range(4)]
    teachers = [make_user(db, agency=school) for _ in range(3)]
    make_user(db, agency=police, active=False)  # not counted: no longer active
    make_user(db, role=Role.COORDINATOR, agency=school)  # not counted: not a practitioner
    for person in [*police_officers[:3], teachers[0]]:
        services.confirm_read(db, briefing, person)
    db.commit()
    rows = rates_rows(as_coordinator.get(f"/reviews/{review.id}/briefing/read-rates").text)
    assert "Police 3 4 75%" in rows
    assert "School 1 3 33%" in rows
    assert "Youth Service 0 0 No practitioners" in rows


def test_a_read_counts_for_the_agency_the_reader_was_in_at_the_time(as_coordinator, db, review, coordinator):
    briefing = publish(db, review, coordinator)
    police, school = make_agency(db, "Police"), make_agency(db, "School")
    mover = make_user(db, agency=police)
    services.confirm_read(db, briefing, mover)
    mover.agency_id = school.id  # moves to the school afterwards
    db.commit()
    rows = rates_rows(as_coordinator.get(f"/reviews/{review.id}/briefing/read-rates").text)
    assert "Police 1 0 No practitioners" in rows
    assert "School 0 1 0%" in rows


def test_the_read_rates_page_asks_the_same_number_of_queries_however_many_agencies(
    as_coordinator, db, review, coordinator
):
    briefing = publish(db, review, coordinator)

    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(f"/reviews/{review.id}/briefing/read-rates").status_code == 200
        return len(statements)

    services.confirm_read(db, briefing, make_user(db, agency=make_agency(db)))
    db.commit()
    queries()
    few = queries()
    for _ in range(10):
        agency = make_agency(db)
        services.confirm_read(db, briefing, make_user(db, agency=agency))
        make_user(db, agency=agency)
    db.commit()
    assert queries() == few


def test_read_rates_wait_for_the_briefing_to_be_published(as_coordinator, db, review, coordinator):
    services.save_briefing(db, review, title="Draft", body="<p>Soon.</p>", by=coordinator)
    db.commit()
    assert as_coordinator.get(f"/reviews/{review.id}/briefing/read-rates").status_code == 404


def test_the_briefings_list_shows_which_ones_the_practitioner_has_read(client, db, coordinator):
    first = publish(db, make_review(db, coordinator=coordinator), coordinator, title="First briefing")
    publish(db, make_review(db, coordinator=coordinator), coordinator, title="Second briefing")
    reader = make_user(db)
    services.confirm_read(db, first, reader)
    db.commit()
    sign_in(client, reader)
    page = text_of(client.get("/briefings").text)
    assert "Second briefing" in page and "To read" in page
    assert page.index("Second briefing") < page.index("First briefing")  # newest first
    assert "First briefing" in page and "Read" in page


def test_the_home_page_asks_the_same_number_of_queries_however_many_briefings(client, db, coordinator):
    reader = make_user(db)
    sign_in(client, reader)
    publish(db, make_review(db, coordinator=coordinator), coordinator)

    def queries() -> int:
        with counting_queries(db) as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    queries()
    few = queries()
    for number in range(8):
        publish(db, make_review(db, coordinator=coordinator), coordinator, title=f"Briefing {number}")
    many = client.get("/").text
    assert queries() == few
    assert "See all 9 briefings to read" in many
