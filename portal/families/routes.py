"""Family members' own pages: what is happening, what they agree to, and the updates they chose.

Every page is for the family role only, and every page about a review loads it through the person's
own family membership: another review, or one they have left, is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.db import get_session
from portal.families import family_pages
from portal.families.explanation import EXPLANATION, EXPLANATION_VERSION
from portal.families.family_pages import load_own_family_membership
from portal.families.forms import CHANNEL_LABELS, ChoicesForm, StopContactForm
from portal.pagination import requested_page
from portal.security.models import Role, User
from portal.security.permissions import requires

bp = Blueprint("family", __name__, url_prefix="/family")


def _me() -> User:
    return current_user._get_current_object()


@bp.app_template_global()
def my_family_reviews() -> list[dict]:
    """For the family home page: each review the signed-in person is part of, and where it has reached."""
    return [
        {
            "review": membership.review,
            "title": family_pages.review_title(membership.review),
            "where": family_pages.stage_sentence(membership.review),
        }
        for membership in family_pages.own_family_memberships(get_session(), _me())
    ]


@bp.route("/reviews/<int:review_id>")
@requires(Role.FAMILY)
def about(review_id: int):
    membership = load_own_family_membership(get_session(), _me(), review_id)
    return render_template(
        "families/about.html",
        review=membership.review,
        where=family_pages.stage_sentence(membership.review),
        sections=EXPLANATION,
        version=EXPLANATION_VERSION,
    )


@bp.route("/reviews/<int:review_id>/choices", methods=["GET", "POST"])
@requires(Role.FAMILY)
def choices(review_id: int):
    db = get_session()
    me = _me()
    review = load_own_family_membership(db, me, review_id).review
    form = ChoicesForm()
    if not form.is_submitted():
        form.fill_from(family_pages.current_choices(db, me, review.id))
    # Both checks run so every problem is shown at once.
    valid = form.validate_on_submit()
    if form.is_submitted() and form.check_channels(family_pages.ways_to_reach(db, me, review.id)) and valid:
        family_pages.save_choices(db, me, review.id, form.choices())
        db.commit()
        flash("Your choices are saved", "success")
        return redirect(url_for("family.your_choices", review_id=review.id))
    return render_template(
        "families/choices.html",
        form=form,
        review=review,
        channel_labels=CHANNEL_LABELS,
    )


@bp.route("/reviews/<int:review_id>/your-choices")
@requires(Role.FAMILY)
def your_choices(review_id: int):
    db = get_session()
    me = _me()
    review = load_own_family_membership(db, me, review_id).review
    sentences = family_pages.said_back(family_pages.current_choices(db, me, review.id))
    return render_template("families/your_choices.html", review=review, sentences=sentences)


@bp.route("/reviews/<int:review_id>/updates")
@requires(Role.FAMILY)
def updates(review_id: int):
    db = get_session()
    review = load_own_family_membership(db, _me(), review_id).review
    page = requested_page()
    pagination, rows = family_pages.updates_page(db, review.id, page)
    if page > pagination.pages:
        abort(404)
    return render_template(
        "families/updates.html",
        review=review,
        updates=rows,
        pagination=pagination,
    )


@bp.route("/stop-contact", methods=["GET", "POST"])
@requires(Role.FAMILY)
def stop_contact():
    db = get_session()
    form = StopContactForm()
    if form.validate_on_submit():
        family_pages.stop_all_contact(db, _me())
        db.commit()
        # Shown straight away rather than after a redirect: posting again changes nothing.
        return render_template("families/contact_stopped.html")
    return render_template("families/stop_contact.html", form=form)
