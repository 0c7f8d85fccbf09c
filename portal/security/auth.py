"""Signing people in and out of the current browser session."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from werkzeug.wrappers import Response

from portal.db import get_session
from portal.security import audit, family_sign_in
from portal.security.models import Role, User

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
    """The first factor is good: finish, or ask for the second step when the role or device needs one."""
    next_url = next_url or session.get("pending_next")
    if user.has_role(Role.FAMILY):
        return _begin_family_sign_in(user, method, next_url)
    if not user.needs_two_factor:
        return redirect(sign_in_user(user, method, next_url))
    _start_pending(user, method, next_url)
    if user.totp_secret:
        return redirect(url_for("security.two_factor"))
    return redirect(url_for("security.two_factor_setup"))


def _start_pending(user: User, method: str, next_url: str | None) -> None:
    session.clear()
    session.rotate()
    session.update(pending_user_id=user.id, pending_method=method, pending_since=int(time.time()))
    if next_url:
        session["pending_next"] = next_url
    get_session().commit()


def _begin_family_sign_in(user: User, method: str, next_url: str | None) -> Response:
    # A family member's password is often their only secret: a device they have not used before must
    # also show the code from their authenticator app, or one we send them.
    db = get_session()
    if family_sign_in.recognise_device(db, user, request.cookies.get(family_sign_in.DEVICE_COOKIE)):
        return redirect(sign_in_user(user, f"{method} on a remembered device", next_url))
    _start_pending(user, method, next_url)
    if user.totp_secret:
        return redirect(url_for("security.two_factor"))
    if not family_sign_in.send_code(db, user):
        flash("We have sent you a lot of codes. Use the last one we sent, or wait an hour and try again.", "info")
    db.commit()
    return redirect(url_for("security.sign_in_code"))


def remember_this_device(response: Response, user: User) -> Response:
    """Set the cookie that lets this browser skip the second step for 30 days."""
    token = family_sign_in.remember_device(get_session(), user)
    get_session().commit()
    response.set_cookie(
        family_sign_in.DEVICE_COOKIE,
        token,
        max_age=int(family_sign_in.DEVICE_LIFETIME.total_seconds()),
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        samesite="Lax",
        path="/",
    )
    return response


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
