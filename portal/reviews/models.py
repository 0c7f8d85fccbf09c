"""A review and everything recorded about it: stages, the Rapid Review, memberships, monitoring."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.security.models import Agency, User


class Stage(enum.StrEnum):
    INCIDENT_RECORDED = "incident_recorded"
    NOTIFIED = "notified"
    RAPID_REVIEW = "rapid_review"
    CSPR_COMMISSIONED = "cspr_commissioned"
    CSPR_IN_PROGRESS = "cspr_in_progress"
    PRE_PUBLICATION = "pre_publication"
    AWAITING_PUBLICATION = "awaiting_publication"
    PUBLISHED = "published"
    NOT_PUBLISHED = "not_published"
    ACTION_PLAN = "action_plan"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.INCIDENT_RECORDED: "Incident recorded",
    Stage.NOTIFIED: "Notified to the Panel",
    Stage.RAPID_REVIEW: "Rapid Review",
    Stage.CSPR_COMMISSIONED: "CSPR commissioned",
    Stage.CSPR_IN_PROGRESS: "CSPR in progress",
    Stage.PRE_PUBLICATION: "Pre-publication (draft shared)",
    Stage.AWAITING_PUBLICATION: "Awaiting publication",
    Stage.PUBLISHED: "Published",
    Stage.NOT_PUBLISHED: "Not published",
    Stage.ACTION_PLAN: "Action plan",
    Stage.CLOSED: "Closed",
}

# The only moves a review can make. Rapid Review ends in the Executive's decision: commission a
# CSPR, or close with no CSPR (the reason is the transition's reason).
TRANSITIONS: dict[Stage | None, frozenset[Stage]] = {
    None: frozenset({Stage.INCIDENT_RECORDED}),
    Stage.INCIDENT_RECORDED: frozenset({Stage.NOTIFIED}),
    Stage.NOTIFIED: frozenset({Stage.RAPID_REVIEW}),
    Stage.RAPID_REVIEW: frozenset({Stage.CSPR_COMMISSIONED, Stage.CLOSED}),
    Stage.CSPR_COMMISSIONED: frozenset({Stage.CSPR_IN_PROGRESS}),
    Stage.CSPR_IN_PROGRESS: frozenset({Stage.PRE_PUBLICATION}),
    Stage.PRE_PUBLICATION: frozenset({Stage.AWAITING_PUBLICATION}),
    Stage.AWAITING_PUBLICATION: frozenset({Stage.PUBLISHED, Stage.NOT_PUBLISHED}),
    Stage.PUBLISHED: frozenset({Stage.ACTION_PLAN}),
    Stage.NOT_PUBLISHED: frozenset({Stage.ACTION_PLAN}),
    Stage.ACTION_PLAN: frozenset({Stage.CLOSED}),
    Stage.CLOSED: frozenset(),
}

STAGE_VALUES = tuple(stage.value for stage in Stage)


def _allowed_moves_sql() -> str:
    pairs = []
    for source, targets in TRANSITIONS.items():
        for target in sorted(targets):
            source_sql = "from_stage IS NULL" if source is None else f"from_stage = '{source.value}'"
            pairs.append(f"({source_sql} AND to_stage = '{target.value}')")
    return " OR ".join(pairs)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint(f"stage IN {STAGE_VALUES!r}", name="stage_known"),
        sa.CheckConstraint("length(trim(anonymised_name)) > 0", name="anonymised_name_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(30), unique=True)
    # Used everywhere in the portal instead of the child's name ("Child H").
    anonymised_name: Mapped[str] = mapped_column(sa.String(100))
    aware_on: Mapped[date]  # the local authority became aware of the incident
    stage: Mapped[str] = mapped_column(sa.String(30), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    stage_changes: Mapped[list[StageChange]] = relationship(
        back_populates="review", order_by="StageChange.id", cascade="all, delete-orphan"
    )
    rapid_review: Mapped[RapidReview | None] = relationship(back_populates="review", cascade="all, delete-orphan")
    memberships: Mapped[list[Membership]] = relationship(back_populates="review", cascade="all, delete-orphan")

    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)


class StageChange(Base):
    """One move through the lifecycle: who, when and why. The first row records the incident."""

    __tablename__ = "review_stage_changes"
    __table_args__ = (
        sa.CheckConstraint(_allowed_moves_sql(), name="allowed_move"),
        sa.CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(sa.String(30))
    to_stage: Mapped[str] = mapped_column(sa.String(30))
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="stage_changes")
    actor: Mapped[User] = relationship()


class Reg11Criterion(enum.StrEnum):
    """Regulation 11: why a local review is appropriate (recorded with the recommendation)."""

    IMPROVEMENTS_NEEDED = "improvements_needed"
    RECURRENT_THEMES = "recurrent_themes"
    AGENCIES_WORKING_TOGETHER = "agencies_working_together"
    PANEL_CONCLUDED_LOCAL = "panel_concluded_local"

    @property
    def label(self) -> str:
        return {
            Reg11Criterion.IMPROVEMENTS_NEEDED: "The case highlights improvements needed to safeguard children",
            Reg11Criterion.RECURRENT_THEMES: "The case highlights recurrent themes",
            Reg11Criterion.AGENCIES_WORKING_TOGETHER: "Concerns about two or more agencies working together",
            Reg11Criterion.PANEL_CONCLUDED_LOCAL: "The Panel has concluded a local review is more appropriate",
        }[self]


class RapidReview(Base):
    """The Rapid Review's record, one per review, filled in step by step.

    The local authority's notification to the Panel and the Review Advisory Group's recommendation
    to notify are separate events, each with who and when (TIMINGS.md).
    """

    __tablename__ = "rapid_reviews"
    __table_args__ = (
        sa.CheckConstraint("(notified_on IS NULL) = (notified_by IS NULL)", name="notification_has_who_and_when"),
        sa.CheckConstraint(
            "(rag_notify_recommended_on IS NULL) = (rag_notify_recommended_by IS NULL)",
            name="notify_recommendation_has_who_and_when",
        ),
        sa.CheckConstraint(
            "(cspr_recommended_on IS NULL) = (cspr_recommended IS NULL)"
            " AND (cspr_recommended_on IS NULL OR length(trim(cspr_recommendation_reasons)) > 0)",
            name="cspr_recommendation_complete",
        ),
        sa.CheckConstraint(
            "(decided_on IS NULL) = (decision_commission_cspr IS NULL)"
            " AND (decided_on IS NULL) = (decided_by IS NULL)"
            " AND (decided_on IS NULL OR length(trim(decision_reason)) > 0)",
            name="decision_complete",
        ),
        # A Rapid Review cannot start before the notification has been submitted.
        sa.CheckConstraint("rag_meeting_on IS NULL OR notified_on IS NOT NULL", name="meeting_after_notification"),
        sa.CheckConstraint(
            "decided_on IS NULL OR cspr_recommended_on IS NOT NULL", name="decision_after_recommendation"
        ),
        sa.CheckConstraint("outcome_sent_on IS NULL OR decided_on IS NOT NULL", name="outcome_after_decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), unique=True)
    rag_notify_recommended_on: Mapped[date | None]
    rag_notify_recommended_by: Mapped[str | None] = mapped_column(sa.String(200))
    notified_on: Mapped[date | None]
    notified_by: Mapped[str | None] = mapped_column(sa.String(200))
    rag_meeting_on: Mapped[date | None]
    rag_meeting_notes: Mapped[str | None] = mapped_column(sa.Text)
    cspr_recommended_on: Mapped[date | None]
    cspr_recommended: Mapped[bool | None]
    cspr_recommendation_reasons: Mapped[str | None] = mapped_column(sa.Text)
    # Comma-separated Reg11Criterion values that apply.
    reg11_criteria: Mapped[str] = mapped_column(sa.String(200), default="")
    decided_on: Mapped[date | None]
    decided_by: Mapped[str | None] = mapped_column(sa.String(200))
    decision_commission_cspr: Mapped[bool | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    outcome_sent_on: Mapped[date | None]

    review: Mapped[Review] = relationship(back_populates="rapid_review")

    @property
    def criteria(self) -> list[Reg11Criterion]:
        return [Reg11Criterion(value) for value in self.reg11_criteria.split(",") if value]


class AgencyReturnRequest(Base):
    """An agency asked, through its agency lead, for what it knows of the child and family."""

    __tablename__ = "agency_return_requests"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "agency_id", name="uq_agency_return_requests_review_agency"),
        sa.CheckConstraint("due_on >= requested_on", name="due_after_request"),
        sa.CheckConstraint("received_on IS NULL OR received_on >= requested_on", name="received_after_request"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    lead_membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"))
    requested_on: Mapped[date]
    due_on: Mapped[date]
    received_on: Mapped[date | None]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()
    lead_membership: Mapped[Membership] = relationship()


class MembershipKind(enum.StrEnum):
    AUTHOR = "author"
    PANEL_MEMBER = "panel_member"
    AGENCY_LEAD = "agency_lead"
    PRACTITIONER = "practitioner"
    FAMILY = "family"

    @property
    def label(self) -> str:
        return {
            MembershipKind.AUTHOR: "Independent author",
            MembershipKind.PANEL_MEMBER: "Panel member",
            MembershipKind.AGENCY_LEAD: "Agency lead",
            MembershipKind.PRACTITIONER: "Practitioner",
            MembershipKind.FAMILY: "Family member",
        }[self]


MEMBERSHIP_KIND_VALUES = tuple(kind.value for kind in MembershipKind)


class Membership(Base):
    """A person's part in one review. Apart from coordinators, this is the only way to see a review."""

    __tablename__ = "review_memberships"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {MEMBERSHIP_KIND_VALUES!r}", name="kind_known"),
        sa.CheckConstraint("kind <> 'agency_lead' OR agency_id IS NOT NULL", name="agency_lead_has_agency"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        # One open membership of each kind per person per review.
        sa.Index(
            "uq_review_memberships_open",
            "review_id",
            "user_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        ),
        # One independent author at a time, and one lead per agency at a time.
        sa.Index(
            "uq_review_memberships_one_author",
            "review_id",
            unique=True,
            postgresql_where=sa.text("kind = 'author' AND ended_at IS NULL"),
            sqlite_where=sa.text("kind = 'author' AND ended_at IS NULL"),
        ),
        sa.Index(
            "uq_review_memberships_one_agency_lead",
            "review_id",
            "agency_id",
            unique=True,
            postgresql_where=sa.text("kind = 'agency_lead' AND ended_at IS NULL"),
            sqlite_where=sa.text("kind = 'agency_lead' AND ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    end_reason: Mapped[str | None] = mapped_column(sa.Text)

    review: Mapped[Review] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship()
    declaration: Mapped[IndependenceDeclaration | None] = relationship(
        back_populates="membership", cascade="all, delete-orphan"
    )

    @property
    def kind_enum(self) -> MembershipKind:
        return MembershipKind(self.kind)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def grants_access(self) -> bool:
        """An author sees nothing of the review until they have declared their independence."""
        if not self.is_open:
            return False
        return self.kind != MembershipKind.AUTHOR or self.declaration is not None


class IndependenceDeclaration(Base):
    """The author's declaration: no involvement in the case or with the agencies reviewed."""

    __tablename__ = "independence_declarations"
    __table_args__ = (
        sa.CheckConstraint("no_involvement_in_case AND no_involvement_with_agencies", name="independent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"), unique=True)
    no_involvement_in_case: Mapped[bool]
    no_involvement_with_agencies: Mapped[bool]
    statement: Mapped[str | None] = mapped_column(sa.Text)
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)

    membership: Mapped[Membership] = relationship(back_populates="declaration")


class MonitoringKind(enum.StrEnum):
    INFORMATION = "information"
    DRAFT = "draft"


class MonitoringRequest(Base):
    """Regulation 14: the partners' written request to the author for information or a draft."""

    __tablename__ = "monitoring_requests"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('information', 'draft')", name="kind_known"),
        sa.CheckConstraint("due_on >= requested_on", name="due_after_request"),
        sa.CheckConstraint("length(trim(details)) > 0", name="details_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    details: Mapped[str] = mapped_column(sa.Text)
    requested_on: Mapped[date]
    due_on: Mapped[date]
    answered_on: Mapped[date | None]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class ClosureDay(Base):
    """A day the partnership is closed: not a working day for any clock."""

    __tablename__ = "closure_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
