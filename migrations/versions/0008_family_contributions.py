"""family contributions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 00:13:55.232811
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("supporting_adult", sa.String(length=200), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name=op.f("ck_family_contributions_contribution_acknowledged_by"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR submitted_at IS NOT NULL",
            name=op.f("ck_family_contributions_contribution_submitted_when"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'acknowledged')",
            name=op.f("ck_family_contributions_contribution_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_family_contributions_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["review_memberships.id"],
            name=op.f("fk_family_contributions_membership_id_review_memberships"),
        ),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_family_contributions_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_contributions")),
    )
    with op.batch_alter_table("family_contributions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_contributions_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index("ix_family_contributions_review_status", ["review_id", "status"], unique=False)

    op.create_table(
        "contribution_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("detected_type", sa.String(length=20), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_contribution_files_file_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["family_contributions.id"],
            name=op.f("fk_contribution_files_contribution_id_family_contributions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_contribution_files_stored_name")),
    )
    with op.batch_alter_table("contribution_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contribution_files_contribution_id"), ["contribution_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contribution_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contribution_files_contribution_id"))

    op.drop_table("contribution_files")
    with op.batch_alter_table("family_contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_family_contributions_review_status")
        batch_op.drop_index(batch_op.f("ix_family_contributions_membership_id"))

    op.drop_table("family_contributions")
