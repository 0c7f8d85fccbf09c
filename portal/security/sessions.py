"""Server-side sessions: the cookie carries only a random identifier for a row in ``user_sessions``.

Signing out, a password change, deactivation or a role change ends the row, which ends the
session on every worker and machine at once. Sessions end after 30 minutes idle and 12 hours in all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from portal.db import get_session, utcnow
from portal.security.models import UserSession

# last_seen_at is written at most this often, so busy pages do not write on every request.
_TOUCH_INTERVAL = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict | None = None, record_id: int | None = None):
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(initial, on_update)
        self.record_id = record_id
        self.modified = False
        self.rotate_requested = False
        self.end_requested: str | None = None
        self.expired_record_id: int | None = None
        self.expired_reason: str | None = None

    def rotate(self) -> None:
        """Issue a new identifier at the end of this request (done at every sign-in)."""
        self.rotate_requested = True

    def end(self, reason: str) -> None:
        """End this session on the server and clear the cookie."""
        self.clear()
        self.end_requested = reason


def session_expiry_reason(record: UserSession, now: datetime, idle: timedelta, lifetime: timedelta) -> str | None:
    if now - record.last_seen_at > idle:
        return "idle"
    if now - record.created_at > lifetime:
        return "expired"
    return None


def end_sessions(db: Session, user_id: int, reason: str, *, except_record_id: int | None = None) -> int:
    """End every open session of a person (but the current one, when given). Returns how many."""
    query = sa.update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_record_id is not None:
        query = query.where(UserSession.id != except_record_id)
    return db.execute(query.values(ended_at=utcnow(), ended_reason=reason)).rowcount


def prune_sessions(db: Session, older_than: timedelta) -> int:
    """Delete records of sessions that ended, or were last used, longer ago than ``older_than``."""
    cutoff = utcnow() - older_than
    stale = sa.or_(UserSession.ended_at < cutoff, UserSession.last_seen_at < cutoff)
    return db.execute(sa.delete(UserSession).where(stale)).rowcount


class ServerSessionInterface(SessionInterface):
    def _limits(self, app: Flask) -> tuple[timedelta, timedelta]:
        return (
            timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
            timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
        )

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        # Assets and the health check never need a session, and the health check must answer even
        # when the database (which holds sessions) does not.
        if request.path.startswith(f"{app.static_url_path}/") or request.path == "/healthz":
            return self.make_null_session(app)
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()
        record = get_session().scalar(
            sa.select(UserSession).where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
        )
        if record is None:
            return ServerSession()
        reason = session_expiry_reason(record, utcnow(), *self._limits(app))
        if reason:
            session = ServerSession()
            session.expired_record_id, session.expired_reason = record.id, reason
            return session
        try:
            data = json.loads(record.data)
        except ValueError:
            data = {}
        return ServerSession(data, record.id)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            return
        db = get_session()
        # Anything the view did not commit is discarded here, before the session row is written.
        db.rollback()
        now = utcnow()
        if session.expired_record_id is not None:
            self._end(db, session.expired_record_id, session.expired_reason or "expired", now)
        if session.end_requested:
            if session.record_id is not None:
                self._end(db, session.record_id, session.end_requested, now)
            db.commit()
            self._delete_cookie(app, response)
            return
        if session.record_id is not None and session.rotate_requested:
            self._end(db, session.record_id, "rotated", now)
            session.record_id = None
        if session.record_id is None:
            if not session:
                db.commit()
                if session.expired_record_id is not None:
                    self._delete_cookie(app, response)
                return
            self._create(app, db, session, response, now)
        else:
            self._update(db, session, now)
        db.commit()

    def _create(self, app: Flask, db: Session, session: ServerSession, response: Response, now: datetime) -> None:
        from flask import request

        token = secrets.token_urlsafe(32)
        record = UserSession(
            token_hash=hash_token(token),
            user_id=_user_id(session),
            data=json.dumps(dict(session)),
            created_at=now,
            last_seen_at=now,
            ip_address=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300] or None,
        )
        db.add(record)
        db.flush()
        session.record_id = record.id
        response.set_cookie(
            self.get_cookie_name(app),
            token,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            path="/",
        )
        response.vary.add("Cookie")

    def _update(self, db: Session, session: ServerSession, now: datetime) -> None:
        values: dict = {}
        if session.modified:
            values.update(data=json.dumps(dict(session)), user_id=_user_id(session))
        record = db.get(UserSession, session.record_id)
        if record is None or record.ended_at is not None:
            return  # ended by another request (sign-out elsewhere) while this one ran
        if values or now - record.last_seen_at > _TOUCH_INTERVAL:
            record.last_seen_at = now
            for key, value in values.items():
                setattr(record, key, value)

    @staticmethod
    def _end(db: Session, record_id: int, reason: str, now: datetime) -> None:
        db.execute(
            sa.update(UserSession)
            .where(UserSession.id == record_id, UserSession.ended_at.is_(None))
            .values(ended_at=now, ended_reason=reason)
        )

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(
            self.get_cookie_name(app),
            path="/",
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )


def _user_id(session: ServerSession) -> int | None:
    value = session.get("_user_id")
    return int(value) if value is not None else None
