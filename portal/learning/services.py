"""The action plan and the briefing: who may change what, and every write, each one audited.

Coordinators and the review's declared author shape the plan (learning points, actions, the briefing,
linked events). An agency lead reports progress only on actions owned by the agency they lead for this
review. Panel members read. Practitioners read published briefings and confirm they have read them;
each confirmation keeps the agency they were in at the time, so read rates per agency stay true later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.db import LONDON, utcnow
from portal.events.models import Audience, Event, EventStatus
from portal.families import uploads
from portal.learning.models import (
    ActionStatus,
    ActionUpdate,
    Briefing,
    BriefingRead,
    LearningAction,
    LearningPoint,
    event_learning_points,
)
from portal.reviews.access import ReviewAccess, access_to
from portal.reviews.models import MembershipKind, Review
from portal.security import audit
from portal.security.models import Agency, Role, User

OVERDUE_PER_PAGE = 25
AGENCIES_PER_PAGE = 50
BRIEFINGS_PER_PAGE = 20
HOME_PAGE_BRIEFINGS = 5
EVENT_CHOICES = 100
OPEN_STATUSES = (ActionStatus.NOT_STARTED.value, ActionStatus.IN_PROGRESS.value)


def today() -> date:
    """Today in England: due dates and "overdue" are about the day people are living in."""
    return utcnow().astimezone(LONDON).date()


def is_overdue(action: LearningAction, on: date | None = None) -> bool:
    """Not complete, and its due date has passed."""
    return action.status != ActionStatus.COMPLETE.value and action.due_on < (on or today())


# Who may do what ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanAccess:
    """What one person may do on one review's action plan (they can already read it)."""

    can_edit: bool
    lead_agency_ids: frozenset[int]

    def can_report_on(self, action: LearningAction) -> bool:
        """Editors report on any action; an agency lead only on their own agency's."""
        return self.can_edit or action.agency_id in self.lead_agency_ids


def plan_access(access: ReviewAccess) -> PlanAccess:
    is_author = access.membership_of_kind(MembershipKind.AUTHOR) is not None
    leads = frozenset(
        membership.agency_id
        for membership in access.memberships
        if membership.kind == MembershipKind.AGENCY_LEAD.value and membership.agency_id is not None
    )
    return PlanAccess(can_edit=access.is_coordinator or is_author, lead_agency_ids=leads)


# Learning points ----------------------------------------------------------------------------------


def learning_points(db: Session, review: Review) -> list[LearningPoint]:
    """The review's learning points in order, with their actions, agencies and linked events, in four queries."""
    return list(
        db.scalars(
            sa.select(LearningPoint)
            .where(LearningPoint.review_id == review.id)
            .order_by(LearningPoint.position)
            .options(selectinload(LearningPoint.actions).joinedload(LearningAction.agency))
        )
    )


def linked_events(db: Session, points: list[LearningPoint]) -> dict[int, list[Event]]:
    """Events linked to each learning point, soonest first, in one query."""
    by_point: dict[int, list[Event]] = {point.id: [] for point in points}
    if not points:
        return by_point
    rows = db.execute(
        sa.select(event_learning_points.c.learning_point_id, Event)
        .join(Event, Event.id == event_learning_points.c.event_id)
        .where(event_learning_points.c.learning_point_id.in_(by_point))
        .order_by(Event.starts_at, Event.id)
    )
    for point_id, event in rows:
        by_point[point_id].append(event)
    return by_point


def load_learning_point(db: Session, review: Review, point_id: int) -> LearningPoint | None:
    point = db.get(LearningPoint, point_id)
    return point if point is not None and point.review_id == review.id else None


def add_learning_point(db: Session, review: Review, text: str, by: User) -> LearningPoint:
    last = db.scalar(sa.select(sa.func.max(LearningPoint.position)).where(LearningPoint.review_id == review.id))
    point = LearningPoint(review_id=review.id, position=(last or 0) + 1, text=text, created_by_id=by.id)
    db.add(point)
    db.flush()
    _record(db, "learning_point.added", "learning_point", point.id, review.id, by)
    return point


def change_learning_point(db: Session, point: LearningPoint, text: str, by: User) -> None:
    point.text = text
    _record(db, "learning_point.changed", "learning_point", point.id, point.review_id, by)


def move_learning_point(db: Session, point: LearningPoint, *, up: bool, by: User) -> bool:
    """Swap the point with its neighbour above (or below); False when it is already first (or last)."""
    neighbour_position = LearningPoint.position < point.position if up else LearningPoint.position > point.position
    neighbour = db.scalar(
        sa.select(LearningPoint)
        .where(LearningPoint.review_id == point.review_id, neighbour_position)
        .order_by(LearningPoint.position.desc() if up else LearningPoint.position)
        .limit(1)
    )
    if neighbour is None:
        return False
    mine, theirs = point.position, neighbour.position
    # Positions are unique per review, so one of the pair steps aside while the other takes its place.
    point.position = -mine
    db.flush()
    neighbour.position = mine
    db.flush()
    point.position = theirs
    db.flush()
    _record(db, "learning_point.moved", "learning_point", point.id, point.review_id, by, position=theirs)
    return True


# Actions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDetails:
    description: str
    agency_id: int
    lead_name: str
    due_on: date


def agencies(db: Session) -> list[Agency]:
    return list(db.scalars(sa.select(Agency).order_by(Agency.name)))


def load_action(db: Session, review: Review, action_id: int) -> LearningAction | None:
    """The action if it belongs to this review, with its point, agency, and updates newest first."""
    action = db.scalar(
        sa.select(LearningAction)
        .join(LearningAction.learning_point)
        .where(LearningAction.id == action_id, LearningPoint.review_id == review.id)
        .options(
            joinedload(LearningAction.agency),
            joinedload(LearningAction.learning_point),
            selectinload(LearningAction.updates).joinedload(ActionUpdate.written_by),
        )
    )
    return action


def add_action(db: Session, point: LearningPoint, details: ActionDetails, by: User) -> LearningAction:
    action = LearningAction(
        learning_point_id=point.id,
        description=details.description,
        agency_id=details.agency_id,
        lead_name=details.lead_name,
        due_on=details.due_on,
        status=ActionStatus.NOT_STARTED.value,
        created_by_id=by.id,
    )
    db.add(action)
    db.flush()
    _record(db, "learning_action.added", "learning_action", action.id, point.review_id, by)
    return action


def change_action(db: Session, action: LearningAction, details: ActionDetails, by: User) -> None:
    action.description = details.description
    action.agency_id = details.agency_id
    action.lead_name = details.lead_name
    action.due_on = details.due_on
    _record(db, "learning_action.changed", "learning_action", action.id, action.learning_point.review_id, by)


def report_progress(
    db: Session,
    action: LearningAction,
    *,
    text: str,
    status: ActionStatus,
    by: User,
    evidence: tuple[str, bytes] | None = None,
) -> ActionUpdate:
    """Record progress and the action's new status; may raise UploadRefused for the evidence file.

    Completing the action records the day it was completed; reopening it clears that day.
    """
    update = ActionUpdate(action_id=action.id, text=text, status_after=status.value, written_by_id=by.id)
    if evidence is not None:
        original_name, data = evidence
        kind = uploads.check(data)
        update.evidence_stored_name = uploads.store(db, data)
        update.evidence_detected_type = kind.key
        update.evidence_original_name = (original_name or "evidence").replace("\\", "/").rsplit("/", 1)[-1][
            :255
        ] or "evidence"
    action.status = status.value
    if status == ActionStatus.COMPLETE:
        action.completed_on = action.completed_on or today()
    else:
        action.completed_on = None
    db.add(update)
    db.flush()
    details = {"update_id": update.id, "status": status.value}
    if update.evidence_detected_type:
        details["evidence_type"] = update.evidence_detected_type
    _record(
        db, "learning_action.progress", "learning_action", action.id, action.learning_point.review_id, by, **details
    )
    return update


def record_evidence_downloaded(db: Session, action: LearningAction, update: ActionUpdate, by: User) -> None:
    review_id = action.learning_point.review_id
    _record(db, "learning_action.evidence_downloaded", "learning_action", action.id, review_id, by, update_id=update.id)


def overdue_actions(db: Session, *, page: int, on: date | None = None) -> tuple[list[LearningAction], int]:
    """Open actions past their due date across every review, longest overdue first (the status-and-due index)."""
    condition = sa.and_(LearningAction.status.in_(OPEN_STATUSES), LearningAction.due_on < (on or today()))
    total = db.scalar(sa.select(sa.func.count()).select_from(LearningAction).where(condition)) or 0
    rows = db.scalars(
        sa.select(LearningAction)
        .where(condition)
        .order_by(LearningAction.due_on, LearningAction.id)
        .options(
            joinedload(LearningAction.agency),
            joinedload(LearningAction.learning_point).joinedload(LearningPoint.review),
        )
        .limit(OVERDUE_PER_PAGE)
        .offset((page - 1) * OVERDUE_PER_PAGE)
    )
    return list(rows), total


# Linked learning events ------------------------------------------------------------------------------


def linkable_events(db: Session, review: Review) -> list[Event]:
    """Events that can teach this review's learning: its own, and those open to every practitioner."""
    return list(
        db.scalars(
            sa.select(Event)
            .where(
                Event.status != EventStatus.DRAFT.value,
                sa.or_(Event.review_id == review.id, Event.audience == Audience.ALL_PRACTITIONERS.value),
            )
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(EVENT_CHOICES)
        )
    )


def link_event(db: Session, point: LearningPoint, event: Event, by: User) -> bool:
    """Link the event to the learning point; False when they were linked already."""
    already = db.scalar(
        sa.select(sa.func.count())
        .select_from(event_learning_points)
        .where(event_learning_points.c.event_id == event.id, event_learning_points.c.learning_point_id == point.id)
    )
    if already:
        return False
    db.execute(sa.insert(event_learning_points).values(event_id=event.id, learning_point_id=point.id))
    _record(db, "learning_point.event_linked", "learning_point", point.id, point.review_id, by, event_id=event.id)
    return True


def unlink_event(db: Session, point: LearningPoint, event_id: int, by: User) -> bool:
    removed = db.execute(
        sa.delete(event_learning_points).where(
            event_learning_points.c.event_id == event_id, event_learning_points.c.learning_point_id == point.id
        )
    ).rowcount
    if removed:
        _record(db, "learning_point.event_unlinked", "learning_point", point.id, point.review_id, by, event_id=event_id)
    return bool(removed)


@dataclass(frozen=True)
class EventLearning:
    """What a linked event teaches: a review's learning points, and its briefing once published."""

    review: Review
    points: list[LearningPoint]
    briefing: Briefing | None


def learning_of_event(db: Session, event: Event) -> list[EventLearning]:
    """The learning points an event is linked to, grouped by review, in two queries."""
    points = list(
        db.scalars(
            sa.select(LearningPoint)
            .join(event_learning_points, event_learning_points.c.learning_point_id == LearningPoint.id)
            .where(event_learning_points.c.event_id == event.id)
            .order_by(LearningPoint.review_id, LearningPoint.position)
            .options(joinedload(LearningPoint.review))
        )
    )
    if not points:
        return []
    review_ids = {point.review_id for point in points}
    briefings = {
        briefing.review_id: briefing
        for briefing in db.scalars(
            sa.select(Briefing).where(Briefing.review_id.in_(review_ids), Briefing.published_at.is_not(None))
        )
    }
    grouped: dict[int, EventLearning] = {}
    for point in points:
        entry = grouped.setdefault(point.review_id, EventLearning(point.review, [], briefings.get(point.review_id)))
        entry.points.append(point)
    return list(grouped.values())


# The briefing ---------------------------------------------------------------------------------------


def briefing_of(db: Session, review: Review) -> Briefing | None:
    return db.scalar(sa.select(Briefing).where(Briefing.review_id == review.id))


def save_briefing(db: Session, review: Review, *, title: str, body: str, by: User) -> Briefing:
    """Write (or rewrite) the review's one briefing; ``body`` is clean rich text."""
    briefing = briefing_of(db, review)
    if briefing is None:
        briefing = Briefing(review_id=review.id, title=title, body=body, written_by_id=by.id)
        db.add(briefing)
    else:
        briefing.title, briefing.body, briefing.written_by_id = title, body, by.id
    briefing.updated_at = utcnow()
    db.flush()
    _record(db, "briefing.saved", "briefing", briefing.id, review.id, by)
    return briefing


def publish_briefing(db: Session, briefing: Briefing, by: User) -> bool:
    """Show the briefing to every practitioner from now; False when it was already published."""
    if briefing.published_at is not None:
        return False
    briefing.published_at = utcnow()
    _record(db, "briefing.published", "briefing", briefing.id, briefing.review_id, by)
    return True


def can_read_briefing(db: Session, user: User, briefing: Briefing) -> bool:
    """Published: every practitioner and the review's members. Before that: those who write it."""
    access = access_to(db, user, briefing.review)
    if briefing.published_at is None:
        return access is not None and plan_access(access).can_edit
    return user.role == Role.PRACTITIONER or access is not None


def can_edit_briefing(db: Session, user: User, briefing: Briefing) -> bool:
    access = access_to(db, user, briefing.review)
    return access is not None and plan_access(access).can_edit


def read_of(db: Session, briefing: Briefing, user: User) -> BriefingRead | None:
    return db.scalar(
        sa.select(BriefingRead).where(BriefingRead.briefing_id == briefing.id, BriefingRead.user_id == user.id)
    )


def confirm_read(db: Session, briefing: Briefing, user: User) -> bool:
    """Record "I have read this" once, with the reader's agency now; False when already recorded."""
    if briefing.published_at is None or read_of(db, briefing, user) is not None:
        return False
    try:
        with db.begin_nested():
            read = BriefingRead(briefing_id=briefing.id, user_id=user.id, agency_id=user.agency_id)
            db.add(read)
    except IntegrityError:
        return False  # the same person pressed the button twice at once: the first press counts
    _record(db, "briefing.read_confirmed", "briefing", briefing.id, briefing.review_id, user, agency_id=user.agency_id)
    return True


@dataclass(frozen=True)
class AgencyReadRate:
    agency: Agency
    confirmed: int
    practitioners: int

    @property
    def percentage(self) -> int | None:
        """Confirmed as a whole percentage of the agency's active practitioners; None when it has none."""
        if not self.practitioners:
            return None
        return round(100 * self.confirmed / self.practitioners)


def read_rates(db: Session, briefing: Briefing, *, page: int) -> tuple[list[AgencyReadRate], int]:
    """Per agency, by name: confirmations (by agency at the time) against active practitioners now; three queries."""
    total = db.scalar(sa.select(sa.func.count()).select_from(Agency)) or 0
    page_of_agencies = list(
        db.scalars(
            sa.select(Agency).order_by(Agency.name).limit(AGENCIES_PER_PAGE).offset((page - 1) * AGENCIES_PER_PAGE)
        )
    )
    ids = [agency.id for agency in page_of_agencies]
    practitioners = dict(
        db.execute(
            sa.select(User.agency_id, sa.func.count())
            .where(User.agency_id.in_(ids), User.role == Role.PRACTITIONER.value, User.active.is_(True))
            .group_by(User.agency_id)
        ).all()
    )
    confirmed = dict(
        db.execute(
            sa.select(BriefingRead.agency_id, sa.func.count())
            .where(BriefingRead.briefing_id == briefing.id, BriefingRead.agency_id.in_(ids))
            .group_by(BriefingRead.agency_id)
        ).all()
    )
    rates = [
        AgencyReadRate(agency, confirmed.get(agency.id, 0), practitioners.get(agency.id, 0))
        for agency in page_of_agencies
    ]
    return rates, total


def reads_without_agency(db: Session, briefing: Briefing) -> int:
    """Confirmations by people who belonged to no agency when they read it."""
    return (
        db.scalar(
            sa.select(sa.func.count())
            .select_from(BriefingRead)
            .where(BriefingRead.briefing_id == briefing.id, BriefingRead.agency_id.is_(None))
        )
        or 0
    )


def published_briefings(db: Session, user: User, *, page: int, unread_only: bool = False) -> tuple[list, int]:
    """Published briefings newest first, each with whether ``user`` has confirmed reading it; two queries."""
    read = (
        sa.select(BriefingRead.id)
        .where(BriefingRead.briefing_id == Briefing.id, BriefingRead.user_id == user.id)
        .exists()
    )
    condition = Briefing.published_at.is_not(None)
    if unread_only:
        condition = sa.and_(condition, ~read)
    total = db.scalar(sa.select(sa.func.count()).select_from(Briefing).where(condition)) or 0
    per_page = HOME_PAGE_BRIEFINGS if unread_only else BRIEFINGS_PER_PAGE
    rows = db.execute(
        sa.select(Briefing, read.label("read"))
        .where(condition)
        .order_by(Briefing.published_at.desc(), Briefing.id.desc())
        .options(joinedload(Briefing.review))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [(briefing, bool(was_read)) for briefing, was_read in rows], total


def _record(db: Session, action: str, object_type: str, object_id: int, review_id: int, by: User, **details) -> None:
    audit.record(
        db, action, object_type=object_type, object_id=object_id, review_id=review_id, actor_id=by.id, details=details
    )
