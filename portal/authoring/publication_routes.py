"""Publication: the decision, the dates the report went to the Panel and the Secretary of State, publishing.

The publication page is for coordinators and the review's author: it loads the review with
``needs=Part.PUBLICATION``, so anyone else gets 404. Only coordinators change anything: every other
route declares ``Role.COORDINATOR``, so the author (and every other role) gets 403 before the review
is even loaded.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.authoring import publication as publishing
from portal.authoring.models import Publication, PublicationDecision
from portal.authoring.publication_forms import DatesForm, DecisionForm, NspccForm, PublishForm
from portal.db import get_session
from portal.reviews import clocks
from portal.reviews.access import Part, ReviewAccess, load_review_for
from portal.reviews.models import Review
from portal.richtext import editable_text
from portal.security import audit
from portal.security.forms import ConfirmForm
from portal.security.models import Role, User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("publication", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int) -> tuple[Review, ReviewAccess]:
    return load_review_for(get_session(), _me(), review_id, needs=Part.PUBLICATION)


def _load_publication(review: Review) -> Publication:
    """The review's publication record; the pages that need one are not there before a decision."""
    publication = publishing.publication_of(get_session(), review)
    if publication is None:
        abort(404)
    return publication


def _overview(review: Review):
    return redirect(url_for("publication.overview", review_id=review.id))


def _show_refusal(form, refusal: publishing.PublicationRefused, default_field: str) -> None:
    target = getattr(form, refusal.field or default_field)
    target.errors = [*target.errors, refusal.message]


@bp.route("/reviews/<int:review_id>/publication")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def overview(review_id: int):
    db = get_session()
    review, access = _load(review_id)
    publication = publishing.publication_of(db, review)
    today = clocks.london_today()
    closures = clocks.closure_days(db)
    audit.record(db, "publication.viewed", object_type="review", object_id=review.id, review_id=review.id)
    db.commit()
    return render_template(
        "authoring/publication/overview.html",
        review=review,
        publication=publication,
        final=publishing.final_version(db, review),
        notices=publishing.short_notices(publication, closures, current_app.config) if publication else [],
        problems=publishing.problems_before_publishing(db, review, publication, today) if publication else [],
        can_take_down=publication is not None and publication.online and today >= publication.online_until,
        is_coordinator=access.is_coordinator,
        notice_days=clocks.clock_length(current_app.config, "CLOCK_FINAL_REPORT_WORKING_DAYS"),
    )


@bp.route("/reviews/<int:review_id>/publication/decision", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def decision(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    publication = publishing.publication_of(db, review)
    if publishing.is_settled(publication):
        abort(404)
    form = DecisionForm(data=_decision_data(publication) if publication else None)
    if form.validate_on_submit():
        try:
            publishing.record_decision(
                db,
                review,
                form.decision_enum,
                reason=form.reason.data,
                improvements=form.improvements.data,
                learning_summary=form.learning_summary.data,
                actor=_me(),
            )
        except publishing.PublicationRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "decision")
        else:
            db.commit()
            flash("The decision has been saved.", "success")
            return _overview(review)
    return render_template(
        "authoring/publication/decision.html",
        review=review,
        form=form,
        final=publishing.final_version(db, review),
        do_not_publish=PublicationDecision.DO_NOT_PUBLISH.value,
    )


def _decision_data(publication: Publication) -> dict:
    return {
        "decision": publication.decision,
        "reason": publication.reason or "",
        "improvements": editable_text(publication.improvements),
        "learning_summary": editable_text(publication.learning_summary),
    }


@bp.route("/reviews/<int:review_id>/publication/dates", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def dates(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    publication = _load_publication(review)
    if publishing.is_settled(publication):
        abort(404)
    form = DatesForm(obj=publication)
    if form.validate_on_submit():
        try:
            publishing.record_dates(
                db,
                publication,
                sent_to_panel_on=form.sent_to_panel_on.data,
                sent_to_secretary_of_state_on=form.sent_to_secretary_of_state_on.data,
                publication_date=form.publication_date.data,
                actor=_me(),
            )
        except publishing.PublicationRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "publication_date")
        else:
            db.commit()
            flash("The dates have been saved.", "success")
            return _overview(review)
    return render_template("authoring/publication/dates.html", review=review, form=form)


@bp.route("/reviews/<int:review_id>/publication/publish", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def publish(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    publication = _load_publication(review)
    if publishing.is_settled(publication):
        return _overview(review)
    today = clocks.london_today()
    closures = clocks.closure_days(db)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            publishing.publish(
                db,
                review,
                publication,
                acknowledged=form.acknowledge.data,
                actor=_me(),
                today=today,
                closures=closures,
                config=current_app.config,
            )
        except publishing.PublicationRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "acknowledge")
        else:
            db.commit()
            flash("Published. The public learning page is online.", "success")
            return _overview(review)
    return render_template(
        "authoring/publication/publish.html",
        review=review,
        publication=publication,
        form=form,
        problems=publishing.problems_before_publishing(db, review, publication, today),
        notices=publishing.short_notices(publication, closures, current_app.config),
        notice_days=clocks.clock_length(current_app.config, "CLOCK_FINAL_REPORT_WORKING_DAYS"),
        online_months=publishing.ONLINE_MONTHS,
    )


@bp.route("/reviews/<int:review_id>/publication/nspcc", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def nspcc(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    publication = _load_publication(review)
    form = NspccForm(data={"sent_on": publication.nspcc_sent_on})
    if form.validate_on_submit():
        publishing.record_nspcc_sent(db, publication, form.sent_on.data, _me())
        db.commit()
        flash("The date it went to the NSPCC repository has been saved.", "success")
        return _overview(review)
    return render_template("authoring/publication/nspcc.html", review=review, form=form)


@bp.route("/reviews/<int:review_id>/publication/take-down", methods=["POST"])
@requires(Role.COORDINATOR)
def take_down(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    publication = _load_publication(review)
    ConfirmForm().validate_on_submit()  # the CSRF check itself runs before every POST
    try:
        publishing.take_down(db, publication, _me(), clocks.london_today())
    except publishing.PublicationRefused as refusal:
        db.rollback()
        flash(f"{refusal.message}.", "info")
    else:
        db.commit()
        flash("The public page has been taken down.", "success")
    return _overview(review)
