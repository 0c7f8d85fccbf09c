"""The coordinator's review pages: the list, recording an incident, the review page, moving a review on."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.reviews.models import (
    AgencyReturnRequest,
    Membership,
    MembershipKind,
    MonitoringRequest,
    RapidReview,
    Review,
    Stage,
    StageChange,
)
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user


def references_in_order(html: str) -> list[str]:
    return re.findall(r">(LSCP-\d{4}-\d{3})</a></th>", html)


# The list ----------------------------------------------------------------------------------------------


def test_the_list_puts_the_nearest_deadline_first(as_coordinator, db, coordinator):
    today = date.today()
    # Notification is due 5 working days after the local authority became aware: the older one is due first.
    make_review(db, coordinator=coordinator, reference="LSCP-2026-101", aware_on=today - timedelta(days=1))
    make_review(db, coordinator=coordinator, reference="LSCP-2026-102", aware_on=today - timedelta(days=3))
    make_review(db, coordinator=coordinator, reference="LSCP-2026-103", stage=Stage.CLOSED, aware_on=today)

    response = as_coordinator.get("/reviews")

    assert response.status_code == 200
    assert references_in_order(response.text) == ["LSCP-2026-102", "LSCP-2026-101", "LSCP-2026-103"]
    assert "None open" in response.text


def test_the_list_filters_by_stage_with_a_plain_get_form(as_coordinator, db, coordinator):
    make_review(db, coordinator=coordinator, reference="LSCP-2026-111", stage=Stage.CSPR_IN_PROGRESS)
    make_review(db, coordinator=coordinator, reference="LSCP-2026-112", stage=Stage.INCIDENT_RECORDED)

    page = as_coordinator.get("/reviews")
    assert '<form method="get"' in page.text and 'name="stage"' in page.text

    response = as_coordinator.get("/reviews?stage=cspr_in_progress")
    assert references_in_order(response.text) == ["LSCP-2026-111"]
    assert "1 review at CSPR in progress" in text_of(response.text)
    assert '<option value="cspr_in_progress" selected' in response.text

    nonsense = as_coordinator.get("/reviews?stage=nonsense&page=abc")
    assert nonsense.status_code == 200
    assert set(references_in_order(nonsense.text)) == {"LSCP-2026-111", "LSCP-2026-112"}


def test_the_list_shows_25_reviews_a_page(as_coordinator, db, coordinator):
    for number in range(30):
        make_review(db, coordinator=coordinator, reference=f"LSCP-2024-{number + 1:03d}", stage=Stage.CLOSED)

    first = as_coordinator.get("/reviews?stage=closed")
    second = as_coordinator.get("/reviews?stage=closed&page=2")
    beyond = as_coordinator.get("/reviews?stage=closed&page=9")

    assert len(references_in_order(first.text)) == 25
    assert len(references_in_order(second.text)) == 5
    assert not set(references_in_order(first.text)) & set(references_in_order(second.text))
    assert "page 2 of 2" in text_of(second.text)
    assert 'href="/reviews?stage=closed&amp;page=1"' in second.text
    assert references_in_order(beyond.text) == references_in_order(second.text)


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.AUTHOR, Role.FAMILY])
def test_only_coordinators_see_the_list_and_record_incidents(client, db, role):
    sign_in(client, make_user(db, role=role))
    assert client.get("/reviews").status_code == 403
    assert client.get("/reviews/new").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client, db):
    review = make_review(db)
    for url in ("/reviews", "/reviews/new", f"/reviews/{review.id}", f"/reviews/{review.id}/move"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# Recording an incident ---------------------------------------------------------------------------------


def test_recording_an_incident_prefills_the_next_reference_and_opens_the_new_review(as_coordinator, db, coordinator):
    year = date.today().year
    make_review(db, coordinator=coordinator, reference=f"LSCP-{year}-003")

    page = as_coordinator.get("/reviews/new")
    assert f'value="LSCP-{year}-004"' in page.text

    aware = date.today() - timedelta(days=2)
    response = submit(
        as_coordinator,
        "/reviews/new",
        {
            "reference": f"LSCP-{year}-004",
            "anonymised_name": "Child H",
            "aware_on": [str(aware.day), str(aware.month), str(aware.year)],
            "reason": "Infant admitted to hospital with injuries",
        },
    )

    review = db.scalar(sa.select(Review).where(Review.reference == f"LSCP-{year}-004"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reviews/{review.id}")
    assert (review.anonymised_name, review.aware_on, review.stage) == ("Child H", aware, "incident_recorded")
    page = as_coordinator.get(f"/reviews/{review.id}")
    assert "Infant admitted to hospital with injuries" in page.text
    assert f"Incident recorded as LSCP-{year}-004 (Child H)" in page.text


def test_a_wrong_incident_form_keeps_what_was_typed_and_says_what_to_fix(as_coordinator, db, coordinator):
    make_review(db, coordinator=coordinator, reference="LSCP-2026-050")

    response = submit(
        as_coordinator,
        "/reviews/new",
        {"reference": "LSCP-2026-050", "anonymised_name": "Child Q", "aware_on": ["31", "2", ""], "reason": ""},
    )

    assert response.status_code == 200
    words = text_of(response.text)
    assert "There is a problem" in words
    assert "The date the local authority became aware must include a year" in words
    assert "Enter what happened, in a few words" in words
    assert 'value="Child Q"' in response.text and 'value="31"' in response.text
    assert response.text.count("<title>Error: ") == 1

    taken = submit(
        as_coordinator,
        "/reviews/new",
        {"reference": "LSCP-2026-050", "anonymised_name": "Child Q", "aware_on": ["2", "3", "2026"], "reason": "X"},
    )
    assert "Reference LSCP-2026-050 is already used by another review" in text_of(taken.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(Review).where(Review.anonymised_name == "Child Q")) == 0


# The review page ---------------------------------------------------------------------------------------


def test_the_coordinator_sees_every_section_and_the_view_is_audited(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child H")
    make_membership(db, review, make_user(db, role=Role.AUTHOR, name="Dr Ruth Adeyemi"), MembershipKind.AUTHOR)

    response = as_coordinator.get(f"/reviews/{review.id}")

    assert response.status_code == 200
    words = text_of(response.text)
    for heading in ("Child H", "Members", "Decisions", "Monitoring requests to the author", "Timeline"):
        assert heading in words
    assert "Dr Ruth Adeyemi joined as independent author" in words
    assert "Move to the next stage" in words
    viewed = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "review.viewed")).all()
    assert [(row.review_id, row.actor_id) for row in viewed] == [(review.id, coordinator.id)]


def test_a_family_member_sees_the_summary_only(client, db):
    review = make_review(db, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child H")
    family = make_user(db, role=Role.FAMILY)
    make_membership(db, review, family, MembershipKind.FAMILY)
    make_membership(db, review, make_user(db, role=Role.AUTHOR, name="Dr Ruth Adeyemi"), MembershipKind.AUTHOR)
    sign_in(client, family)

    response = client.get(f"/reviews/{review.id}")

    assert response.status_code == 200
    words = text_of(response.text)
    assert "Child H" in words and "CSPR in progress" in words
    for hidden in ("Timeline", "Members", "Dr Ruth Adeyemi", "Set up for a test", "Decisions", "Monitoring"):
        assert hidden not in words
    assert "Move to the next stage" not in words


def test_a_panel_member_sees_the_timeline_and_members_but_not_monitoring_or_changes(client, db):
    review = make_review(db, stage=Stage.CSPR_IN_PROGRESS)
    panel = make_user(db, role=Role.PRACTITIONER, agency=make_agency(db))
    make_membership(db, review, panel, MembershipKind.PANEL_MEMBER)
    sign_in(client, panel)

    words = text_of(client.get(f"/reviews/{review.id}").text)

    assert "Timeline" in words and "Members" in words and "Set up for a test" in words
    assert "Monitoring requests" not in words and "Move to the next stage" not in words
    assert client.get(f"/reviews/{review.id}/move").status_code == 404
    assert client.get(f"/reviews/{review.id}/monitoring").status_code == 404


def test_people_outside_the_review_get_404_everywhere(app, client, db):
    review = make_review(db)
    other = make_review(db)
    outsider = make_user(db, role=Role.PRACTITIONER)
    make_membership(db, other, outsider, MembershipKind.PRACTITIONER)
    former = make_user(db, role=Role.FAMILY)
    ended = make_membership(db, review, former, MembershipKind.FAMILY)
    ended.ended_at, ended.ended_by_id, ended.end_reason = utcnow(), review.created_by_id, "Moved away"
    request = MonitoringRequest(
        review_id=review.id,
        kind="information",
        details="Chronology",
        requested_on=date(2026, 11, 2),
        due_on=date(2026, 11, 9),
        requested_by_id=review.created_by_id,
    )
    db.add(request)
    db.commit()
    former_client = app.test_client()
    sign_in(former_client, former)
    sign_in(client, outsider)

    for browser in (client, former_client):
        for url in (f"/reviews/{review.id}", f"/reviews/{review.id}/move", f"/reviews/{review.id}/monitoring"):
            assert browser.get(url).status_code == 404, url
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/account").text).group(1)
        answered = browser.post(f"/reviews/{review.id}/monitoring/{request.id}/answered", data={"csrf_token": token})
        assert answered.status_code == 404
    assert client.get("/reviews/999999").status_code == 404
    db.refresh(request)
    assert request.answered_on is None


# Moving a review on ------------------------------------------------------------------------------------


def test_the_move_page_offers_only_the_allowed_next_stages_with_descriptions(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.AWAITING_PUBLICATION)

    response = as_coordinator.get(f"/reviews/{review.id}/move")

    assert re.findall(r'name="to_stage"[^>]*value="([a-z_]+)"', response.text) == ["published", "not_published"]
    assert "The partnership decided not to publish" in response.text
    assert "<legend" in response.text and "Which stage is the review moving to?" in response.text


def test_moving_a_review_records_the_reason_and_shows_it_on_the_timeline(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.AWAITING_PUBLICATION)

    response = submit(
        as_coordinator,
        f"/reviews/{review.id}/move",
        {"to_stage": "not_published", "reason": "Publishing would put the sibling at risk"},
    )

    assert response.status_code == 302
    db.refresh(review)
    assert review.stage == Stage.NOT_PUBLISHED
    words = text_of(as_coordinator.get(f"/reviews/{review.id}").text)
    assert "Moved to Not published" in words and "Publishing would put the sibling at risk" in words


def test_a_refused_move_shows_the_rule_and_keeps_the_reason(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.INCIDENT_RECORDED)

    response = submit(
        as_coordinator, f"/reviews/{review.id}/move", {"to_stage": "notified", "reason": "Panel told by phone"}
    )

    assert response.status_code == 200
    words = text_of(response.text)
    assert "There is a problem" in words
    assert "Record the date the local authority notified the National Panel" in words
    assert "Panel told by phone" in response.text
    db.refresh(review)
    assert review.stage == Stage.INCIDENT_RECORDED

    skipped = submit(as_coordinator, f"/reviews/{review.id}/move", {"to_stage": "published", "reason": "Skip"})
    assert "cannot move to published" in text_of(skipped.text)
    missing = submit(as_coordinator, f"/reviews/{review.id}/move", {"reason": ""})
    assert "Select the stage the review is moving to" in text_of(missing.text)
    assert "Enter why the review is moving to the next stage" in text_of(missing.text)


# The number of queries ---------------------------------------------------------------------------------


def fill_review(db, review, *, members: int, extra_entries: int) -> None:
    """Members of every kind, the Rapid Review steps, agency returns and monitoring requests."""
    agency = make_agency(db)
    kinds = [MembershipKind.AUTHOR, MembershipKind.PANEL_MEMBER, MembershipKind.AGENCY_LEAD, MembershipKind.FAMILY]
    roles = {MembershipKind.AUTHOR: Role.AUTHOR, MembershipKind.FAMILY: Role.FAMILY}
    memberships = []
    for number in range(members):
        kind = kinds[number % len(kinds)] if number < len(kinds) else MembershipKind.PRACTITIONER
        person = make_user(db, role=roles.get(kind, Role.PRACTITIONER), agency=agency)
        memberships.append(make_membership(db, review, person, kind, agency=agency))
    db.add(
        RapidReview(
            review_id=review.id,
            rag_notify_recommended_on=date(2026, 11, 3),
            rag_notify_recommended_by="Review Advisory Group",
            notified_on=date(2026, 11, 3),
            notified_by="Director of Children's Services",
        )
    )
    lead = next(m for m in memberships if m.kind == MembershipKind.AGENCY_LEAD)
    db.add(
        AgencyReturnRequest(
            review_id=review.id,
            agency_id=agency.id,
            lead_membership_id=lead.id,
            requested_on=date(2026, 11, 4),
            due_on=date(2026, 11, 16),
            requested_by_id=review.created_by_id,
        )
    )
    for number in range(extra_entries):
        db.add(
            MonitoringRequest(
                review_id=review.id,
                kind="draft" if number % 2 else "information",
                details=f"Request {number}",
                requested_on=date(2026, 11, 5),
                due_on=date(2026, 11, 20),
                answered_on=date(2026, 11, 6) if number % 3 == 0 else None,
                requested_by_id=review.created_by_id,
            )
        )
    db.commit()


def test_the_review_page_makes_the_same_number_of_queries_however_big_the_review(as_coordinator, db, coordinator):
    small = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    fill_review(db, small, members=5, extra_entries=1)
    big = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    fill_review(db, big, members=10, extra_entries=25)
    timeline_entries = db.scalar(sa.select(sa.func.count()).where(StageChange.review_id == big.id))
    as_coordinator.get(f"/reviews/{small.id}")  # first request warms caches (the signed-in person and so on)

    with counting_queries(db) as small_queries:
        small_page = as_coordinator.get(f"/reviews/{small.id}")
    with counting_queries(db) as big_queries:
        big_page = as_coordinator.get(f"/reviews/{big.id}")

    assert small_page.status_code == big_page.status_code == 200
    big_words = text_of(big_page.text)
    shown = big_page.text.count('class="portal-timeline__entry"')
    open_members = db.scalar(
        sa.select(sa.func.count()).where(Membership.review_id == big.id, Membership.ended_at.is_(None))
    )
    assert open_members == 10
    assert shown >= 50 and timeline_entries >= 5, "the big review's timeline has at least 50 entries"
    assert "Request 24" in big_words
    assert len(big_queries) == len(small_queries), "\n".join(big_queries)


@pytest.mark.parametrize(
    ("typed", "message", "highlighted"),
    [
        (
            ["", "", ""],
            "Enter the date the local authority became aware",
            ["aware_on", "aware_on-month", "aware_on-year"],
        ),
        (["", "11", "2026"], "The date the local authority became aware must include a day", ["aware_on"]),
        (
            ["3", "", ""],
            "The date the local authority became aware must include a month and year",
            ["aware_on", "aware_on-year"],
        ),
        (["3", "11", "26"], "Year must include 4 numbers", ["aware_on"]),
        (["3", "13", "2026"], "The date the local authority became aware must be a real date", ["aware_on"]),
        (["3", "Nov", "2026"], "The date the local authority became aware must be a real date", ["aware_on"]),
        (
            ["1", "1", "2099"],
            "The date the local authority became aware must be today or in the past",
            ["aware_on", "aware_on-month", "aware_on-year"],
        ),
    ],
)
def test_the_date_boxes_give_gov_uk_messages_and_highlight_only_what_is_wrong(
    as_coordinator, typed, message, highlighted
):
    response = submit(
        as_coordinator,
        "/reviews/new",
        {"reference": "LSCP-2026-321", "anonymised_name": "Child Z", "aware_on": typed, "reason": "Injury"},
    )

    assert response.status_code == 200
    assert message in text_of(response.text)
    # The error summary links to the id of the first box that is wrong, so following the link focuses it.
    assert 'href="#aware_on"' in response.text
    marked = re.findall(r'class="[^"]*govuk-input--error[^"]*" id="([^"]+)"', response.text)
    assert sorted(marked) == sorted(highlighted)
    for value in typed:
        if value:
            assert f'value="{value}"' in response.text
