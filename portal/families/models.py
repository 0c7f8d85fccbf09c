"""Family members' details and the updates written for them.

A family member is a person (``User`` with the family role) with a family membership of the review;
this holds what the partnership needs to know to reach and support them. Consent is not here: it
lives in the append-only ledger (``portal.consent``), so editing these details never touches it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.reviews.models import Membership, Review
from portal.security.models import User


class PreferredChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"  # a letter given or posted by a named worker

    @property
    def label(self) -> str:
        return {
            PreferredChannel.EMAIL: "Email",
            PreferredChannel.SMS: "Text message",
            PreferredChannel.LETTER: "Letter through a named worker",
        }[self]


class FamilyMember(Base):
    __tablename__ = "family_members"
    __table_args__ = (
        sa.CheckConstraint(f"preferred_channel IN {one_of(PreferredChannel)}", name="preferred_channel_known"),
        sa.CheckConstraint("preferred_channel <> 'letter' OR letter_worker IS NOT NULL", name="letter_has_worker"),
        sa.CheckConstraint("NOT young_person OR supporting_adult IS NOT NULL", name="young_person_supported"),
        sa.CheckConstraint("length(trim(relationship_to_child)) > 0", name="relationship_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"), unique=True)
    relationship_to_child: Mapped[str] = mapped_column(sa.String(100))
    preferred_channel: Mapped[str] = mapped_column(sa.String(10))
    postal_address: Mapped[str | None] = mapped_column(sa.Text)
    letter_worker: Mapped[str | None] = mapped_column(sa.String(200))  # who takes letters to them
    support_needs: Mapped[str | None] = mapped_column(sa.Text)
    young_person: Mapped[bool] = mapped_column(default=False)
    supporting_adult: Mapped[str | None] = mapped_column(sa.String(200))  # who helps a young person take part
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    membership: Mapped[Membership] = relationship()

    @property
    def person(self) -> User:
        return self.membership.user

    @property
    def review(self) -> Review:
        return self.membership.review

    @property
    def preferred_channel_enum(self) -> PreferredChannel:
        return PreferredChannel(self.preferred_channel)


class FamilyUpdate(Base):
    """News about a review written for its family members; each one's delivery is an outbox message."""

    __tablename__ = "family_updates"
    __table_args__ = (
        sa.CheckConstraint("length(trim(subject)) > 0", name="subject_given"),
        sa.CheckConstraint("length(trim(body)) > 0", name="body_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)  # plain text: it goes by email and text message as written
    written_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship()
    written_by: Mapped[User] = relationship()


class ContributionStatus(enum.StrEnum):
    DRAFT = "draft"  # only the family member sees it
    SUBMITTED = "submitted"  # the author and coordinators see it; still editable
    ACKNOWLEDGED = "acknowledged"  # the author has read it: locked

    @property
    def label(self) -> str:
        return {
            ContributionStatus.DRAFT: "Draft",
            ContributionStatus.SUBMITTED: "Sent",
            ContributionStatus.ACKNOWLEDGED: "Read by the author",
        }[self]


class FamilyContribution(Base):
    """What a family member tells the review in their own words, with any files they add."""

    __tablename__ = "family_contributions"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {one_of(ContributionStatus)}", name="contribution_status_known"),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="contribution_submitted_when"),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name="contribution_acknowledged_by",
        ),
        sa.Index("ix_family_contributions_review_status", "review_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"), index=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, default="")  # clean rich text
    status: Mapped[str] = mapped_column(sa.String(20), default=ContributionStatus.DRAFT.value)
    # Who helped a young person take part, as it stood when they sent it.
    supporting_adult: Mapped[str | None] = mapped_column(sa.String(200))
    # The author's request it answers, if any (a family member may also write without being asked).
    request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contribution_requests.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    membership: Mapped[Membership] = relationship()
    review: Mapped[Review] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()
    files: Mapped[list[ContributionFile]] = relationship(
        back_populates="contribution", order_by="ContributionFile.id", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self) -> ContributionStatus:
        return ContributionStatus(self.status)

    @property
    def editable(self) -> bool:
        return self.status != ContributionStatus.ACKNOWLEDGED.value

    @property
    def author_of_it(self) -> User:
        return self.membership.user


class ContributionFile(Base):
    """A file added to a contribution, kept under a random name in the upload folder."""

    __tablename__ = "contribution_files"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="file_size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(sa.ForeignKey("family_contributions.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))  # shown only, never used on disk
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    detected_type: Mapped[str] = mapped_column(sa.String(20))
    size_bytes: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    contribution: Mapped[FamilyContribution] = relationship(back_populates="files")
