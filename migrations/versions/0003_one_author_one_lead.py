"""one open author per review and one open lead per agency per review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_memberships") as batch_op:
        batch_op.create_index(
            "uq_review_memberships_one_author",
            ["review_id"],
            unique=True,
            postgresql_where=sa.text("kind = 'author' AND ended_at IS NULL"),
            sqlite_where=sa.text("kind = 'author' AND ended_at IS NULL"),
        )
        batch_op.create_index(
            "uq_review_memberships_one_agency_lead",
            ["review_id", "agency_id"],
            unique=True,
            postgresql_where=sa.text("kind = 'agency_lead' AND ended_at IS NULL"),
            sqlite_where=sa.text("kind = 'agency_lead' AND ended_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("review_memberships") as batch_op:
        batch_op.drop_index("uq_review_memberships_one_agency_lead")
        batch_op.drop_index("uq_review_memberships_one_author")
