"""Test databases: a SQLite file, or a throwaway database on a PostgreSQL server.

``PORTAL_TEST_DB`` chooses (``sqlite``, the default, or ``postgresql``). The PostgreSQL server is
the one at ``PORTAL_TEST_POSTGRES_URL``, else 127.0.0.1:5432 when it answers, else one started
here from the installed PostgreSQL binaries. Under ``CI=true`` a missing server is a failure.
Every database made here has a random name and is dropped afterwards; no other is touched.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    return os.environ.get("PORTAL_TEST_DB", "sqlite")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _start_throwaway_server() -> str:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError(
            "No PostgreSQL server for the tests: set PORTAL_TEST_POSTGRES_URL, start one on 127.0.0.1:5432, "
            "or install PostgreSQL so a throwaway server can be started"
        )
    workdir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "nobody", "--"]
    if run_as:
        shutil.chown(workdir, "nobody")
    subprocess.run(
        [*run_as, initdb, "-D", str(workdir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(workdir / "data"),
            "-l",
            str(workdir / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run([*run_as, pg_ctl, "-D", str(workdir / "data"), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def postgres_server_url() -> str:
    url = os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if url:
        return url
    if _answers("127.0.0.1", 5432):
        return DEFAULT_SERVER
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs PostgreSQL on 127.0.0.1:5432 (or PORTAL_TEST_POSTGRES_URL) and none answers")
    return _start_throwaway_server()


def _admin_engine(server_url: str) -> sa.Engine:
    url = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def create_database(tmp_dir: Path) -> tuple[str, callable]:
    """Make an empty database; returns its URL and a function that drops it."""
    if backend() == "sqlite":
        path = tmp_dir / f"portal-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    if backend() != "postgresql":
        raise RuntimeError(f"PORTAL_TEST_DB must be sqlite or postgresql, not {backend()!r}")
    server_url = postgres_server_url()
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False), drop
