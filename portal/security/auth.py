"""Signing people in and out of the current browser session."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, session, url_for
from flask_login import LoginManager, login_user, logout_user
from werkzeug.wrappers import Response

from portal.db import get_session
from portal.security import audit
from portal.security.models import User

# Between the password and the code from the authenticator app, a person has this long.
PENDING_SECONDS = 10 * 60


def init_login_manager(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "security.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    # The server-side session already binds the cookie to one record; no IP or browser pinning.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = get_session().get(User, int(user_id))
        return user if user is not None and user.active else None


def safe_next(target: str | None) -> str | None:
    """A page of this portal to return to after sign-in, or None: never another site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def begin_sign_in(user: User, method: str, next_url: str | None = None) -> Response:
    """The first factor is good: finish, or ask for the authenticator code when the role needs one."""
    next_url = next_url or session.get("pending_next")
    if not user.needs_two_factor:
        return redirect(sign_in_user(user, method, next_url))
    session.clear()
    session.rotate()
    session.update(pending_user_id=user.id, pending_method=method, pending_since=int(time.time()))
    if next_url:
        session["pending_next"] = next_url
    get_session().commit()
    if user.totp_secret:
        return redirect(url_for("security.two_factor"))
    return redirect(url_for("security.two_factor_setup"))


def pending_user() -> User | None:
    """The person part-way through signing in, if they started recently enough."""
    user_id = session.get("pending_user_id")
    if user_id is None or time.time() - session.get("pending_since", 0) > PENDING_SECONDS:
        return None
    user = get_session().get(User, user_id)
    return user if user is not None and user.active else None


def sign_in_user(user: User, method: str, next_url: str | None = None) -> str:
    """Both factors are good: start a fresh signed-in session. Returns where to go next."""
    target = next_url or session.get("pending_next") or url_for("pages.home")
    db = get_session()
    audit.record(
        db, "sign_in.succeeded", object_type="user", object_id=user.id, actor_id=user.id, details={"method": method}
    )
    db.commit()
    session.clear()
    # A new identifier at every sign-in, so a cookie planted before sign-in is worthless after it.
    session.rotate()
    login_user(user)
    flash(f"You are signed in as {user.name}.", "success")
    return target


def sign_out(user: User) -> None:
    db = get_session()
    audit.record(db, "sign_out", object_type="user", object_id=user.id, actor_id=user.id)
    db.commit()
    logout_user()
    session.end("signed out")
