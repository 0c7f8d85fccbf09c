"""pre-publication review, publication and the action plan

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 01:37:03.848224
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_briefings_briefing_titled")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_briefings_review_id_reviews")),
        sa.ForeignKeyConstraint(["written_by_id"], ["users.id"], name=op.f("fk_briefings_written_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefings")),
        sa.UniqueConstraint("review_id", name=op.f("uq_briefings_review_id")),
    )
    op.create_table(
        "learning_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(text)) > 0", name=op.f("ck_learning_points_learning_point_given")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_learning_points_created_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_learning_points_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_points")),
        sa.UniqueConstraint("review_id", "position", name="uq_learning_points_review_position"),
    )
    op.create_table(
        "briefing_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("read_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_briefing_reads_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["briefing_id"], ["briefings.id"], name=op.f("fk_briefing_reads_briefing_id_briefings")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_briefing_reads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_reads")),
        sa.UniqueConstraint("briefing_id", "user_id", name="uq_briefing_reads_briefing_user"),
    )
    with op.batch_alter_table("briefing_reads", schema=None) as batch_op:
        batch_op.create_index("ix_briefing_reads_briefing_agency", ["briefing_id", "agency_id"], unique=False)

    op.create_table(
        "draft_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_read_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_read_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["report_drafts.id"], name=op.f("fk_draft_reads_draft_id_report_drafts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_draft_reads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_reads")),
        sa.UniqueConstraint("draft_id", "user_id", name="uq_draft_reads_draft_user"),
    )
    with op.batch_alter_table("draft_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_reads_user_id"), ["user_id"], unique=False)

    op.create_table(
        "draft_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('accurate', 'concerns', 'add_something')", name=op.f("ck_draft_responses_response_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["report_drafts.id"], name=op.f("fk_draft_responses_draft_id_report_drafts")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_draft_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_responses")),
    )
    with op.batch_alter_table("draft_responses", schema=None) as batch_op:
        batch_op.create_index("ix_draft_responses_draft_user", ["draft_id", "user_id"], unique=False)

    op.create_table(
        "draft_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_draft_shares_share_window")),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["report_drafts.id"], name=op.f("fk_draft_shares_draft_id_report_drafts")
        ),
        sa.ForeignKeyConstraint(["shared_by_id"], ["users.id"], name=op.f("fk_draft_shares_shared_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_shares")),
    )
    with op.batch_alter_table("draft_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_shares_draft_id"), ["draft_id"], unique=False)

    op.create_table(
        "event_learning_points",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("learning_point_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_event_learning_points_event_id_events")),
        sa.ForeignKeyConstraint(
            ["learning_point_id"],
            ["learning_points.id"],
            name=op.f("fk_event_learning_points_learning_point_id_learning_points"),
        ),
        sa.PrimaryKeyConstraint("event_id", "learning_point_id", name=op.f("pk_event_learning_points")),
    )
    with op.batch_alter_table("event_learning_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_learning_points_learning_point_id"), ["learning_point_id"], unique=False
        )

    op.create_table(
        "learning_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learning_point_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("lead_name", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'complete' OR completed_on IS NOT NULL", name=op.f("ck_learning_actions_completed_when")
        ),
        sa.CheckConstraint(
            "status IN ('not_started', 'in_progress', 'complete')", name=op.f("ck_learning_actions_action_status_known")
        ),
        sa.CheckConstraint("length(trim(description)) > 0", name=op.f("ck_learning_actions_action_described")),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_learning_actions_agency_id_agencies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_learning_actions_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["learning_point_id"],
            ["learning_points.id"],
            name=op.f("fk_learning_actions_learning_point_id_learning_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_actions")),
    )
    with op.batch_alter_table("learning_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_actions_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_learning_actions_learning_point_id"), ["learning_point_id"], unique=False)
        batch_op.create_index("ix_learning_actions_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("improvements", sa.Text(), nullable=True),
        sa.Column("learning_summary", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_to_panel_on", sa.Date(), nullable=True),
        sa.Column("sent_to_secretary_of_state_on", sa.Date(), nullable=True),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.Column("short_notice_acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("short_notice_acknowledged_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("public_slug", sa.String(length=80), nullable=True),
        sa.Column("online_until", sa.Date(), nullable=True),
        sa.Column("nspcc_sent_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "decision <> 'do_not_publish' OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
            name=op.f("ck_publications_reason_given"),
        ),
        sa.CheckConstraint(
            "decision <> 'publish' OR draft_id IS NOT NULL", name=op.f("ck_publications_publish_a_final_version")
        ),
        sa.CheckConstraint("decision IN ('publish', 'do_not_publish')", name=op.f("ck_publications_decision_known")),
        sa.CheckConstraint(
            "published_at IS NULL OR (public_slug IS NOT NULL AND online_until IS NOT NULL)",
            name=op.f("ck_publications_published_where"),
        ),
        sa.CheckConstraint(
            "short_notice_acknowledged_at IS NULL OR short_notice_acknowledged_by_id IS NOT NULL",
            name=op.f("ck_publications_short_notice_acknowledged_by"),
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_publications_decided_by_id_users")),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["report_drafts.id"], name=op.f("fk_publications_draft_id_report_drafts")
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_publications_review_id_reviews")),
        sa.ForeignKeyConstraint(
            ["short_notice_acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_publications_short_notice_acknowledged_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
        sa.UniqueConstraint("public_slug", name=op.f("uq_publications_public_slug")),
        sa.UniqueConstraint("review_id", name=op.f("uq_publications_review_id")),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index("ix_publications_published", ["published_at", "publication_date"], unique=False)
    op.create_table(
        "draft_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.Column("replied_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("change_made", sa.Text(), nullable=True),
        sa.CheckConstraint("length(trim(text)) > 0", name=op.f("ck_draft_comments_comment_given")),
        sa.CheckConstraint(
            "replied_at IS NULL OR (reply IS NOT NULL AND replied_by_id IS NOT NULL)",
            name=op.f("ck_draft_comments_reply_by"),
        ),
        sa.CheckConstraint(
            "resolved_at IS NULL OR (resolved_by_id IS NOT NULL AND change_made IS NOT NULL)",
            name=op.f("ck_draft_comments_resolved_with"),
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["report_drafts.id"], name=op.f("fk_draft_comments_draft_id_report_drafts")
        ),
        sa.ForeignKeyConstraint(["replied_by_id"], ["users.id"], name=op.f("fk_draft_comments_replied_by_id_users")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"], name=op.f("fk_draft_comments_resolved_by_id_users")),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["report_draft_sections.id"],
            name=op.f("fk_draft_comments_section_id_report_draft_sections"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_draft_comments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_comments")),
    )
    with op.batch_alter_table("draft_comments", schema=None) as batch_op:
        batch_op.create_index("ix_draft_comments_draft_resolved", ["draft_id", "resolved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_draft_comments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "draft_share_recipients",
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"], ["draft_shares.id"], name=op.f("fk_draft_share_recipients_share_id_draft_shares")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_draft_share_recipients_user_id_users")),
        sa.PrimaryKeyConstraint("share_id", "user_id", name=op.f("pk_draft_share_recipients")),
    )
    with op.batch_alter_table("draft_share_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_share_recipients_user_id"), ["user_id"], unique=False)

    op.create_table(
        "learning_action_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status_after", sa.String(length=20), nullable=False),
        sa.Column("evidence_original_name", sa.String(length=255), nullable=True),
        sa.Column("evidence_stored_name", sa.String(length=64), nullable=True),
        sa.Column("evidence_detected_type", sa.String(length=20), nullable=True),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(evidence_stored_name IS NULL) = (evidence_original_name IS NULL)",
            name=op.f("ck_learning_action_updates_evidence_named"),
        ),
        sa.CheckConstraint("length(trim(text)) > 0", name=op.f("ck_learning_action_updates_update_given")),
        sa.ForeignKeyConstraint(
            ["action_id"], ["learning_actions.id"], name=op.f("fk_learning_action_updates_action_id_learning_actions")
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["users.id"], name=op.f("fk_learning_action_updates_written_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_action_updates")),
        sa.UniqueConstraint("evidence_stored_name", name=op.f("uq_learning_action_updates_evidence_stored_name")),
    )
    with op.batch_alter_table("learning_action_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_action_updates_action_id"), ["action_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learning_action_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_action_updates_action_id"))

    op.drop_table("learning_action_updates")
    with op.batch_alter_table("draft_share_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_share_recipients_user_id"))

    op.drop_table("draft_share_recipients")
    with op.batch_alter_table("draft_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_comments_user_id"))
        batch_op.drop_index("ix_draft_comments_draft_resolved")

    op.drop_table("draft_comments")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index("ix_publications_published")

    op.drop_table("publications")
    with op.batch_alter_table("learning_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_learning_actions_status_due")
        batch_op.drop_index(batch_op.f("ix_learning_actions_learning_point_id"))
        batch_op.drop_index(batch_op.f("ix_learning_actions_agency_id"))

    op.drop_table("learning_actions")
    with op.batch_alter_table("event_learning_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_learning_points_learning_point_id"))

    op.drop_table("event_learning_points")
    with op.batch_alter_table("draft_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_shares_draft_id"))

    op.drop_table("draft_shares")
    with op.batch_alter_table("draft_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_draft_responses_draft_user")

    op.drop_table("draft_responses")
    with op.batch_alter_table("draft_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_reads_user_id"))

    op.drop_table("draft_reads")
    with op.batch_alter_table("briefing_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_briefing_reads_briefing_agency")

    op.drop_table("briefing_reads")
    op.drop_table("learning_points")
    op.drop_table("briefings")
