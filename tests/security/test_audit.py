"""The audit trail: rows chained by hashes, append-only in the database, and a check that names tampering."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portal.security import audit
from portal.security.audit import GENESIS_HASH, AuditEvent
from portal.security.models import Agency
from tests import databases
from tests.conftest import make_test_app


@pytest.fixture
def audit_stays_append_only(base_app: Flask) -> Iterator[None]:
    """After the test's transaction is rolled back, the triggers the test disabled must refuse changes again.

    The tampering tests switch the append-only triggers off inside their own transaction. That is only safe
    if the rollback really brings them back, so this checks it on a connection of its own.
    """
    engine = base_app.extensions["portal.db"].kw["bind"]  # taken before ``app`` swaps in the test connection
    yield
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            row = audit.record(Session(bind=connection), "test.append_only_check")
            for statement in ("UPDATE audit_events SET action = 'rewritten' WHERE id = :id", _DELETE_ROW):
                with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                    connection.execute(sa.text(statement), {"id": row.id})
        finally:
            transaction.rollback()


@pytest.fixture
def app(audit_stays_append_only, app: Flask) -> Flask:
    # Requesting the check first makes its teardown run after the shared ``app`` fixture's rollback.
    return app


_DELETE_ROW = "DELETE FROM audit_events WHERE id = :id"


def _disable_append_only_triggers(db: Session) -> None:
    """Do what a privileged attacker would before rewriting history: switch the triggers off."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.execute(sa.text("DROP TRIGGER audit_events_no_delete"))


def _latest_hash(db: Session) -> str:
    return db.scalar(sa.select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH


def _record_five(db: Session) -> list[AuditEvent]:
    rows = [audit.record(db, "test.event", object_type="thing", object_id=n, details={"n": n}) for n in range(5)]
    db.commit()
    return rows


def _verify(app: Flask):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_each_row_carries_the_hash_of_the_row_before(db):
    before = _latest_hash(db)
    rows = _record_five(db)
    assert rows[0].prev_hash == before
    for previous, row in itertools.pairwise(rows):
        assert row.prev_hash == previous.row_hash
    assert len({row.row_hash for row in rows}) == len(rows)
    # What was stored is what the chain was built from.
    stored = db.scalars(sa.select(AuditEvent.prev_hash).where(AuditEvent.id.in_([row.id for row in rows]))).all()
    assert sorted(stored) == sorted(row.prev_hash for row in rows)


def test_an_intact_trail_passes_the_check(app, db):
    rows = _record_five(db)
    report = audit.verify_chain(db)
    assert report.ok, report
    total = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert report.rows_checked == total >= len(rows)

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"Audit trail intact: {total} rows checked." in result.output


def test_the_database_refuses_to_change_or_remove_audit_rows(db):
    row = _record_five(db)[2]
    for statement in ("UPDATE audit_events SET details = '{}' WHERE id = :id", _DELETE_ROW):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.begin_nested():
            db.execute(sa.text(statement), {"id": row.id})
    assert db.scalar(sa.select(AuditEvent.details).where(AuditEvent.id == row.id)) == '{"n": 2}'


def test_an_edited_row_is_named_by_the_check(app, db):
    rows = _record_five(db)
    edited = rows[2]
    _disable_append_only_triggers(db)
    db.execute(
        sa.text("UPDATE audit_events SET details = :details WHERE id = :id"),
        {"details": '{"n": 2, "note": "nothing to see"}', "id": edited.id},
    )
    db.commit()

    # The same session that wrote the rows must still see the database, not the rows it remembers.
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_id == edited.id
    assert "edited" in report.problem

    result = _verify(app)
    assert result.exit_code != 0
    assert "Audit trail intact" not in result.output
    named = re.search(r"broken at row (\d+)", result.output)
    assert named, result.output
    assert int(named.group(1)) == edited.id


def test_a_removed_row_is_detected_at_the_row_after_it(app, db):
    rows = _record_five(db)
    _disable_append_only_triggers(db)
    db.execute(sa.text(_DELETE_ROW), {"id": rows[2].id})
    db.commit()

    report = audit.verify_chain(db)
    assert report.first_bad_id == rows[3].id
    assert "removed" in report.problem

    result = _verify(app)
    assert result.exit_code != 0
    assert f"broken at row {rows[3].id}:" in result.output


def test_the_check_reads_a_long_trail_in_batches_without_losing_the_callers_work(db):
    rows = _record_five(db)
    total = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    unsaved = Agency(name="Agency the caller is still setting up")
    db.add(unsaved)

    report = audit.verify_chain(db, batch_size=2)

    assert report.ok and report.rows_checked == total
    assert unsaved in db, "checking the trail threw away the caller's unsaved work"
    assert rows[0] in db


WRITERS = 8
TRANSACTIONS_EACH = 15


@pytest.mark.skipif(
    databases.backend() != "postgresql", reason="SQLite lets one transaction write at a time, so none can interleave"
)
def test_concurrent_writers_keep_one_unbroken_chain(tmp_path):
    # A database of its own: the writers commit for real, which the shared rolled-back one must never see.
    url, drop = databases.create_database(tmp_path)
    writer_app = make_test_app(url)
    engine = writer_app.extensions["portal.db"].kw["bind"]
    try:
        migrated = writer_app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert migrated.exit_code == 0, migrated.output
        start = threading.Barrier(WRITERS)
        failures: list[BaseException] = []

        def write(writer: int) -> None:
            try:
                start.wait(timeout=30)
                for number in range(TRANSACTIONS_EACH):
                    with Session(engine) as session:
                        # Two rows per transaction, as services do (an agency and the person in it).
                        audit.record(session, "test.concurrent", details={"writer": writer, "n": number})
                        audit.record(session, "test.concurrent.second", details={"writer": writer, "n": number})
                        session.commit()
            except BaseException as error:  # handed to the test thread, which fails with it
                failures.append(error)

        threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures

        with Session(engine) as session:
            report = audit.verify_chain(session)
            forks = session.execute(
                sa.select(AuditEvent.prev_hash).group_by(AuditEvent.prev_hash).having(sa.func.count() > 1)
            ).all()
        assert report.ok, report
        assert report.rows_checked == WRITERS * TRANSACTIONS_EACH * 2
        assert forks == [], "two rows claim the same predecessor"
    finally:
        engine.dispose()
        drop()
