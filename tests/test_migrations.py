"""The migrations build exactly the schema the models describe, undo cleanly, and keep the audit trail append-only.

Each test migrates a fresh database of its own (never the shared test database), on whichever backend
``PORTAL_TEST_DB`` selects.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.orm import Session

import portal.models  # noqa: F401  (puts every table on Base.metadata before it is compared)
from portal.config import PROJECT_ROOT
from portal.db import Base
from portal.security import audit
from tests import databases
from tests.conftest import make_test_app


@pytest.fixture
def fresh_app(tmp_path) -> Iterator[Flask]:
    url, drop = databases.create_database(tmp_path)
    app = make_test_app(url)
    try:
        yield app
    finally:
        app.extensions["portal.db"].kw["bind"].dispose()
        drop()


def _engine(app: Flask) -> sa.Engine:
    return app.extensions["portal.db"].kw["bind"]


def flask_db(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["db", *args])
    if result.exit_code != 0:
        trace = "".join(traceback.format_exception(result.exception)) if result.exception else ""
        pytest.fail(f"flask db {' '.join(args)} exited {result.exit_code}:\n{result.output}\n{trace}")
    return result.output


def head_revision() -> str:
    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


def schema_differences(app: Flask) -> list:
    with _engine(app).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def leftovers(app: Flask) -> list[str]:
    """Everything in the database apart from Alembic's own bookkeeping."""
    with _engine(app).connect() as connection:
        names = [f"table {name}" for name in sa.inspect(connection).get_table_names() if name != "alembic_version"]
        if connection.dialect.name == "postgresql":
            functions = connection.execute(
                sa.text(
                    "SELECT proname FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pronamespace "
                    "WHERE nspname = 'public'"
                )
            ).scalars()
            names += [f"function {name}" for name in functions]
        else:
            objects = connection.execute(
                sa.text("SELECT type, name FROM sqlite_master WHERE tbl_name != 'alembic_version'")
            ).all()
            names += [f"{kind} {name}" for kind, name in objects]
    return names


def assert_audit_trail_refuses_changes(app: Flask) -> None:
    with _engine(app).connect() as connection:
        transaction = connection.begin()
        try:
            row = audit.record(Session(bind=connection), "test.migrated", details={"kept": True})
            statements = [
                "UPDATE audit_events SET details = '{}' WHERE id = :id",
                "DELETE FROM audit_events WHERE id = :id",
            ]
            if connection.dialect.name == "postgresql":
                statements.append("TRUNCATE audit_events")
            for statement in statements:
                with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                    connection.execute(sa.text(statement), {"id": row.id})
            assert connection.scalar(sa.text("SELECT details FROM audit_events WHERE id = :id"), {"id": row.id}) == (
                '{"kept": true}'
            )
        finally:
            transaction.rollback()


def test_upgrade_builds_exactly_the_schema_the_models_describe(fresh_app):
    flask_db(fresh_app, "upgrade")
    differences = schema_differences(fresh_app)
    assert differences == [], f"the migrations and the models disagree:\n{pformat(differences)}"


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(fresh_app):
    assert f"The database is at revision {head_revision()}." in flask_db(fresh_app, "upgrade")
    assert "The database has no tables of ours." in flask_db(fresh_app, "downgrade", "base")
    assert leftovers(fresh_app) == []

    flask_db(fresh_app, "upgrade")
    assert schema_differences(fresh_app) == []
    assert_audit_trail_refuses_changes(fresh_app)


def test_the_audit_trail_is_append_only_in_the_database(fresh_app):
    flask_db(fresh_app, "upgrade")
    assert_audit_trail_refuses_changes(fresh_app)


def test_every_migration_can_be_undone_and_redone_one_step_at_a_time(fresh_app):
    # A downgrade that leaves something behind (a function, an index) makes the same upgrade fail next time.
    revisions = list(reversed(list(ScriptDirectory(str(PROJECT_ROOT / "migrations")).walk_revisions())))
    assert revisions, "no migrations found"
    for revision in revisions:
        flask_db(fresh_app, "upgrade", revision.revision)
        flask_db(fresh_app, "downgrade", revision.down_revision or "base")
        flask_db(fresh_app, "upgrade", revision.revision)
    assert schema_differences(fresh_app) == []
