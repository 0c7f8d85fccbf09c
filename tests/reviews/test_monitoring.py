"""Regulation 14: written requests to the author for information or a draft, and the timeline that shows them."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.reviews.access import ALL_PARTS, PARTS_BY_MEMBERSHIP, ReviewAccess
from portal.reviews.models import MembershipKind, MonitoringRequest, Stage
from portal.reviews.services import (
    ReviewRuleError,
    mark_monitoring_answered,
    record_monitoring_request,
    timeline,
)
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)


def test_a_request_is_recorded_audited_and_appears_on_the_timeline(db, review, coordinator):
    request = record_monitoring_request(
        db,
        review,
        kind="draft",
        details="  The first full draft, before the panel meets.  ",
        due_on=date(2026, 12, 18),
        actor=coordinator,
        requested_on=date(2026, 12, 1),
    )
    db.commit()

    assert (request.kind, request.details, request.requested_on) == (
        "draft",
        "The first full draft, before the panel meets.",
        date(2026, 12, 1),
    )
    (row,) = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "review.monitoring_requested")).all()
    assert row.review_id == review.id and json.loads(row.details) == {"kind": "draft", "due_on": "2026-12-18"}
    entries = [e for e in timeline(db, review, ReviewAccess(ALL_PARTS)) if "regulation 14" in e.title]
    assert [(e.when, e.title, e.who) for e in entries] == [
        (date(2026, 12, 1), "Written request to the author for a draft (regulation 14)", coordinator.name)
    ]
    assert "Due 18 December 2026" in entries[0].detail


def test_a_request_is_dated_today_unless_told_otherwise(db, review, coordinator):
    request = record_monitoring_request(
        db, review, kind="information", details="Chronology", due_on=date.today() + timedelta(days=7), actor=coordinator
    )
    assert request.requested_on == date.today()


@pytest.mark.parametrize(
    ("kind", "details", "due_on", "message"),
    [
        ("minutes", "Chronology", date(2026, 12, 18), "Select whether you are asking for information or a draft"),
        ("information", "   ", date(2026, 12, 18), "Enter what you are asking the author for"),
        ("information", "Chronology", date(2026, 11, 30), "The due date must be the same as or after"),
    ],
)
def test_a_request_must_be_complete(db, review, coordinator, kind, details, due_on, message):
    with pytest.raises(ReviewRuleError, match=message):
        record_monitoring_request(
            db, review, kind=kind, details=details, due_on=due_on, actor=coordinator, requested_on=date(2026, 12, 1)
        )
    assert db.scalar(sa.select(sa.func.count()).select_from(MonitoringRequest)) == 0


def test_answering_is_recorded_once(db, review, coordinator):
    request = record_monitoring_request(
        db,
        review,
        kind="information",
        details="Chronology",
        due_on=date(2026, 12, 8),
        actor=coordinator,
        requested_on=date(2026, 12, 1),
    )
    mark_monitoring_answered(db, request, coordinator, date(2026, 12, 5))
    with pytest.raises(ReviewRuleError, match="already marked as answered on 5 December 2026"):
        mark_monitoring_answered(db, request, coordinator, date(2026, 12, 6))
    titles = [e.title for e in timeline(db, review, ReviewAccess(ALL_PARTS))]
    assert "Author answered the request for information" in titles
    assert db.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "review.monitoring_answered")) == 1


def test_the_timeline_shows_each_person_only_their_parts(db, review, coordinator):
    agency = make_agency(db)
    make_membership(db, review, make_user(db, role=Role.PRACTITIONER, agency=agency), MembershipKind.PANEL_MEMBER)
    record_monitoring_request(
        db, review, kind="information", details="Chronology", due_on=date.today(), actor=coordinator
    )

    def titles(kind):
        return " | ".join(e.title for e in timeline(db, review, ReviewAccess(PARTS_BY_MEMBERSHIP[kind])))

    assert "regulation 14" in titles(MembershipKind.AUTHOR)
    assert "joined as panel member" in titles(MembershipKind.PANEL_MEMBER)
    assert "regulation 14" not in titles(MembershipKind.PANEL_MEMBER)
    assert titles(MembershipKind.FAMILY) == titles(MembershipKind.PRACTITIONER) == ""


# The pages ---------------------------------------------------------------------------------------------


def test_a_coordinator_records_a_request_and_sees_it_on_the_review_page(client, db, review, coordinator):
    sign_in(client, coordinator)
    due = date.today() + timedelta(days=14)

    response = submit(
        client,
        f"/reviews/{review.id}/monitoring",
        {
            "kind": "information",
            "details": "The chronology of health contacts",
            "due_on": [str(due.day), str(due.month), str(due.year)],
        },
    )

    assert response.status_code == 302
    words = text_of(client.get(f"/reviews/{review.id}").text)
    assert "Written request to the author recorded" in words
    assert "Written request to the author for information (regulation 14)" in words
    assert "The chronology of health contacts" in words
    assert f"{due.day} {due:%B %Y}" in words


def test_a_wrong_request_form_keeps_what_was_typed(client, db, review, coordinator):
    sign_in(client, coordinator)

    response = submit(
        client,
        f"/reviews/{review.id}/monitoring",
        {"details": "The first draft", "due_on": ["1", "1", "2020"]},
    )

    assert response.status_code == 200
    words = text_of(response.text)
    assert "Select whether you are asking for information or a draft" in words
    assert "The due date must be today or in the future" in words
    assert "The first draft" in response.text and 'value="2020"' in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(MonitoringRequest)) == 0


def test_a_coordinator_marks_a_request_answered_from_the_review_page(client, db, review, coordinator):
    request = record_monitoring_request(
        db, review, kind="draft", details="Draft two", due_on=date.today(), actor=coordinator
    )
    db.commit()
    sign_in(client, coordinator)

    page = client.get(f"/reviews/{review.id}")
    action = f"/reviews/{review.id}/monitoring/{request.id}/answered"
    assert f'action="{action}"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(action, data={"csrf_token": token})

    assert response.status_code == 302
    db.refresh(request)
    assert request.answered_on == date.today()
    assert "Author answered the request for a draft" in text_of(client.get(f"/reviews/{review.id}").text)
    assert client.post(action, data={}).status_code == 400, "a post without its CSRF token is refused"


def test_the_author_sees_requests_but_cannot_record_them(client, db, review, coordinator):
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    request = record_monitoring_request(
        db, review, kind="draft", details="Draft two please", due_on=date.today(), actor=coordinator
    )
    db.commit()
    sign_in(client, author)

    page = client.get(f"/reviews/{review.id}")

    assert "Draft two please" in text_of(page.text)
    assert "Mark as answered" not in page.text
    assert client.get(f"/reviews/{review.id}/monitoring").status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(f"/reviews/{review.id}/monitoring/{request.id}/answered", data={"csrf_token": token})
    assert response.status_code == 404


def test_a_request_of_another_review_is_not_found(client, db, review, coordinator):
    other = make_review(db, coordinator=coordinator)
    request = record_monitoring_request(
        db, other, kind="draft", details="Draft", due_on=date.today(), actor=coordinator
    )
    db.commit()
    sign_in(client, coordinator)
    page = client.get(f"/reviews/{review.id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    response = client.post(f"/reviews/{review.id}/monitoring/{request.id}/answered", data={"csrf_token": token})

    assert response.status_code == 404
    db.refresh(request)
    assert request.answered_on is None
