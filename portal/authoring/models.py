"""What the author gathers and writes: requests and their answers, the inbox, drafts, protected terms.

Family members answer a request with a family contribution (``portal.families``), in their own pages
and words; everyone else answers with a ``RequestAnswer``. The inbox keeps the author's own state
(read, acknowledged, themes, private notes) about each thing gathered, whatever its source.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, one_of, utcnow
from portal.reviews.models import Membership, Review
from portal.security.models import User


class RecipientKind(enum.StrEnum):
    """Whom a request goes to: the kind of their membership of the review when they were asked."""

    AGENCY_LEAD = "agency_lead"
    PRACTITIONER = "practitioner"
    PANEL_MEMBER = "panel_member"
    FAMILY = "family"

    @property
    def label(self) -> str:
        return {
            RecipientKind.AGENCY_LEAD: "Agency lead",
            RecipientKind.PRACTITIONER: "Practitioner",
            RecipientKind.PANEL_MEMBER: "Panel member",
            RecipientKind.FAMILY: "Family member",
        }[self]


class RequestStatus(enum.StrEnum):
    OPEN = "open"  # waiting for an answer
    ANSWERED = "answered"  # the answer has been sent
    WITHDRAWN = "withdrawn"  # the author no longer needs it

    @property
    def label(self) -> str:
        return {
            RequestStatus.OPEN: "Waiting for an answer",
            RequestStatus.ANSWERED: "Answered",
            RequestStatus.WITHDRAWN: "Withdrawn",
        }[self]


class ContributionRequest(Base):
    """The author (or a coordinator) asks one person, through their membership, for a contribution."""

    __tablename__ = "contribution_requests"
    __table_args__ = (
        sa.CheckConstraint(f"recipient_kind IN {one_of(RecipientKind)}", name="recipient_kind_known"),
        sa.CheckConstraint(f"status IN {one_of(RequestStatus)}", name="request_status_known"),
        sa.CheckConstraint("length(trim(prompt)) > 0", name="prompt_given"),
        sa.CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL", name="answered_when"),
        sa.CheckConstraint("status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_when"),
        # A person's open requests (their home page); a review's requests by status and due date.
        sa.Index("ix_contribution_requests_recipient_status", "recipient_id", "status"),
        sa.Index("ix_contribution_requests_review_status_due", "review_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recipient_kind: Mapped[str] = mapped_column(sa.String(20))
    prompt: Mapped[str] = mapped_column(sa.Text)  # plain text: the question, as asked
    guidance: Mapped[str | None] = mapped_column(sa.Text)  # clean rich text, optional
    due_on: Mapped[date]
    asked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(20), default=RequestStatus.OPEN.value)
    answered_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    review: Mapped[Review] = relationship()
    membership: Mapped[Membership] = relationship()
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    answer: Mapped[RequestAnswer | None] = relationship(back_populates="request")

    @property
    def status_enum(self) -> RequestStatus:
        return RequestStatus(self.status)

    @property
    def recipient_kind_enum(self) -> RecipientKind:
        return RecipientKind(self.recipient_kind)


class AnswerStatus(enum.StrEnum):
    DRAFT = "draft"  # only the person answering sees it
    SUBMITTED = "submitted"  # sent to the author; still editable
    ACKNOWLEDGED = "acknowledged"  # the author has acknowledged it: locked

    @property
    def label(self) -> str:
        return {
            AnswerStatus.DRAFT: "Draft",
            AnswerStatus.SUBMITTED: "Sent",
            AnswerStatus.ACKNOWLEDGED: "Acknowledged by the author",
        }[self]


class RequestAnswer(Base):
    """A professional's answer to a request: text and files, a draft until they send it."""

    __tablename__ = "request_answers"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {one_of(AnswerStatus)}", name="answer_status_known"),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="answer_submitted_when"),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name="answer_acknowledged_by",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("contribution_requests.id"), unique=True)
    text: Mapped[str] = mapped_column(sa.Text, default="")  # clean rich text
    status: Mapped[str] = mapped_column(sa.String(20), default=AnswerStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    request: Mapped[ContributionRequest] = relationship(back_populates="answer")
    acknowledged_by: Mapped[User | None] = relationship()
    files: Mapped[list[AnswerFile]] = relationship(
        back_populates="answer", order_by="AnswerFile.id", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self) -> AnswerStatus:
        return AnswerStatus(self.status)

    @property
    def editable(self) -> bool:
        return self.status != AnswerStatus.ACKNOWLEDGED.value


class AnswerFile(Base):
    """A file added to an answer, kept under a random name in the upload folder."""

    __tablename__ = "request_answer_files"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="answer_file_size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("request_answers.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))  # shown only, never used on disk
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    detected_type: Mapped[str] = mapped_column(sa.String(20))
    size_bytes: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    answer: Mapped[RequestAnswer] = relationship(back_populates="files")


class PanelNote(Base):
    """A panel member's note for the author about the review."""

    __tablename__ = "panel_notes"
    __table_args__ = (sa.CheckConstraint("length(trim(text)) > 0", name="panel_note_given"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("review_memberships.id"))
    text: Mapped[str] = mapped_column(sa.Text)  # clean rich text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    membership: Mapped[Membership] = relationship()


# The inbox -------------------------------------------------------------------------------------------


class InboxSource(enum.StrEnum):
    AGENCY = "agency"  # agency information: an agency lead's answer
    PRACTITIONER = "practitioner"  # a practitioner's answer or shared reflection
    PANEL = "panel"  # a panel member's answer or note
    FAMILY = "family"  # a family member's contribution

    @property
    def label(self) -> str:
        return {
            InboxSource.AGENCY: "Agency information",
            InboxSource.PRACTITIONER: "Practitioners",
            InboxSource.PANEL: "Panel",
            InboxSource.FAMILY: "Family",
        }[self]


class InboxStatus(enum.StrEnum):
    NEW = "new"
    READ = "read"
    ACKNOWLEDGED = "acknowledged"  # the thing itself is locked against further change

    @property
    def label(self) -> str:
        return {InboxStatus.NEW: "New", InboxStatus.READ: "Read", InboxStatus.ACKNOWLEDGED: "Acknowledged"}[self]


INBOX_SOURCE_COLUMNS = ("request_answer_id", "reflection_id", "family_contribution_id", "panel_note_id")
EXACTLY_ONE_SOURCE = (
    " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in INBOX_SOURCE_COLUMNS) + " = 1"
)


class InboxItem(Base):
    """The author's record of one thing gathered for the review: exactly one of the four sources."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        sa.CheckConstraint(f"source IN {one_of(InboxSource)}", name="inbox_source_known"),
        sa.CheckConstraint(f"status IN {one_of(InboxStatus)}", name="inbox_status_known"),
        sa.CheckConstraint(EXACTLY_ONE_SOURCE, name="inbox_one_source"),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name="inbox_acknowledged_by",
        ),
        # The inbox lists a review's items, filtered by source and status, newest first.
        sa.Index("ix_inbox_items_review_received", "review_id", "received_at"),
        sa.Index("ix_inbox_items_review_source_status", "review_id", "source", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    source: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default=InboxStatus.NEW.value)
    received_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    request_answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("request_answers.id"), unique=True)
    reflection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reflections.id"), unique=True)
    family_contribution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("family_contributions.id"), unique=True)
    panel_note_id: Mapped[int | None] = mapped_column(sa.ForeignKey("panel_notes.id"), unique=True)

    themes: Mapped[list[Theme]] = relationship(secondary="inbox_item_themes", order_by="Theme.name")
    notes: Mapped[list[InboxNote]] = relationship(back_populates="item", order_by="InboxNote.id")

    @property
    def source_enum(self) -> InboxSource:
        return InboxSource(self.source)

    @property
    def status_enum(self) -> InboxStatus:
        return InboxStatus(self.status)


class Theme(Base):
    """A theme the author tags things with, per review."""

    __tablename__ = "themes"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "name", name="uq_themes_review_name"),
        sa.CheckConstraint("length(trim(name)) > 0", name="theme_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    name: Mapped[str] = mapped_column(sa.String(100))


inbox_item_themes = sa.Table(
    "inbox_item_themes",
    Base.metadata,
    sa.Column("inbox_item_id", sa.ForeignKey("inbox_items.id"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("themes.id"), primary_key=True, index=True),
)


class InboxNote(Base):
    """The author's private note on something gathered: seen by the author and coordinators only."""

    __tablename__ = "inbox_notes"
    __table_args__ = (sa.CheckConstraint("length(trim(text)) > 0", name="inbox_note_given"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_item_id: Mapped[int] = mapped_column(sa.ForeignKey("inbox_items.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)  # plain text
    written_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[InboxItem] = relationship(back_populates="notes")
    written_by: Mapped[User] = relationship()


# Drafts of the report ----------------------------------------------------------------------------------


class DraftKind(enum.StrEnum):
    WRITTEN = "written"  # written in the portal, section by section
    UPLOADED = "uploaded"  # a PDF or Word document, with its text as sections

    @property
    def label(self) -> str:
        return {DraftKind.WRITTEN: "Written in the portal", DraftKind.UPLOADED: "Uploaded document"}[self]


class Draft(Base):
    """One version of the report. Editable until shared or marked final; after that, never changed."""

    __tablename__ = "report_drafts"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "version", name="uq_report_drafts_review_version"),
        sa.CheckConstraint(f"kind IN {one_of(DraftKind)}", name="draft_kind_known"),
        sa.CheckConstraint("version > 0", name="draft_version_positive"),
        sa.CheckConstraint("kind <> 'uploaded' OR stored_name IS NOT NULL", name="uploaded_draft_has_file"),
        sa.CheckConstraint("final_at IS NULL OR final_by_id IS NOT NULL", name="final_by_someone"),
        # One final version per review.
        sa.Index(
            "uq_report_drafts_one_final",
            "review_id",
            unique=True,
            postgresql_where=sa.text("final_at IS NOT NULL"),
            sqlite_where=sa.text("final_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set the first time the version is shared for pre-publication review: from then on it is frozen.
    shared_at: Mapped[datetime | None]
    final_at: Mapped[datetime | None]
    final_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # An uploaded document, kept like any upload.
    original_name: Mapped[str | None] = mapped_column(sa.String(255))
    stored_name: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    detected_type: Mapped[str | None] = mapped_column(sa.String(20))

    review: Mapped[Review] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    final_by: Mapped[User | None] = relationship(foreign_keys=[final_by_id])
    sections: Mapped[list[DraftSection]] = relationship(
        back_populates="draft", order_by="DraftSection.position", cascade="all, delete-orphan"
    )

    @property
    def kind_enum(self) -> DraftKind:
        return DraftKind(self.kind)

    @property
    def frozen(self) -> bool:
        """Shared or final: the version is part of the record and cannot change."""
        return self.shared_at is not None or self.final_at is not None


class DraftSection(Base):
    __tablename__ = "report_draft_sections"
    __table_args__ = (
        sa.UniqueConstraint("draft_id", "position", name="uq_report_draft_sections_position"),
        sa.CheckConstraint("length(trim(heading)) > 0", name="section_heading_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("report_drafts.id"))
    position: Mapped[int]
    heading: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")  # clean rich text

    draft: Mapped[Draft] = relationship(back_populates="sections")


# The anonymisation gate --------------------------------------------------------------------------------


class TermCategory(enum.StrEnum):
    CHILD_NAME = "child_name"
    FAMILY_NAME = "family_name"
    ADDRESS = "address"
    SCHOOL = "school"
    WORKPLACE = "workplace"
    DATE_OF_BIRTH = "date_of_birth"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            TermCategory.CHILD_NAME: "Child's name",
            TermCategory.FAMILY_NAME: "Family member's name",
            TermCategory.ADDRESS: "Address",
            TermCategory.SCHOOL: "School or nursery",
            TermCategory.WORKPLACE: "Workplace",
            TermCategory.DATE_OF_BIRTH: "Date of birth",
            TermCategory.OTHER: "Other identifying detail",
        }[self]


class ProtectedTerm(Base):
    """Something that must not appear in the published report; seen only by the author and coordinators."""

    __tablename__ = "protected_terms"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "term", name="uq_protected_terms_review_term"),
        sa.CheckConstraint(f"category IN {one_of(TermCategory)}", name="term_category_known"),
        sa.CheckConstraint("length(trim(term)) > 0", name="term_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), index=True)
    term: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(20))
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def category_enum(self) -> TermCategory:
        return TermCategory(self.category)


class HitWaiver(Base):
    """A coordinator's decision that one specific hit may stay, with the reason. Never edited."""

    __tablename__ = "anonymisation_waivers"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "fingerprint", name="uq_anonymisation_waivers_review_fingerprint"),
        sa.CheckConstraint("length(trim(reason)) > 0", name="waiver_reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(20))  # the detector's kind of hit
    matched: Mapped[str] = mapped_column(sa.String(200))  # the text waived, for the record
    reason: Mapped[str] = mapped_column(sa.Text)
    waived_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    waived_at: Mapped[datetime] = mapped_column(default=utcnow)

    waived_by: Mapped[User] = relationship()


# Pre-publication review ---------------------------------------------------------------------------------


draft_share_recipients = sa.Table(
    "draft_share_recipients",
    Base.metadata,
    sa.Column("share_id", sa.ForeignKey("draft_shares.id"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True, index=True),
)


class DraftShare(Base):
    """A version shared with named people (panel members, family members) to read during a window."""

    __tablename__ = "draft_shares"
    __table_args__ = (sa.CheckConstraint("closes_at > opens_at", name="share_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("report_drafts.id"), index=True)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    message: Mapped[str | None] = mapped_column(sa.Text)  # plain text from the author to the readers
    shared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft: Mapped[Draft] = relationship()
    shared_by: Mapped[User] = relationship()
    recipients: Mapped[list[User]] = relationship(secondary=draft_share_recipients, order_by="User.name")


class DraftRead(Base):
    """Who has read which version, and when: for the coordinator."""

    __tablename__ = "draft_reads"
    __table_args__ = (sa.UniqueConstraint("draft_id", "user_id", name="uq_draft_reads_draft_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("report_drafts.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    first_read_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_read_at: Mapped[datetime] = mapped_column(default=utcnow)
    times: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship()


class DraftComment(Base):
    """A reader's comment on a section (or the whole version), the author's reply, and how it was resolved."""

    __tablename__ = "draft_comments"
    __table_args__ = (
        sa.CheckConstraint("length(trim(text)) > 0", name="comment_given"),
        sa.CheckConstraint("replied_at IS NULL OR (reply IS NOT NULL AND replied_by_id IS NOT NULL)", name="reply_by"),
        sa.CheckConstraint(
            "resolved_at IS NULL OR (resolved_by_id IS NOT NULL AND change_made IS NOT NULL)", name="resolved_with"
        ),
        sa.Index("ix_draft_comments_draft_resolved", "draft_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("report_drafts.id"))
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report_draft_sections.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)  # plain text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    replied_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    change_made: Mapped[str | None] = mapped_column(sa.Text)  # what changed in the report because of it

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    section: Mapped[DraftSection | None] = relationship()


class ResponseKind(enum.StrEnum):
    """A family member's overall response to a version they read."""

    ACCURATE = "accurate"
    CONCERNS = "concerns"
    ADD_SOMETHING = "add_something"

    @property
    def label(self) -> str:
        return {
            ResponseKind.ACCURATE: "This is accurate",
            ResponseKind.CONCERNS: "I have concerns",
            ResponseKind.ADD_SOMETHING: "I want to add something",
        }[self]


class DraftResponse(Base):
    """One overall response; a later one replaces an earlier one as the person's answer, both kept."""

    __tablename__ = "draft_responses"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {one_of(ResponseKind)}", name="response_kind_known"),
        sa.Index("ix_draft_responses_draft_user", "draft_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("report_drafts.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str | None] = mapped_column(sa.Text)  # plain text, optional
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def kind_enum(self) -> ResponseKind:
        return ResponseKind(self.kind)


# Publication ------------------------------------------------------------------------------------------


class PublicationDecision(enum.StrEnum):
    PUBLISH = "publish"
    DO_NOT_PUBLISH = "do_not_publish"  # the reason is recorded; information about improvements is published

    @property
    def label(self) -> str:
        return {
            PublicationDecision.PUBLISH: "Publish the report",
            PublicationDecision.DO_NOT_PUBLISH: "Do not publish the report",
        }[self]


class Publication(Base):
    """The partnership's decision about publishing a review's report, its dates, and the public page."""

    __tablename__ = "publications"
    __table_args__ = (
        sa.CheckConstraint(f"decision IN {one_of(PublicationDecision)}", name="decision_known"),
        sa.CheckConstraint("decision <> 'publish' OR draft_id IS NOT NULL", name="publish_a_final_version"),
        sa.CheckConstraint(
            "decision <> 'do_not_publish' OR (reason IS NOT NULL AND length(trim(reason)) > 0)", name="reason_given"
        ),
        sa.CheckConstraint(
            "published_at IS NULL OR (public_slug IS NOT NULL AND online_until IS NOT NULL)", name="published_where"
        ),
        sa.CheckConstraint(
            "short_notice_acknowledged_at IS NULL OR short_notice_acknowledged_by_id IS NOT NULL",
            name="short_notice_acknowledged_by",
        ),
        sa.CheckConstraint(
            "taken_down_at IS NULL OR (published_at IS NOT NULL AND taken_down_by_id IS NOT NULL)",
            name="taken_down_by",
        ),
        # The public list: what is online, newest publication first.
        sa.Index("ix_publications_published", "published_at", "publication_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id"), unique=True)
    decision: Mapped[str] = mapped_column(sa.String(20))
    draft_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report_drafts.id"))  # the final version
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why not publish (internal)
    improvements: Mapped[str | None] = mapped_column(sa.Text)  # clean rich text, published instead
    learning_summary: Mapped[str | None] = mapped_column(sa.Text)  # clean rich text, on the public page
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_to_panel_on: Mapped[date | None]
    sent_to_secretary_of_state_on: Mapped[date | None]
    publication_date: Mapped[date | None]
    short_notice_acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    short_notice_acknowledged_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    public_slug: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    online_until: Mapped[date | None]  # at least the period in TIMINGS.md after publication
    nspcc_sent_on: Mapped[date | None]
    # Taken down once its time online was up: published_at stays, as the record of publication.
    taken_down_at: Mapped[datetime | None]
    taken_down_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    review: Mapped[Review] = relationship()
    draft: Mapped[Draft | None] = relationship()
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])

    @property
    def decision_enum(self) -> PublicationDecision:
        return PublicationDecision(self.decision)

    @property
    def online(self) -> bool:
        return self.published_at is not None and self.taken_down_at is None
