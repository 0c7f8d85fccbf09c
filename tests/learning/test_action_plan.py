"""The action plan: learning points in order, actions with their agency and due date, progress with evidence,
overdue actions across reviews, and learning events linked to learning points."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from portal.learning import services
from portal.learning.models import ActionStatus, ActionUpdate, LearningAction, LearningPoint
from portal.reviews.models import MembershipKind, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_event, make_membership, make_review, make_user
from tests.families.test_uploads import REFUSED, SAMPLES


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)


@pytest.fixture
def health(db):
    return make_agency(db, "Community Health Trust")


def plan_url(review) -> str:
    return f"/reviews/{review.id}/action-plan"


def main_text(html: str) -> str:
    """The words of the page's main content, without the navigation (which has an "Overdue actions" link)."""
    return text_of(html[html.index("<main") :])


def add_point(db, review, coordinator, text: str) -> LearningPoint:
    point = services.add_learning_point(db, review, text, coordinator)
    db.commit()
    return point


def add_action(db, point, coordinator, agency, due_on: date, description: str = "Audit plans") -> LearningAction:
    action = services.add_action(
        db, point, services.ActionDetails(description, agency.id, "Named nurse", due_on), coordinator
    )
    db.commit()
    return action


def point_headings(html: str) -> list[str]:
    """The learning points' words in the order the page shows them."""
    return re.findall(
        r'id="point-\d+-heading">Learning point \d+</h2>\s*<p class="govuk-body portal-plain-text">([^<]*)</p>',
        html,
    )


# Learning points ----------------------------------------------------------------------------------


def test_a_coordinator_adds_learning_points_which_are_numbered_in_order(as_coordinator, review):
    for text in ("Plans drifted.", "The child was not heard."):
        response = submit(as_coordinator, f"{plan_url(review)}/learning-points/new", {"text": text})
        assert response.status_code == 302
    page = as_coordinator.get(plan_url(review))
    assert point_headings(page.text) == ["Plans drifted.", "The child was not heard."]
    assert "2 learning points, 0 actions" in text_of(page.text)


def test_an_empty_learning_point_is_refused_with_the_gov_uk_message(as_coordinator, review):
    response = submit(as_coordinator, f"{plan_url(review)}/learning-points/new", {"text": "   "})
    assert response.status_code == 200
    assert "Enter the learning point" in response.text
    assert "govuk-error-summary" in response.text


def test_moving_a_point_up_and_down_reorders_the_plan(as_coordinator, db, review, coordinator):
    first = add_point(db, review, coordinator, "First")
    add_point(db, review, coordinator, "Second")
    third = add_point(db, review, coordinator, "Third")
    token_page = plan_url(review)
    submit(as_coordinator, f"{plan_url(review)}/learning-points/{third.id}/move", {"direction": "up"}, page=token_page)
    assert point_headings(as_coordinator.get(plan_url(review)).text) == ["First", "Third", "Second"]
    submit(
        as_coordinator, f"{plan_url(review)}/learning-points/{first.id}/move", {"direction": "down"}, page=token_page
    )
    assert point_headings(as_coordinator.get(plan_url(review)).text) == ["Third", "First", "Second"]


def test_the_first_point_cannot_move_up_and_nothing_changes(as_coordinator, db, review, coordinator):
    first = add_point(db, review, coordinator, "First")
    add_point(db, review, coordinator, "Second")
    page = as_coordinator.get(plan_url(review)).text
    assert page.count("Move up") == 1 and page.count("Move down") == 1
    submit(
        as_coordinator,
        f"{plan_url(review)}/learning-points/{first.id}/move",
        {"direction": "up"},
        page=plan_url(review),
    )
    assert point_headings(as_coordinator.get(plan_url(review)).text) == ["First", "Second"]


def test_the_author_changes_a_learning_points_words(client, db, review, coordinator):
    point = add_point(db, review, coordinator, "Old words")
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    sign_in(client, author)
    edit = f"{plan_url(review)}/learning-points/{point.id}/edit"
    assert "Old words" in client.get(edit).text
    assert submit(client, edit, {"text": "New words"}).status_code == 302
    assert point_headings(client.get(plan_url(review)).text) == ["New words"]


# Actions -----------------------------------------------------------------------------------------------


def test_an_action_shows_its_agency_lead_due_date_and_status(as_coordinator, db, review, coordinator, health):
    point = add_point(db, review, coordinator, "Plans drifted.")
    response = submit(
        as_coordinator,
        f"{plan_url(review)}/learning-points/{point.id}/actions/new",
        {
            "description": "Audit plans",
            "agency": str(health.id),
            "lead_name": "Named nurse",
            "due_on": ["3", "5", "2030"],
        },
    )
    assert response.status_code == 302
    row = main_text(as_coordinator.get(plan_url(review)).text)
    assert "Audit plans Community Health Trust Named nurse 3 May 2030 Not started" in row
    assert "Overdue" not in row


def test_an_action_form_with_mistakes_keeps_what_was_typed(as_coordinator, db, review, coordinator, health):
    point = add_point(db, review, coordinator, "Plans drifted.")
    response = submit(
        as_coordinator,
        f"{plan_url(review)}/learning-points/{point.id}/actions/new",
        {"description": "Audit plans", "agency": "", "lead_name": "", "due_on": ["31", "2", "2030"]},
    )
    assert response.status_code == 200
    for message in ("Select the agency that owns the action", "Enter the lead", "The due date must be a real date"):
        assert message in response.text
    assert "Audit plans" in response.text
    assert 'value="31"' in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(LearningAction)) == 0


def test_an_action_past_its_due_date_is_tagged_overdue_and_counted(as_coordinator, db, review, coordinator, health):
    point = add_point(db, review, coordinator, "Plans drifted.")
    add_action(db, point, coordinator, health, date.today() - timedelta(days=2), "Late action")
    done = add_action(db, point, coordinator, health, date.today() - timedelta(days=5), "Done action")
    services.report_progress(db, done, text="Finished", status=ActionStatus.COMPLETE, by=coordinator)
    add_action(db, point, coordinator, health, date.today() + timedelta(days=30), "Future action")
    db.commit()
    page = main_text(as_coordinator.get(plan_url(review)).text)
    assert "3 actions: 1 complete, 1 overdue" in page
    assert page.count("Overdue") == 1
    assert re.search(r"Late action .* Not started Overdue", page)


# Overdue: the rule, and the list across reviews ---------------------------------------------------------


@given(
    due=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    on=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    status=st.sampled_from(list(ActionStatus)),
)
def test_an_action_is_overdue_exactly_when_it_is_open_and_its_due_date_has_passed(due, on, status):
    action = LearningAction(due_on=due, status=status.value)
    assert services.is_overdue(action, on) == (status != ActionStatus.COMPLETE and due < on)


def test_an_action_due_today_is_not_yet_overdue():
    assert not services.is_overdue(LearningAction(due_on=date(2027, 3, 1), status="not_started"), date(2027, 3, 1))
    assert services.is_overdue(LearningAction(due_on=date(2027, 3, 1), status="in_progress"), date(2027, 3, 2))


def test_the_overdue_page_lists_open_late_actions_from_every_review(as_coordinator, db, review, coordinator, health):
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    late_here = add_action(
        db, add_point(db, review, coordinator, "A"), coordinator, health, date.today() - timedelta(days=1), "Late here"
    )
    other_point = add_point(db, other, coordinator, "B")
    add_action(db, other_point, coordinator, health, date.today() - timedelta(days=9), "Late there")
    finished = add_action(db, other_point, coordinator, health, date.today() - timedelta(days=9), "Finished late")
    services.report_progress(db, finished, text="Done", status=ActionStatus.COMPLETE, by=coordinator)
    add_action(db, other_point, coordinator, health, date.today() + timedelta(days=1), "Not due yet")
    db.commit()
    page = text_of(as_coordinator.get("/action-plans/overdue").text)
    assert "Overdue (2)" in page
    assert page.index("Late there") < page.index("Late here")  # overdue longest first
    assert "Finished late" not in page and "Not due yet" not in page
    assert f"{review.reference} Late here" in page
    assert late_here.status == "not_started"


def test_the_overdue_page_asks_the_same_number_of_queries_however_many_actions(as_coordinator, db, review, coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get("/action-plans/overdue").status_code == 200
        return len(statements)

    late = date.today() - timedelta(days=3)
    add_action(db, add_point(db, review, coordinator, "A"), coordinator, make_agency(db), late)
    queries()
    few = queries()
    for number in range(12):
        other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
        add_action(db, add_point(db, other, coordinator, f"P{number}"), coordinator, make_agency(db), late)
    assert queries() == few


def test_the_overdue_page_is_paginated(as_coordinator, db, review, coordinator, health):
    point = add_point(db, review, coordinator, "A")
    for number in range(services.OVERDUE_PER_PAGE + 1):
        add_action(db, point, coordinator, health, date.today() - timedelta(days=100 - number), f"Late {number:02d}")
    first = text_of(as_coordinator.get("/action-plans/overdue").text)
    assert f"Overdue ({services.OVERDUE_PER_PAGE + 1})" in first
    assert f"Late {services.OVERDUE_PER_PAGE:02d}" not in first
    second = text_of(as_coordinator.get("/action-plans/overdue?page=2").text)
    assert f"Late {services.OVERDUE_PER_PAGE:02d}" in second
    assert "Late 00" not in second


def test_the_action_plan_asks_the_same_number_of_queries_however_big_it_is(as_coordinator, db, review, coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(plan_url(review)).status_code == 200
        return len(statements)

    point = add_point(db, review, coordinator, "A")
    add_action(db, point, coordinator, make_agency(db), date.today())
    services.link_event(db, point, make_event(db, coordinator=coordinator), coordinator)
    db.commit()
    queries()
    few = queries()
    for number in range(6):
        more = add_point(db, review, coordinator, f"Point {number}")
        add_action(db, more, coordinator, make_agency(db), date.today())
        add_action(db, more, coordinator, make_agency(db), date.today())
        services.link_event(db, more, make_event(db, coordinator=coordinator), coordinator)
    db.commit()
    assert queries() == few


# Progress updates with evidence --------------------------------------------------------------------------


@pytest.fixture
def lead_and_action(client, db, review, coordinator, health):
    """An agency lead of the Community Health Trust, signed in, and an action their agency owns."""
    lead = make_user(db, agency=health)
    make_membership(db, review, lead, MembershipKind.AGENCY_LEAD)
    action = add_action(
        db, add_point(db, review, coordinator, "Plans drifted."), coordinator, health, date.today() + timedelta(days=10)
    )
    sign_in(client, lead)
    return lead, action


def action_url(review, action) -> str:
    return f"/reviews/{review.id}/action-plan/actions/{action.id}"


def test_an_agency_lead_reports_progress_with_evidence_and_sees_history_newest_first(
    client, db, review, lead_and_action
):
    _lead, action = lead_and_action
    url = action_url(review, action)
    first = submit(client, url, {"text": "Audit booked", "status": "in_progress"})
    assert first.status_code == 302
    second = submit(
        client,
        url,
        {"text": "Audit finished", "status": "complete", "evidence": (io.BytesIO(SAMPLES["pdf"]), "report.pdf")},
        content_type="multipart/form-data",
    )
    assert second.status_code == 302
    page = text_of(client.get(url).text)
    assert f"Complete: completed on {services.today().day}" in page
    assert page.index("Audit finished") < page.index("Audit booked")
    assert "Evidence: report.pdf (PDF document)" in page
    db.refresh(action)
    assert action.completed_on == services.today()


def test_evidence_downloads_as_an_attachment_and_the_download_is_audited(app, client, db, review, lead_and_action):
    lead, action = lead_and_action
    with app.app_context():
        evidence = ("C:\\work\\audit.pdf", SAMPLES["pdf"])
        services.report_progress(db, action, text="Done", status=ActionStatus.COMPLETE, by=lead, evidence=evidence)
    db.commit()
    update = db.scalar(sa.select(ActionUpdate))
    response = client.get(f"{action_url(review, action)}/updates/{update.id}/evidence")
    assert response.status_code == 200
    assert response.data == SAMPLES["pdf"]
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "audit.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    downloads = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "learning_action.evidence_downloaded")
    ).all()
    assert [event.actor_id for event in downloads] == [lead.id]


@pytest.mark.parametrize("what", list(REFUSED))
def test_evidence_is_judged_by_its_content_not_its_name(client, db, review, lead_and_action, what, app):
    _lead, action = lead_and_action
    response = submit(
        client,
        action_url(review, action),
        {"text": "Here is proof", "status": "complete", "evidence": (io.BytesIO(REFUSED[what]), "proof.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "The file must be" in response.text or "The file is empty" in response.text
    assert "Here is proof" in response.text  # what they typed is kept
    db.refresh(action)
    assert action.status == "not_started" and action.completed_on is None
    assert db.scalar(sa.select(sa.func.count()).select_from(ActionUpdate)) == 0
    folder = Path(app.config["UPLOAD_DIR"])
    assert not folder.exists() or not any(folder.iterdir())


def test_reopening_a_completed_action_clears_its_completion_date(db, review, coordinator, health):
    action = add_action(
        db, add_point(db, review, coordinator, "A"), coordinator, health, date.today() - timedelta(days=1)
    )
    services.report_progress(db, action, text="Done", status=ActionStatus.COMPLETE, by=coordinator)
    assert action.completed_on == services.today()
    services.report_progress(db, action, text="Not really", status=ActionStatus.IN_PROGRESS, by=coordinator)
    assert action.completed_on is None
    assert services.is_overdue(action)


# Linked learning events ---------------------------------------------------------------------------------


def test_a_linked_event_shows_under_its_point_and_the_point_shows_on_the_event_page(
    client, as_coordinator, db, review, coordinator
):
    point = add_point(db, review, coordinator, "Escalate when a plan drifts.")
    event = make_event(db, coordinator=coordinator, title="Escalation workshop")
    make_event(db, coordinator=coordinator, title="Draft event", publish=False)
    form = as_coordinator.get(f"{plan_url(review)}/learning-points/{point.id}/events").text
    assert "Escalation workshop" in form and "Draft event" not in form
    response = submit(as_coordinator, f"{plan_url(review)}/learning-points/{point.id}/events", {"event": str(event.id)})
    assert response.status_code == 302
    plan = text_of(as_coordinator.get(plan_url(review)).text)
    assert "Learning events Escalation workshop" in plan

    practitioner = make_user(db)
    visitor = client.application.test_client()  # a practitioner's own browser
    sign_in(visitor, practitioner)
    event_page = text_of(visitor.get(f"/events/{event.id}").text)
    assert "Learning this event teaches" in event_page
    assert f"From the review about {review.anonymised_name}: Escalate when a plan drifts." in event_page


def test_an_unlinked_event_no_longer_shows_its_learning(as_coordinator, db, review, coordinator):
    point = add_point(db, review, coordinator, "Escalate when a plan drifts.")
    event = make_event(db, coordinator=coordinator, title="Escalation workshop")
    services.link_event(db, point, event, coordinator)
    db.commit()
    response = submit(
        as_coordinator,
        f"{plan_url(review)}/learning-points/{point.id}/events/{event.id}/unlink",
        {},
        page=plan_url(review),
    )
    assert response.status_code == 302
    assert "Escalation workshop" not in as_coordinator.get(plan_url(review)).text
    assert "Learning this event teaches" not in as_coordinator.get(f"/events/{event.id}").text


def test_an_event_for_members_of_another_review_cannot_be_linked(as_coordinator, db, review, coordinator):
    point = add_point(db, review, coordinator, "A")
    other = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    hidden = make_event(
        db, coordinator=coordinator, title="Members only", audience="review_members", review_id=other.id
    )
    url = f"{plan_url(review)}/learning-points/{point.id}/events"
    assert "Members only" not in as_coordinator.get(url).text
    response = submit(as_coordinator, url, {"event": str(hidden.id)})
    assert response.status_code == 200
    assert "Not a valid choice" in response.text
