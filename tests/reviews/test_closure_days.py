"""Coordinators record the days the partnership is closed; every working-day clock skips them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.reviews import clocks
from portal.reviews.models import ClosureDay
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_review, make_user

TODAY = date(2026, 12, 21)  # a Monday


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(clocks, "london_today", lambda: TODAY)


@pytest.fixture
def coordinator(client, db):
    user = make_user(db, role=Role.COORDINATOR)
    sign_in(client, user)
    return user


def add(client, day: str, month: str, year: str, description: str = "Office closed for training"):
    return submit(client, "/closure-days", {"closure_date": [day, month, year], "description": description})


def audit_actions(db, action: str) -> list[dict]:
    return [json.loads(event.details) for event in db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))]


def test_a_coordinator_adds_a_closure_day_and_the_clocks_skip_it(client, db, coordinator):
    review = make_review(db, coordinator=coordinator, aware_on=date(2026, 12, 18))
    before = clocks.load_clocks(db, review, clocks.CLOCK_DEFAULTS, TODAY)[0]
    assert before.due_on == date(2026, 12, 29)

    response = add(client, "29", "12", "2026", "Office closed between Christmas and New Year")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "29 December 2026 is now a closure day." in page
    assert "Tuesday 29 December 2026" in page
    assert "Office closed between Christmas and New Year" in page

    assert clocks.closure_days(db) == frozenset({date(2026, 12, 29)})
    assert clocks.load_clocks(db, review, clocks.CLOCK_DEFAULTS, TODAY)[0].due_on == date(2026, 12, 30)
    added = audit_actions(db, "closure_day.added")
    assert added == [{"day": "2026-12-29", "description": "Office closed between Christmas and New Year"}]


def test_a_coordinator_removes_a_closure_day(client, db, coordinator):
    closure = ClosureDay(day=date(2026, 12, 30), description="Office closed", created_by_id=coordinator.id)
    db.add(closure)
    db.commit()
    response = submit(client, f"/closure-days/{closure.id}/delete", {}, page="/closure-days")
    assert response.status_code == 302
    page = client.get("/closure-days").text
    assert "30 December 2026 is no longer a closure day." in page
    assert "No closure days have been recorded." in page
    assert clocks.closure_days(db) == frozenset()
    assert audit_actions(db, "closure_day.removed") == [{"day": "2026-12-30", "description": "Office closed"}]


def test_a_past_closure_day_stays(client, db, coordinator):
    closure = ClosureDay(day=date(2026, 12, 1), description="Office closed", created_by_id=coordinator.id)
    db.add(closure)
    db.commit()
    page = client.get("/closure-days").text
    assert "Past" in page
    assert f"/closure-days/{closure.id}/delete" not in page  # no button for it
    response = submit(client, f"/closure-days/{closure.id}/delete", {}, page="/closure-days")
    assert response.status_code == 302
    assert "1 December 2026 has passed, so it stays a closure day" in client.get("/closure-days").text
    assert clocks.closure_days(db) == frozenset({date(2026, 12, 1)})
    assert audit_actions(db, "closure_day.removed") == []


def test_removing_a_closure_day_that_does_not_exist_is_not_found(client, coordinator):
    assert submit(client, "/closure-days/999999/delete", {}, page="/closure-days").status_code == 404


def test_removing_needs_the_form_token(client, db, coordinator):
    closure = ClosureDay(day=date(2026, 12, 30), description="Office closed", created_by_id=coordinator.id)
    db.add(closure)
    db.commit()
    assert client.post(f"/closure-days/{closure.id}/delete").status_code == 400
    assert clocks.closure_days(db) == frozenset({date(2026, 12, 30)})


def test_a_day_already_recorded_is_refused_with_a_clear_message(client, db, coordinator):
    assert add(client, "30", "12", "2026").status_code == 302
    response = add(client, "30", "12", "2026", "Again")
    assert response.status_code == 200
    assert "30 December 2026 is already a closure day" in response.text
    assert db.scalar(sa.select(sa.func.count(ClosureDay.id))) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (("", "", ""), "Enter the date of the closure day"),
        (("", "12", "2026"), "The date of the closure day must include a day"),
        (("4", "", ""), "The date of the closure day must include a month and year"),
        (("31", "2", "2027"), "The date of the closure day must be a real date"),
        (("30", "13", "2027"), "The date of the closure day must be a real date"),
        (("tomorrow", "1", "2027"), "The date of the closure day must be a real date"),
        (("4", "1", "27"), "Year must include 4 numbers"),
        (("99999999999", "1", "2027"), "The date of the closure day must be a real date"),
        (("²", "1", "2027"), "The date of the closure day must be a real date"),  # a digit to Python, not a day
        (("18", "12", "2026"), "The closure day must be today or in the future"),
        (("26", "12", "2026"), "26 December 2026 is a Saturday, so it is already not a working day"),
        (
            ("1", "1", "2027"),
            "1 January 2027 is a bank holiday (New Year&#39;s Day), so it is already not a working day",
        ),
    ],
)
def test_bad_dates_give_gov_uk_errors_and_keep_what_was_typed(client, db, coordinator, typed, message):
    response = add(client, *typed, "Staff training day")
    assert response.status_code == 200
    html = response.text
    assert "<title>Error: Closure days" in html
    assert "There is a problem" in html
    assert f'<a href="#closure_date">{message}</a>' in html  # the summary links to the first wrong box
    assert 'id="closure_date"' in html
    assert html.count(message) == 2  # in the summary and beside the date
    for value in typed:
        if value:
            assert f'value="{value}"' in html
    assert 'value="Staff training day"' in html
    assert db.scalar(sa.select(sa.func.count(ClosureDay.id))) == 0


def test_a_description_is_needed(client, db, coordinator):
    response = add(client, "30", "12", "2026", "   ")
    assert response.status_code == 200
    assert "Enter a description of the closure day" in response.text
    assert 'value="30"' in response.text


def test_a_tampered_date_does_not_break_the_page(client, db, coordinator):
    response = submit(client, "/closure-days", {"closure_date": ["30"], "description": "Closed"})
    assert response.status_code == 200
    assert "The date of the closure day must include a month and year" in response.text
    response = submit(client, "/closure-days", {"description": "Closed"})
    assert response.status_code == 200
    assert "Enter the date of the closure day" in response.text


def test_upcoming_days_come_first_and_long_lists_are_paginated(client, db, coordinator):
    db.add(ClosureDay(day=date(2026, 11, 30), description="Past closure", created_by_id=coordinator.id))
    first_upcoming = date(2027, 1, 4)
    for offset in range(55):
        db.add(
            ClosureDay(
                day=first_upcoming + timedelta(days=offset),
                description=f"Closure {offset}",
                created_by_id=coordinator.id,
            )
        )
    db.commit()
    first = client.get("/closure-days").text
    assert first.index("Monday 4 January 2027") < first.index("Tuesday 5 January 2027")
    assert "Past closure" not in first
    assert first.count('<th scope="row"') == 50
    assert 'href="/closure-days?page=2"' in first
    second = client.get("/closure-days?page=2").text
    assert second.count('<th scope="row"') == 6
    assert "Past closure" in second
    assert second.index("Closure 54") < second.index("Past closure")


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.AUTHOR, Role.FAMILY])
def test_only_coordinators_manage_closure_days(client, db, role):
    closure = ClosureDay(
        day=date(2026, 12, 30), description="Office closed", created_by_id=make_user(db, role=Role.COORDINATOR).id
    )
    db.add(closure)
    db.commit()
    sign_in(client, make_user(db, role=role))
    assert client.get("/closure-days").status_code == 403
    assert submit(client, f"/closure-days/{closure.id}/delete", {}, page="/account").status_code == 403
    assert clocks.closure_days(db) == frozenset({date(2026, 12, 30)})


@pytest.mark.parametrize(("method", "url"), [("GET", "/closure-days"), ("POST", "/closure-days/1/delete")])
def test_signed_out_visitors_are_sent_to_sign_in(client, method, url):
    response = client.get(url) if method == "GET" else submit(client, url, {}, page="/password-reset")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
