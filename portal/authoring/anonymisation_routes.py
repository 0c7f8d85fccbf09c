"""Protected terms, the anonymisation check of a draft, waivers, and marking a version final.

Used by the review's author and by coordinators. Every route loads the review with
``needs=Part.ANONYMISATION``, so anyone else gets 404 and never learns the review's protected terms.
Waiving a hit and undoing a final mark are for coordinators only: those routes declare
``Role.COORDINATOR``, so the author gets 403.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.authoring import anonymisation
from portal.authoring.anonymisation_forms import ProtectedTermForm, UndoFinalForm, WaiverForm
from portal.authoring.models import Draft, TermCategory
from portal.db import get_session
from portal.pagination import page_of, requested_page
from portal.reviews.access import Part, ReviewAccess, load_review_for
from portal.reviews.models import Review
from portal.security.forms import ConfirmForm
from portal.security.models import Role, User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("anonymisation", __name__)

_FINGERPRINT = re.compile(rf"[0-9a-f]{{{anonymisation.FINGERPRINT_LENGTH}}}")


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int) -> tuple[Review, ReviewAccess]:
    return load_review_for(get_session(), _me(), review_id, needs=Part.ANONYMISATION)


def _load_draft(review: Review, draft_id: int) -> Draft:
    draft = anonymisation.load_draft(get_session(), review, draft_id)
    if draft is None:
        abort(404)
    return draft


def _show_refusal(form, refusal: anonymisation.AnonymisationRefused, default_field: str) -> None:
    target = getattr(form, refusal.field or default_field)
    target.errors = [*target.errors, refusal.message]


def _check_page(review_id: int, draft_id: int):
    return redirect(url_for("anonymisation.check", review_id=review_id, draft_id=draft_id))


# Protected terms -------------------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/protected-terms", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def protected_terms(review_id: int):
    db = get_session()
    review, _access = _load(review_id)
    form = ProtectedTermForm()
    if form.validate_on_submit():
        try:
            added = anonymisation.add_term(db, review, form.term.data, form.category_enum, _me())
        except anonymisation.AnonymisationRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "term")
        else:
            db.commit()
            flash(f"“{added.term}” is now protected.", "success")
            return redirect(url_for("anonymisation.protected_terms", review_id=review.id))
    page = requested_page()
    terms, total = anonymisation.protected_terms(db, review, page=page)
    pagination = page_of(total, anonymisation.TERMS_PER_PAGE, page)
    anonymisation.record_terms_viewed(db, review, _me())
    db.commit()
    return render_template(
        "authoring/anonymisation/terms.html",
        review=review,
        form=form,
        terms=terms,
        pagination=pagination,
        suggestions=anonymisation.family_name_suggestions(db, review),
        family_name=TermCategory.FAMILY_NAME.value,
    )


@bp.route("/reviews/<int:review_id>/protected-terms/<int:term_id>/remove", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def remove_term(review_id: int, term_id: int):
    db = get_session()
    review, _access = _load(review_id)
    term = anonymisation.load_term(db, review, term_id)
    if term is None:
        abort(404)
    ConfirmForm().validate_on_submit()  # the CSRF check itself runs before every POST
    words = term.term
    anonymisation.remove_term(db, term, _me())
    db.commit()
    flash(f"“{words}” is no longer protected.", "success")
    return redirect(url_for("anonymisation.protected_terms", review_id=review.id))


# The check of one version ----------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/anonymisation")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def check(review_id: int, draft_id: int):
    db = get_session()
    review, access = _load(review_id)
    draft = _load_draft(review, draft_id)
    result = anonymisation.check_version(db, review, draft)
    page = requested_page()
    pagination = page_of(len(result.hits), anonymisation.HITS_PER_PAGE, page)
    final = draft if draft.final_at else anonymisation.final_version(db, review)
    anonymisation.record_check_viewed(db, result, _me())
    db.commit()
    return render_template(
        "authoring/anonymisation/check.html",
        review=review,
        draft=draft,
        result=result,
        places=result.page(pagination.page),
        pagination=pagination,
        final=final,
        is_coordinator=access.is_coordinator,
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/anonymisation/<fingerprint>/waive", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def waive_hit(review_id: int, draft_id: int, fingerprint: str):
    db = get_session()
    review, _access = _load(review_id)
    draft = _load_draft(review, draft_id)
    result = anonymisation.check_version(db, review, draft)
    found = result.find(fingerprint) if _FINGERPRINT.fullmatch(fingerprint) else None
    if found is None:
        abort(404)
    form = WaiverForm()
    if found.waiver is None and form.validate_on_submit():
        try:
            anonymisation.waive_hit(db, result, fingerprint, form.reason.data, _me())
        except anonymisation.AnonymisationRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "reason")
        else:
            db.commit()
            flash(f"The {found.kind_label.lower()} in “{found.place.label}” has been waived.", "success")
            return _check_page(review.id, draft.id)
    return render_template("authoring/anonymisation/waive.html", review=review, draft=draft, found=found, form=form)


# Marking a version final -----------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/anonymisation/final", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def mark_final(review_id: int, draft_id: int):
    db = get_session()
    review, _access = _load(review_id)
    draft = _load_draft(review, draft_id)
    ConfirmForm().validate_on_submit()  # the CSRF check itself runs before every POST
    try:
        anonymisation.mark_final(db, review, anonymisation.check_version(db, review, draft), _me())
    except anonymisation.AnonymisationRefused as refusal:
        db.rollback()
        flash(f"{refusal.message}.", "info")
    else:
        db.commit()
        flash(f"Version {draft.version} is now the final version.", "success")
    return _check_page(review.id, draft.id)


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/anonymisation/undo-final", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def undo_final(review_id: int, draft_id: int):
    db = get_session()
    review, _access = _load(review_id)
    draft = _load_draft(review, draft_id)
    if draft.final_at is None:
        abort(404)
    form = UndoFinalForm()
    if form.validate_on_submit():
        anonymisation.undo_final(db, draft, form.reason.data, _me())
        db.commit()
        flash(f"Version {draft.version} is no longer final.", "success")
        return _check_page(review.id, draft.id)
    return render_template("authoring/anonymisation/undo_final.html", review=review, draft=draft, form=form)
