"""the consent ledger (append-only), consent-checked and text messages in the outbox, mobile numbers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 23:11:59.353127
"""

import sqlalchemy as sa
from alembic import op

import portal.db

OLD_CHECKS = {
    "channel_known": "channel IN ('email')",
    "status_known": "status IN ('pending', 'sent', 'failed', 'withdrawn')",
}
NEW_CHECKS = {
    "channel_known": "channel IN ('email', 'sms')",
    "status_known": "status IN ('pending', 'sent', 'failed', 'withdrawn', 'not_sent')",
}


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(scope = 'updates') = (channel IS NOT NULL)", name=op.f("ck_consent_records_channel_only_for_updates")
        ),
        sa.CheckConstraint(
            "channel IS NULL OR channel IN ('email', 'sms', 'letter')", name=op.f("ck_consent_records_channel_known")
        ),
        sa.CheckConstraint(
            "method = 'online' OR recorded_by_id IS NOT NULL",
            name=op.f("ck_consent_records_staff_record_names_recorder"),
        ),
        sa.CheckConstraint("method IN ('online', 'recorded_by_staff')", name=op.f("ck_consent_records_method_known")),
        sa.CheckConstraint(
            "scope IN ('updates', 'author_contact', 'contribute', 'see_draft', 'quote_anonymously')",
            name=op.f("ck_consent_records_scope_known"),
        ),
        sa.CheckConstraint("length(trim(text_version)) > 0", name=op.f("ck_consent_records_text_version_given")),
        sa.ForeignKeyConstraint(["person_id"], ["users.id"], name=op.f("fk_consent_records_person_id_users")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_consent_records_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_consent_records_review_id_reviews")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_records_current", ["person_id", "review_id", "scope", "channel", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consent_records_review_id"), ["review_id"], unique=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_scope", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("review_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_review_id"), ["review_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_review_id_reviews"), "reviews", ["review_id"], ["id"]
        )
        _replace_checks(batch_op, NEW_CHECKS)
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_consent_has_whose"),
            "consent_scope IS NULL OR (recipient_id IS NOT NULL AND review_id IS NOT NULL)",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))

    _make_consent_append_only()


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("phone")

    op.execute("DELETE FROM outbox_messages WHERE channel <> 'email' OR status = 'not_sent'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_consent_has_whose"), type_="check")
        _replace_checks(batch_op, OLD_CHECKS)
        batch_op.drop_constraint(batch_op.f("fk_outbox_messages_review_id_reviews"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_review_id"))
        batch_op.drop_column("review_id")
        batch_op.drop_column("consent_scope")

    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_review_id"))
        batch_op.drop_index("ix_consent_records_current")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER consent_records_no_truncate ON consent_records")
        op.execute("DROP TRIGGER consent_records_append_only ON consent_records")
        op.execute("DROP FUNCTION consent_records_append_only()")
    op.drop_table("consent_records")


def _replace_checks(batch_op, checks: dict[str, str]) -> None:
    for name, condition in checks.items():
        batch_op.drop_constraint(op.f(f"ck_outbox_messages_{name}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_outbox_messages_{name}"), condition)


def _make_consent_append_only() -> None:
    """A choice once recorded is history: withdrawing is a new row, never an edit or a deletion."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION consent_records_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'consent_records is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER consent_records_append_only BEFORE UPDATE OR DELETE ON consent_records "
            "FOR EACH ROW EXECUTE FUNCTION consent_records_append_only()"
        )
        op.execute(
            "CREATE TRIGGER consent_records_no_truncate BEFORE TRUNCATE ON consent_records "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_records_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER consent_records_no_{event.lower()} BEFORE {event} ON consent_records "
                "BEGIN SELECT RAISE(ABORT, 'consent_records is append-only'); END"
            )
