"""reviews, stages, rapid reviews, memberships, monitoring, closure days

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:10:36.101072
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closure_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_closure_days_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_days")),
        sa.UniqueConstraint("day", name=op.f("uq_closure_days_day")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("anonymised_name", sa.String(length=100), nullable=False),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('incident_recorded', 'notified', 'rapid_review', 'cspr_commissioned', 'cspr_in_progress', 'pre_publication', 'awaiting_publication', 'published', 'not_published', 'action_plan', 'closed')",
            name=op.f("ck_reviews_stage_known"),
        ),
        sa.CheckConstraint("length(trim(anonymised_name)) > 0", name=op.f("ck_reviews_anonymised_name_given")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_reviews_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("reference", name=op.f("uq_reviews_reference")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_stage"), ["stage"], unique=False)

    op.create_table(
        "monitoring_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('information', 'draft')", name=op.f("ck_monitoring_requests_kind_known")),
        sa.CheckConstraint("due_on >= requested_on", name=op.f("ck_monitoring_requests_due_after_request")),
        sa.CheckConstraint("length(trim(details)) > 0", name=op.f("ck_monitoring_requests_details_given")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_monitoring_requests_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_monitoring_requests_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_requests")),
    )
    with op.batch_alter_table("monitoring_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_requests_review_id"), ["review_id"], unique=False)

    op.create_table(
        "rapid_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("rag_notify_recommended_on", sa.Date(), nullable=True),
        sa.Column("rag_notify_recommended_by", sa.String(length=200), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("notified_by", sa.String(length=200), nullable=True),
        sa.Column("rag_meeting_on", sa.Date(), nullable=True),
        sa.Column("rag_meeting_notes", sa.Text(), nullable=True),
        sa.Column("cspr_recommended_on", sa.Date(), nullable=True),
        sa.Column("cspr_recommended", sa.Boolean(), nullable=True),
        sa.Column("cspr_recommendation_reasons", sa.Text(), nullable=True),
        sa.Column("reg11_criteria", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_commission_cspr", sa.Boolean(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("outcome_sent_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(cspr_recommended_on IS NULL) = (cspr_recommended IS NULL) AND (cspr_recommended_on IS NULL OR length(trim(cspr_recommendation_reasons)) > 0)",
            name=op.f("ck_rapid_reviews_cspr_recommendation_complete"),
        ),
        sa.CheckConstraint(
            "(decided_on IS NULL) = (decision_commission_cspr IS NULL) AND (decided_on IS NULL) = (decided_by IS NULL) AND (decided_on IS NULL OR length(trim(decision_reason)) > 0)",
            name=op.f("ck_rapid_reviews_decision_complete"),
        ),
        sa.CheckConstraint(
            "(notified_on IS NULL) = (notified_by IS NULL)", name=op.f("ck_rapid_reviews_notification_has_who_and_when")
        ),
        sa.CheckConstraint(
            "(rag_notify_recommended_on IS NULL) = (rag_notify_recommended_by IS NULL)",
            name=op.f("ck_rapid_reviews_notify_recommendation_has_who_and_when"),
        ),
        sa.CheckConstraint(
            "decided_on IS NULL OR cspr_recommended_on IS NOT NULL",
            name=op.f("ck_rapid_reviews_decision_after_recommendation"),
        ),
        sa.CheckConstraint(
            "outcome_sent_on IS NULL OR decided_on IS NOT NULL", name=op.f("ck_rapid_reviews_outcome_after_decision")
        ),
        sa.CheckConstraint(
            "rag_meeting_on IS NULL OR notified_on IS NOT NULL",
            name=op.f("ck_rapid_reviews_meeting_after_notification"),
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_rapid_reviews_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rapid_reviews")),
        sa.UniqueConstraint("review_id", name=op.f("uq_rapid_reviews_review_id")),
    )
    op.create_table(
        "review_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("started_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind <> 'agency_lead' OR agency_id IS NOT NULL", name=op.f("ck_review_memberships_agency_lead_has_agency")
        ),
        sa.CheckConstraint(
            "kind IN ('author', 'panel_member', 'agency_lead', 'practitioner', 'family')",
            name=op.f("ck_review_memberships_kind_known"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_review_memberships_ends_after_start")
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_review_memberships_agency_id_agencies")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_review_memberships_ended_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_review_memberships_review_id_reviews")),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_review_memberships_started_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_review_memberships_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_memberships")),
    )
    with op.batch_alter_table("review_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_memberships_review_id"), ["review_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_memberships_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_review_memberships_open",
            ["review_id", "user_id", "kind"],
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "review_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=30), nullable=True),
        sa.Column("to_stage", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(from_stage IS NULL AND to_stage = 'incident_recorded') OR (from_stage = 'incident_recorded' AND to_stage = 'notified') OR (from_stage = 'notified' AND to_stage = 'rapid_review') OR (from_stage = 'rapid_review' AND to_stage = 'closed') OR (from_stage = 'rapid_review' AND to_stage = 'cspr_commissioned') OR (from_stage = 'cspr_commissioned' AND to_stage = 'cspr_in_progress') OR (from_stage = 'cspr_in_progress' AND to_stage = 'pre_publication') OR (from_stage = 'pre_publication' AND to_stage = 'awaiting_publication') OR (from_stage = 'awaiting_publication' AND to_stage = 'not_published') OR (from_stage = 'awaiting_publication' AND to_stage = 'published') OR (from_stage = 'published' AND to_stage = 'action_plan') OR (from_stage = 'not_published' AND to_stage = 'action_plan') OR (from_stage = 'action_plan' AND to_stage = 'closed')",
            name=op.f("ck_review_stage_changes_allowed_move"),
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_review_stage_changes_reason_given")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_review_stage_changes_actor_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_review_stage_changes_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_stage_changes")),
    )
    with op.batch_alter_table("review_stage_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_stage_changes_review_id"), ["review_id"], unique=False)

    op.create_table(
        "agency_return_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("lead_membership_id", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("due_on >= requested_on", name=op.f("ck_agency_return_requests_due_after_request")),
        sa.CheckConstraint(
            "received_on IS NULL OR received_on >= requested_on",
            name=op.f("ck_agency_return_requests_received_after_request"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_return_requests_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["lead_membership_id"],
            ["review_memberships.id"],
            name=op.f("fk_agency_return_requests_lead_membership_id_review_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_agency_return_requests_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_agency_return_requests_review_id_reviews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_return_requests")),
        sa.UniqueConstraint("review_id", "agency_id", name="uq_agency_return_requests_review_agency"),
    )
    with op.batch_alter_table("agency_return_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_return_requests_review_id"), ["review_id"], unique=False)

    op.create_table(
        "independence_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("no_involvement_in_case", sa.Boolean(), nullable=False),
        sa.Column("no_involvement_with_agencies", sa.Boolean(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("declared_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "no_involvement_in_case AND no_involvement_with_agencies",
            name=op.f("ck_independence_declarations_independent"),
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["review_memberships.id"],
            name=op.f("fk_independence_declarations_membership_id_review_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_independence_declarations")),
        sa.UniqueConstraint("membership_id", name=op.f("uq_independence_declarations_membership_id")),
    )


def downgrade() -> None:
    op.drop_table("independence_declarations")
    with op.batch_alter_table("agency_return_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_return_requests_review_id"))

    op.drop_table("agency_return_requests")
    with op.batch_alter_table("review_stage_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_stage_changes_review_id"))

    op.drop_table("review_stage_changes")
    with op.batch_alter_table("review_memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_review_memberships_open",
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_review_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_review_memberships_review_id"))

    op.drop_table("review_memberships")
    op.drop_table("rapid_reviews")
    with op.batch_alter_table("monitoring_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_requests_review_id"))

    op.drop_table("monitoring_requests")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_stage"))

    op.drop_table("reviews")
    op.drop_table("closure_days")
