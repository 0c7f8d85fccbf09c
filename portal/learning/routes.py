"""The action plan (learning points, actions, progress) and the practitioners' briefing with its read rates.

Review pages load the review with ``needs=Part.ACTION_PLAN``: coordinators, the review's declared
author, its panel members and agency leads get in; everyone else gets 404. Within that,
``services.plan_access`` decides who changes things: coordinators and the author change the plan and
the briefing; an agency lead reports progress only on their own agency's actions (others get 404).
A briefing's own page is for every practitioner once published (and the review's members); before
that only for those who write it. The overdue list is for coordinators.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.db import get_session
from portal.events.models import Event
from portal.families import uploads
from portal.families.contribution_forms import ButtonForm
from portal.learning import services
from portal.learning.forms import ActionForm, BriefingForm, LearningPointForm, LinkEventForm, ProgressForm
from portal.learning.models import ActionStatus, Briefing
from portal.pagination import page_of, requested_page
from portal.reviews.access import Part, load_review_for
from portal.richtext import editable_text, rich_text_from_input
from portal.security.models import Role, User
from portal.security.permissions import SIGNED_IN, requires
from portal.templating import long_date

bp = Blueprint("learning", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int, *, edit: bool = False):
    """The review and what this person may do on its plan; 404 for those who may not (or may not change it)."""
    review, access = load_review_for(get_session(), _me(), review_id, needs=Part.ACTION_PLAN)
    plan = services.plan_access(access)
    if edit and not plan.can_edit:
        abort(404)
    return review, plan


def _point(review, point_id: int):
    point = services.load_learning_point(get_session(), review, point_id)
    if point is None:
        abort(404)
    return point


def _action(review, action_id: int):
    action = services.load_action(get_session(), review, action_id)
    if action is None:
        abort(404)
    return action


def _plan_url(review, anchor: str | None = None) -> str:
    return url_for("learning.action_plan", review_id=review.id, _anchor=anchor)


@bp.app_template_global()
def learning_of_event(event: Event) -> list[services.EventLearning]:
    """For the event page: the learning points the event teaches (its page already checked who sees it)."""
    return services.learning_of_event(get_session(), event)


@bp.app_template_global()
def briefings_to_read() -> tuple[list, int]:
    """For a practitioner's home page: published briefings they have not yet confirmed reading."""
    rows, total = services.published_briefings(get_session(), _me(), page=1, unread_only=True)
    return [briefing for briefing, _read in rows], total


# The action plan -------------------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/action-plan")
@requires(SIGNED_IN)  # coordinators, the author, panel members and agency leads, checked by the loader
def action_plan(review_id: int):
    db = get_session()
    review, plan = _load(review_id)
    points = services.learning_points(db, review)
    actions = [action for point in points for action in point.actions]
    today = services.today()
    return render_template(
        "learning/action_plan.html",
        review=review,
        plan=plan,
        points=points,
        events=services.linked_events(db, points),
        briefing=services.briefing_of(db, review),
        counts={
            "actions": len(actions),
            "complete": sum(action.status == ActionStatus.COMPLETE.value for action in actions),
            "overdue": sum(services.is_overdue(action, today) for action in actions),
        },
        is_overdue=lambda action: services.is_overdue(action, today),
        button_form=ButtonForm(),
    )


@bp.route("/reviews/<int:review_id>/action-plan/learning-points/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def add_learning_point(review_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    form = LearningPointForm()
    if form.validate_on_submit():
        point = services.add_learning_point(db, review, form.text.data, _me())
        db.commit()
        flash(f"Learning point {point.position} has been added.", "success")
        return redirect(_plan_url(review, f"point-{point.id}"))
    return render_template("learning/learning_point_form.html", review=review, form=form, point=None)


@bp.route("/reviews/<int:review_id>/action-plan/learning-points/<int:point_id>/edit", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def edit_learning_point(review_id: int, point_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    point = _point(review, point_id)
    form = LearningPointForm()
    if not form.is_submitted():
        form.text.data = point.text
    if form.validate_on_submit():
        services.change_learning_point(db, point, form.text.data, _me())
        db.commit()
        flash(f"Learning point {point.position} has been saved.", "success")
        return redirect(_plan_url(review, f"point-{point.id}"))
    return render_template("learning/learning_point_form.html", review=review, form=form, point=point)


@bp.route("/reviews/<int:review_id>/action-plan/learning-points/<int:point_id>/move", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def move_learning_point(review_id: int, point_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    point = _point(review, point_id)
    direction = request.form.get("direction")
    if not ButtonForm().validate_on_submit() or direction not in {"up", "down"}:
        abort(400)
    if services.move_learning_point(db, point, up=direction == "up", by=_me()):
        db.commit()
        flash(f"The learning point is now number {point.position}.", "success")
    return redirect(_plan_url(review, f"point-{point.id}"))


@bp.route("/reviews/<int:review_id>/action-plan/learning-points/<int:point_id>/actions/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def add_action(review_id: int, point_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    point = _point(review, point_id)
    form = ActionForm()
    form.offer_agencies(services.agencies(db))
    if form.validate_on_submit():
        action = services.add_action(db, point, form.details(), _me())
        db.commit()
        flash("The action has been added.", "success")
        return redirect(_plan_url(review, f"action-{action.id}"))
    return render_template("learning/action_form.html", review=review, point=point, form=form, action=None)


@bp.route("/reviews/<int:review_id>/action-plan/actions/<int:action_id>/edit", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def edit_action(review_id: int, action_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    action = _action(review, action_id)
    form = ActionForm()
    form.offer_agencies(services.agencies(db))
    if not form.is_submitted():
        form.fill_from(action)
    if form.validate_on_submit():
        services.change_action(db, action, form.details(), _me())
        db.commit()
        flash("The action has been saved.", "success")
        return redirect(url_for("learning.action", review_id=review.id, action_id=action.id))
    point = action.learning_point
    return render_template("learning/action_form.html", review=review, point=point, form=form, action=action)


@bp.route("/reviews/<int:review_id>/action-plan/actions/<int:action_id>", methods=["GET", "POST"])
@requires(SIGNED_IN)  # readers of the plan; posting is for editors and the action's own agency lead
def action(review_id: int, action_id: int):
    db = get_session()
    review, plan = _load(review_id)
    item = _action(review, action_id)
    may_report = plan.can_report_on(item)
    form = ProgressForm() if may_report else None
    if request.method == "POST":
        if form is None:
            abort(404)
        if form.validate_on_submit() and _report(db, item, form):
            return redirect(url_for("learning.action", review_id=review.id, action_id=item.id))
    elif form is not None:
        form.status.data = item.status
    return render_template(
        "learning/action.html",
        review=review,
        plan=plan,
        action=item,
        form=form,
        overdue=services.is_overdue(item),
        file_types=uploads.FILE_TYPES,
    )


def _report(db, item, form: ProgressForm) -> bool:
    """Save the progress update; False (with the reason on the file field) when the evidence is refused."""
    upload = form.evidence.data
    evidence = (upload.filename, upload.read()) if upload and upload.filename else None
    try:
        services.report_progress(db, item, text=form.text.data, status=form.status_enum, by=_me(), evidence=evidence)
    except uploads.UploadRefused as refusal:
        db.rollback()
        form.evidence.errors = [*form.evidence.errors, str(refusal)]
        return False
    db.commit()
    flash("Your progress update has been added.", "success")
    return True


@bp.route("/reviews/<int:review_id>/action-plan/actions/<int:action_id>/updates/<int:update_id>/evidence")
@requires(SIGNED_IN)  # readers of the plan, checked by the loader; every download is audited
def evidence(review_id: int, action_id: int, update_id: int):
    db = get_session()
    review, _plan = _load(review_id)
    item = _action(review, action_id)
    update = next((candidate for candidate in item.updates if candidate.id == update_id), None)
    if (
        update is None
        or update.evidence_stored_name is None
        or not uploads.path_of(update.evidence_stored_name).is_file()
    ):
        abort(404)
    services.record_evidence_downloaded(db, item, update, _me())
    db.commit()
    return uploads.download(update.evidence_stored_name, update.evidence_detected_type, update.evidence_original_name)


@bp.route("/action-plans/overdue")
@requires(Role.COORDINATOR)
def overdue():
    db = get_session()
    page = requested_page()
    actions, total = services.overdue_actions(db, page=page)
    pagination = page_of(total, services.OVERDUE_PER_PAGE, page)
    return render_template("learning/overdue.html", actions=actions, pagination=pagination, today=services.today())


# Linked learning events ------------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/action-plan/learning-points/<int:point_id>/events", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def link_event(review_id: int, point_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    point = _point(review, point_id)
    candidates = services.linkable_events(db, review)
    form = LinkEventForm()
    form.offer_events(candidates, long_date)
    if form.validate_on_submit():
        chosen = next(event for event in candidates if str(event.id) == form.event.data)
        if services.link_event(db, point, chosen, _me()):
            db.commit()
            flash(f"{chosen.title} is now linked to learning point {point.position}.", "success")
        return redirect(_plan_url(review, f"point-{point.id}"))
    return render_template("learning/link_event.html", review=review, point=point, form=form)


@bp.route(
    "/reviews/<int:review_id>/action-plan/learning-points/<int:point_id>/events/<int:event_id>/unlink",
    methods=["POST"],
)
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def unlink_event(review_id: int, point_id: int, event_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    point = _point(review, point_id)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if services.unlink_event(db, point, event_id, _me()):
        db.commit()
        flash("The event is no longer linked.", "success")
    return redirect(_plan_url(review, f"point-{point.id}"))


# The briefing ---------------------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/briefing", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def edit_briefing(review_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    briefing = services.briefing_of(db, review)
    form = BriefingForm()
    if not form.is_submitted() and briefing is not None:
        form.title.data = briefing.title
        form.body.data = editable_text(briefing.body)
    if form.validate_on_submit():
        body = rich_text_from_input(form.body.data)
        if body:
            briefing = services.save_briefing(db, review, title=form.title.data, body=body, by=_me())
            db.commit()
            flash("The briefing has been saved.", "success")
            return redirect(url_for("learning.briefing", briefing_id=briefing.id))
        form.body.errors = [*form.body.errors, "Enter the briefing"]
    return render_template("learning/briefing_form.html", review=review, form=form, briefing=briefing)


@bp.route("/reviews/<int:review_id>/briefing/publish", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def publish_briefing(review_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    briefing = services.briefing_of(db, review)
    if briefing is None:
        abort(404)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if services.publish_briefing(db, briefing, _me()):
        db.commit()
        flash("The briefing is published. Every practitioner can now read it.", "success")
    return redirect(url_for("learning.briefing", briefing_id=briefing.id))


@bp.route("/reviews/<int:review_id>/briefing/read-rates")
@requires(SIGNED_IN)  # coordinators and the author, checked by the loader
def read_rates(review_id: int):
    db = get_session()
    review, _plan = _load(review_id, edit=True)
    briefing = services.briefing_of(db, review)
    if briefing is None or briefing.published_at is None:
        abort(404)
    page = requested_page()
    rates, total = services.read_rates(db, briefing, page=page)
    pagination = page_of(total, services.AGENCIES_PER_PAGE, page)
    return render_template(
        "learning/read_rates.html",
        review=review,
        briefing=briefing,
        rates=rates,
        without_agency=services.reads_without_agency(db, briefing),
        pagination=pagination,
    )


def _load_briefing(briefing_id: int) -> Briefing:
    db = get_session()
    briefing = db.get(Briefing, briefing_id)
    if briefing is None or not services.can_read_briefing(db, _me(), briefing):
        abort(404)
    return briefing


@bp.route("/briefings")
@requires(Role.PRACTITIONER)
def briefings():
    db = get_session()
    page = requested_page()
    rows, total = services.published_briefings(db, _me(), page=page)
    pagination = page_of(total, services.BRIEFINGS_PER_PAGE, page)
    return render_template("learning/briefings.html", rows=rows, pagination=pagination)


@bp.route("/briefings/<int:briefing_id>")
@requires(SIGNED_IN)  # published: practitioners and the review's members; before: its writers
def briefing(briefing_id: int):
    db = get_session()
    item = _load_briefing(briefing_id)
    me = _me()
    return render_template(
        "learning/briefing.html",
        briefing=item,
        review=item.review,
        read=services.read_of(db, item, me),
        may_confirm=me.role == Role.PRACTITIONER and item.published_at is not None,
        may_edit=services.can_edit_briefing(db, me, item),
        button_form=ButtonForm(),
    )


@bp.route("/briefings/<int:briefing_id>/read", methods=["POST"])
@requires(Role.PRACTITIONER)
def confirm_read(briefing_id: int):
    db = get_session()
    item = _load_briefing(briefing_id)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if item.published_at is None:
        abort(404)
    if services.confirm_read(db, item, _me()):
        db.commit()
        flash("Thank you. We have recorded that you have read this briefing.", "success")
    else:
        flash("You had already told us you have read this briefing.")
    return redirect(url_for("learning.briefing", briefing_id=item.id))
