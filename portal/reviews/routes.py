"""The coordinator's list of reviews, recording an incident, the review page, stage moves and regulation 14 requests.

Every review URL loads the review through ``load_review_for``: anyone who may not know the review
exists gets 404, and each membership sees only its part of the page.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.db import get_session
from portal.reviews import clocks, memberships, rapid_review, services
from portal.reviews.access import Part, load_review_for
from portal.reviews.forms import IncidentForm, MonitoringForm, MoveForm, StageFilterForm
from portal.reviews.models import MembershipKind, Stage
from portal.security.forms import ConfirmForm
from portal.security.models import Role
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("reviews", __name__)

PER_PAGE = 25


def _show_refusal(form, error: services.ReviewRuleError, default_field: str) -> None:
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, error.message]


@bp.route("/reviews")
@requires(Role.COORDINATOR)
def list_reviews():
    db = get_session()
    filter_form = StageFilterForm(request.args)
    chosen = request.args.get("stage", "")
    stage = Stage(chosen) if chosen in {s.value for s in Stage} else None
    page = request.args.get("page", 1, type=int) or 1
    result = services.list_reviews(
        db, config=current_app.config, today=clocks.london_today(), stage=stage, page=page, per_page=PER_PAGE
    )
    return render_template("reviews/list.html", result=result, filter_form=filter_form, stage=stage)


@bp.route("/reviews/new", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def new_review():
    db = get_session()
    form = IncidentForm()
    if request.method == "GET":
        form.reference.data = services.next_free_reference(db)
    if form.validate_on_submit():
        try:
            review = services.record_incident(
                db,
                current_user,
                form.reference.data,
                form.anonymised_name.data,
                form.aware_on.data,
                form.reason.data,
            )
        except services.ReviewRuleError as error:
            db.rollback()
            _show_refusal(form, error, "reference")
        else:
            db.commit()
            flash(f"Incident recorded as {review.reference} ({review.anonymised_name})", "success")
            return redirect(url_for("reviews.review", review_id=review.id))
    return render_template("reviews/new.html", form=form)


@bp.route("/reviews/<int:review_id>")
@requires(SIGNED_IN)
def review(review_id: int):
    db = get_session()
    review, access = load_review_for(db, current_user, review_id)
    context = {"review": review, "access": access, "Part": Part, "Stage": Stage, "MembershipKind": MembershipKind}
    if access.can(Part.TIMELINE):
        context["timeline"] = services.timeline(db, review, access)
        context["clocks"] = clocks.load_clocks(db, review, current_app.config, clocks.london_today())
    if access.can(Part.MEMBERS):
        context["memberships"] = memberships.open_members(db, review)
        context["ended_members"] = memberships.ended_members(db, review)
    if access.can(Part.AGENCY_RETURNS):
        context["agency_requests"] = rapid_review.agency_return_requests(db, review)
    if access.can(Part.RAPID_REVIEW):
        context["decisions"] = services.decisions(db, review)
    if access.can(Part.MONITORING):
        context["monitoring"] = services.monitoring_requests(db, review)
    if access.is_coordinator:
        context["next_stages"] = services.allowed_moves(review)
    services.record_review_viewed(db, review, current_user)
    db.commit()
    return render_template("reviews/review.html", **context)


@bp.route("/reviews/<int:review_id>/move", methods=["GET", "POST"])
@requires(SIGNED_IN)
def move(review_id: int):
    db = get_session()
    review, _access = load_review_for(db, current_user, review_id, needs=Part.MANAGE)
    next_stages = services.allowed_moves(review)
    form = MoveForm()
    form.to_stage.choices = [SelectChoice(stage.value, stage.label) for stage in next_stages]
    if next_stages and form.validate_on_submit():
        try:
            services.move_review(db, review, form.to_stage.data, form.reason.data, current_user)
        except services.ReviewRuleError as error:
            db.rollback()
            _show_refusal(form, error, "to_stage")
        else:
            db.commit()
            flash(f"{review.reference} moved to {review.stage_enum.label}", "success")
            return redirect(url_for("reviews.review", review_id=review.id))
    descriptions = [services.STAGE_DESCRIPTIONS[stage] for stage in next_stages]
    return render_template(
        "reviews/move.html", form=form, review=review, next_stages=next_stages, descriptions=descriptions
    )


@bp.route("/reviews/<int:review_id>/monitoring", methods=["GET", "POST"])
@requires(SIGNED_IN)
def monitoring(review_id: int):
    db = get_session()
    review, _access = load_review_for(db, current_user, review_id, needs=Part.MANAGE)
    form = MonitoringForm()
    if form.validate_on_submit():
        try:
            services.record_monitoring_request(
                db,
                review,
                kind=form.kind.data,
                details=form.details.data,
                due_on=form.due_on.data,
                actor=current_user,
            )
        except services.ReviewRuleError as error:
            db.rollback()
            _show_refusal(form, error, "details")
        else:
            db.commit()
            flash("Written request to the author recorded", "success")
            return redirect(url_for("reviews.review", review_id=review.id, _anchor="monitoring"))
    return render_template("reviews/monitoring.html", form=form, review=review)


@bp.route("/reviews/<int:review_id>/monitoring/<int:request_id>/answered", methods=["POST"])
@requires(SIGNED_IN)
def monitoring_answered(review_id: int, request_id: int):
    db = get_session()
    review, _access = load_review_for(db, current_user, review_id, needs=Part.MANAGE)
    monitoring_request = services.monitoring_request_of(db, review, request_id)
    if monitoring_request is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark_monitoring_answered(db, monitoring_request, current_user)
    except services.ReviewRuleError as error:
        db.rollback()
        flash(error.message, "info")
    else:
        db.commit()
        flash("Request marked as answered", "success")
    return redirect(url_for("reviews.review", review_id=review.id, _anchor="monitoring"))
