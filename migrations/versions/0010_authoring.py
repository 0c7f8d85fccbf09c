"""authoring: contribution requests, the inbox, drafts and the anonymisation gate

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 01:25:58.680505
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anonymisation_waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("matched", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waived_by_id", sa.Integer(), nullable=False),
        sa.Column("waived_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_anonymisation_waivers_waiver_reason_given")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_anonymisation_waivers_review_id_reviews")),
        sa.ForeignKeyConstraint(
            ["waived_by_id"], ["users.id"], name=op.f("fk_anonymisation_waivers_waived_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymisation_waivers")),
        sa.UniqueConstraint("review_id", "fingerprint", name="uq_anonymisation_waivers_review_fingerprint"),
    )
    op.create_table(
        "protected_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('child_name', 'family_name', 'address', 'school', 'workplace', 'date_of_birth', 'other')",
            name=op.f("ck_protected_terms_term_category_known"),
        ),
        sa.CheckConstraint("length(trim(term)) > 0", name=op.f("ck_protected_terms_term_given")),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"], name=op.f("fk_protected_terms_added_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_protected_terms_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protected_terms")),
        sa.UniqueConstraint("review_id", "term", name="uq_protected_terms_review_term"),
    )
    with op.batch_alter_table("protected_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_protected_terms_review_id"), ["review_id"], unique=False)

    op.create_table(
        "report_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shared_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_by_id", sa.Integer(), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("stored_name", sa.String(length=64), nullable=True),
        sa.Column("detected_type", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "kind <> 'uploaded' OR stored_name IS NOT NULL", name=op.f("ck_report_drafts_uploaded_draft_has_file")
        ),
        sa.CheckConstraint("kind IN ('written', 'uploaded')", name=op.f("ck_report_drafts_draft_kind_known")),
        sa.CheckConstraint(
            "final_at IS NULL OR final_by_id IS NOT NULL", name=op.f("ck_report_drafts_final_by_someone")
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_report_drafts_draft_version_positive")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_report_drafts_created_by_id_users")),
        sa.ForeignKeyConstraint(["final_by_id"], ["users.id"], name=op.f("fk_report_drafts_final_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_report_drafts_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_drafts")),
        sa.UniqueConstraint("review_id", "version", name="uq_report_drafts_review_version"),
        sa.UniqueConstraint("stored_name", name=op.f("uq_report_drafts_stored_name")),
    )
    with op.batch_alter_table("report_drafts", schema=None) as batch_op:
        batch_op.create_index(
            "uq_report_drafts_one_final",
            ["review_id"],
            unique=True,
            postgresql_where=sa.text("final_at IS NOT NULL"),
            sqlite_where=sa.text("final_at IS NOT NULL"),
        )

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_themes_theme_named")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_themes_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("review_id", "name", name="uq_themes_review_name"),
    )
    op.create_table(
        "contribution_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=20), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answered_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "recipient_kind IN ('agency_lead', 'practitioner', 'panel_member', 'family')",
            name=op.f("ck_contribution_requests_recipient_kind_known"),
        ),
        sa.CheckConstraint(
            "status <> 'answered' OR answered_at IS NOT NULL", name=op.f("ck_contribution_requests_answered_when")
        ),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name=op.f("ck_contribution_requests_withdrawn_when")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'withdrawn')", name=op.f("ck_contribution_requests_request_status_known")
        ),
        sa.CheckConstraint("length(trim(prompt)) > 0", name=op.f("ck_contribution_requests_prompt_given")),
        sa.ForeignKeyConstraint(["asked_by_id"], ["users.id"], name=op.f("fk_contribution_requests_asked_by_id_users")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["review_memberships.id"],
            name=op.f("fk_contribution_requests_membership_id_review_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_contribution_requests_recipient_id_users")
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_contribution_requests_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_requests")),
    )
    with op.batch_alter_table("contribution_requests", schema=None) as batch_op:
        batch_op.create_index("ix_contribution_requests_recipient_status", ["recipient_id", "status"], unique=False)
        batch_op.create_index(
            "ix_contribution_requests_review_status_due", ["review_id", "status", "due_on"], unique=False
        )

    op.create_table(
        "panel_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(text)) > 0", name=op.f("ck_panel_notes_panel_note_given")),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["review_memberships.id"], name=op.f("fk_panel_notes_membership_id_review_memberships")
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_panel_notes_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_notes")),
    )
    with op.batch_alter_table("panel_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_panel_notes_review_id"), ["review_id"], unique=False)

    op.create_table(
        "report_draft_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint("length(trim(heading)) > 0", name=op.f("ck_report_draft_sections_section_heading_given")),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["report_drafts.id"], name=op.f("fk_report_draft_sections_draft_id_report_drafts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_draft_sections")),
        sa.UniqueConstraint("draft_id", "position", name="uq_report_draft_sections_position"),
    )
    op.create_table(
        "request_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name=op.f("ck_request_answers_answer_acknowledged_by"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR submitted_at IS NOT NULL", name=op.f("ck_request_answers_answer_submitted_when")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'acknowledged')", name=op.f("ck_request_answers_answer_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_request_answers_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["contribution_requests.id"],
            name=op.f("fk_request_answers_request_id_contribution_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_answers")),
        sa.UniqueConstraint("request_id", name=op.f("uq_request_answers_request_id")),
    )
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("request_answer_id", sa.Integer(), nullable=True),
        sa.Column("reflection_id", sa.Integer(), nullable=True),
        sa.Column("family_contribution_id", sa.Integer(), nullable=True),
        sa.Column("panel_note_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('agency', 'practitioner', 'panel', 'family')", name=op.f("ck_inbox_items_inbox_source_known")
        ),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name=op.f("ck_inbox_items_inbox_acknowledged_by"),
        ),
        sa.CheckConstraint("status IN ('new', 'read', 'acknowledged')", name=op.f("ck_inbox_items_inbox_status_known")),
        sa.CheckConstraint(
            "(CASE WHEN request_answer_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN reflection_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN family_contribution_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN panel_note_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_inbox_items_inbox_one_source"),
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_inbox_items_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["family_contribution_id"],
            ["family_contributions.id"],
            name=op.f("fk_inbox_items_family_contribution_id_family_contributions"),
        ),
        sa.ForeignKeyConstraint(
            ["panel_note_id"], ["panel_notes.id"], name=op.f("fk_inbox_items_panel_note_id_panel_notes")
        ),
        sa.ForeignKeyConstraint(
            ["reflection_id"], ["reflections.id"], name=op.f("fk_inbox_items_reflection_id_reflections")
        ),
        sa.ForeignKeyConstraint(
            ["request_answer_id"], ["request_answers.id"], name=op.f("fk_inbox_items_request_answer_id_request_answers")
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_inbox_items_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("family_contribution_id", name=op.f("uq_inbox_items_family_contribution_id")),
        sa.UniqueConstraint("panel_note_id", name=op.f("uq_inbox_items_panel_note_id")),
        sa.UniqueConstraint("reflection_id", name=op.f("uq_inbox_items_reflection_id")),
        sa.UniqueConstraint("request_answer_id", name=op.f("uq_inbox_items_request_answer_id")),
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_items_review_received", ["review_id", "received_at"], unique=False)
        batch_op.create_index("ix_inbox_items_review_source_status", ["review_id", "source", "status"], unique=False)

    op.create_table(
        "request_answer_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("detected_type", sa.String(length=20), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_request_answer_files_answer_file_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["answer_id"], ["request_answers.id"], name=op.f("fk_request_answer_files_answer_id_request_answers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_answer_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_request_answer_files_stored_name")),
    )
    with op.batch_alter_table("request_answer_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_answer_files_answer_id"), ["answer_id"], unique=False)

    op.create_table(
        "inbox_item_themes",
        sa.Column("inbox_item_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_item_id"], ["inbox_items.id"], name=op.f("fk_inbox_item_themes_inbox_item_id_inbox_items")
        ),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"], name=op.f("fk_inbox_item_themes_theme_id_themes")),
        sa.PrimaryKeyConstraint("inbox_item_id", "theme_id", name=op.f("pk_inbox_item_themes")),
    )
    with op.batch_alter_table("inbox_item_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_item_themes_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "inbox_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_item_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(text)) > 0", name=op.f("ck_inbox_notes_inbox_note_given")),
        sa.ForeignKeyConstraint(
            ["inbox_item_id"], ["inbox_items.id"], name=op.f("fk_inbox_notes_inbox_item_id_inbox_items")
        ),
        sa.ForeignKeyConstraint(["written_by_id"], ["users.id"], name=op.f("fk_inbox_notes_written_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_notes")),
    )
    with op.batch_alter_table("inbox_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_notes_inbox_item_id"), ["inbox_item_id"], unique=False)

    with op.batch_alter_table("family_contributions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_family_contributions_request_id"), ["request_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_family_contributions_request_id_contribution_requests"),
            "contribution_requests",
            ["request_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("family_contributions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_family_contributions_request_id_contribution_requests"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_family_contributions_request_id"), type_="unique")
        batch_op.drop_column("request_id")

    with op.batch_alter_table("inbox_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_notes_inbox_item_id"))

    op.drop_table("inbox_notes")
    with op.batch_alter_table("inbox_item_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_item_themes_theme_id"))

    op.drop_table("inbox_item_themes")
    with op.batch_alter_table("request_answer_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_answer_files_answer_id"))

    op.drop_table("request_answer_files")
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_items_review_source_status")
        batch_op.drop_index("ix_inbox_items_review_received")

    op.drop_table("inbox_items")
    op.drop_table("request_answers")
    op.drop_table("report_draft_sections")
    with op.batch_alter_table("panel_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_panel_notes_review_id"))

    op.drop_table("panel_notes")
    with op.batch_alter_table("contribution_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_contribution_requests_review_status_due")
        batch_op.drop_index("ix_contribution_requests_recipient_status")

    op.drop_table("contribution_requests")
    op.drop_table("themes")
    with op.batch_alter_table("report_drafts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_report_drafts_one_final",
            postgresql_where=sa.text("final_at IS NOT NULL"),
            sqlite_where=sa.text("final_at IS NOT NULL"),
        )

    op.drop_table("report_drafts")
    with op.batch_alter_table("protected_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protected_terms_review_id"))

    op.drop_table("protected_terms")
    op.drop_table("anonymisation_waivers")
