"""Sign-in, sign-out, two-factor, password reset, single sign-on and the person's own sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.db import get_session, utcnow
from portal.extensions import limiter
from portal.notifications import outbox
from portal.notifications.models import Channel
from portal.security import audit, auth, family_sign_in, services, sso
from portal.security.forms import (
    ChangePasswordForm,
    ConfirmForm,
    FamilyTwoFactorForm,
    NewPasswordForm,
    ResetRequestForm,
    SignInCodeForm,
    SignInForm,
    TwoFactorForm,
    TwoFactorSetupForm,
)
from portal.security.models import Role, UserSession
from portal.security.passwords import verify_password
from portal.security.permissions import PUBLIC, SIGNED_IN, SIGNING_IN, requires
from portal.security.sessions import session_expiry_reason

bp = Blueprint("security", __name__)


def _account_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))


def _pending_key() -> str:
    return f"pending:{session.get('pending_user_id', 'none')}"


def _failed(response) -> bool:
    # Only failed attempts count against the limits: a person who signs in is never locked out.
    return bool(g.get("attempt_failed"))


@bp.route("/sign-in", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    if form.validate_on_submit():
        db = get_session()
        user = services.authenticate(db, form.email.data, form.password.data)
        db.commit()
        if user is not None:
            return auth.begin_sign_in(user, "password", auth.safe_next(request.args.get("next")))
        g.attempt_failed = True
        # One message for unknown email, wrong password and deactivated account alike.
        form.email.errors.append("Enter a correct email address and password")
        form.password.errors.append("Enter a correct email address and password")
    return render_template(
        "security/sign_in.html",
        form=form,
        sso_enabled=sso.sso_enabled(),
        next_url=auth.safe_next(request.args.get("next")),
    )


def _pending_user_or_detour():
    """The person part-way through signing in, or where to send a browser that is not."""
    if current_user.is_authenticated:
        # Already through (say, the recovery codes page was refreshed): nothing left to do here.
        return None, redirect(url_for("pages.home"))
    user = auth.pending_user()
    if user is None:
        flash("Your sign-in timed out. Sign in again.", "info")
        return None, redirect(url_for("security.sign_in"))
    return user, None


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@requires(SIGNING_IN)
@limiter.limit("10 per 15 minutes", key_func=_pending_key, methods=["POST"], deduct_when=_failed)
def two_factor():
    user, detour = _pending_user_or_detour()
    if detour:
        return detour
    if not user.totp_secret:
        if user.has_role(Role.FAMILY):
            return redirect(url_for("security.sign_in_code"))
        return redirect(url_for("security.two_factor_setup"))
    family = user.has_role(Role.FAMILY)
    form = FamilyTwoFactorForm() if family else TwoFactorForm()
    if form.validate_on_submit():
        db = get_session()
        code = form.code.data
        if services.verify_totp(db, user, code) or services.use_recovery_code(db, user, code):
            db.commit()
            response = redirect(auth.sign_in_user(user, session.get("pending_method", "password")))
            if family and form.remember.data:
                auth.remember_this_device(response, user)
            return response
        g.attempt_failed = True
        audit.record(db, "sign_in.second_factor_failed", object_type="user", object_id=user.id, actor_id=user.id)
        db.commit()
        form.code.errors.append("The code is not correct or has already been used. Enter the latest code")
    return render_template("security/two_factor.html", form=form)


@bp.route("/sign-in/two-factor/set-up", methods=["GET", "POST"])
@requires(SIGNING_IN)
@limiter.limit("10 per 15 minutes", key_func=_pending_key, methods=["POST"], deduct_when=_failed)
def two_factor_setup():
    user, detour = _pending_user_or_detour()
    if detour:
        return detour
    if user.totp_secret:
        return redirect(url_for("security.two_factor"))
    if user.has_role(Role.FAMILY):
        # Setting up an app here would let a password alone choose the second factor.
        return redirect(url_for("security.sign_in_code"))
    # The secret lives in the server-side session until the person proves their app has it.
    secret = session.setdefault("pending_totp_secret", services.new_totp_secret())
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        db = get_session()
        setup = services.confirm_totp_setup(db, user, secret, form.code.data)
        if setup is not None:
            db.commit()
            next_url = auth.sign_in_user(user, session.get("pending_method", "password"))
            # Shown by a separate page (post, redirect, get), so refreshing it never re-sends the form.
            session.update(new_recovery_codes=setup.recovery_codes, after_recovery_codes=next_url)
            return redirect(url_for("security.recovery_codes"))
        g.attempt_failed = True
        form.code.errors.append("The code is not correct. Check the time on your phone and enter the latest code")
    uri = services.totp_uri(user, secret, current_app.config["TOTP_ISSUER"])
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    grouped_secret = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template("security/two_factor_setup.html", form=form, qr=qr, secret=grouped_secret)


def _masked(address: str) -> str:
    """'jo.bennett@example.org' as 'j•••@example.org': enough to recognise, not to read out."""
    name, at, domain = address.partition("@")
    if at:
        return f"{name[:1]}•••@{domain}"
    return "•••" + address[-3:]


@bp.route("/sign-in/code", methods=["GET", "POST"])
@requires(SIGNING_IN)
@limiter.limit("10 per 15 minutes", key_func=_pending_key, methods=["POST"], deduct_when=_failed)
def sign_in_code():
    user, detour = _pending_user_or_detour()
    if detour:
        return detour
    if not user.has_role(Role.FAMILY) or user.totp_secret:
        return redirect(url_for("security.two_factor"))
    form = SignInCodeForm()
    if form.validate_on_submit():
        db = get_session()
        outcome = family_sign_in.check_code(db, user, form.code.data)
        db.commit()
        if outcome == family_sign_in.CodeOutcome.ACCEPTED:
            response = redirect(auth.sign_in_user(user, session.get("pending_method", "password")))
            if form.remember.data:
                auth.remember_this_device(response, user)
            return response
        g.attempt_failed = True
        if outcome == family_sign_in.CodeOutcome.WRONG:
            form.code.errors.append("The code is not right. Check it and try again")
        else:
            form.code.errors.append("This code no longer works. Ask for a new code")
    channel = family_sign_in.channel_for(user)
    address = user.email if channel == Channel.EMAIL else user.phone or ""
    return render_template(
        "security/sign_in_code.html",
        form=form,
        channel=channel.value,
        address=_masked(address),
        new_code_form=ConfirmForm(),
        minutes=int(family_sign_in.CODE_LIFETIME.total_seconds() // 60),
    )


@bp.route("/sign-in/code/new", methods=["POST"])
@requires(SIGNING_IN)
@limiter.limit("10 per hour", key_func=_pending_key)
def new_sign_in_code():
    user, detour = _pending_user_or_detour()
    if detour:
        return detour
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not user.has_role(Role.FAMILY) or user.totp_secret:
        return redirect(url_for("security.two_factor"))
    db = get_session()
    if family_sign_in.send_code(db, user):
        flash("We have sent you a new code.", "success")
    else:
        flash("We have sent you a lot of codes. Wait an hour, then ask for a new one.", "info")
    db.commit()
    return redirect(url_for("security.sign_in_code"))


@bp.route("/account/recovery-codes")
@requires(SIGNED_IN)
def recovery_codes():
    codes = session.pop("new_recovery_codes", None)
    next_url = session.pop("after_recovery_codes", None) or url_for("pages.home")
    if not codes:
        flash("Recovery codes are shown only once, when two-factor sign-in is set up.", "info")
        return redirect(url_for("security.account"))
    return render_template("security/recovery_codes.html", codes=codes, next_url=next_url)


@bp.route("/sign-out", methods=["POST"])
@requires(SIGNED_IN)
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    auth.sign_out(current_user._get_current_object())
    return render_template("security/signed_out.html")


@bp.route("/sso/start")
@requires(PUBLIC)
def sso_start():
    if not sso.sso_enabled():
        abort(404)
    db = get_session()
    next_url = auth.safe_next(request.args.get("next"))
    if next_url:
        session["pending_next"] = next_url
    outcome = sso.start_sign_in(db, url_for("security.sso_callback", _external=True))
    if isinstance(outcome, sso.SsoRefusal):
        db.commit()
        return render_template("security/sso_refused.html", refusal=outcome), outcome.status
    return outcome


@bp.route("/sso/callback")
@requires(PUBLIC)
def sso_callback():
    if not sso.sso_enabled():
        abort(404)
    db = get_session()
    outcome = sso.complete_sign_in(db)
    # Commit before answering: a refusal's audit row must survive, and a new link must hold.
    try:
        db.commit()
    except sa.exc.IntegrityError:
        # The same identity was linked by a simultaneous first sign-in in another tab: start again.
        db.rollback()
        return redirect(url_for("security.sso_start"))
    if isinstance(outcome, sso.SsoRefusal):
        return render_template("security/sso_refused.html", refusal=outcome), outcome.status
    return auth.begin_sign_in(outcome, "single sign-on")


@bp.route("/password-reset", methods=["GET", "POST"])
@requires(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"])
def password_reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        db = get_session()
        user = services.find_user_by_email(db, form.email.data)
        if user is not None and user.active:
            lifetime = timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])
            token = services.issue_password_reset(db, user, lifetime)
            link = outbox.link_to("security.password_reset", token=token)
            outbox.enqueue(
                db,
                key=f"password_reset:{user.id}:{secrets.token_hex(8)}",
                kind="password_reset",
                to=user,
                subject="Reset your password",
                body=render_template("security/email/password_reset.txt", user=user, link=link),
                redact_after_send=True,
            )
            db.commit()
        # The same answer whether or not the address has an account, so nobody can probe for one.
        return render_template("security/password_reset_sent.html", email=form.email.data)
    return render_template("security/password_reset_request.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@requires(PUBLIC)
def password_reset(token: str):
    db = get_session()
    reset = services.find_password_reset(db, token)
    if reset is None:
        return render_template("security/password_reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        services.complete_password_reset(db, reset, form.password.data)
        db.commit()
        # Every session of this person has ended; this browser starts afresh, signed out.
        session.clear()
        session.rotate()
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("security.sign_in"))
    return render_template("security/password_reset.html", form=form)


@bp.route("/account")
@requires(SIGNED_IN)
def account():
    left = services.recovery_codes_left(get_session(), current_user)
    return render_template("security/account.html", recovery_codes_left=left)


@bp.route("/account/password", methods=["GET", "POST"])
@requires(SIGNED_IN)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        if verify_password(current_user.password_hash, form.current_password.data):
            services.set_password(db, current_user, form.password.data, keep_session_id=session.record_id)
            db.commit()
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("security.account"))
        form.current_password.errors.append("Your current password is not correct")
    return render_template("security/change_password.html", form=form)


@bp.route("/account/sessions")
@requires(SIGNED_IN)
def sessions():
    db = get_session()
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    records = db.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == current_user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
        .limit(50)
    ).all()
    active = [record for record in records if session_expiry_reason(record, now, idle, lifetime) is None]
    return render_template("security/sessions.html", records=active, current_id=session.record_id, form=ConfirmForm())


@bp.route("/account/sessions/<int:record_id>/end", methods=["POST"])
@requires(SIGNED_IN)
def end_session(record_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    record = db.get(UserSession, record_id)
    # Someone else's session is "not found", never "forbidden".
    if record is None or record.user_id != current_user.id or record.ended_at is not None:
        abort(404)
    if record.id == session.record_id:
        auth.sign_out(current_user._get_current_object())
        return render_template("security/signed_out.html")
    record.ended_at, record.ended_reason = utcnow(), "ended by its owner"
    audit.record(db, "session.ended", object_type="user_session", object_id=record.id)
    db.commit()
    flash("That session has been signed out.", "success")
    return redirect(url_for("security.sessions"))
