"""The coordinator's Rapid Review pages: one overview listing the steps, and one form for each step."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from portal.db import get_session
from portal.reviews import rapid_review as services
from portal.reviews.access import Part, load_review_for
from portal.reviews.models import AgencyReturnRequest, Reg11Criterion, Review
from portal.reviews.rapid_review_forms import (
    AgencyReturnRequestForm,
    CsprRecommendationForm,
    DecisionForm,
    MeetingForm,
    NotificationForm,
    NotifyRecommendationForm,
    OutcomeSentForm,
    ReturnReceivedForm,
)
from portal.security.permissions import SIGNED_IN, requires
from portal.templating import long_date

bp = Blueprint("rapid_review", __name__)

STEP_TEMPLATE = "reviews/rapid_review/step.html"


# Which steps can be recorded now, for the overview's links.
STEP_CHECKS = {
    "notify_recommendation": services.check_can_record_notify_recommendation,
    "notification": services.check_can_record_notification,
    "agency_returns": services.check_can_request_agency_return,
    "meeting": services.check_can_record_meeting,
    "cspr_recommendation": services.check_can_record_cspr_recommendation,
    "decision": services.check_can_record_executive_decision,
    "outcome_sent": services.check_can_record_outcome_sent,
}


def _load(review_id: int) -> Review:
    # Only coordinators may manage a review; anyone else is told it is not found, as on every review URL,
    # so no one learns from these pages that a review exists.
    review, _access = load_review_for(get_session(), current_user, review_id, needs=Part.MANAGE)
    return review


def _overview(review: Review):
    return redirect(url_for("rapid_review.overview", review_id=review.id))


def _refusal_of(check: Callable[[], object]) -> str | None:
    try:
        check()
    except services.StepRefused as refusal:
        return refusal.message
    return None


def _run_step(review: Review, form: FlaskForm, check: Callable[[], object], save: Callable[[], str], **page):
    """Show the step's form, or why it cannot be recorded yet; on a valid post, save and go back to the overview.

    ``save`` calls the service and returns the message to show; a refusal from the service is shown
    on the field it concerns (or above the form), with everything typed kept.
    """
    blocked = _refusal_of(check)
    refused = None
    if blocked is None and form.validate_on_submit():
        db = get_session()
        try:
            message = save()
        except services.StepRefused as refusal:
            db.rollback()
            field = getattr(form, refusal.field, None) if refusal.field else None
            if field is not None:
                field.errors = [*field.errors, refusal.message]
            else:
                refused = refusal.message
        else:
            db.commit()
            flash(message, "success")
            return page.pop("redirect_to", None) or _overview(review)
    page.pop("redirect_to", None)
    return render_template(
        page.pop("template", STEP_TEMPLATE), review=review, form=form, blocked=blocked, refused=refused, **page
    )


def _yes(value: str | None) -> bool:
    return value == "yes"


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _status(done: bool, can: bool, started: bool = False) -> dict:
    if done:
        return {"text": "Completed"}
    if can and started:
        return {"tag": {"text": "In progress", "classes": "govuk-tag--light-blue"}}
    if can:
        return {"tag": {"text": "Not yet recorded", "classes": "govuk-tag--blue"}}
    return {"text": "Cannot start yet", "classes": "govuk-task-list__status--cannot-start-yet"}


def _overview_items(review: Review, requests: list[AgencyReturnRequest]) -> list[dict]:
    """The steps as GOV.UK task list items: done with when and who, or a link to record it."""
    r = review.rapid_review
    day = long_date
    received = sum(1 for request in requests if request.received_on is not None)

    def done(field: str):
        return r is not None and getattr(r, field) is not None

    steps = [
        (
            "notify_recommendation",
            "Review Advisory Group recommendation to notify the Panel",
            done("rag_notify_recommended_on"),
            f"Recommended on {day(r.rag_notify_recommended_on)} by {r.rag_notify_recommended_by}"
            if done("rag_notify_recommended_on")
            else "Separate from the local authority's notification",
        ),
        (
            "notification",
            "Notification to the Panel",
            done("notified_on"),
            f"Sent on {day(r.notified_on)} by {r.notified_by}"
            if done("notified_on")
            else "Sent by the local authority",
        ),
        (
            "agency_returns",
            "Agency information returns",
            bool(requests) and received == len(requests),
            f"{received} of {len(requests)} received" if requests else "No agency asked yet",
        ),
        (
            "meeting",
            "Review Advisory Group meeting",
            done("rag_meeting_on"),
            f"Met on {day(r.rag_meeting_on)}" if done("rag_meeting_on") else None,
        ),
        (
            "cspr_recommendation",
            "Recommendation on a Child Safeguarding Practice Review",
            done("cspr_recommended_on"),
            f"{'Recommended a CSPR' if r.cspr_recommended else 'Did not recommend a CSPR'} on "
            f"{day(r.cspr_recommended_on)}"
            if done("cspr_recommended_on")
            else None,
        ),
        (
            "decision",
            "The Executive's decision",
            done("decided_on"),
            f"{'Commission a CSPR' if r.decision_commission_cspr else 'No CSPR'}: decided on {day(r.decided_on)} "
            f"by {r.decided_by}"
            if done("decided_on")
            else "Final: it cannot be changed once saved",
        ),
        (
            "outcome_sent",
            "Outcome sent to the Panel",
            done("outcome_sent_on"),
            f"Sent on {day(r.outcome_sent_on)}" if done("outcome_sent_on") else None,
        ),
    ]
    items = []
    for step, title, is_done, hint in steps:
        can = _refusal_of(lambda check=STEP_CHECKS[step]: check(review)) is None
        items.append(
            {
                "title": {"text": title},
                "href": url_for(f"rapid_review.{step}", review_id=review.id) if can else None,
                "hint": {"text": hint} if hint else None,
                "status": _status(is_done, can, started=step == "agency_returns" and bool(requests)),
            }
        )
    return items


@bp.route("/reviews/<int:review_id>/rapid-review")
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def overview(review_id: int):
    review = _load(review_id)
    requests = services.agency_return_requests(get_session(), review)
    return render_template("reviews/rapid_review/overview.html", review=review, items=_overview_items(review, requests))


@bp.route("/reviews/<int:review_id>/rapid-review/notify-recommendation", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def notify_recommendation(review_id: int):
    review = _load(review_id)
    record = review.rapid_review
    form = NotifyRecommendationForm(
        data={"on": record.rag_notify_recommended_on, "by": record.rag_notify_recommended_by} if record else None
    )

    def save() -> str:
        services.record_rag_recommendation_to_notify(get_session(), review, form.on.data, form.by.data)
        return "The Review Advisory Group's recommendation to notify the Panel has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_notify_recommendation(review),
        save,
        title="Recommendation to notify the Panel",
        intro="The Review Advisory Group recommends whether to notify the National Child Safeguarding Practice "
        "Review Panel. The local authority's notification itself is recorded separately.",
    )


@bp.route("/reviews/<int:review_id>/rapid-review/notification", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def notification(review_id: int):
    review = _load(review_id)
    record = review.rapid_review
    form = NotificationForm(data={"on": record.notified_on, "by": record.notified_by} if record else None)

    def save() -> str:
        services.record_notification(get_session(), review, form.on.data, form.by.data)
        return "The notification to the Panel has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_notification(review),
        save,
        title="Notification to the Panel",
        intro="The local authority notifies the National Child Safeguarding Practice Review Panel. "
        "The Rapid Review's 15 working days run from this date.",
    )


def _lead_label(membership) -> str:
    return f"{membership.agency.name}: {membership.user.name}"


@bp.route("/reviews/<int:review_id>/rapid-review/agency-returns", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def agency_returns(review_id: int):
    review = _load(review_id)
    db = get_session()
    requests = services.agency_return_requests(db, review)
    leads = {str(m.id): m for m in services.open_agency_leads(db, review)}
    asked = {r.agency_id for r in requests}
    form = AgencyReturnRequestForm()
    form.lead.choices = [SelectChoice("", "Choose an agency lead")] + [
        SelectChoice(key, _lead_label(m)) for key, m in leads.items() if m.agency_id not in asked
    ]

    def save() -> str:
        lead = leads.get(form.lead.data)
        if lead is None:
            raise services.StepRefused("Select an agency lead of this review", "lead")
        request = services.request_agency_return(db, review, lead.agency, lead, form.requested_on.data, current_user)
        return (
            f"{lead.agency.name} has been asked for its return through {lead.user.name}. "
            f"It is due on {long_date(request.due_on)}."
        )

    return _run_step(
        review,
        form,
        lambda: services.check_can_request_agency_return(review),
        save,
        template="reviews/rapid_review/agency_returns.html",
        title="Agency information returns",
        agency_requests=requests,
        leads_left=len(form.lead.choices) > 1,
        redirect_to=redirect(url_for("rapid_review.agency_returns", review_id=review.id)),
    )


@bp.route("/reviews/<int:review_id>/rapid-review/agency-returns/<int:request_id>/received", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def return_received(review_id: int, request_id: int):
    review = _load(review_id)
    db = get_session()
    request = db.get(AgencyReturnRequest, request_id)
    if request is None or request.review_id != review.id:
        abort(404)
    form = ReturnReceivedForm()

    def save() -> str:
        services.record_return_received(db, request, form.on.data, current_user)
        return f"The return from {request.agency.name} has been recorded as received"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_return_received(request),
        save,
        title=f"Return received from {request.agency.name}",
        intro=f"Requested on {long_date(request.requested_on)}, due on {long_date(request.due_on)}.",
        back_to=url_for("rapid_review.agency_returns", review_id=review.id),
        back_text="Back to agency returns",
        redirect_to=redirect(url_for("rapid_review.agency_returns", review_id=review.id)),
    )


@bp.route("/reviews/<int:review_id>/rapid-review/meeting", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def meeting(review_id: int):
    review = _load(review_id)
    record = review.rapid_review
    form = MeetingForm(
        data={"on": record.rag_meeting_on, "notes": record.rag_meeting_notes}
        if record and record.rag_meeting_on
        else None
    )

    def save() -> str:
        services.record_rag_meeting(get_session(), review, form.on.data, form.notes.data)
        return "The Review Advisory Group meeting has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_meeting(review),
        save,
        title="Review Advisory Group meeting",
        intro="The joint meeting of the Review Advisory Group with the agencies involved.",
    )


@bp.route("/reviews/<int:review_id>/rapid-review/cspr-recommendation", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def cspr_recommendation(review_id: int):
    review = _load(review_id)
    record = review.rapid_review
    data = None
    if record and record.cspr_recommended_on:
        data = {
            "recommend": _yes_no(record.cspr_recommended),
            "on": record.cspr_recommended_on,
            "reasons": record.cspr_recommendation_reasons,
            "criteria": [c.value for c in record.criteria],
        }
    form = CsprRecommendationForm(data=data)

    def save() -> str:
        services.record_cspr_recommendation(
            get_session(),
            review,
            form.on.data,
            _yes(form.recommend.data),
            form.reasons.data,
            [Reg11Criterion(value) for value in form.criteria.data],
        )
        return "The Review Advisory Group's recommendation on a CSPR has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_cspr_recommendation(review),
        save,
        title="Recommendation on a Child Safeguarding Practice Review",
        intro="Whether the Review Advisory Group recommends a Child Safeguarding Practice Review, why, "
        "and which of the regulation 11 criteria apply.",
    )


@bp.route("/reviews/<int:review_id>/rapid-review/decision", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def decision(review_id: int):
    review = _load(review_id)
    form = DecisionForm()

    def save() -> str:
        services.record_executive_decision(
            get_session(), review, form.on.data, form.by.data, _yes(form.commission.data), form.reason.data
        )
        return "The Executive's decision has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_executive_decision(review),
        save,
        title="The Executive's decision",
        intro="The LSCP Executive decides whether to commission a Child Safeguarding Practice Review.",
        warning="The Executive's decision is final. Once saved, it cannot be changed.",
    )


@bp.route("/reviews/<int:review_id>/rapid-review/outcome-sent", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def outcome_sent(review_id: int):
    review = _load(review_id)
    form = OutcomeSentForm()

    def save() -> str:
        services.record_outcome_sent(get_session(), review, form.on.data)
        return "The date the outcome was sent to the Panel has been saved"

    return _run_step(
        review,
        form,
        lambda: services.check_can_record_outcome_sent(review),
        save,
        title="Outcome sent to the Panel",
        intro="The date the Rapid Review's outcome was sent to the National Panel.",
    )
