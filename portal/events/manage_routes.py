"""Coordinators' pages: creating, publishing and cancelling events, registrations, attendance."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from portal.db import LONDON, get_session, utcnow
from portal.events import attendance, services
from portal.events.forms import AttendanceMarkForm, CancelEventForm, EventForm, StatusFilterForm
from portal.events.models import Attendance, EventStatus, RegistrationStatus
from portal.pagination import requested_page
from portal.reviews.models import Review
from portal.security.forms import ConfirmForm
from portal.security.models import Role
from portal.security.permissions import requires
from portal.spreadsheet import csv_download
from portal.templating import london

bp = Blueprint("event_admin", __name__, url_prefix="/events")

PER_PAGE = 25
REGISTRATIONS_PER_PAGE = 100


def _review_choices(db: Session) -> list[SelectChoice]:
    reviews = db.execute(sa.select(Review.id, Review.reference, Review.anonymised_name).order_by(Review.reference))
    return [SelectChoice("", "Not about a review")] + [
        SelectChoice(str(review_id), f"{reference}, {name}") for review_id, reference, name in reviews
    ]


@bp.route("/manage")
@requires(Role.COORDINATOR)
def manage():
    db = get_session()
    filter_form = StatusFilterForm(request.args)
    chosen = request.args.get("status", "")
    status = EventStatus(chosen) if chosen in {s.value for s in EventStatus} else None
    result = attendance.manage_list(db, status=status, page=requested_page(), per_page=PER_PAGE)
    return render_template(
        "events/manage/list.html", result=result, filter_form=filter_form, status=status, now=utcnow()
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def new_event():
    db = get_session()
    form = EventForm()
    form.review.choices = _review_choices(db)
    form.day.not_in_past = True
    if request.method == "GET":
        form.opens.data = utcnow().astimezone(LONDON).date()
    if form.validate_on_submit():
        event = services.create_event(db, actor=current_user, **form.event_fields())
        db.commit()
        flash(f"{event.title} saved as a draft: only coordinators can see it until it is published", "success")
        return redirect(url_for("events.event", event_id=event.id))
    return render_template("events/manage/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def edit_event(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    if event.status == EventStatus.CANCELLED.value:
        return render_template("events/manage/cancelled.html", event=event)
    form = EventForm()
    form.review.choices = _review_choices(db)
    if request.method == "GET":
        form.fill_from(event)
    if form.validate_on_submit():
        try:
            services.update_event(db, event.id, actor=current_user, **form.event_fields())
        except services.EventChangeRefused as refusal:
            db.rollback()
            form.capacity.errors = [*form.capacity.errors, str(refusal)]
        else:
            db.commit()
            flash("Event saved. Anyone registered has been told if its time or place changed.", "success")
            return redirect(url_for("events.event", event_id=event.id))
    return render_template("events/manage/form.html", form=form, event=event)


@bp.route("/<int:event_id>/publish", methods=["POST"])
@requires(Role.COORDINATOR)
def publish(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.publish_event(db, event.id, actor=current_user)
    except services.EventChangeRefused as refusal:
        db.rollback()
        flash(str(refusal), "info")
    else:
        db.commit()
        flash(f"{event.title} is published: practitioners who can come can now see it and register", "success")
    return redirect(url_for("events.event", event_id=event.id))


@bp.route("/<int:event_id>/cancel", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def cancel_event(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    if event.status == EventStatus.CANCELLED.value:
        return render_template("events/manage/cancelled.html", event=event)
    places = services.places(db, event)
    form = CancelEventForm()
    if form.validate_on_submit():
        try:
            services.cancel_event(db, event.id, actor=current_user, reason=form.reason.data)
        except services.EventChangeRefused as refusal:
            db.rollback()
            form.reason.errors = [*form.reason.errors, str(refusal)]
        else:
            db.commit()
            told = places.confirmed + places.waiting
            flash(f"{event.title} is cancelled. {_people(told)} registered {'has' if told == 1 else 'have'} been told.")
            return redirect(url_for("events.event", event_id=event.id))
    return render_template("events/manage/cancel.html", form=form, event=event, places=places)


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


@bp.route("/<int:event_id>/registrations")
@requires(Role.COORDINATOR)
def registrations(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    rows, pagination = attendance.registrations_page(db, event, page=requested_page(), per_page=REGISTRATIONS_PER_PAGE)
    places = services.places(db, event)
    attendance.record_registrations_read(db, event, current_user)
    db.commit()
    groups = [
        (status, [row for row in rows if row.registration.status == status.value]) for status in RegistrationStatus
    ]
    return render_template(
        "events/manage/registrations.html", event=event, groups=groups, pagination=pagination, places=places
    )


@bp.route("/<int:event_id>/registrations.csv")
@requires(Role.COORDINATOR)
def registrations_csv(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    rows = attendance.all_registrations(db, event)
    attendance.record_registrations_read(db, event, current_user, exported=True)
    db.commit()
    header = [
        "Status",
        "Waiting list position",
        "Name",
        "Agency",
        "Email",
        "Registered",
        "Access needs and reasonable adjustments",
        "Attendance",
    ]
    lines = (
        [
            row.registration.status_enum.label,
            row.waiting_position or "",
            row.registration.user.name,
            row.registration.user.agency.name if row.registration.user.agency else "",
            row.registration.user.email,
            london(row.registration.registered_at),
            row.registration.access_needs or "",
            row.registration.attendance_enum.label if row.registration.attendance_enum else "",
        ]
        for row in rows
    )
    return csv_download(f"event-{event.id}-registrations.csv", header, lines)


# Named apart from the attendance module; the endpoint is still event_admin.attendance.
@bp.route("/<int:event_id>/attendance", methods=["GET", "POST"], endpoint="attendance")
@requires(Role.COORDINATOR)
def attendance_register(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    refusal = attendance.register_refusal(event)
    if refusal:
        return render_template("events/manage/attendance.html", event=event, refusal=refusal)
    if request.method == "POST":
        form = AttendanceMarkForm()
        if not form.validate_on_submit() or not form.registration.data.isdigit():
            flash("Choose Attended or Did not attend for the person", "info")
        else:
            try:
                registration = attendance.record_attendance(
                    db, event, int(form.registration.data), Attendance(form.attendance.data), actor=current_user
                )
            except attendance.AttendanceRefused as error:
                db.rollback()
                flash(str(error), "info")
            else:
                db.commit()
                flash(f"{registration.user.name}: {registration.attendance_enum.label.lower()}", "success")
                return redirect(
                    url_for("event_admin.attendance", event_id=event.id, _anchor=f"person-{registration.id}")
                )
        return redirect(url_for("event_admin.attendance", event_id=event.id))
    people = attendance.register_of(db, event)
    return render_template(
        "events/manage/attendance.html",
        event=event,
        refusal=None,
        people=people,
        summary=attendance.summarise(people),
        Attendance=Attendance,
    )


@bp.route("/<int:event_id>/attendance/all", methods=["POST"])
@requires(Role.COORDINATOR)
def mark_all_attended(event_id: int):
    db = get_session()
    event = services.load_event_for(db, current_user, event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        marked = attendance.mark_all_attended(db, event, actor=current_user)
    except attendance.AttendanceRefused as error:
        db.rollback()
        flash(str(error), "info")
    else:
        db.commit()
        flash(f"{_people(marked)} marked as attended", "success")
    return redirect(url_for("event_admin.attendance", event_id=event.id))
