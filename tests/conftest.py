"""Shared fixtures: one migrated database per test run, rolled back after every test."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from html import unescape
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker

from portal import create_app
from portal.extensions import limiter
from portal.notifications.models import OutboxMessage
from portal.notifications.senders import SmtpSender
from portal.notifications.worker import drain
from portal.security import passwords
from portal.security.models import Role, User
from tests import databases
from tests.factories import DEFAULT_PASSWORD, make_user


@dataclass
class Mailbox:
    """Messages received by a real SMTP server listening on 127.0.0.1."""

    messages: list[Message] = field(default_factory=list)
    # Runs the outbox worker once, as `flask notifications work` would; set by the mailbox fixture.
    deliver: Callable[[], object] = lambda: None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def received(self) -> list[Message]:
        """Everything received once the outbox has been drained."""
        self.deliver()
        return self.messages

    def last_to(self, address: str) -> Message:
        matching = [message for message in self.received() if message["To"] == address]
        assert matching, f"no email was sent to {address}"
        return matching[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id at a fraction of production cost: tests hash hundreds of passwords and are not about cost.

    Production's parameters are checked by tests/security/test_passwords.py, which does not use this.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url, drop = databases.create_database(tmp_path_factory.mktemp("db"))
    yield url
    drop()


def make_test_app(database_url: str, **overrides) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "SERVER_NAME": "portal.test",
        "PUBLIC_URL": "http://portal.test",
        "MAIL_BACKEND": "smtp",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def base_app(database_url: str, smtp_server) -> Flask:
    controller, _mailbox = smtp_server
    app = make_test_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


@contextmanager
def rolled_back(flask_app: Flask) -> Iterator[Flask]:
    """Run a test against ``flask_app`` with every database change it makes rolled back afterwards."""
    original = flask_app.extensions["portal.db"]
    connection = original.kw["bind"].connect()
    transaction = connection.begin()
    flask_app.extensions["portal.db"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    limiter.reset()
    try:
        yield flask_app
    finally:
        flask_app.extensions["portal.db"] = original
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(base_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The app, with every database change of the test rolled back and its uploads kept in its own folder."""
    before = base_app.config["UPLOAD_DIR"]
    base_app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    try:
        with rolled_back(base_app):
            yield base_app
    finally:
        base_app.config["UPLOAD_DIR"] = before


@pytest.fixture
def upload_dir(app: Flask) -> Path:
    """The folder the test's uploads are kept in."""
    return Path(app.config["UPLOAD_DIR"])


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of this name, which keeps one app context open for the whole test.

    Inside it every test-client request would share one ``g`` (and so one database session and one
    cached CSRF token), which no real request ever does. Tests use ``db`` for the database instead.
    """
    yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Replaces pytest-flask's client, which keeps the last request's context pushed.

    A context left pushed is shared by the next request from any other client (its ``g`` holds the
    signed-in person), so two-browser tests would see one browser's sign-in in the other.
    """
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test's connection: it sees what requests commit, and is rolled back with them."""
    session = app.extensions["portal.db"]()
    yield session
    session.close()


@pytest.fixture
def mailbox(smtp_server, app: Flask, db: Session) -> Iterator[Mailbox]:
    """The SMTP server's mailbox; reading it first drains the outbox through the real SMTP sender."""
    _controller, box = smtp_server
    box.messages.clear()
    box.deliver = lambda: drain(db, SmtpSender(app.config), app.config)
    yield box
    box.deliver = lambda: None


@pytest.fixture
def coordinator(db: Session) -> User:
    return make_user(db, role=Role.COORDINATOR)


@pytest.fixture
def as_coordinator(client: FlaskClient, coordinator: User) -> FlaskClient:
    """The test client, signed in as the coordinator."""
    sign_in(client, coordinator)
    return client


# Page helpers -----------------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def text_of(html: str) -> str:
    """The page's words as a person reads them: no tags, entities decoded, single spaces."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@contextmanager
def counting_queries(db: Session) -> Iterator[list[str]]:
    """Every SQL statement run on the database while the block runs, in order."""
    engine = db.get_bind().engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


def submit(client: FlaskClient, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Fill in a form as a person would: open the page, then post with the page's CSRF token."""
    response = client.get(page or url)
    assert response.status_code == 200, f"{page or url} answered {response.status_code}"
    return client.post(url, data={"csrf_token": csrf_token(response.text), **data}, **kwargs)


def sign_in(client: FlaskClient, user, password: str = DEFAULT_PASSWORD):
    """Sign in through the real pages, including the authenticator step when the role needs one."""
    response = submit(client, "/sign-in", {"email": user.email, "password": password})
    assert response.status_code == 302, response.text
    if response.headers["Location"].endswith("/sign-in/two-factor"):
        code = pyotp.TOTP(user.totp_secret).now()
        response = submit(client, "/sign-in/two-factor", {"code": code})
        assert response.status_code == 302, response.text
    elif response.headers["Location"].endswith("/sign-in/code"):
        # A family member on a new device: the code we sent them, as they would read it.
        response = submit(client, "/sign-in/code", {"code": last_sign_in_code(client.application, user)})
        assert response.status_code == 302, response.text
    return response


def last_sign_in_code(flask_app: Flask, user) -> str:
    """The six-digit sign-in code last sent to ``user``, as they would read it.

    The message is taken out of the outbox, so tests that look there see only what they queued.
    """
    db = flask_app.extensions["portal.db"]()
    try:
        message = db.scalar(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient_id == user.id, OutboxMessage.kind == "sign_in_code")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        assert message is not None, f"no sign-in code was sent to {user.email}"
        body = message.body
        db.delete(message)
        db.commit()
    finally:
        db.close()
    return re.search(r"\b\d{6}\b", body).group()
