"""family members' details and the updates written for them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 23:14:26.603945
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(body)) > 0", name=op.f("ck_family_updates_body_given")),
        sa.CheckConstraint("length(trim(subject)) > 0", name=op.f("ck_family_updates_subject_given")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_family_updates_review_id_reviews")),
        sa.ForeignKeyConstraint(["written_by_id"], ["users.id"], name=op.f("fk_family_updates_written_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_updates")),
    )
    with op.batch_alter_table("family_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_updates_review_id"), ["review_id"], unique=False)

    op.create_table(
        "family_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("relationship_to_child", sa.String(length=100), nullable=False),
        sa.Column("preferred_channel", sa.String(length=10), nullable=False),
        sa.Column("postal_address", sa.Text(), nullable=True),
        sa.Column("letter_worker", sa.String(length=200), nullable=True),
        sa.Column("support_needs", sa.Text(), nullable=True),
        sa.Column("young_person", sa.Boolean(), nullable=False),
        sa.Column("supporting_adult", sa.String(length=200), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "preferred_channel <> 'letter' OR letter_worker IS NOT NULL",
            name=op.f("ck_family_members_letter_has_worker"),
        ),
        sa.CheckConstraint(
            "preferred_channel IN ('email', 'sms', 'letter')", name=op.f("ck_family_members_preferred_channel_known")
        ),
        sa.CheckConstraint(
            "NOT young_person OR supporting_adult IS NOT NULL", name=op.f("ck_family_members_young_person_supported")
        ),
        sa.CheckConstraint(
            "length(trim(relationship_to_child)) > 0", name=op.f("ck_family_members_relationship_given")
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["review_memberships.id"],
            name=op.f("fk_family_members_membership_id_review_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_members")),
        sa.UniqueConstraint("membership_id", name=op.f("uq_family_members_membership_id")),
    )


def downgrade() -> None:
    op.drop_table("family_members")
    with op.batch_alter_table("family_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_updates_review_id"))

    op.drop_table("family_updates")
