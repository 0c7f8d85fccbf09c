"""Practitioners' pages: events they can attend, registering, their registrations and certificates.

Every page about one event loads it through ``services.load_event_for``: drafts, events of a review the
person is not part of, and any event shown to an author or a family answer 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.db import get_session, utcnow
from portal.events import calendar, queries, services
from portal.events.models import Attendance, EventKind, EventStatus, Registration, RegistrationStatus
from portal.events.registration_forms import CancelRegistrationForm, EventFilterForm, RegistrationForm
from portal.pagination import requested_page
from portal.security.models import Role
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("events", __name__, url_prefix="/events")

PER_PAGE = 20


def _active(registration: Registration | None) -> bool:
    return registration is not None and registration.status != RegistrationStatus.CANCELLED.value


def _status_message(db, registration: Registration) -> str:
    if registration.status == RegistrationStatus.CONFIRMED.value:
        return "Your place is confirmed"
    return f"You are number {services.waiting_position(db, registration)} on the waiting list"


@bp.app_template_global()
def my_next_events(limit: int = 3) -> list[queries.MyRegistration]:
    """The signed-in practitioner's next events, for their home page."""
    return queries.next_events(get_session(), current_user, now=utcnow(), limit=limit)


bp.add_app_template_filter(queries.event_when, "event_when")


@bp.route("")
@requires(Role.PRACTITIONER, Role.COORDINATOR)
def list_events():
    db = get_session()
    now = utcnow()
    form = EventFilterForm(request.args)
    months = queries.upcoming_months(now)
    form.month.choices = [SelectChoice("", "Any month")] + [
        SelectChoice(f"{month:%Y-%m}", f"{month:%B %Y}") for month in months
    ]
    chosen_kind = request.args.get("kind", "")
    kind = EventKind(chosen_kind) if chosen_kind in {k.value for k in EventKind} else None
    chosen_month = request.args.get("month", "")
    month = next((m for m in months if f"{m:%Y-%m}" == chosen_month), None)
    result = queries.upcoming_events(
        db, current_user, now=now, kind=kind, month=month, page=requested_page(), per_page=PER_PAGE
    )
    filters = {"kind": kind.value if kind else None, "month": f"{month:%Y-%m}" if month else None}
    return render_template("events/list.html", result=result, filter_form=form, kind=kind, month=month, filters=filters)


@bp.route("/mine")
@requires(Role.PRACTITIONER)
def my_registrations():
    db = get_session()
    result = queries.my_registrations(db, current_user, now=utcnow(), page=requested_page(), per_page=PER_PAGE)
    return render_template("events/mine.html", result=result)


@bp.route("/<int:event_id>")
@requires(SIGNED_IN)
def event(event_id: int):
    db = get_session()
    now = utcnow()
    event = services.load_event_for(db, current_user, event_id)
    registration = services.registration_of(db, event, current_user)
    position = services.waiting_position(db, registration) if registration else None
    return render_template(
        "events/event.html",
        event=event,
        places=services.places(db, event),
        registration=registration if _active(registration) else None,
        cancelled_registration=registration if registration and not _active(registration) else None,
        position=position,
        closed_reason=queries.registration_closed_reason(event, now),
        is_coordinator=current_user.role == Role.COORDINATOR,
        attended=registration is not None and registration.attendance == Attendance.ATTENDED.value,
        now=now,
    )


@bp.route("/<int:event_id>/register", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def register(event_id: int):
    db = get_session()
    now = utcnow()
    event = services.load_event_for(db, current_user, event_id)
    existing = services.registration_of(db, event, current_user)
    if _active(existing):
        # A second click, a second tab or the back button: nothing changes, and we say where they stand.
        flash(_status_message(db, existing), "info")
        return redirect(url_for("events.event", event_id=event.id))
    form = RegistrationForm()
    refusal = queries.registration_closed_reason(event, now)
    if refusal is None and form.validate_on_submit():
        try:
            registration = services.register_for_event(
                db, event.id, current_user, access_needs=form.access_needs.data or None
            )
        except services.RegistrationRefused as error:
            db.rollback()
            refusal = str(error)
        else:
            message = _status_message(db, registration)
            db.commit()
            flash(message, "success")
            return redirect(url_for("events.event", event_id=event.id))
    return render_template(
        "events/register.html", form=form, event=event, places=services.places(db, event), refusal=refusal
    )


@bp.route("/<int:event_id>/cancel-registration", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def cancel_registration(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    registration = services.registration_of(db, event, current_user)
    if not _active(registration):
        abort(404)
    had_place = registration.status == RegistrationStatus.CONFIRMED.value
    form = CancelRegistrationForm()
    if form.validate_on_submit():
        services.cancel_registration(db, event.id, current_user)
        db.commit()
        flash("Your place has been cancelled" if had_place else "You have left the waiting list", "success")
        return redirect(url_for("events.event", event_id=event.id))
    return render_template("events/cancel_registration.html", form=form, event=event, had_place=had_place)


@bp.route("/<int:event_id>/calendar.ics")
@requires(Role.PRACTITIONER)
def calendar_file(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    registration = services.registration_of(db, event, current_user)
    if (
        registration is None
        or registration.status != RegistrationStatus.CONFIRMED.value
        or event.status != EventStatus.PUBLISHED.value
    ):
        abort(404)
    # The sequence the person was last sent: a download matches the invitation already in their calendar.
    content = calendar.calendar_entry(event, registration, organiser=current_app.config["MAIL_SENDER"], now=utcnow())
    return current_app.response_class(
        content,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


@bp.route("/<int:event_id>/certificate")
@requires(Role.PRACTITIONER)
def certificate(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    registration = services.registration_of(db, event, current_user)
    if registration is None or registration.attendance != Attendance.ATTENDED.value:
        abort(404)
    return render_template(
        "events/certificate.html",
        event=event,
        registration=registration,
        person=current_user,
        duration=queries.duration_in_words(event),
        issued_on=utcnow(),
    )
