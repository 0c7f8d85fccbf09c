"""Home pages by role, the accessibility statement, the privacy notice and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from portal.authoring import requests
from portal.db import get_session
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.security.models import Role
from portal.security.permissions import PUBLIC, requires

bp = Blueprint("pages", __name__)


@bp.route("/")
@requires(PUBLIC)
def home():
    if not current_user.is_authenticated:
        return render_template("pages/start.html")
    context = {}
    db = get_session()
    if current_user.role == Role.COORDINATOR:
        # Messages given up on need a coordinator's eye: the home page says how many there are.
        failed = sa.select(sa.func.count()).where(OutboxMessage.status == MessageStatus.FAILED.value)
        context["failed_messages"] = db.scalar(failed) or 0
        context["overdue_requests"] = requests.overdue_count(db)
    elif current_user.role == Role.PRACTITIONER:
        context["requests_waiting"], context["requests_for_me"] = requests.open_for(db, current_user)
        context["request_overdue"] = requests.is_overdue
    return render_template(f"pages/home_{current_user.role}.html", **context)


@bp.route("/accessibility")
@requires(PUBLIC)
def accessibility():
    return render_template("pages/accessibility.html")


@bp.route("/privacy")
@requires(PUBLIC)
def privacy():
    return render_template("pages/privacy.html")


@bp.route("/healthz")
@requires(PUBLIC)
def healthz():
    """For load balancers and monitoring: is the app up, and can it reach its database?"""
    try:
        get_session().execute(sa.select(1))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check could not reach the database")
        database = "unavailable"
    healthy = database == "ok"
    return jsonify(status="ok" if healthy else "unavailable", app="ok", database=database), 200 if healthy else 503
