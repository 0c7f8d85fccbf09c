"""Each review's clocks (TIMINGS.md), and the coordinators' picture of every open review's clocks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.reviews import clocks
from portal.reviews.clocks import (
    Basis,
    Status,
    add_calendar_months,
    clocks_for,
    due_date_for_agency_return,
    final_report_latest_on,
)
from portal.reviews.models import (
    AgencyReturnRequest,
    ClosureDay,
    MembershipKind,
    RapidReview,
    Review,
    Stage,
    StageChange,
)
from portal.security.models import Agency, Role
from tests.conftest import sign_in
from tests.factories import make_agency, make_membership, make_review, make_user

DEFAULTS = clocks.CLOCK_DEFAULTS
NO_CLOSURES = frozenset()


def review_aware_on(aware_on: date, stage: Stage = Stage.INCIDENT_RECORDED) -> Review:
    return Review(reference="LSCP-2026-001", anonymised_name="Child H", aware_on=aware_on, stage=stage.value)


def by_key(found, key):
    matching = [clock for clock in found if clock.key == key]
    assert len(matching) == 1, [clock.key for clock in found]
    return matching[0]


# The notification to the Panel ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status", "left"),
    [
        # Aware Friday 18 December 2026: 5 working days is Tuesday 29 December (Christmas Day, Boxing Day
        # and its substitute Monday 28th are skipped).
        (date(2026, 12, 21), Status.ON_TRACK, 4),  # 22, 23, 24 and 29 December still to come
        (date(2026, 12, 22), Status.DUE_SOON, 3),
        (date(2026, 12, 25), Status.DUE_SOON, 1),
        (date(2026, 12, 29), Status.DUE_SOON, 0),
        (date(2026, 12, 30), Status.OVERDUE, -1),
    ],
)
def test_the_notification_clock_over_christmas(today, status, left):
    clock = by_key(clocks_for(review_aware_on(date(2026, 12, 18)), None, [], NO_CLOSURES, DEFAULTS, today), "notify")
    assert clock.name == "Notification to the National Panel"
    assert clock.started_on == date(2026, 12, 18)
    assert clock.due_on == date(2026, 12, 29)
    assert clock.status == status
    assert clock.working_days_left == left


def test_the_notification_clock_names_its_rule():
    clock = by_key(
        clocks_for(review_aware_on(date(2026, 12, 18)), None, [], NO_CLOSURES, DEFAULTS, date.today()), "notify"
    )
    assert clock.basis == Basis.STATUTORY
    assert clock.rule.startswith("5 working days from the day the local authority became aware of the incident")
    assert "Statutory" in clock.rule and "Working Together to Safeguard Children 2023" in clock.rule


def test_the_notification_clock_is_met_once_the_panel_is_notified_even_late():
    rapid = RapidReview(notified_on=date(2026, 12, 30), notified_by="Head of service")
    found = clocks_for(review_aware_on(date(2026, 12, 18)), rapid, [], NO_CLOSURES, DEFAULTS, date(2027, 2, 1))
    clock = by_key(found, "notify")
    assert clock.status == Status.MET
    assert clock.done_on == date(2026, 12, 30)
    assert clock.met_late


def test_the_setting_changes_the_length_and_the_rule():
    config = {**DEFAULTS, "CLOCK_NOTIFY_WORKING_DAYS": 1}
    clock = by_key(
        clocks_for(review_aware_on(date(2026, 12, 24)), None, [], NO_CLOSURES, config, date(2026, 12, 24)), "notify"
    )
    assert clock.due_on == date(2026, 12, 29)
    assert clock.rule.startswith("1 working day from")


def test_closure_days_move_the_due_date():
    closures = frozenset({date(2026, 12, 29), date(2026, 12, 30)})
    clock = by_key(
        clocks_for(review_aware_on(date(2026, 12, 18)), None, [], closures, DEFAULTS, date(2026, 12, 18)), "notify"
    )
    # 21, 22, 23, 24 December, then 31 December: the 29th and 30th are closure days.
    assert clock.due_on == date(2026, 12, 31)


# The Rapid Review outcome --------------------------------------------------------------------------


def test_the_rapid_review_clock_starts_at_the_notification():
    review = review_aware_on(date(2026, 12, 16), Stage.NOTIFIED)
    assert [c.key for c in clocks_for(review, RapidReview(), [], NO_CLOSURES, DEFAULTS, date(2026, 12, 16))] == [
        "notify"
    ]
    rapid = RapidReview(notified_on=date(2026, 12, 18), notified_by="Head of service")
    clock = by_key(clocks_for(review, rapid, [], NO_CLOSURES, DEFAULTS, date(2027, 1, 11)), "rapid_review")
    # Worked out by hand in test_working_days.py: 15 working days after Friday 18 December 2026.
    assert clock.due_on == date(2027, 1, 13)
    assert clock.status == Status.DUE_SOON
    assert clock.working_days_left == 2
    assert clock.rule.startswith("15 working days from the day the notification was sent to the Panel")
    assert clock.basis == Basis.STATUTORY


def test_the_rapid_review_clock_is_met_when_the_outcome_is_sent():
    rapid = RapidReview(
        notified_on=date(2026, 4, 2),
        notified_by="Head of service",
        decided_on=date(2026, 4, 20),
        decision_commission_cspr=False,
        outcome_sent_on=date(2026, 4, 21),
    )
    clock = by_key(
        clocks_for(review_aware_on(date(2026, 3, 30)), rapid, [], NO_CLOSURES, DEFAULTS, date(2026, 6, 1)),
        "rapid_review",
    )
    assert clock.due_on == date(2026, 4, 27)
    assert clock.status == Status.MET
    assert not clock.met_late


# Agency returns ------------------------------------------------------------------------------------


def test_agency_returns_use_the_due_date_given_to_the_agency():
    police, health = Agency(name="Police"), Agency(name="Health")
    requests = [
        AgencyReturnRequest(agency=police, requested_on=date(2026, 4, 7), due_on=date(2026, 4, 17)),
        AgencyReturnRequest(
            agency=health, requested_on=date(2026, 4, 7), due_on=date(2026, 4, 17), received_on=date(2026, 4, 15)
        ),
    ]
    rapid = RapidReview(notified_on=date(2026, 4, 2), notified_by="Head of service")
    found = clocks_for(review_aware_on(date(2026, 3, 30)), rapid, requests, NO_CLOSURES, DEFAULTS, date(2026, 4, 20))
    returns = {clock.name: clock for clock in found if clock.key == "agency_return"}
    assert returns["Information return from Police"].status == Status.OVERDUE
    assert returns["Information return from Health"].status == Status.MET
    police_clock = returns["Information return from Police"]
    assert police_clock.basis == Basis.LOCAL_PRACTICE
    assert police_clock.rule.startswith("8 working days from the day the agency was asked")
    assert "Local practice" in police_clock.rule and "not statute" in police_clock.rule


def test_the_agency_return_due_date_helper():
    # Thursday 2 April 2026, then Good Friday and Easter Monday: 1 Tue 7 ... 4 Fri 10, 5 Mon 13 ... 8 Thu 16.
    assert due_date_for_agency_return(date(2026, 4, 2), NO_CLOSURES, DEFAULTS) == date(2026, 4, 16)
    assert due_date_for_agency_return(date(2026, 4, 2), {date(2026, 4, 16)}, DEFAULTS) == date(2026, 4, 17)
    assert due_date_for_agency_return(date(2026, 4, 2), NO_CLOSURES, {"CLOCK_AGENCY_RETURN_WORKING_DAYS": 10}) == date(
        2026, 4, 20
    )


# The CSPR ------------------------------------------------------------------------------------------


def decided(on: date, commission: bool = True) -> RapidReview:
    return RapidReview(
        notified_on=date(2026, 8, 3),
        notified_by="Head of service",
        cspr_recommended_on=on,
        cspr_recommended=commission,
        cspr_recommendation_reasons="Learning for several agencies",
        decided_on=on,
        decided_by="LSCP Executive",
        decision_commission_cspr=commission,
        decision_reason="Agreed",
        outcome_sent_on=on,
    )


def test_the_cspr_clock_is_six_calendar_months_and_expected_not_statutory():
    review = review_aware_on(date(2026, 7, 31), Stage.CSPR_IN_PROGRESS)
    clock = by_key(clocks_for(review, decided(date(2026, 8, 31)), [], NO_CLOSURES, DEFAULTS, date(2027, 2, 24)), "cspr")
    assert clock.due_on == date(2027, 2, 28)  # 31 August + 6 months: the end of February
    assert clock.working_days_left is None and clock.is_calendar
    assert clock.status == Status.DUE_SOON  # 25, 26 February, then the weekend: 2 working days
    assert clock.basis == Basis.EXPECTED
    assert clock.rule.startswith("6 calendar months from the Executive's decision to commission the review")
    assert "Expected, not statutory" in clock.rule


def test_the_cspr_clock_is_met_once_the_review_is_published_or_not_published():
    for stage in (Stage.PUBLISHED, Stage.NOT_PUBLISHED, Stage.ACTION_PLAN):
        review = review_aware_on(date(2026, 7, 31), stage)
        found = clocks_for(
            review,
            decided(date(2026, 8, 31)),
            [],
            NO_CLOSURES,
            DEFAULTS,
            date(2027, 6, 1),
            published_on=date(2027, 3, 2),
        )
        clock = by_key(found, "cspr")
        assert clock.status == Status.MET
        assert clock.done_on == date(2027, 3, 2) and clock.met_late
    review = review_aware_on(date(2026, 7, 31), Stage.AWAITING_PUBLICATION)
    clock = by_key(clocks_for(review, decided(date(2026, 8, 31)), [], NO_CLOSURES, DEFAULTS, date(2027, 6, 1)), "cspr")
    assert clock.status == Status.OVERDUE


def test_no_cspr_clock_without_a_decision_to_commission_one():
    review = review_aware_on(date(2026, 7, 31), Stage.CLOSED)
    found = clocks_for(
        review, decided(date(2026, 8, 31), commission=False), [], NO_CLOSURES, DEFAULTS, date(2027, 1, 1)
    )
    assert "cspr" not in [clock.key for clock in found]


def test_clocks_come_soonest_due_first():
    rapid = decided(date(2026, 8, 31))
    request = AgencyReturnRequest(agency=Agency(name="Police"), requested_on=date(2026, 8, 4), due_on=date(2026, 8, 14))
    found = clocks_for(review_aware_on(date(2026, 7, 31)), rapid, [request], NO_CLOSURES, DEFAULTS, date(2026, 9, 1))
    assert [clock.due_on for clock in found] == sorted(clock.due_on for clock in found)
    assert [clock.key for clock in found] == ["notify", "agency_return", "rapid_review", "cspr"]


def test_calendar_months_end_on_the_last_day_of_a_short_month():
    assert add_calendar_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_calendar_months(date(2026, 11, 15), 6) == date(2027, 5, 15)
    assert add_calendar_months(date(2026, 12, 31), 1) == date(2027, 1, 31)


def test_the_final_report_goes_at_least_seven_working_days_before_publication():
    # Publication Wednesday 13 January 2027: 5, 6, 7, 8, 11, 12 and 13 January are the 7 working days
    # after Monday 4 January, the last day it can go.
    assert final_report_latest_on(date(2027, 1, 13), NO_CLOSURES, DEFAULTS) == date(2027, 1, 4)
    # Over Christmas: publication Tuesday 5 January 2027. After Wednesday 23 December come only 24, 29,
    # 30, 31 December, 4 and 5 January (6), so it is Tuesday 22 December 2026 (23 December makes 7).
    assert final_report_latest_on(date(2027, 1, 5), NO_CLOSURES, DEFAULTS) == date(2026, 12, 22)


# From the database ---------------------------------------------------------------------------------


def ask_agency(db, review, coordinator, *, requested_on, due_on, received_on=None, agency=None):
    agency = agency or make_agency(db)
    lead = make_user(db, agency=agency)
    membership = make_membership(db, review, lead, MembershipKind.AGENCY_LEAD)
    request = AgencyReturnRequest(
        review_id=review.id,
        agency_id=agency.id,
        lead_membership_id=membership.id,
        requested_on=requested_on,
        due_on=due_on,
        received_on=received_on,
        requested_by_id=coordinator.id,
    )
    db.add(request)
    db.commit()
    return request


def notify(db, review, on: date):
    db.add(RapidReview(review_id=review.id, notified_on=on, notified_by="Head of children's services"))
    db.commit()


def test_closure_days_load_from_the_database(db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    db.add(ClosureDay(day=date(2026, 12, 29), description="Office closed", created_by_id=coordinator.id))
    db.commit()
    assert clocks.closure_days(db) == frozenset({date(2026, 12, 29)})


def test_a_reviews_clocks_load_with_its_records(db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW, aware_on=date(2026, 12, 16))
    notify(db, review, date(2026, 12, 18))
    ask_agency(
        db,
        review,
        coordinator,
        requested_on=date(2026, 12, 21),
        due_on=date(2027, 1, 4),
        agency=make_agency(db, "Police"),
    )
    db.add(ClosureDay(day=date(2027, 1, 13), description="Office closed", created_by_id=coordinator.id))
    db.commit()
    found = clocks.load_clocks(db, review, DEFAULTS, date(2026, 12, 21))
    assert [clock.key for clock in found] == ["notify", "agency_return", "rapid_review"]
    assert by_key(found, "notify").status == Status.MET
    assert by_key(found, "agency_return").name == "Information return from Police"
    assert by_key(found, "rapid_review").due_on == date(2027, 1, 14)  # the 13th is a closure day


def test_the_date_of_publication_fills_in_when_the_cspr_clock_was_met(db):
    review = make_review(db, stage=Stage.PUBLISHED, aware_on=date(2026, 1, 5))
    rapid = decided(date(2026, 2, 2))
    rapid.review_id = review.id
    db.add(rapid)
    db.commit()
    published = db.scalar(
        sa.select(StageChange).where(StageChange.review_id == review.id, StageChange.to_stage == "published")
    )
    clock = by_key(clocks.load_clocks(db, review, DEFAULTS, date(2026, 12, 1)), "cspr")
    assert clock.status == Status.MET
    assert clock.done_on == published.changed_at.astimezone(clocks.LONDON).date()


# The overview page ---------------------------------------------------------------------------------

TODAY = date(2026, 12, 21)


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(clocks, "london_today", lambda: TODAY)
    return TODAY


def test_the_overview_shows_every_open_reviews_clocks_nearest_first(client, db, coordinator, fixed_today):
    later = make_review(
        db, coordinator=coordinator, reference="LSCP-2026-010", anonymised_name="Child L", aware_on=date(2026, 12, 16)
    )
    sooner = make_review(
        db,
        coordinator=coordinator,
        stage=Stage.RAPID_REVIEW,
        reference="LSCP-2026-009",
        anonymised_name="Child K",
        aware_on=date(2026, 12, 1),
    )
    notify(db, sooner, date(2026, 12, 4))
    ask_agency(
        db,
        sooner,
        coordinator,
        requested_on=date(2026, 12, 7),
        due_on=date(2026, 12, 17),
        agency=make_agency(db, "Health"),
    )
    make_review(db, coordinator=coordinator, stage=Stage.CLOSED, reference="LSCP-2026-008", anonymised_name="Child J")
    sign_in(client, coordinator)

    page = client.get("/reviews/clocks")
    assert page.status_code == 200
    html = page.text
    assert "LSCP-2026-008" not in html  # closed reviews have no clocks running
    table = html[html.index("<table") :]
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="[^"]+">([^<]+)</a>', table
    )
    # Child K: Health's return was due Thursday 17 December (overdue), the Rapid Review outcome is due
    # Tuesday 29 December (on track), the notification was met. Child L: the notification is due
    # Wednesday 23 December, 5 working days after the 16th (due soon).
    assert rows[0] == "LSCP-2026-009"
    assert f'href="/reviews/{sooner.id}">LSCP-2026-009</a>' in table
    assert "Information return from Health" in table
    assert "Overdue" in table and "Due soon" in table and "On track" in table and "Met" in table
    assert table.index("Information return from Health") < table.index("Child L")
    assert table.index("Child L") < table.index("Rapid Review outcome sent to the Panel")
    assert "23 December 2026" in table and "29 December 2026" in table
    assert html.index("LSCP-2026-009 Child K") < html.index("LSCP-2026-010 Child L")  # timeline rows
    assert later.reference in html


def test_the_timeline_is_an_accessible_inline_picture_with_the_same_data_as_a_table(
    client, db, coordinator, fixed_today
):
    make_review(db, coordinator=coordinator, aware_on=date(2026, 12, 18))
    sign_in(client, coordinator)
    html = client.get("/reviews/clocks").text
    svg = html[
        html.index('<svg class="portal-timeline"') : html.index("</svg>", html.index('<svg class="portal-timeline"'))
        + 6
    ]
    assert 'role="img"' in svg and 'aria-labelledby="timeline-title timeline-desc"' in svg
    assert '<title id="timeline-title">' in svg and '<desc id="timeline-desc">' in svg
    assert "today, 21 December 2026" in svg
    assert "portal-timeline__today" in svg
    assert "<script" not in svg and "style=" not in svg
    assert "style=" not in html[html.index("<main") :]
    assert "<img" not in html[html.index("<main") :]
    # Meaning is never colour alone: a shape per status, named in the key and in the table.
    assert "Circle: on track" in html
    assert "portal-timeline__marker--due-soon" in svg or "portal-timeline__marker--on-track" in svg
    table = html[html.index("<table") : html.index("</table>")]
    assert "<caption" in table
    for header in ("Review", "Anonymised name", "Clock and the rule behind it", "Due", "Working days left", "Status"):
        assert f'<th scope="col" class="govuk-table__header">{header}</th>' in table
    assert "5 working days from the day the local authority became aware" in table


def test_the_overview_runs_a_fixed_number_of_queries(client, db, coordinator, fixed_today, app):
    def make_open_reviews(count):
        for _ in range(count):
            review = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW, aware_on=date(2026, 12, 1))
            notify(db, review, date(2026, 12, 4))
            ask_agency(db, review, coordinator, requested_on=date(2026, 12, 7), due_on=date(2026, 12, 17))

    def count_queries():
        statements = []

        def counted(conn, cursor, statement, parameters, context, executemany):
            # The sign-in session's own bookkeeping (a write now and then) has nothing to do with the page.
            if "user_sessions" not in statement:
                statements.append(statement)

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counted)
        try:
            response = client.get("/reviews/clocks")
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", counted)
        assert response.status_code == 200
        table = response.text[response.text.index("<table") :]
        return len(statements), table.count("Information return from")

    sign_in(client, coordinator)
    make_open_reviews(2)
    with_two, returns_shown = count_queries()
    assert returns_shown == 2 and with_two > 0
    make_open_reviews(18)
    with_twenty, returns_shown = count_queries()
    assert returns_shown == 20
    assert with_twenty == with_two


def test_the_overview_is_paginated_beyond_fifty_reviews(client, db, coordinator, fixed_today):
    for number in range(51):
        make_review(db, coordinator=coordinator, reference=f"LSCP-2025-{number:03d}", aware_on=date(2026, 11, 2))
    sign_in(client, coordinator)
    first = client.get("/reviews/clocks").text
    assert "51 open reviews, shown 50 at a time" in first
    assert first.count('<th scope="row"') == 50
    assert 'href="/reviews/clocks?page=2"' in first
    second = client.get("/reviews/clocks?page=2").text
    assert second.count('<th scope="row"') == 1
    # A page beyond the last shows the last.
    assert client.get("/reviews/clocks?page=9").text.count('<th scope="row"') == 1


def test_with_no_open_reviews_the_page_says_so(client, db, coordinator, fixed_today):
    sign_in(client, coordinator)
    assert "There are no open reviews." in client.get("/reviews/clocks").text


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.AUTHOR, Role.FAMILY])
def test_only_coordinators_see_the_overview(client, db, role):
    sign_in(client, make_user(db, role=role))
    assert client.get("/reviews/clocks").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/reviews/clocks")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]


def test_the_clocks_partial_shows_the_rule_and_the_status_in_words(app, fixed_today):
    found = clocks_for(review_aware_on(date(2026, 12, 18)), None, [], NO_CLOSURES, DEFAULTS, date(2026, 12, 30))
    with app.test_request_context():
        html = app.jinja_env.get_template("reviews/_clocks.html").render(clocks=found)
    assert "<caption" in html and 'scope="row"' in html
    assert "Notification to the National Panel" in html
    assert "29 December 2026" in html
    assert "Overdue" in html and "1 working day late" in html
    assert "Statutory: Working Together to Safeguard Children 2023" in html


@pytest.mark.parametrize(
    ("utc_now", "london_date"),
    [
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # British Summer Time: already 1 July
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),  # Greenwich Mean Time
    ],
)
def test_today_is_the_date_in_england(monkeypatch, utc_now, london_date):
    class FixedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return utc_now.astimezone(tz)

    monkeypatch.setattr(clocks, "datetime", FixedClock)
    assert clocks.london_today() == london_date
