"""The outbox as coordinators see it: messages the portal could not send."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.db import get_session
from portal.notifications import outbox
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.pagination import Pagination, requested_page
from portal.security import audit
from portal.security.forms import ConfirmForm
from portal.security.models import Role
from portal.security.permissions import requires

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 25


@bp.route("/failed")
@requires(Role.COORDINATOR)
def failed():
    db = get_session()
    page = requested_page()
    total, messages = outbox.failed_messages(db, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pagination = Pagination.of(total, PER_PAGE, page)
    if pagination.page != page:
        # A page past the end shows the last one.
        total, messages = outbox.failed_messages(db, offset=pagination.offset, limit=PER_PAGE)
    return render_template("notifications/failed.html", messages=messages, pagination=pagination, form=None)


@bp.route("/<int:message_id>/try-again", methods=["POST"])
@requires(Role.COORDINATOR)
def try_again(message_id: int):
    db = get_session()
    message = db.get(OutboxMessage, message_id)
    if message is None or message.status != MessageStatus.FAILED.value:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if message.redact_after_send:
        # Its secret link was removed when it was given up on; a new one must be asked for.
        flash(
            f"The message to {message.to_address} carried a secret link that has been removed, so it cannot be "
            "sent again: ask the person to request a new link",
            "info",
        )
        return redirect(url_for("notifications.failed"))
    attempts_before = message.attempts
    outbox.try_again(db, message)
    audit.record(
        db,
        "notification.try_again",
        object_type="outbox_message",
        object_id=message.id,
        actor_id=current_user.id,
        details={"kind": message.kind, "attempts_before": attempts_before},
    )
    db.commit()
    flash(f"The message to {message.to_address} will be sent again shortly", "success")
    return redirect(url_for("notifications.failed"))
