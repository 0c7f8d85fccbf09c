"""The Rapid Review, step by step: notification, agency returns, the RAG meeting and recommendation, the decision.

Each service refuses a step taken out of order with a message a coordinator can act on, before
anything is written; the check constraints on ``rapid_reviews`` are the backstop. Services flush
and leave the commit to the caller, so the audit entry commits or rolls back with the change.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session, selectinload

from portal.reviews.clocks import due_date_for_agency_return
from portal.reviews.models import (
    AgencyReturnRequest,
    ClosureDay,
    Membership,
    MembershipKind,
    RapidReview,
    Reg11Criterion,
    Review,
)
from portal.security import audit
from portal.security.models import Agency, User
from portal.templating import long_date


class StepRefused(ValueError):
    """A Rapid Review step that cannot be recorded now; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _required_text(value: str | None, message: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise StepRefused(message, field)
    return text


def _not_before(on: date, earliest: date | None, message: str, field: str = "on") -> None:
    if earliest is not None and on < earliest:
        raise StepRefused(message, field)


def _refuse_after_decision(record: RapidReview | None) -> None:
    # The Executive's decision closes the Rapid Review: what led to it is kept as it was decided on.
    if record is not None and record.decided_on is not None:
        raise StepRefused(
            "The Executive's decision has been recorded, so the Rapid Review record can no longer be changed"
        )


def _record_for(db: Session, review: Review, *, create: bool = False) -> RapidReview | None:
    record = review.rapid_review
    if record is None and create:
        record = RapidReview(review_id=review.id, reg11_criteria="")
        review.rapid_review = record
        db.add(record)
    return record


def _audit(db: Session, action: str, review_id: int, record: RapidReview | AgencyReturnRequest, **details) -> None:
    db.flush()
    object_type = "agency_return_request" if isinstance(record, AgencyReturnRequest) else "rapid_review"
    actor_id = details.pop("actor_id", None)
    audit.record(
        db,
        f"rapid_review.{action}",
        object_type=object_type,
        object_id=record.id,
        review_id=review_id,
        actor_id=actor_id,
        details=details,
    )


def _previous(recorded_on: date | None, **values) -> dict:
    """What a correction replaces, for the audit entry; nothing when the step is recorded the first time."""
    return {} if recorded_on is None else {"replaces": values}


def record_rag_recommendation_to_notify(db: Session, review: Review, on: date, by: str) -> RapidReview:
    """The Review Advisory Group recommends notifying the Panel (the local authority's submission is separate)."""
    check_can_record_notify_recommendation(review)
    by = _required_text(by, "Enter who made the recommendation", "by")
    _not_before(
        on,
        review.aware_on,
        "The date of the recommendation must be on or after the date the local authority became aware "
        f"({long_date(review.aware_on)})",
    )
    record = _record_for(db, review, create=True)
    # A correction keeps what it replaced in the audit trail.
    previous = _previous(
        record.rag_notify_recommended_on, on=record.rag_notify_recommended_on, by=record.rag_notify_recommended_by
    )
    record.rag_notify_recommended_on, record.rag_notify_recommended_by = on, by
    _audit(db, "notify_recommendation_recorded", review.id, record, on=on, by=by, **previous)
    return record


def _earliest_agency_request(db: Session, review: Review) -> date | None:
    return db.scalar(
        sa.select(sa.func.min(AgencyReturnRequest.requested_on)).where(AgencyReturnRequest.review_id == review.id)
    )


def record_notification(db: Session, review: Review, on: date, by: str) -> RapidReview:
    """The local authority's notification to the National Panel: when it was sent, and who sent it."""
    check_can_record_notification(review)
    by = _required_text(by, "Enter who sent the notification", "by")
    record = review.rapid_review
    _not_before(
        on,
        review.aware_on,
        "The notification date must be on or after the date the local authority became aware "
        f"({long_date(review.aware_on)})",
    )
    # A correction may not move the notification after steps that can only follow it.
    later = [
        (record.rag_meeting_on if record else None, "the Review Advisory Group meeting"),
        (_earliest_agency_request(db, review), "the first agency return request"),
    ]
    for day, step in later:
        if day is not None and on > day:
            raise StepRefused(f"The notification date must be on or before the date of {step} ({long_date(day)})", "on")
    record = _record_for(db, review, create=True)
    previous = _previous(record.notified_on, on=record.notified_on, by=record.notified_by)
    record.notified_on, record.notified_by = on, by
    _audit(db, "notification_recorded", review.id, record, on=on, by=by, **previous)
    return record


NOT_STARTED = "A Rapid Review cannot start before the notification has been submitted"


def _started(review: Review) -> RapidReview:
    record = review.rapid_review
    if record is None or record.notified_on is None:
        raise StepRefused(NOT_STARTED)
    return record


# What each step needs first. Routes ask before showing a form; the services ask again before writing.


def check_can_record_notify_recommendation(review: Review) -> None:
    _refuse_after_decision(review.rapid_review)


def check_can_record_notification(review: Review) -> None:
    _refuse_after_decision(review.rapid_review)


def check_can_request_agency_return(review: Review) -> RapidReview:
    return _started(review)


def check_can_record_meeting(review: Review) -> RapidReview:
    record = _started(review)
    _refuse_after_decision(record)
    return record


def check_can_record_cspr_recommendation(review: Review) -> RapidReview:
    record = _started(review)
    _refuse_after_decision(record)
    if record.rag_meeting_on is None:
        raise StepRefused("Record the Review Advisory Group meeting before its recommendation on a CSPR")
    return record


def check_can_record_executive_decision(review: Review) -> RapidReview:
    record = _started(review)
    if record.decided_on is not None:
        raise StepRefused(
            f"The Executive's decision was recorded on {long_date(record.decided_on)} and is final. "
            "It cannot be changed"
        )
    if record.cspr_recommended_on is None:
        raise StepRefused("Record the Review Advisory Group's recommendation on a CSPR before the Executive's decision")
    return record


def check_can_record_outcome_sent(review: Review) -> RapidReview:
    record = review.rapid_review
    if record is None or record.decided_on is None:
        raise StepRefused("Record the Executive's decision before the date the outcome was sent to the Panel")
    if record.outcome_sent_on is not None:
        raise StepRefused(f"The outcome was already recorded as sent on {long_date(record.outcome_sent_on)}")
    return record


def check_can_record_return_received(request: AgencyReturnRequest) -> None:
    if request.received_on is not None:
        raise StepRefused(f"This return was already recorded as received on {long_date(request.received_on)}")


def agency_return_due_date(db: Session, requested_on: date) -> date:
    """When an agency's return is due: the agency-returns clock, counted in working days from the request."""
    closures = set(db.scalars(sa.select(ClosureDay.day).where(ClosureDay.day > requested_on)))
    # Outside a request (a script, a test of the rules) the clock's default length applies.
    config = current_app.config if has_app_context() else {}
    return due_date_for_agency_return(requested_on, closures, config)


def open_agency_leads(db: Session, review: Review) -> list[Membership]:
    """The review's open agency-lead memberships, with their person and agency, by agency name."""
    return list(
        db.scalars(
            sa.select(Membership)
            .join(Agency, Membership.agency_id == Agency.id)
            .join(User, Membership.user_id == User.id)
            .where(
                Membership.review_id == review.id,
                Membership.kind == MembershipKind.AGENCY_LEAD.value,
                Membership.ended_at.is_(None),
            )
            .options(selectinload(Membership.user), selectinload(Membership.agency))
            .order_by(Agency.name, User.name)
        )
    )


def agency_return_requests(db: Session, review: Review) -> list[AgencyReturnRequest]:
    """Every agency return request of the review, with its agency and lead loaded, by agency name."""
    return list(
        db.scalars(
            sa.select(AgencyReturnRequest)
            .join(Agency, AgencyReturnRequest.agency_id == Agency.id)
            .where(AgencyReturnRequest.review_id == review.id)
            .options(
                selectinload(AgencyReturnRequest.agency),
                selectinload(AgencyReturnRequest.lead_membership).selectinload(Membership.user),
            )
            .order_by(Agency.name)
        )
    )


def request_agency_return(
    db: Session, review: Review, agency: Agency, lead_membership: Membership, requested_on: date, actor: User
) -> AgencyReturnRequest:
    """Ask an agency, through its lead on this review, for what it knows of the child and family."""
    record = check_can_request_agency_return(review)
    if (
        lead_membership.review_id != review.id
        or lead_membership.kind != MembershipKind.AGENCY_LEAD.value
        or not lead_membership.is_open
        or lead_membership.agency_id != agency.id
    ):
        raise StepRefused(f"Select a current agency lead of this review for {agency.name}", "lead")
    _not_before(
        requested_on,
        record.notified_on,
        f"The request date must be on or after the notification to the Panel ({long_date(record.notified_on)})",
        "requested_on",
    )
    existing = db.scalar(
        sa.select(AgencyReturnRequest).where(
            AgencyReturnRequest.review_id == review.id, AgencyReturnRequest.agency_id == agency.id
        )
    )
    if existing is not None:
        raise StepRefused(
            f"{agency.name} was already asked for its return on {long_date(existing.requested_on)}. "
            "Each agency is asked once for each review",
            "lead",
        )
    request = AgencyReturnRequest(
        review_id=review.id,
        agency_id=agency.id,
        lead_membership_id=lead_membership.id,
        requested_on=requested_on,
        due_on=agency_return_due_date(db, requested_on),
        requested_by_id=actor.id,
    )
    db.add(request)
    _audit(
        db,
        "agency_return_requested",
        review.id,
        request,
        agency_id=agency.id,
        lead_membership_id=lead_membership.id,
        requested_on=requested_on,
        due_on=request.due_on,
        actor_id=actor.id,
    )
    return request


def record_return_received(db: Session, request: AgencyReturnRequest, on: date, actor: User) -> AgencyReturnRequest:
    """The agency's return arrived."""
    check_can_record_return_received(request)
    _not_before(
        on,
        request.requested_on,
        f"The date received must be on or after the date it was requested ({long_date(request.requested_on)})",
    )
    request.received_on = on
    _audit(
        db, "agency_return_received", request.review_id, request, on=on, agency_id=request.agency_id, actor_id=actor.id
    )
    return request


def record_rag_meeting(db: Session, review: Review, on: date, notes: str | None) -> RapidReview:
    """The joint meeting of the Review Advisory Group with the agencies."""
    record = check_can_record_meeting(review)
    _not_before(
        on, record.notified_on, f"The meeting must be on or after the notification ({long_date(record.notified_on)})"
    )
    if record.cspr_recommended_on is not None and on > record.cspr_recommended_on:
        raise StepRefused(
            "The meeting must be on or before the date of the recommendation on a CSPR "
            f"({long_date(record.cspr_recommended_on)})",
            "on",
        )
    previous = _previous(record.rag_meeting_on, on=record.rag_meeting_on)
    record.rag_meeting_on = on
    record.rag_meeting_notes = (notes or "").strip() or None
    _audit(db, "meeting_recorded", review.id, record, on=on, **previous)
    return record


def record_cspr_recommendation(
    db: Session,
    review: Review,
    on: date,
    recommend: bool,
    reasons: str,
    criteria: list[Reg11Criterion],
) -> RapidReview:
    """The RAG's recommendation on a Child Safeguarding Practice Review, with reasons and the reg 11 criteria."""
    record = check_can_record_cspr_recommendation(review)
    reasons = _required_text(reasons, "Enter the reasons for the recommendation", "reasons")
    criteria = list(dict.fromkeys(Reg11Criterion(c) for c in criteria))
    if recommend and not criteria:
        raise StepRefused("Select the regulation 11 criteria that apply when recommending a CSPR", "criteria")
    _not_before(
        on,
        record.rag_meeting_on,
        f"The recommendation must be on or after the meeting ({long_date(record.rag_meeting_on)})",
    )
    previous = _previous(
        record.cspr_recommended_on,
        on=record.cspr_recommended_on,
        recommend=record.cspr_recommended,
        criteria=[c.value for c in record.criteria],
    )
    record.cspr_recommended_on = on
    record.cspr_recommended = recommend
    record.cspr_recommendation_reasons = reasons
    record.reg11_criteria = ",".join(c.value for c in criteria)
    _audit(
        db,
        "cspr_recommendation_recorded",
        review.id,
        record,
        on=on,
        recommend=recommend,
        criteria=[c.value for c in criteria],
        **previous,
    )
    return record


def record_executive_decision(
    db: Session, review: Review, on: date, by: str, commission: bool, reason: str
) -> RapidReview:
    """The LSCP Executive's decision whether to commission a CSPR. Final: it cannot be changed."""
    record = check_can_record_executive_decision(review)
    by = _required_text(by, "Enter who made the decision", "by")
    reason = _required_text(reason, "Enter the reason for the decision", "reason")
    _not_before(
        on,
        record.cspr_recommended_on,
        f"The decision must be on or after the recommendation ({long_date(record.cspr_recommended_on)})",
    )
    record.decided_on, record.decided_by = on, by
    record.decision_commission_cspr = commission
    record.decision_reason = reason
    _audit(db, "executive_decision_recorded", review.id, record, on=on, by=by, commission=commission)
    return record


def record_outcome_sent(db: Session, review: Review, on: date) -> RapidReview:
    """The date the Rapid Review's outcome was sent to the National Panel."""
    record = check_can_record_outcome_sent(review)
    _not_before(
        on, record.decided_on, f"The date sent must be on or after the decision ({long_date(record.decided_on)})"
    )
    record.outcome_sent_on = on
    _audit(db, "outcome_sent_recorded", review.id, record, on=on)
    return record
