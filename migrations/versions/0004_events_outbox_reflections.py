"""learning events, registrations, reflections and the notifications outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:10:42.601816
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(length=100), nullable=True),
        sa.Column("attachment_type", sa.String(length=100), nullable=True),
        sa.Column("attachment", sa.Text(), nullable=True),
        sa.Column("redact_after_send", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("send_after", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('email')", name=op.f("ck_outbox_messages_channel_known")),
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name=op.f("ck_outbox_messages_sent_has_time")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'withdrawn')", name=op.f("ck_outbox_messages_status_known")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts_not_negative")),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"], name=op.f("fk_outbox_messages_recipient_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_outbox_messages_due", ["status", "send_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("venue", sa.Text(), nullable=True),
        sa.Column("accessibility", sa.Text(), nullable=True),
        sa.Column("joining_link", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registration_opens_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registration_closes_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience <> 'review_members' OR review_id IS NOT NULL", name=op.f("ck_events_members_of_a_review")
        ),
        sa.CheckConstraint(
            "audience IN ('all_practitioners', 'review_members')", name=op.f("ck_events_audience_known")
        ),
        sa.CheckConstraint(
            "kind <> 'practitioner_event' OR review_id IS NOT NULL", name=op.f("ck_events_practitioner_event_review")
        ),
        sa.CheckConstraint("kind IN ('practitioner_event', 'briefing', 'training')", name=op.f("ck_events_kind_known")),
        sa.CheckConstraint("mode IN ('in_person', 'online')", name=op.f("ck_events_mode_known")),
        sa.CheckConstraint("status IN ('draft', 'published', 'cancelled')", name=op.f("ck_events_status_known")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_events_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_events_title_given")),
        sa.CheckConstraint(
            "registration_closes_at > registration_opens_at", name=op.f("ck_events_registration_window")
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_events_created_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_events_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_events_uid")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_review_id"), ["review_id"], unique=False)
        batch_op.create_index("ix_events_status_starts_at", ["status", "starts_at"], unique=False)

    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("queue_number", sa.Integer(), nullable=False),
        sa.Column("access_needs", sa.Text(), nullable=True),
        sa.Column("registered_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attendance", sa.String(length=10), nullable=True),
        sa.Column("attendance_recorded_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attendance_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("calendar_sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "attendance IS NULL OR attendance IN ('attended', 'no_show')",
            name=op.f("ck_event_registrations_attendance_known"),
        ),
        sa.CheckConstraint(
            "attendance IS NULL OR status = 'confirmed'", name=op.f("ck_event_registrations_attendance_needs_place")
        ),
        sa.CheckConstraint(
            "status IN ('confirmed', 'waiting', 'cancelled')", name=op.f("ck_event_registrations_status_known")
        ),
        sa.CheckConstraint(
            "calendar_sequence >= 0", name=op.f("ck_event_registrations_calendar_sequence_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["attendance_recorded_by_id"],
            ["users.id"],
            name=op.f("fk_event_registrations_attendance_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_event_registrations_event_id_events")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_event_registrations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint("event_id", "queue_number", name="uq_event_registrations_event_queue"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_event_registrations_event_person"),
    )
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_registrations_event_status", ["event_id", "status", "queue_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_registrations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sharing", sa.String(length=10), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "sharing = 'private' OR review_id IS NOT NULL", name=op.f("ck_reflections_shared_with_a_review")
        ),
        sa.CheckConstraint("sharing IN ('private', 'named', 'anonymous')", name=op.f("ck_reflections_sharing_known")),
        sa.CheckConstraint(
            "status = 'draft' OR submitted_at IS NOT NULL", name=op.f("ck_reflections_submitted_has_time")
        ),
        sa.CheckConstraint("status = 'submitted' OR sharing = 'private'", name=op.f("ck_reflections_drafts_private")),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f("ck_reflections_status_known")),
        sa.CheckConstraint(
            "event_id IS NOT NULL OR review_id IS NOT NULL", name=op.f("ck_reflections_about_something")
        ),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_reflections_title_given")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_reflections_author_id_users")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_reflections_event_id_events")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_reflections_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
    )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reflections_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reflections_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reflections_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflections_review_id"))
        batch_op.drop_index(batch_op.f("ix_reflections_event_id"))
        batch_op.drop_index(batch_op.f("ix_reflections_author_id"))

    op.drop_table("reflections")
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_registrations_user_id"))
        batch_op.drop_index("ix_event_registrations_event_status")

    op.drop_table("event_registrations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_status_starts_at")
        batch_op.drop_index(batch_op.f("ix_events_review_id"))

    op.drop_table("events")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_recipient_id"))
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_created_at"))

    op.drop_table("outbox_messages")
