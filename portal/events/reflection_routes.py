"""Practitioners' reflections: private drafts, submitted and optionally shared with the review's author.

Only practitioners write reflections (everyone else gets 403), and each person sees only their own:
anyone else's reflection is 404, so nobody can learn that it exists.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from portal.db import get_session
from portal.events import reflections as services
from portal.events.models import Event, Reflection, Sharing
from portal.events.reflection_forms import DeleteReflectionForm, ReflectionForm, SubmitReflectionForm
from portal.pagination import page_of, requested_page
from portal.reviews.models import Review
from portal.richtext import editable_text
from portal.security.models import Role, User
from portal.security.permissions import requires
from portal.templating import long_date

bp = Blueprint("reflections", __name__, url_prefix="/reflections")


def _me() -> User:
    return current_user._get_current_object()


def _own_reflection(reflection_id: int) -> Reflection:
    reflection = services.load_reflection_for(get_session(), _me(), reflection_id)
    if reflection is None:
        abort(404)
    return reflection


def _show_refusal(form, refusal: services.ReflectionRefused, default_field: str) -> None:
    field = getattr(form, refusal.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, refusal.message]


def _already_submitted(reflection: Reflection) -> Response:
    flash("This reflection has been submitted and can no longer be changed.", "info")
    return redirect(url_for("reflections.reflection", reflection_id=reflection.id))


@bp.route("")
@requires(Role.PRACTITIONER)
def list_reflections():
    page = requested_page()
    reflections, total = services.reflections_of(get_session(), _me(), page)
    pagination = page_of(total, services.PER_PAGE, page)
    return render_template("reflections/list.html", reflections=reflections, pagination=pagination)


def _subject_choices(subjects: services.Subjects) -> list[SelectChoice]:
    return [
        SelectChoice("", "Choose an event or review"),
        *(SelectChoice(f"event-{e.id}", f"Event: {e.title} ({long_date(e.starts_at)})") for e in subjects.events),
        *(SelectChoice(f"review-{r.id}", f"Review: {r.reference}, {r.anonymised_name}") for r in subjects.reviews),
    ]


def _chosen(db, me: User, choice: str) -> tuple[Event | None, Review | None]:
    """The event or review picked in the select, if the person may write about it."""
    kind, _, number = (choice or "").partition("-")
    if not number.isascii() or not number.isdigit():
        return None, None
    if kind == "event":
        return services.event_to_reflect_on(db, me, int(number)), None
    if kind == "review":
        return None, services.review_to_reflect_on(db, me, int(number))
    return None, None


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def new_reflection():
    db = get_session()
    me = _me()
    event = review = None
    # Opened from an event's or a review's page: that is what it is about, and a person who may not
    # write about it learns nothing from the answer.
    event_id = request.args.get("event", type=int)
    review_id = request.args.get("review", type=int)
    if event_id is not None:
        event = services.event_to_reflect_on(db, me, event_id) or abort(404)
    elif review_id is not None:
        review = services.review_to_reflect_on(db, me, review_id) or abort(404)
    form = ReflectionForm()
    subjects = None
    if event is not None or review is not None:
        del form.about
    else:
        subjects = services.subjects_for(db, me)
        form.about.choices = _subject_choices(subjects)
    if form.validate_on_submit():
        if subjects is not None:
            event, review = _chosen(db, me, form.about.data)
        if subjects is not None and event is None and review is None:
            form.about.errors = [*form.about.errors, "Select what your reflection is about"]
        else:
            try:
                reflection = services.start_reflection(
                    db, me, event=event, review=review, title=form.title.data, body=form.body.data or ""
                )
            except services.ReflectionRefused as refusal:
                db.rollback()
                _show_refusal(form, refusal, "about" if subjects is not None else "title")
            else:
                db.commit()
                flash("Your draft is saved. Only you can read it.", "success")
                return redirect(url_for("reflections.reflection", reflection_id=reflection.id))
    return render_template("reflections/new.html", form=form, event=event, review=review, subjects=subjects)


@bp.route("/<int:reflection_id>")
@requires(Role.PRACTITIONER)
def reflection(reflection_id: int):
    reflection = _own_reflection(reflection_id)
    return render_template("reflections/reflection.html", reflection=reflection, delete_form=DeleteReflectionForm())


@bp.route("/<int:reflection_id>/edit", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def edit_reflection(reflection_id: int):
    db = get_session()
    reflection = _own_reflection(reflection_id)
    if not reflection.is_draft:
        return _already_submitted(reflection)
    form = ReflectionForm()
    del form.about
    if request.method == "GET":
        form.title.data = reflection.title
        form.body.data = editable_text(reflection.body_html)
    if form.validate_on_submit():
        try:
            services.save_draft(db, reflection, title=form.title.data, body=form.body.data or "")
        except services.ReflectionRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "title")
        else:
            db.commit()
            flash("Your draft is saved. Only you can read it.", "success")
            return redirect(url_for("reflections.reflection", reflection_id=reflection.id))
    return render_template("reflections/edit.html", form=form, reflection=reflection)


@bp.route("/<int:reflection_id>/submit", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def submit_reflection(reflection_id: int):
    db = get_session()
    reflection = _own_reflection(reflection_id)
    if not reflection.is_draft:
        return _already_submitted(reflection)
    choices = services.sharing_choices(db, reflection)
    anonymous_as = services.attribution(reflection.author, Sharing.ANONYMOUS)
    agency = reflection.author.agency.name if reflection.author.agency else None
    hints = {
        Sharing.PRIVATE: "Only you will be able to read it.",
        Sharing.NAMED: (
            f"The author will see your name{', ' + agency if agency else ''}, the title and your reflection."
        ),
        Sharing.ANONYMOUS: (
            f"The author will see that it comes from {anonymous_as}, and its title and words. "
            "They will not see your name or email address."
        ),
    }
    form = SubmitReflectionForm()
    form.offer(choices, hints)
    if form.validate_on_submit():
        chosen = form.sharing.data if form.sharing.data in {choice.value for choice in choices} else None
        if chosen is None:
            form.sharing.errors = [*form.sharing.errors, "Select one of the choices shown"]
        else:
            try:
                services.submit_reflection(db, reflection, Sharing(chosen))
            except services.ReflectionRefused as refusal:
                db.rollback()
                _show_refusal(form, refusal, "sharing")
            else:
                db.commit()
                flash(_submitted_message(Sharing(chosen)), "success")
                return redirect(url_for("reflections.reflection", reflection_id=reflection.id))
    return render_template("reflections/submit.html", form=form, reflection=reflection, shareable=len(choices) > 1)


def _submitted_message(sharing: Sharing) -> str:
    return {
        Sharing.PRIVATE: "Your reflection is submitted. Only you can read it.",
        Sharing.NAMED: "Your reflection is submitted and shared with the review's author, with your name.",
        Sharing.ANONYMOUS: "Your reflection is submitted and shared with the review's author, without your name.",
    }[sharing]


@bp.route("/<int:reflection_id>/delete", methods=["POST"])
@requires(Role.PRACTITIONER)
def delete_reflection(reflection_id: int):
    db = get_session()
    reflection = _own_reflection(reflection_id)
    if not DeleteReflectionForm().validate_on_submit():
        abort(400)
    if not reflection.is_draft:
        return _already_submitted(reflection)
    services.delete_draft(db, reflection)
    db.commit()
    flash("Your draft has been deleted.", "success")
    return redirect(url_for("reflections.list_reflections"))
