"""The author's inbox of everything gathered for a review, and panel members' notes for the author.

The inbox pages load the review with ``needs=Part.REQUESTS``: the review's declared author and
coordinators get in; everyone else gets 404, as does an item of another review. The panel notes
pages are for people with an open panel membership of the review, who see only their own notes.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.authoring import inbox
from portal.authoring.inbox_forms import InboxFilterForm, NoteForm, PanelNoteForm, ThemeForm
from portal.db import get_session
from portal.families import uploads
from portal.families.contribution_forms import ButtonForm
from portal.pagination import Pagination, page_of, requested_page
from portal.reviews.access import Part, load_review_for
from portal.reviews.models import MembershipKind
from portal.security.models import User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("inbox", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int):
    review, _access = load_review_for(get_session(), _me(), review_id, needs=Part.REQUESTS)
    return review


def _load_entry(review, item_id: int) -> inbox.Entry:
    entry = inbox.load_entry(get_session(), review, item_id)
    if entry is None:
        abort(404)
    return entry


def _page_of(total: int, per_page: int) -> Pagination:
    return page_of(total, per_page, requested_page())


@bp.route("/reviews/<int:review_id>/inbox")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def inbox_list(review_id: int):
    db = get_session()
    review = _load(review_id)
    inbox.sync(db, review)
    themes = inbox.themes_of(db, review)
    filters = inbox.filters_from(request.args, themes)
    filter_form = InboxFilterForm(request.args)
    filter_form.offer_themes(themes)
    shown = inbox.inbox_page(db, review, filters, page=requested_page())
    pagination = _page_of(shown.total, inbox.ITEMS_PER_PAGE)
    inbox.record_inbox_listed(db, review, _me(), shown.entries)
    db.commit()
    return render_template(
        "authoring/inbox/inbox.html",
        review=review,
        shown=shown,
        filters=filters,
        filter_form=filter_form,
        pagination=pagination,
    )


def _render_item(review, entry: inbox.Entry, *, theme_form=None, note_form=None, form=None):
    db = get_session()
    notes, total = inbox.notes_of(db, entry.item, page=requested_page())
    pagination = _page_of(total, inbox.NOTES_PER_PAGE)
    if theme_form is None:
        theme_form = ThemeForm(formdata=None)
        theme_form.offer_themes(_themes_to_offer(review, entry))
    return render_template(
        "authoring/inbox/item.html",
        review=review,
        entry=entry,
        asked=inbox.request_answered(db, entry),
        notes=notes,
        pagination=pagination,
        theme_form=theme_form,
        note_form=note_form or NoteForm(formdata=None),
        file_types=uploads.FILE_TYPES,
        form=form,
    )


def _themes_to_offer(review, entry: inbox.Entry):
    """The review's themes this item does not have yet."""
    on_item = {theme.id for theme in entry.item.themes}
    return [theme for theme in inbox.themes_of(get_session(), review) if theme.id not in on_item]


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def item(review_id: int, item_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    inbox.record_read(db, entry, _me())
    db.commit()
    return _render_item(review, entry)


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>/files/<int:file_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def answer_file(review_id: int, item_id: int, file_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    stored = inbox.answer_file(entry, file_id)
    if stored is None or not uploads.path_of(stored.stored_name).is_file():
        abort(404)
    inbox.record_file_downloaded(db, entry, stored, _me())
    db.commit()
    return uploads.download(stored.stored_name, stored.detected_type, stored.original_name)


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>/acknowledge", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def acknowledge(review_id: int, item_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if inbox.acknowledge(db, entry, _me()):
        db.commit()
        flash(_acknowledged_message(entry), "success")
    return redirect(url_for("inbox.item", review_id=review.id, item_id=entry.item.id))


def _acknowledged_message(entry: inbox.Entry) -> str:
    if entry.answer is not None or entry.contribution is not None:
        return "Acknowledged. The person who sent it can no longer change it."
    return "Acknowledged."


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>/themes", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def add_theme(review_id: int, item_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    form = ThemeForm()
    form.offer_themes(_themes_to_offer(review, entry))
    if form.validate_on_submit():
        try:
            theme = _chosen_theme(review, form)
        except inbox.InboxRefused as refusal:
            db.rollback()
            getattr(form, refusal.field).errors = [refusal.message]
        else:
            added = inbox.add_theme(db, entry, theme, _me())
            db.commit()
            flash(f"Theme added: {theme.name}." if added else f"It already has the theme {theme.name}.", "success")
            return redirect(url_for("inbox.item", review_id=review.id, item_id=entry.item.id))
    return _render_item(review, entry, theme_form=form, form=form)


def _chosen_theme(review, form: ThemeForm):
    if form.new_theme.data:
        return inbox.find_or_create_theme(get_session(), review, form.new_theme.data, _me())
    theme = inbox.theme_of(get_session(), review, _whole_number(form.theme.data))
    if theme is None:
        raise inbox.InboxRefused("Choose a theme from the list", field="theme")
    return theme


def _whole_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>/themes/<int:theme_id>/remove", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def remove_theme(review_id: int, item_id: int, theme_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    theme = inbox.theme_of(db, review, theme_id)
    if theme is None:
        abort(404)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if inbox.remove_theme(db, entry, theme, _me()):
        db.commit()
        flash(f"Theme removed: {theme.name}.", "success")
    return redirect(url_for("inbox.item", review_id=review.id, item_id=entry.item.id))


@bp.route("/reviews/<int:review_id>/inbox/<int:item_id>/notes", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def add_note(review_id: int, item_id: int):
    db = get_session()
    review = _load(review_id)
    entry = _load_entry(review, item_id)
    form = NoteForm()
    if form.validate_on_submit():
        inbox.add_note(db, entry, form.text.data, _me())
        db.commit()
        flash("Your note has been added.", "success")
        return redirect(url_for("inbox.item", review_id=review.id, item_id=entry.item.id, _anchor="notes"))
    return _render_item(review, entry, note_form=form, form=form)


# Panel members' notes -----------------------------------------------------------------------------------


def _panel_membership(review_id: int):
    review, access = load_review_for(get_session(), _me(), review_id)
    membership = access.membership_of_kind(MembershipKind.PANEL_MEMBER)
    if membership is None:
        abort(404)
    return review, membership


@bp.route("/reviews/<int:review_id>/panel-notes")
@requires(SIGNED_IN)  # the review's panel members, checked by the loader
def panel_notes(review_id: int):
    db = get_session()
    review, _membership = _panel_membership(review_id)
    notes, total = inbox.own_panel_notes(db, review, _me(), page=requested_page())
    pagination = _page_of(total, inbox.PANEL_NOTES_PER_PAGE)
    return render_template("authoring/inbox/panel_notes.html", review=review, notes=notes, pagination=pagination)


@bp.route("/reviews/<int:review_id>/panel-notes/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # the review's panel members, checked by the loader
def new_panel_note(review_id: int):
    db = get_session()
    review, membership = _panel_membership(review_id)
    form = PanelNoteForm()
    if form.validate_on_submit():
        try:
            inbox.write_panel_note(db, membership, form.text.data)
        except inbox.InboxRefused as refusal:
            db.rollback()
            form.text.errors = [refusal.message]
        else:
            db.commit()
            flash("Your note has been sent to the author.", "success")
            return redirect(url_for("inbox.panel_notes", review_id=review.id))
    return render_template("authoring/inbox/new_panel_note.html", review=review, form=form)
