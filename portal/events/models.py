"""Learning events, registrations (with the waiting list) and practitioners' reflections."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.reviews.models import Review
from portal.security.models import User


class EventKind(enum.StrEnum):
    PRACTITIONER_EVENT = "practitioner_event"
    BRIEFING = "briefing"
    TRAINING = "training"

    @property
    def label(self) -> str:
        return {
            EventKind.PRACTITIONER_EVENT: "Practitioner event",
            EventKind.BRIEFING: "Learning briefing",
            EventKind.TRAINING: "Training",
        }[self]


class Audience(enum.StrEnum):
    ALL_PRACTITIONERS = "all_practitioners"
    REVIEW_MEMBERS = "review_members"  # only practitioners taking part in the event's review

    @property
    def label(self) -> str:
        return {
            Audience.ALL_PRACTITIONERS: "All practitioners",
            Audience.REVIEW_MEMBERS: "Only practitioners taking part in the review",
        }[self]


class Mode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {Mode.IN_PERSON: "In person", Mode.ONLINE: "Online"}[self]


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {EventStatus.DRAFT: "Draft", EventStatus.PUBLISHED: "Published", EventStatus.CANCELLED: "Cancelled"}[
            self
        ]


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            RegistrationStatus.CONFIRMED: "Place confirmed",
            RegistrationStatus.WAITING: "On the waiting list",
            RegistrationStatus.CANCELLED: "Cancelled",
        }[self]


class Attendance(enum.StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {Attendance.ATTENDED: "Attended", Attendance.NO_SHOW: "Did not attend"}[self]


class ReflectionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Sharing(enum.StrEnum):
    PRIVATE = "private"  # kept to themselves
    NAMED = "named"  # shared with the review's author under their name
    ANONYMOUS = "anonymous"  # shared with the author showing only their agency and role

    @property
    def label(self) -> str:
        return {
            Sharing.PRIVATE: "Not shared",
            Sharing.NAMED: "Shared with the author, with your name",
            Sharing.ANONYMOUS: "Shared with the author without your name",
        }[self]


def _new_uid() -> str:
    return f"{uuid.uuid4()}@safeguarding-review-portal"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {one_of(EventKind)}", name="kind_known"),
        sa.CheckConstraint(f"audience IN {one_of(Audience)}", name="audience_known"),
        sa.CheckConstraint(f"mode IN {one_of(Mode)}", name="mode_known"),
        sa.CheckConstraint(f"status IN {one_of(EventStatus)}", name="status_known"),
        sa.CheckConstraint("audience <> 'review_members' OR review_id IS NOT NULL", name="members_of_a_review"),
        sa.CheckConstraint("kind <> 'practitioner_event' OR review_id IS NOT NULL", name="practitioner_event_review"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("registration_closes_at > registration_opens_at", name="registration_window"),
        sa.CheckConstraint("length(trim(title)) > 0", name="title_given"),
        # The published list filters by status and sorts by start.
        sa.Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The calendar entry's identity: the same for every message about this event, forever.
    uid: Mapped[str] = mapped_column(sa.String(100), unique=True, default=_new_uid)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary_html: Mapped[str] = mapped_column(sa.Text, default="")  # cleaned by portal.richtext on the way in
    kind: Mapped[str] = mapped_column(sa.String(20))
    audience: Mapped[str] = mapped_column(sa.String(20), default=Audience.ALL_PRACTITIONERS.value)
    review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(sa.String(10))
    venue: Mapped[str | None] = mapped_column(sa.Text)
    accessibility: Mapped[str | None] = mapped_column(sa.Text)
    joining_link: Mapped[str | None] = mapped_column(sa.String(500))  # shown only to confirmed attendees
    capacity: Mapped[int]
    registration_opens_at: Mapped[datetime]
    registration_closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(10), default=EventStatus.DRAFT.value)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review | None] = relationship()
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", order_by="Registration.queue_number"
    )

    @property
    def kind_enum(self) -> EventKind:
        return EventKind(self.kind)

    @property
    def status_enum(self) -> EventStatus:
        return EventStatus(self.status)

    @property
    def mode_enum(self) -> Mode:
        return Mode(self.mode)

    @property
    def audience_enum(self) -> Audience:
        return Audience(self.audience)

    def registration_open(self, now: datetime) -> bool:
        return (
            self.status == EventStatus.PUBLISHED.value
            and self.registration_opens_at <= now < self.registration_closes_at
            and now < self.starts_at
        )


class Registration(Base):
    """One person's place (or place in the queue) at one event; re-registering reuses the row."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "user_id", name="uq_event_registrations_event_person"),
        sa.UniqueConstraint("event_id", "queue_number", name="uq_event_registrations_event_queue"),
        sa.CheckConstraint(f"status IN {one_of(RegistrationStatus)}", name="status_known"),
        sa.CheckConstraint(f"attendance IS NULL OR attendance IN {one_of(Attendance)}", name="attendance_known"),
        sa.CheckConstraint("attendance IS NULL OR status = 'confirmed'", name="attendance_needs_place"),
        sa.CheckConstraint("calendar_sequence >= 0", name="calendar_sequence_not_negative"),
        sa.Index("ix_event_registrations_event_status", "event_id", "status", "queue_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10))
    # Taken under the event's row lock, so it follows the order registrations were committed; the
    # waiting list is served in this order.
    queue_number: Mapped[int]
    # Reasonable adjustments: seen only by coordinators.
    access_needs: Mapped[str | None] = mapped_column(sa.Text)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attendance: Mapped[str | None] = mapped_column(sa.String(10))
    attendance_recorded_at: Mapped[datetime | None]
    attendance_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # SEQUENCE of the last calendar message this person was sent, so each one replaces the last.
    calendar_sequence: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="registrations")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def status_enum(self) -> RegistrationStatus:
        return RegistrationStatus(self.status)

    @property
    def attendance_enum(self) -> Attendance | None:
        return Attendance(self.attendance) if self.attendance else None


class Reflection(Base):
    """A practitioner's own reflection: private while a draft, and afterwards unless they share it."""

    __tablename__ = "reflections"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {one_of(ReflectionStatus)}", name="status_known"),
        sa.CheckConstraint(f"sharing IN {one_of(Sharing)}", name="sharing_known"),
        sa.CheckConstraint("event_id IS NOT NULL OR review_id IS NOT NULL", name="about_something"),
        sa.CheckConstraint("status = 'submitted' OR sharing = 'private'", name="drafts_private"),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        sa.CheckConstraint("sharing = 'private' OR review_id IS NOT NULL", name="shared_with_a_review"),
        sa.CheckConstraint("length(trim(title)) > 0", name="title_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id"), index=True)
    # The review it is about: chosen directly, or the event's review.
    review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text, default="")  # cleaned by portal.richtext on the way in
    status: Mapped[str] = mapped_column(sa.String(10), default=ReflectionStatus.DRAFT.value)
    sharing: Mapped[str] = mapped_column(sa.String(10), default=Sharing.PRIVATE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship()
    event: Mapped[Event | None] = relationship()
    review: Mapped[Review | None] = relationship()

    @property
    def sharing_enum(self) -> Sharing:
        return Sharing(self.sharing)

    @property
    def is_draft(self) -> bool:
        return self.status == ReflectionStatus.DRAFT.value
