"""Invitations for family members: opening the link or typing the letter's code, then choosing a password.

The invitation is how a family member first reaches the portal; the sign-in that follows belongs to
``portal.security``. Coordinators print a letter with a code for people who prefer letters.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, session, url_for
from flask_login import current_user

from portal.db import get_session
from portal.extensions import limiter
from portal.families import invitations
from portal.notifications import outbox
from portal.reviews.models import Review
from portal.security import auth
from portal.security.forms import ChoosePasswordForm, InvitationCodeForm, LetterInvitationForm
from portal.security.models import Invitation, InvitationChannel, Role, User
from portal.security.permissions import PUBLIC, requires
from portal.security.routes import _failed

bp = Blueprint("invitations", __name__)


def _invitation_refused():
    # One kind page for unknown, used, expired, replaced and mismatched invitations: it reveals nothing.
    return render_template("families/invitations/invalid.html"), 404


def _choose_password(invitation: Invitation):
    """Let the invited person choose a password; on success they are signed in on this device."""
    db = get_session()
    form = ChoosePasswordForm()
    form.person_email = invitation.user.email
    if form.validate_on_submit():
        person = invitations.accept(db, invitation, form.password.data)
        db.commit()
        # The link or code reached their own email, phone or letter: this first sign-in counts as checked.
        response = redirect(auth.sign_in_user(person, f"invitation by {invitation.channel}", url_for("pages.home")))
        auth.remember_this_device(response, person)
        return response
    db.commit()  # keeps the audit entry of a refusal found on the way
    return render_template("families/invitations/password.html", form=form, person=invitation.user)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit("30 per hour", methods=["POST"])
def invitation(token: str):
    db = get_session()
    found = invitations.find_by_link(db, token)
    if found is None:
        db.commit()
        return _invitation_refused()
    return _choose_password(found)


@bp.route("/invitation", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"], deduct_when=_failed)
def invitation_code():
    form = InvitationCodeForm()
    if form.validate_on_submit():
        db = get_session()
        found = invitations.find_by_code(db, form.code.data)
        db.commit()
        if found is not None:
            # The code is not put in an address: this browser remembers which invitation it opened.
            session["invitation_id"] = found.id
            return redirect(url_for("invitations.invitation_password"))
        g.attempt_failed = True
        form.code.errors.append(
            "This code does not work. Check it against your letter. If it still does not work, "
            "ask the person who gave you the letter for a new one"
        )
    return render_template("families/invitations/code.html", form=form)


@bp.route("/invitation/choose-password", methods=["GET", "POST"])
@requires(PUBLIC)
def invitation_password():
    invitation_id = session.get("invitation_id")
    if not isinstance(invitation_id, int):
        return _invitation_refused()
    db = get_session()
    found = invitations.still_usable(db, invitation_id)
    if found is None:
        session.pop("invitation_id", None)
        db.commit()
        return _invitation_refused()
    return _choose_password(found)


@bp.route("/invitations/letter", methods=["POST"])
@requires(Role.COORDINATOR)
def invitation_letter():
    form = LetterInvitationForm()
    ids = form.ids() if form.validate_on_submit() else None
    if ids is None:
        abort(400)
    db = get_session()
    person, review = db.get(User, ids[0]), db.get(Review, ids[1])
    if person is None or review is None:
        abort(404)
    try:
        issued = invitations.invite(db, person, review.id, by=current_user, channel=InvitationChannel.LETTER)
    except invitations.InvitationRefused:
        abort(404)
    db.commit()
    # The code exists in plain text only in this response: it cannot be shown again, only replaced.
    response = current_app.make_response(
        render_template(
            "families/invitations/letter.html",
            person=person,
            code=issued.code,
            expires_at=issued.invitation.expires_at,
            code_page=outbox.link_to("invitations.invitation_code"),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
