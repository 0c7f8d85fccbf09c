"""Versioned drafts of the report, written or uploaded, and comparisons between versions.

Used by the review's declared author and by coordinators. Every route loads the review with
``needs=Part.DRAFTS``, so everyone else (panel members and family members included: they will read
shared versions through their own pages) gets 404. A version is looked up within the review, so
another review's version is never found. Frozen versions are refused by the services themselves.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.authoring import drafts
from portal.authoring.comparison import compare as compare_versions
from portal.authoring.draft_forms import CompareForm, SectionForm, TitleForm, UploadForm
from portal.authoring.models import Draft, DraftSection
from portal.db import get_session
from portal.families import uploads
from portal.pagination import page_of, requested_page
from portal.reviews.access import Part, load_review_for
from portal.security.forms import ConfirmForm
from portal.security.models import User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("drafts", __name__)

FROZEN = "This version has been shared or marked final, so it can no longer be changed. Start a new version instead."


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int):
    review, _access = load_review_for(get_session(), _me(), review_id, needs=Part.DRAFTS)
    return review


def _load_draft(review, draft_id: int) -> Draft:
    draft = drafts.load_draft(get_session(), review, draft_id)
    if draft is None:
        abort(404)
    return draft


def _load_section(draft: Draft, section_id: int) -> DraftSection:
    section = next((item for item in draft.sections if item.id == section_id), None)
    if section is None:
        abort(404)
    return section


def _editable(review, draft: Draft):
    """None when the version may change; otherwise the redirect that tells the person why not."""
    if not draft.frozen:
        return None
    flash(FROZEN, "info")
    return redirect(url_for("drafts.draft", review_id=review.id, draft_id=draft.id))


def _refused_frozen(review, draft: Draft):
    get_session().rollback()
    flash(FROZEN, "info")
    return redirect(url_for("drafts.draft", review_id=review.id, draft_id=draft.id))


@bp.route("/reviews/<int:review_id>/drafts")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def drafts_list(review_id: int):
    db = get_session()
    review = _load(review_id)
    page = requested_page()
    rows, total = drafts.drafts_of(db, review, page=page)
    pagination = page_of(total, drafts.DRAFTS_PER_PAGE, page)
    return render_template(
        "authoring/drafts/list.html",
        review=review,
        drafts=rows,
        pagination=pagination,
        state_of=drafts.state_of,
        button_form=ConfirmForm(),
        can_compare=total > 1,
    )


@bp.route("/reviews/<int:review_id>/drafts/new", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def new_draft(review_id: int):
    db = get_session()
    review = _load(review_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    draft = drafts.create_written_draft(db, review.id, by=_me())
    db.commit()
    flash(f"Version {draft.version} has been started.", "success")
    return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=draft.id))


@bp.route("/reviews/<int:review_id>/drafts/upload", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def upload_draft(review_id: int):
    db = get_session()
    review = _load(review_id)
    form = UploadForm()
    if form.validate_on_submit():
        chosen = form.file.data
        if chosen is None or not getattr(chosen, "filename", ""):
            form.file.errors = [*form.file.errors, "Select the report as a PDF or Word document"]
        else:
            try:
                draft = drafts.create_uploaded_draft(
                    db, review.id, title=form.title.data, original_name=chosen.filename, data=chosen.read(), by=_me()
                )
            except (uploads.UploadRefused, drafts.DraftRefused) as refusal:
                db.rollback()
                form.file.errors = [*form.file.errors, str(refusal)]
            else:
                db.commit()
                flash(_uploaded_message(draft), "success")
                return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=draft.id))
    return render_template("authoring/drafts/upload.html", review=review, form=form)


def _uploaded_message(draft: Draft) -> str:
    if draft.detected_type == "docx":
        return (
            f"Version {draft.version} has been uploaded. We took {len(draft.sections)} sections from the document: "
            "check each one against the document and correct anything that came out wrong."
        )
    return f"Version {draft.version} has been uploaded. Now paste its text: add a section for each heading."


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def draft(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    drafts.record_read(db, version, _me())
    db.commit()
    return render_template(
        "authoring/drafts/draft.html",
        review=review,
        draft=version,
        state=drafts.state_of(version),
        file_type=uploads.FILE_TYPES.get(version.detected_type or ""),
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/file")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def draft_file(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    if not version.stored_name or not uploads.path_of(version.stored_name).is_file():
        abort(404)
    drafts.record_file_downloaded(db, version, _me())
    db.commit()
    return uploads.download(version.stored_name, version.detected_type, version.original_name)


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/edit", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def edit_draft(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    if (refusal := _editable(review, version)) is not None:
        return refusal
    form = TitleForm()
    if not form.is_submitted():
        form.title.data = version.title
    if form.validate_on_submit():
        try:
            drafts.change_title(db, version, form.title.data, by=_me())
        except drafts.DraftFrozen:
            return _refused_frozen(review, version)
        db.commit()
        flash("The title has been saved.", "success")
        return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=version.id))
    drafts.record_read(db, version, _me())
    db.commit()
    return render_template(
        "authoring/drafts/edit.html", review=review, draft=version, form=form, button_form=ConfirmForm()
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/delete", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def delete_draft(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    if (refusal := _editable(review, version)) is not None:
        return refusal
    form = ConfirmForm()
    if form.validate_on_submit():
        number = version.version
        try:
            drafts.delete_draft(db, version, by=_me())
        except drafts.DraftFrozen:
            return _refused_frozen(review, version)
        db.commit()
        flash(f"Version {number} has been deleted.", "success")
        return redirect(url_for("drafts.drafts_list", review_id=review.id))
    return render_template("authoring/drafts/delete.html", review=review, draft=version, form=form)


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/sections/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def add_section(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    if (refusal := _editable(review, version)) is not None:
        return refusal
    form = SectionForm()
    if form.validate_on_submit():
        try:
            drafts.add_section(db, version, heading=form.heading.data, body=form.body.data, by=_me())
        except drafts.DraftFrozen:
            return _refused_frozen(review, version)
        except drafts.DraftRefused as refused:
            db.rollback()
            form.heading.errors = [*form.heading.errors, str(refused)]
        else:
            db.commit()
            flash(f"The section “{form.heading.data}” has been added.", "success")
            return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=version.id))
    return render_template("authoring/drafts/section.html", review=review, draft=version, form=form, section=None)


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/sections/<int:section_id>", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def edit_section(review_id: int, draft_id: int, section_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    section = _load_section(version, section_id)
    if (refusal := _editable(review, version)) is not None:
        return refusal
    form = SectionForm()
    if not form.is_submitted():
        form.heading.data = section.heading
        form.body.data = drafts.editable_body(section)
    if form.validate_on_submit():
        try:
            drafts.change_section(db, version, section, heading=form.heading.data, body=form.body.data, by=_me())
        except drafts.DraftFrozen:
            return _refused_frozen(review, version)
        db.commit()
        flash(f"The section “{section.heading}” has been saved.", "success")
        return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=version.id))
    return render_template(
        "authoring/drafts/section.html",
        review=review,
        draft=version,
        form=form,
        section=section,
        button_form=ConfirmForm(),
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/sections/<int:section_id>/remove", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def remove_section(review_id: int, draft_id: int, section_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    section = _load_section(version, section_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    heading = section.heading
    try:
        drafts.remove_section(db, version, section, by=_me())
    except drafts.DraftFrozen:
        return _refused_frozen(review, version)
    db.commit()
    flash(f"The section “{heading}” has been removed.", "success")
    return redirect(url_for("drafts.edit_draft", review_id=review.id, draft_id=version.id))


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/sections/<int:section_id>/move", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def move_section(review_id: int, draft_id: int, section_id: int):
    db = get_session()
    review = _load(review_id)
    version = _load_draft(review, draft_id)
    section = _load_section(version, section_id)
    direction = request.form.get("direction")
    if not ConfirmForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    try:
        moved = drafts.move_section(db, version, section, up=direction == "up", by=_me())
    except drafts.DraftFrozen:
        return _refused_frozen(review, version)
    db.commit()
    if moved:
        flash(f"The section “{section.heading}” has been moved {direction}.", "success")
    target = url_for("drafts.edit_draft", review_id=review.id, draft_id=version.id)
    return redirect(f"{target}#section-{section.id}")


@bp.route("/reviews/<int:review_id>/drafts/compare")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def compare(review_id: int):
    db = get_session()
    review = _load(review_id)
    versions = drafts.versions_to_compare(db, review)
    form = CompareForm(request.args)
    choices = [(draft_id, f"Version {number}: {title}") for draft_id, number, title in versions]
    form.older.choices = choices
    form.newer.choices = choices
    if not request.args:
        _suggest_latest_two(form, versions)
        return render_template("authoring/drafts/compare.html", review=review, form=form, result=None)
    if not form.validate():
        return render_template("authoring/drafts/compare.html", review=review, form=form, result=None)
    older, newer = _load_draft(review, form.older.data), _load_draft(review, form.newer.data)
    if older.version > newer.version:
        older, newer = newer, older
    result = compare_versions(drafts.as_compared(older), drafts.as_compared(newer))
    drafts.record_compared(db, older, newer, _me())
    db.commit()
    return render_template(
        "authoring/drafts/compare.html", review=review, form=form, result=result, older=older, newer=newer
    )


def _suggest_latest_two(form: CompareForm, versions: list[tuple[int, int, str]]) -> None:
    if len(versions) >= 2:
        form.newer.data, form.older.data = versions[0][0], versions[1][0]
