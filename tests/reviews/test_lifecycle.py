"""The review lifecycle: recording an incident, allowed and refused moves, reasons, the audit trail."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.reviews import services
from portal.reviews.models import TRANSITIONS, RapidReview, Review, Stage, StageChange
from portal.reviews.services import ReviewRuleError, move_review, record_incident
from portal.security.audit import AuditEvent
from tests.factories import make_review


def audit_rows(db, action, review_id=None):
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if review_id is not None:
        query = query.where(AuditEvent.review_id == review_id)
    return list(db.scalars(query))


def history(db, review) -> list[tuple[str | None, str]]:
    rows = db.execute(
        sa.select(StageChange.from_stage, StageChange.to_stage)
        .where(StageChange.review_id == review.id)
        .order_by(StageChange.id)
    )
    return [tuple(row) for row in rows]


def satisfy_preconditions(db, review: Review, to_stage: Stage, *, commission: bool | None = None) -> None:
    """Record the Rapid Review steps a move depends on, as the Rapid Review pages would."""
    record = db.scalar(sa.select(RapidReview).where(RapidReview.review_id == review.id))
    if record is None:
        record = RapidReview(review_id=review.id)
        db.add(record)
    if to_stage in (Stage.NOTIFIED, Stage.RAPID_REVIEW) and record.notified_on is None:
        record.notified_on, record.notified_by = date(2026, 11, 3), "Director of Children's Services"
    if review.stage == Stage.RAPID_REVIEW and to_stage in (Stage.CSPR_COMMISSIONED, Stage.CLOSED):
        record.notified_on, record.notified_by = date(2026, 11, 3), "Director of Children's Services"
        record.cspr_recommended_on, record.cspr_recommended = date(2026, 11, 17), True
        record.cspr_recommendation_reasons = "Agencies did not share information"
        record.decided_on, record.decided_by = date(2026, 11, 19), "LSCP Executive"
        record.decision_commission_cspr = to_stage == Stage.CSPR_COMMISSIONED if commission is None else commission
        record.decision_reason = "The case highlights improvements needed"
    db.flush()


# Recording an incident ---------------------------------------------------------------------------------


def test_recording_an_incident_starts_the_review_with_its_first_stage_change(db, coordinator):
    review = record_incident(db, coordinator, " lscp-2026-004 ", " Child H ", date(2026, 11, 2), "Baby admitted")
    db.commit()
    assert (review.reference, review.anonymised_name, review.stage) == ("LSCP-2026-004", "Child H", "incident_recorded")
    assert history(db, review) == [(None, "incident_recorded")]
    (row,) = audit_rows(db, "review.incident_recorded", review.id)
    assert row.actor_id == coordinator.id


def test_a_reference_already_taken_is_refused_with_the_next_free_one_suggested(db, coordinator):
    make_review(db, coordinator=coordinator, reference="LSCP-2025-007")
    make_review(db, coordinator=coordinator, reference="LSCP-2025-002")
    with pytest.raises(ReviewRuleError) as refused:
        record_incident(db, coordinator, "lscp-2025-007", "Child J", date(2025, 6, 1), "Serious injury")
    assert "LSCP-2025-007 is already used" in refused.value.message
    assert "LSCP-2025-008" in refused.value.message
    assert services.next_free_reference(db, 2025) == "LSCP-2025-008"
    assert services.next_free_reference(db, 2031) == "LSCP-2031-001"


@pytest.mark.parametrize(
    ("name", "aware_on", "reason", "message"),
    [
        ("  ", date(2026, 11, 2), "What happened", "Enter the anonymised name"),
        ("Child K", date(2026, 11, 2), "   ", "Enter what happened"),
        ("Child K", date(2099, 1, 1), "What happened", "must be today or in the past"),
    ],
)
def test_an_incident_needs_a_name_a_reason_and_a_date_not_in_the_future(
    db, coordinator, name, aware_on, reason, message
):
    with pytest.raises(ReviewRuleError, match=message):
        record_incident(db, coordinator, "LSCP-2026-090", name, aware_on, reason)
    assert db.scalar(sa.select(Review).where(Review.reference == "LSCP-2026-090")) is None


# Moves ---------------------------------------------------------------------------------------------------

ALLOWED = [(source, target) for source, targets in TRANSITIONS.items() if source for target in sorted(targets)]
REFUSED = [(source, target) for source in Stage for target in Stage if target not in TRANSITIONS[source]]


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{s.value}->{t.value}" for s, t in ALLOWED])
def test_every_allowed_move_succeeds_with_who_when_and_why_audited(db, coordinator, source, target):
    review = make_review(db, coordinator=coordinator, stage=source)
    satisfy_preconditions(db, review, target)
    before = history(db, review)

    change = move_review(db, review, target, "  Agreed at the RAG meeting  ", coordinator)
    db.commit()

    assert review.stage == target.value
    assert history(db, review) == [*before, (source.value, target.value)]
    assert (change.reason, change.actor_id) == ("Agreed at the RAG meeting", coordinator.id)
    assert change.changed_at is not None
    (row,) = audit_rows(db, "review.stage_changed", review.id)
    assert row.actor_id == coordinator.id
    assert json.loads(row.details) == {"from": source.value, "to": target.value, "reason": "Agreed at the RAG meeting"}


@pytest.mark.parametrize(("source", "target"), REFUSED, ids=[f"{s.value}->{t.value}" for s, t in REFUSED])
def test_every_other_move_is_refused_with_a_message_and_nothing_changes(db, coordinator, source, target):
    review = make_review(db, coordinator=coordinator, stage=source)
    satisfy_preconditions(db, review, target)
    before = history(db, review)

    with pytest.raises(ReviewRuleError) as refused:
        move_review(db, review, target, "Trying anyway", coordinator)
    db.rollback()

    assert refused.value.message
    db.refresh(review)
    assert review.stage == source.value
    assert history(db, review) == before
    assert audit_rows(db, "review.stage_changed", review.id) == []


def test_a_refused_move_says_where_the_review_can_go(db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.INCIDENT_RECORDED)
    with pytest.raises(ReviewRuleError) as refused:
        move_review(db, review, Stage.PUBLISHED, "Skip ahead", coordinator)
    assert refused.value.message == (
        "A review at the incident recorded stage cannot move to published. It can only move to notified to the Panel"
    )


def test_a_reason_is_required(db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_COMMISSIONED)
    with pytest.raises(ReviewRuleError, match="Enter why the review is moving to CSPR in progress"):
        move_review(db, review, Stage.CSPR_IN_PROGRESS, "   ", coordinator)
    assert review.stage == Stage.CSPR_COMMISSIONED


def test_notifying_needs_the_notification_recorded_first(db, coordinator):
    review = make_review(db, coordinator=coordinator)
    with pytest.raises(ReviewRuleError, match="Record the date the local authority notified the National Panel"):
        move_review(db, review, Stage.NOTIFIED, "Notified", coordinator)
    satisfy_preconditions(db, review, Stage.NOTIFIED)
    move_review(db, review, Stage.NOTIFIED, "Notified", coordinator)
    assert review.stage == Stage.NOTIFIED


def test_leaving_the_rapid_review_needs_the_executive_decision_and_must_follow_it(db, coordinator):
    review = make_review(db, coordinator=coordinator, stage=Stage.RAPID_REVIEW)
    with pytest.raises(ReviewRuleError, match="Record the Executive's decision"):
        move_review(db, review, Stage.CSPR_COMMISSIONED, "Commissioned", coordinator)

    satisfy_preconditions(db, review, Stage.CLOSED, commission=True)
    with pytest.raises(ReviewRuleError, match=r"decided to commission a CSPR\. Move the review to CSPR commissioned"):
        move_review(db, review, Stage.CLOSED, "No learning", coordinator)

    satisfy_preconditions(db, review, Stage.CSPR_COMMISSIONED, commission=False)
    with pytest.raises(ReviewRuleError, match=r"decided not to commission a CSPR\. Move the review to Closed"):
        move_review(db, review, Stage.CSPR_COMMISSIONED, "Commissioned", coordinator)

    move_review(db, review, Stage.CLOSED, "The Rapid Review found no further learning", coordinator)
    assert review.stage == Stage.CLOSED


def test_an_unknown_stage_is_refused(db, coordinator):
    review = make_review(db, coordinator=coordinator)
    with pytest.raises(ReviewRuleError, match="Select the stage"):
        move_review(db, review, "done", "Finished", coordinator)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.tuples(st.sampled_from(list(Stage)), st.booleans()), max_size=15))
def test_any_sequence_of_attempts_leaves_a_valid_path(db, coordinator, attempts):
    """Whatever is tried, in whatever order, the history is always a run of allowed moves ending at the stage."""
    review = make_review(db, coordinator=coordinator)
    for target, prepared in attempts:
        if prepared:
            satisfy_preconditions(db, review, target)
        try:
            with db.begin_nested():
                move_review(db, review, target, "Tried", coordinator)
        except ReviewRuleError:
            pass
    db.flush()
    db.expire_all()
    steps = history(db, review)
    assert steps[0] == (None, Stage.INCIDENT_RECORDED.value)
    for (_, previous_to), (source, target) in itertools.pairwise(steps):
        assert source == previous_to
        assert Stage(target) in TRANSITIONS[Stage(source)]
    assert steps[-1][1] == db.get(Review, review.id).stage
    moves = len(audit_rows(db, "review.stage_changed", review.id))
    assert moves == len(steps) - 1
