"""letters in the outbox: a task for the named worker who gives or posts it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 01:20:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _channels("channel IN ('email', 'sms', 'letter')")


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE channel = 'letter'")
    _channels("channel IN ('email', 'sms')")


def _channels(condition: str) -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_channel_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_messages_channel_known"), condition)
