"""a public page taken down keeps the record that it was published

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 02:09:49.950095
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_down_at", portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("taken_down_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_publications_taken_down_by_id_users"), "users", ["taken_down_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_publications_taken_down_by"),
            "taken_down_at IS NULL OR (published_at IS NOT NULL AND taken_down_by_id IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_publications_taken_down_by"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_publications_taken_down_by_id_users"), type_="foreignkey")
        batch_op.drop_column("taken_down_by_id")
        batch_op.drop_column("taken_down_at")
