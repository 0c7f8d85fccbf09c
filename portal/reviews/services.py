"""The review lifecycle: recording an incident, moving it through its stages, regulation 14 monitoring, the timeline.

Every change is audited here, in the caller's transaction; routes only parse forms and commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload

from portal.db import LONDON
from portal.pagination import Pagination
from portal.reviews import clocks
from portal.reviews.access import Part, ReviewAccess
from portal.reviews.models import (
    TRANSITIONS,
    AgencyReturnRequest,
    Membership,
    MembershipKind,
    MonitoringKind,
    MonitoringRequest,
    RapidReview,
    Review,
    Stage,
    StageChange,
)
from portal.security import audit
from portal.security.models import User
from portal.templating import long_date

REFERENCE_PATTERN = re.compile(r"^LSCP-(\d{4})-(\d{3,})$")

# What each stage means, in words a coordinator choosing the next one would use.
STAGE_DESCRIPTIONS: dict[Stage, str] = {
    Stage.INCIDENT_RECORDED: "The local authority has become aware of a serious incident.",
    Stage.NOTIFIED: "The local authority has notified the National Panel of the incident.",
    Stage.RAPID_REVIEW: "Agencies send what they know, the Review Advisory Group meets and recommends, "
    "and the Executive decides.",
    Stage.CSPR_COMMISSIONED: "The Executive decided to commission a Child Safeguarding Practice Review.",
    Stage.CSPR_IN_PROGRESS: "The independent author and the review panel are carrying out the review.",
    Stage.PRE_PUBLICATION: "The draft report has been shared with the panel and the family.",
    Stage.AWAITING_PUBLICATION: "The report is final and waiting to be published.",
    Stage.PUBLISHED: "The report has been published.",
    Stage.NOT_PUBLISHED: "The partnership decided not to publish, to protect the child or family. Give the reason.",
    Stage.ACTION_PLAN: "Agencies are carrying out the actions agreed from the review.",
    Stage.CLOSED: "Nothing more will happen on this review.",
}


class ReviewRuleError(ValueError):
    """A change the lifecycle's rules do not allow; the message is shown to the coordinator as it is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TimelineEntry:
    when: date | datetime
    title: str
    detail: str | None = None
    who: str | None = None

    @property
    def sort_key(self) -> tuple[date, time]:
        if isinstance(self.when, datetime):
            local = self.when.astimezone(LONDON)
            return (local.date(), local.time().replace(tzinfo=None))
        # A date with no time (a step recorded against its day) comes before anything done that day.
        return (self.when, time.min)

    @property
    def day(self) -> date:
        return self.sort_key[0]

    @property
    def has_time(self) -> bool:
        return isinstance(self.when, datetime)


# References ------------------------------------------------------------------------------------------


def next_free_reference(db: Session, year: int | None = None) -> str:
    """The next unused ``LSCP-<year>-NNN`` for this year."""
    year = year or date.today().year
    taken = db.scalars(sa.select(Review.reference).where(Review.reference.like(f"LSCP-{year}-%")))
    numbers = [int(match.group(2)) for ref in taken if (match := REFERENCE_PATTERN.match(ref))]
    return f"LSCP-{year}-{max(numbers, default=0) + 1:03d}"


def _reference_taken(db: Session, reference: str) -> bool:
    return db.scalar(sa.select(sa.func.count()).where(sa.func.upper(Review.reference) == reference.upper())) > 0


# The lifecycle -----------------------------------------------------------------------------------------


def record_incident(
    db: Session, coordinator: User, reference: str, anonymised_name: str, aware_on: date, reason: str
) -> Review:
    """A new review at 'incident recorded', with its first stage change; audited."""
    reference = (reference or "").strip().upper()
    anonymised_name = (anonymised_name or "").strip()
    reason = (reason or "").strip()
    if not reference:
        raise ReviewRuleError("Enter the review's reference", "reference")
    if len(reference) > 30:
        raise ReviewRuleError("Reference must be 30 characters or fewer", "reference")
    if _reference_taken(db, reference):
        suggestion = next_free_reference(db, aware_on.year)
        raise ReviewRuleError(
            f"Reference {reference} is already used by another review. Enter a different reference,"
            f" for example {suggestion}",
            "reference",
        )
    if not anonymised_name:
        raise ReviewRuleError("Enter the anonymised name, for example Child H", "anonymised_name")
    if len(anonymised_name) > 100:
        raise ReviewRuleError("Anonymised name must be 100 characters or fewer", "anonymised_name")
    if aware_on > date.today():
        raise ReviewRuleError("The date the local authority became aware must be today or in the past", "aware_on")
    if not reason:
        raise ReviewRuleError("Enter what happened, in a few words", "reason")
    review = Review(
        reference=reference,
        anonymised_name=anonymised_name,
        aware_on=aware_on,
        stage=Stage.INCIDENT_RECORDED.value,
        created_by_id=coordinator.id,
    )
    db.add(review)
    db.flush()
    db.add(
        StageChange(
            review_id=review.id,
            from_stage=None,
            to_stage=Stage.INCIDENT_RECORDED.value,
            reason=reason,
            actor_id=coordinator.id,
        )
    )
    db.flush()
    audit.record(
        db,
        "review.incident_recorded",
        object_type="review",
        object_id=review.id,
        review_id=review.id,
        actor_id=coordinator.id,
        details={"reference": reference, "aware_on": aware_on.isoformat()},
    )
    return review


def _said(stage: Stage) -> str:
    """A stage's name inside a sentence: 'notified to the Panel', but 'CSPR commissioned'."""
    first, _, rest = stage.label.partition(" ")
    return stage.label if first.isupper() else f"{first.lower()} {rest}".strip()


def allowed_moves(review: Review) -> list[Stage]:
    """The stages this review may move to next, in lifecycle order."""
    order = list(Stage)
    return sorted(TRANSITIONS[review.stage_enum], key=order.index)


def _rapid_review_of(db: Session, review: Review) -> RapidReview | None:
    return db.scalar(sa.select(RapidReview).where(RapidReview.review_id == review.id))


def _refusal(db: Session, review: Review, to_stage: Stage) -> str | None:
    """Why this move may not happen now, or None if it may."""
    current = review.stage_enum
    if to_stage not in TRANSITIONS[current]:
        if to_stage == current:
            return f"The review is already at the {_said(current)} stage. Choose a different stage"
        allowed = allowed_moves(review)
        if not allowed:
            return f"The review is {_said(current)}. It cannot move to another stage"
        names = " or ".join(_said(stage) for stage in allowed)
        return f"A review at the {_said(current)} stage cannot move to {_said(to_stage)}. It can only move to {names}"
    if to_stage in (Stage.NOTIFIED, Stage.RAPID_REVIEW, Stage.CSPR_COMMISSIONED) or (
        current == Stage.RAPID_REVIEW and to_stage == Stage.CLOSED
    ):
        record = _rapid_review_of(db, review)
        if to_stage in (Stage.NOTIFIED, Stage.RAPID_REVIEW) and (record is None or record.notified_on is None):
            # The duty to notify sits with the local authority; the move records that it was done.
            return "Record the date the local authority notified the National Panel before moving the review on"
        if current == Stage.RAPID_REVIEW:
            if record is None or record.decided_on is None:
                return "Record the Executive's decision before moving the review on from the Rapid Review"
            if to_stage == Stage.CSPR_COMMISSIONED and not record.decision_commission_cspr:
                return (
                    "The Executive decided not to commission a CSPR. Move the review to Closed instead,"
                    " or correct the decision"
                )
            if to_stage == Stage.CLOSED and record.decision_commission_cspr:
                return (
                    "The Executive decided to commission a CSPR. Move the review to CSPR commissioned instead,"
                    " or correct the decision"
                )
    return None


def move_review(db: Session, review: Review, to_stage: Stage | str, reason: str, actor: User) -> StageChange:
    """Move the review one allowed step, with who, when and why; audited. Raises ReviewRuleError otherwise."""
    try:
        to_stage = Stage(to_stage)
    except ValueError:
        raise ReviewRuleError("Select the stage the review is moving to", "to_stage") from None
    refusal = _refusal(db, review, to_stage)
    if refusal:
        raise ReviewRuleError(refusal, "to_stage")
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRuleError(f"Enter why the review is moving to {_said(to_stage)}", "reason")
    from_stage = review.stage
    change = StageChange(
        review_id=review.id, from_stage=from_stage, to_stage=to_stage.value, reason=reason, actor_id=actor.id
    )
    db.add(change)
    review.stage = to_stage.value
    db.flush()
    audit.record(
        db,
        "review.stage_changed",
        object_type="review",
        object_id=review.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"from": from_stage, "to": to_stage.value, "reason": reason},
    )
    return change


def record_review_viewed(db: Session, review: Review, user: User) -> None:
    """Reading a review is sensitive: every view is written to the audit trail."""
    audit.record(db, "review.viewed", object_type="review", object_id=review.id, review_id=review.id, actor_id=user.id)


# Regulation 14 monitoring ------------------------------------------------------------------------------------


def record_monitoring_request(
    db: Session,
    review: Review,
    *,
    kind: MonitoringKind | str,
    details: str,
    due_on: date,
    actor: User,
    requested_on: date | None = None,
) -> MonitoringRequest:
    """Regulation 14: the partners' written request to the author for information or a draft; audited."""
    try:
        kind = MonitoringKind(kind)
    except ValueError:
        raise ReviewRuleError("Select whether you are asking for information or a draft", "kind") from None
    details = (details or "").strip()
    if not details:
        raise ReviewRuleError("Enter what you are asking the author for", "details")
    requested_on = requested_on or date.today()
    if due_on < requested_on:
        raise ReviewRuleError(
            f"The due date must be the same as or after the date of the request ({long_date(requested_on)})", "due_on"
        )
    request = MonitoringRequest(
        review_id=review.id,
        kind=kind.value,
        details=details,
        requested_on=requested_on,
        due_on=due_on,
        requested_by_id=actor.id,
    )
    db.add(request)
    db.flush()
    audit.record(
        db,
        "review.monitoring_requested",
        object_type="monitoring_request",
        object_id=request.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"kind": kind.value, "due_on": due_on.isoformat()},
    )
    return request


def mark_monitoring_answered(
    db: Session, request: MonitoringRequest, actor: User, answered_on: date | None = None
) -> MonitoringRequest:
    """The author has answered a regulation 14 request; audited. Answering twice is refused."""
    if request.answered_on is not None:
        raise ReviewRuleError(f"This request was already marked as answered on {long_date(request.answered_on)}")
    answered_on = answered_on or date.today()
    if answered_on < request.requested_on:
        raise ReviewRuleError("The answer cannot come before the request")
    request.answered_on = answered_on
    db.flush()
    audit.record(
        db,
        "review.monitoring_answered",
        object_type="monitoring_request",
        object_id=request.id,
        review_id=request.review_id,
        actor_id=actor.id,
        details={"answered_on": answered_on.isoformat()},
    )
    return request


def monitoring_requests(db: Session, review: Review) -> list[tuple[MonitoringRequest, str]]:
    """The review's regulation 14 requests, newest first, each with who asked (one query)."""
    rows = db.execute(
        sa.select(MonitoringRequest, User.name)
        .join(User, User.id == MonitoringRequest.requested_by_id)
        .where(MonitoringRequest.review_id == review.id)
        .order_by(MonitoringRequest.requested_on.desc(), MonitoringRequest.id.desc())
    )
    return [(request, name) for request, name in rows]


def monitoring_request_of(db: Session, review: Review, request_id: int) -> MonitoringRequest | None:
    return db.scalar(
        sa.select(MonitoringRequest).where(MonitoringRequest.id == request_id, MonitoringRequest.review_id == review.id)
    )


# The timeline -------------------------------------------------------------------------------------------------


def stage_history(db: Session, review: Review) -> list[StageChange]:
    return list(
        db.scalars(
            sa.select(StageChange)
            .where(StageChange.review_id == review.id)
            .options(joinedload(StageChange.actor))
            .order_by(StageChange.id)
        )
    )


def _stage_entries(changes: list[StageChange]) -> list[TimelineEntry]:
    entries = []
    for change in changes:
        stage = Stage(change.to_stage)
        title = "Incident recorded" if change.from_stage is None else f"Moved to {stage.label}"
        entries.append(TimelineEntry(change.changed_at, title, change.reason, change.actor.name))
    return entries


def _rapid_review_entries(record: RapidReview | None) -> list[TimelineEntry]:
    if record is None:
        return []
    entries = []
    if record.rag_notify_recommended_on:
        entries.append(
            TimelineEntry(
                record.rag_notify_recommended_on,
                "Review Advisory Group recommended notifying the Panel",
                None,
                record.rag_notify_recommended_by,
            )
        )
    if record.notified_on:
        entries.append(
            TimelineEntry(record.notified_on, "Local authority notified the National Panel", None, record.notified_by)
        )
    if record.rag_meeting_on:
        entries.append(TimelineEntry(record.rag_meeting_on, "Rapid Review meeting held", record.rag_meeting_notes))
    if record.cspr_recommended_on:
        verdict = "recommended a CSPR" if record.cspr_recommended else "recommended no CSPR"
        entries.append(
            TimelineEntry(
                record.cspr_recommended_on, f"Review Advisory Group {verdict}", record.cspr_recommendation_reasons
            )
        )
    if record.decided_on:
        verdict = "commission a CSPR" if record.decision_commission_cspr else "not commission a CSPR"
        entries.append(
            TimelineEntry(
                record.decided_on, f"Executive decided to {verdict}", record.decision_reason, record.decided_by
            )
        )
    if record.outcome_sent_on:
        entries.append(TimelineEntry(record.outcome_sent_on, "Rapid Review outcome sent to the Panel"))
    return entries


def _agency_return_entries(db: Session, review: Review) -> list[TimelineEntry]:
    requests = db.scalars(
        sa.select(AgencyReturnRequest)
        .where(AgencyReturnRequest.review_id == review.id)
        .options(joinedload(AgencyReturnRequest.agency))
    )
    entries = []
    for request in requests:
        entries.append(
            TimelineEntry(
                request.requested_on,
                f"{request.agency.name} asked for its information return",
                f"Due {long_date(request.due_on)}",
            )
        )
        if request.received_on:
            entries.append(TimelineEntry(request.received_on, f"{request.agency.name}'s information return received"))
    return entries


def _membership_entries(db: Session, review: Review) -> list[TimelineEntry]:
    member, starter, ender = aliased(User), aliased(User), aliased(User)
    rows = db.execute(
        sa.select(Membership, member.name, starter.name, ender.name)
        .join(member, member.id == Membership.user_id)
        .join(starter, starter.id == Membership.started_by_id)
        .outerjoin(ender, ender.id == Membership.ended_by_id)
        .where(Membership.review_id == review.id)
    )
    entries = []
    for membership, name, started_by, ended_by in rows:
        role = MembershipKind(membership.kind).label.lower()
        entries.append(TimelineEntry(membership.started_at, f"{name} joined as {role}", None, started_by))
        if membership.ended_at:
            entries.append(
                TimelineEntry(membership.ended_at, f"{name} stopped being {role}", membership.end_reason, ended_by)
            )
    return entries


def _monitoring_entries(requests: list[tuple[MonitoringRequest, str]]) -> list[TimelineEntry]:
    entries = []
    for request, requested_by in requests:
        what = "a draft" if request.kind == MonitoringKind.DRAFT else "information"
        entries.append(
            TimelineEntry(
                request.requested_on,
                f"Written request to the author for {what} (regulation 14)",
                f"{request.details} Due {long_date(request.due_on)}.",
                requested_by,
            )
        )
        if request.answered_on:
            entries.append(TimelineEntry(request.answered_on, f"Author answered the request for {what}"))
    return entries


def timeline(db: Session, review: Review, access: ReviewAccess) -> list[TimelineEntry]:
    """Everything that has happened on the review that this person may see, oldest first.

    A fixed number of queries however long the review has run: each source is read in one statement.
    """
    if not access.can(Part.TIMELINE):
        return []
    entries = _stage_entries(stage_history(db, review))
    if access.can(Part.RAPID_REVIEW):
        entries += _rapid_review_entries(_rapid_review_of(db, review))
    if access.can(Part.AGENCY_RETURNS):
        entries += _agency_return_entries(db, review)
    if access.can(Part.MEMBERS):
        entries += _membership_entries(db, review)
    if access.can(Part.MONITORING):
        entries += _monitoring_entries(monitoring_requests(db, review))
    return sorted(entries, key=lambda entry: entry.sort_key)


# The list of reviews ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    deadline: date | None
    deadline_rule: str | None


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewRow]
    pagination: Pagination


def list_reviews(
    db: Session, *, config, today: date, stage: Stage | None = None, page: int = 1, per_page: int = 25
) -> ReviewPage:
    """All reviews (optionally at one stage), nearest running deadline first; then the rest, latest incident first."""
    rows: list[ReviewRow] = []
    if stage != Stage.CLOSED:
        for item in clocks.open_review_clocks(db, config, today):
            if stage is not None and item.review.stage != stage.value:
                continue
            running = [clock for clock in item.clocks if clock.is_running]
            nearest = min(running, key=lambda clock: clock.due_on) if running else None
            rows.append(ReviewRow(item.review, nearest.due_on if nearest else None, nearest.name if nearest else None))
    if stage is None or stage == Stage.CLOSED:
        closed = db.scalars(
            sa.select(Review).where(Review.stage == Stage.CLOSED.value).order_by(Review.aware_on.desc(), Review.id)
        )
        rows += [ReviewRow(review, None, None) for review in closed]
    # Open reviews whose clocks are all met sort with the closed ones, most recent incident first.
    rows.sort(key=lambda row: (row.deadline is None, row.deadline or date.max, -row.review.aware_on.toordinal()))
    pagination = Pagination.of(len(rows), per_page, page)
    return ReviewPage(rows[pagination.offset : pagination.offset + per_page], pagination)


DECISION_STAGES = frozenset({Stage.CSPR_COMMISSIONED, Stage.PUBLISHED, Stage.NOT_PUBLISHED})


def decisions(db: Session, review: Review) -> list[StageChange]:
    """The moves that record a decision: commissioning, closing after the Rapid Review, publishing or not."""
    return [
        change
        for change in stage_history(db, review)
        if Stage(change.to_stage) in DECISION_STAGES
        or (change.from_stage == Stage.RAPID_REVIEW.value and change.to_stage == Stage.CLOSED.value)
    ]
