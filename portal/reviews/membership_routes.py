"""Routes: who takes part in a review — appointing, ending, the author's declaration and "My reviews"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.db import get_session
from portal.pagination import page_of, requested_page
from portal.reviews import memberships as services
from portal.reviews.access import Part, load_review_for
from portal.reviews.membership_forms import AppointForm, EndMembershipForm, IndependenceForm
from portal.reviews.models import Membership, MembershipKind
from portal.security.models import Role, User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("memberships", __name__)

# Templates check parts with ``access.can(Part.MEMBERS)``, wherever they are included from.
bp.add_app_template_global(Part, "Part")


def _me() -> User:
    return current_user._get_current_object()


@bp.route("/reviews/<int:review_id>/members", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader so everyone else gets 404
def manage(review_id: int):
    db = get_session()
    review, _access = load_review_for(db, _me(), review_id, needs=Part.MANAGE)
    form = AppointForm()
    search = (request.args.get("q") or "").strip()[:100]
    if form.validate_on_submit():
        person = db.get(User, form.person_id()) if form.person_id() is not None else None
        if person is None:
            form.person.errors.append("Select the person to appoint")
        else:
            try:
                membership = services.appoint(db, review, person, MembershipKind(form.kind.data), _me())
            except services.MembershipRefused as refusal:
                form.person.errors.append(refusal.message)
            else:
                db.commit()
                flash(f"{person.name} is now {services.a_or_an(membership.kind_enum.label)} on this review.", "success")
                return redirect(url_for("memberships.manage", review_id=review.id))
    people, more = services.candidates(db, search)
    groups = [(role, [person for person in people if person.role == role.value]) for role in services.ELIGIBLE_ROLES]
    return render_template(
        "reviews/members/manage.html",
        review=review,
        form=form,
        memberships=services.open_members(db, review),
        ended=services.ended_members(db, review),
        ended_shown=services.ENDED_SHOWN,
        groups=[(role, group) for role, group in groups if group],
        more_people=more,
        people_shown=len(people),
        search=search,
    )


@bp.route("/reviews/<int:review_id>/members/<int:membership_id>/end", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators only, checked by the loader
def end(review_id: int, membership_id: int):
    db = get_session()
    review, _access = load_review_for(db, _me(), review_id, needs=Part.MANAGE)
    membership = db.get(Membership, membership_id)
    if membership is None or membership.review_id != review.id or not membership.is_open:
        abort(404)
    form = EndMembershipForm()
    if form.validate_on_submit():
        try:
            services.end_membership(db, membership, _me(), form.reason.data)
        except services.MembershipRefused as refusal:
            form.reason.errors.append(refusal.message)
        else:
            db.commit()
            flash(f"{membership.user.name} is no longer a member of this review. Their access has ended.")
            return redirect(url_for("memberships.manage", review_id=review.id))
    return render_template(
        "reviews/members/end.html",
        review=review,
        membership=membership,
        part=services.a_or_an(membership.kind_enum.label),
        form=form,
    )


@bp.route("/reviews/<int:review_id>/independence", methods=["GET", "POST"])
@requires(SIGNED_IN)  # only the appointed author who has not yet declared; 404 for everyone else
def independence(review_id: int):
    db = get_session()
    membership = services.undeclared_author_membership(db, _me(), review_id)
    if membership is None:
        abort(404)
    form = IndependenceForm()
    if form.validate_on_submit():
        try:
            services.declare_independence(
                db,
                membership,
                form.no_involvement_in_case,
                form.no_involvement_with_agencies,
                form.statement.data,
            )
        except services.MembershipRefused as refusal:
            form.statements.errors.append(refusal.message)
        else:
            db.commit()
            flash("You have declared your independence. You can now see the review.", "success")
            return redirect(url_for("reviews.review", review_id=review_id))
    return render_template("reviews/members/independence.html", review=membership.review, form=form)


@bp.route("/my-reviews")
@requires(SIGNED_IN)
def my_reviews():
    if current_user.role == Role.COORDINATOR:
        return redirect(url_for("reviews.list_reviews"))
    page = requested_page()
    entries, total = services.my_reviews(get_session(), _me(), page)
    pagination = page_of(total, services.MY_REVIEWS_PER_PAGE, page)
    return render_template("reviews/members/my_reviews.html", entries=entries, pagination=pagination)
