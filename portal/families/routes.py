"""Family members' own pages: what is happening, what they agree to, and the updates they chose.

Every page is for the family role only, and every page about a review loads it through the person's
own family membership: another review, or one they have left, is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.authoring import prepublication, requests
from portal.authoring.models import RequestStatus
from portal.db import get_session
from portal.families import contributions, family_pages, uploads
from portal.families.contribution_forms import ButtonForm, ContributionForm, FileForm
from portal.families.explanation import EXPLANATION, EXPLANATION_VERSION
from portal.families.family_pages import load_own_family_membership
from portal.families.forms import CHANNEL_LABELS, ChoicesForm, StopContactForm
from portal.pagination import refuse_past_the_end, requested_page
from portal.richtext import rich_text_from_input
from portal.security.models import Role, User
from portal.security.permissions import requires

bp = Blueprint("family", __name__, url_prefix="/family")
ANSWER_TITLE = "My answer to the author's question"


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
    db = get_session()
    membership = load_own_family_membership(db, _me(), review_id)
    return render_template(
        "families/about.html",
        review=membership.review,
        asked=requests.open_for_family_member(db, membership),
        to_read=prepublication.drafts_to_read(db, _me(), review_id=review_id)[0],
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
    refuse_past_the_end(pagination, page)
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


# Contributions ------------------------------------------------------------------------------------


def _contributing(review_id: int):
    """The person's membership, or the page that kindly explains they have not chosen to contribute."""
    db = get_session()
    membership = load_own_family_membership(db, _me(), review_id)
    if not contributions.may_contribute(db, membership):
        return membership, render_template("families/contributions/not_chosen.html", review=membership.review)
    return membership, None


def _own(membership, contribution_id: int):
    contribution = contributions.own_contribution(get_session(), membership, contribution_id)
    if contribution is None:
        abort(404)
    return contribution


def _locked(membership, contribution_id: int):
    flash("The author has read this, so it can no longer be changed.")
    return redirect(url_for("family.contribution", review_id=membership.review_id, contribution_id=contribution_id))


def _uploaded(field) -> tuple[str, bytes] | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", None):
        return None
    # Read one byte past the limit so a file that is too big is recognised without reading it all.
    return storage.filename, storage.stream.read(uploads.MAX_FILE_BYTES + 1)


@bp.route("/reviews/<int:review_id>/contributions")
@requires(Role.FAMILY)
def contributions_list(review_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    rows = contributions.own_contributions(get_session(), membership)
    return render_template("families/contributions/list.html", review=membership.review, contributions=rows)


def _save(membership, contribution, form: ContributionForm, asked=None):
    """Save what was typed (and any file); the page to show, or None to show the form again.

    ``asked`` is the author's request a new contribution answers, if any.
    """
    db = get_session()
    upload = _uploaded(form.file)
    if upload is not None:
        try:
            uploads.check(upload[1])
        except uploads.UploadRefused as refusal:
            form.file.errors = [*form.file.errors, str(refusal)]
            return None
    has_files = bool(contribution and contribution.files)
    if form.send.data and upload is None and not has_files and not rich_text_from_input(form.text.data):
        # Checked before anything is written, so no file is ever left on disk for a refused send.
        form.text.errors = [*form.text.errors, "Write something or add a file before you send it"]
        return None
    try:
        contribution = contributions.save_contribution(
            db,
            membership,
            contribution,
            title=form.title.data,
            text=form.text.data or "",
            request_id=asked.id if asked else None,
        )
        if upload is not None:
            contributions.add_file(db, contribution, original_name=upload[0], data=upload[1], by=_me())
        if form.send.data:
            contributions.submit_contribution(db, membership, contribution)
    except contributions.ContributionLocked:
        db.rollback()
        return _locked(membership, contribution.id)
    db.commit()
    if form.send.data:
        flash("Thank you. The review team can now read what you sent.", "success")
        return redirect(url_for("family.contributions_list", review_id=membership.review_id))
    flash("Saved. Only you can see it until you send it.", "success")
    return redirect(url_for("family.contribution", review_id=membership.review_id, contribution_id=contribution.id))


@bp.route("/reviews/<int:review_id>/contributions/new", methods=["GET", "POST"])
@requires(Role.FAMILY)
def new_contribution(review_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    form = ContributionForm()
    if form.validate_on_submit():
        page = _save(membership, None, form)
        if page is not None:
            return page
    return render_template("families/contributions/form.html", review=membership.review, form=form, contribution=None)


@bp.route("/reviews/<int:review_id>/contributions/<int:contribution_id>", methods=["GET", "POST"])
@requires(Role.FAMILY)
def contribution(review_id: int, contribution_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    item = _own(membership, contribution_id)
    if not item.editable:
        return render_template("families/contributions/read_only.html", review=membership.review, contribution=item)
    form = ContributionForm()
    if not form.is_submitted():
        form.title.data = item.title
        form.text.data = contributions.editable_text(item.text)
    if form.validate_on_submit():
        page = _save(membership, item, form)
        if page is not None:
            return page
    return render_template(
        "families/contributions/form.html",
        review=membership.review,
        form=form,
        contribution=item,
        file_form=FileForm(prefix="another"),
        asked=_asked_in(item),
    )


def _asked_in(contribution):
    """The author's request a contribution answers, to show the question beside it; or None."""
    if contribution.request_id is None:
        return None
    return requests.family_request(get_session(), contribution.membership, contribution.request_id)


@bp.route("/reviews/<int:review_id>/requests/<int:request_id>", methods=["GET", "POST"])
@requires(Role.FAMILY)
def answer_request(review_id: int, request_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    db = get_session()
    asked = requests.family_request(db, membership, request_id)
    if asked is None:
        abort(404)
    started = requests.contribution_answering(db, asked)
    if started is not None:
        return redirect(url_for("family.contribution", review_id=review_id, contribution_id=started.id))
    if asked.status != RequestStatus.OPEN.value:
        abort(404)
    form = ContributionForm()
    if not form.is_submitted():
        form.title.data = ANSWER_TITLE
    if form.validate_on_submit():
        page = _save(membership, None, form, asked=asked)
        if page is not None:
            return page
    return render_template(
        "families/contributions/form.html", review=membership.review, form=form, contribution=None, asked=asked
    )


@bp.route("/reviews/<int:review_id>/contributions/<int:contribution_id>/files", methods=["POST"])
@requires(Role.FAMILY)
def add_contribution_file(review_id: int, contribution_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    db = get_session()
    item = _own(membership, contribution_id)
    if not item.editable:
        return _locked(membership, item.id)
    file_form = FileForm(prefix="another")
    if file_form.validate_on_submit():
        upload = _uploaded(file_form.file)
        if upload is None:
            file_form.file.errors = ["Choose a file to add"]
        else:
            try:
                contributions.add_file(db, item, original_name=upload[0], data=upload[1], by=_me())
            except uploads.UploadRefused as problem:
                db.rollback()
                file_form.file.errors = [str(problem)]
            else:
                db.commit()
                flash("Your file has been added.", "success")
                return redirect(url_for("family.contribution", review_id=review_id, contribution_id=item.id))
    form = ContributionForm(formdata=None, data={"title": item.title, "text": contributions.editable_text(item.text)})
    return render_template(
        "families/contributions/form.html",
        review=membership.review,
        form=form,
        contribution=item,
        file_form=file_form,
    )


@bp.route("/reviews/<int:review_id>/contributions/<int:contribution_id>/files/<int:file_id>/remove", methods=["POST"])
@requires(Role.FAMILY)
def remove_contribution_file(review_id: int, contribution_id: int, file_id: int):
    membership, refusal = _contributing(review_id)
    if refusal:
        return refusal
    db = get_session()
    item = _own(membership, contribution_id)
    if not item.editable:
        return _locked(membership, item.id)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if not contributions.remove_file(db, item, file_id, by=_me()):
        abort(404)
    db.commit()
    flash("The file has been removed.", "success")
    return redirect(url_for("family.contribution", review_id=review_id, contribution_id=item.id))
