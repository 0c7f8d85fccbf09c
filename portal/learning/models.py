"""Learning points and their actions, progress with evidence, and the one-page briefing per review."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.reviews.models import Review
from portal.security.models import Agency, User


class LearningPoint(Base):
    """One thing the review found the partnership must learn, in order."""

    __tablename__ = "learning_points"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "position", name="uq_learning_points_review_position"),
        sa.CheckConstraint("length(trim(text)) > 0", name="learning_point_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)  # plain text
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship()
    actions: Mapped[list[LearningAction]] = relationship(
        back_populates="learning_point", order_by="LearningAction.due_on, LearningAction.id"
    )


class ActionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {
            ActionStatus.NOT_STARTED: "Not started",
            ActionStatus.IN_PROGRESS: "In progress",
            ActionStatus.COMPLETE: "Complete",
        }[self]


class LearningAction(Base):
    """What an agency will do about a learning point, who leads it and by when."""

    __tablename__ = "learning_actions"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {one_of(ActionStatus)}", name="action_status_known"),
        sa.CheckConstraint("status <> 'complete' OR completed_on IS NOT NULL", name="completed_when"),
        sa.CheckConstraint("length(trim(description)) > 0", name="action_described"),
        # Overdue actions: open ones by due date.
        sa.Index("ix_learning_actions_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learning_point_id: Mapped[int] = mapped_column(sa.ForeignKey("learning_points.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    lead_name: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(20), default=ActionStatus.NOT_STARTED.value)
    completed_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learning_point: Mapped[LearningPoint] = relationship(back_populates="actions")
    agency: Mapped[Agency] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(back_populates="action", order_by="ActionUpdate.id.desc()")

    @property
    def status_enum(self) -> ActionStatus:
        return ActionStatus(self.status)


class ActionUpdate(Base):
    """Progress on an action, optionally with a file as evidence (kept like any upload)."""

    __tablename__ = "learning_action_updates"
    __table_args__ = (
        sa.CheckConstraint("length(trim(text)) > 0", name="update_given"),
        sa.CheckConstraint("(evidence_stored_name IS NULL) = (evidence_original_name IS NULL)", name="evidence_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("learning_actions.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)  # plain text
    status_after: Mapped[str] = mapped_column(sa.String(20))  # the action's status this update set
    evidence_original_name: Mapped[str | None] = mapped_column(sa.String(255))
    evidence_stored_name: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    evidence_detected_type: Mapped[str | None] = mapped_column(sa.String(20))
    written_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[LearningAction] = relationship(back_populates="updates")
    written_by: Mapped[User] = relationship()


class Briefing(Base):
    """The one-page briefing for practitioners about a review's learning."""

    __tablename__ = "briefings"
    __table_args__ = (sa.CheckConstraint("length(trim(title)) > 0", name="briefing_titled"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")  # clean rich text
    written_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # shown to practitioners (and publicly with the report) from then

    review: Mapped[Review] = relationship()


class BriefingRead(Base):
    """A practitioner's "I have read this", with their agency at the time for read rates per agency."""

    __tablename__ = "briefing_reads"
    __table_args__ = (
        sa.UniqueConstraint("briefing_id", "user_id", name="uq_briefing_reads_briefing_user"),
        sa.Index("ix_briefing_reads_briefing_agency", "briefing_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(sa.ForeignKey("briefings.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


# Learning events that teach a review's learning points.
event_learning_points = sa.Table(
    "event_learning_points",
    Base.metadata,
    sa.Column("event_id", sa.ForeignKey("events.id"), primary_key=True),
    sa.Column("learning_point_id", sa.ForeignKey("learning_points.id"), primary_key=True, index=True),
)
