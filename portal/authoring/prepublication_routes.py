"""Pre-publication review: sharing a version for a window, reading it, comments, responses and who has read it.

Two kinds of page. The author's pages (sharing, comments, replies, resolutions) load the review with
``needs=Part.DRAFTS``, so only the review's declared author and coordinators get in; who has read which
version needs ``Part.MANAGE``: coordinators only. A version and a comment are looked up within the review.

The readers' pages (``/drafts-to-read``) are for anyone signed in, but each version is found only through
``prepublication.reading_for``: a share naming the person, open now, while they are still a panel or family
member of the review (and, for family, still want to see it). Anything else is 404. Family members get
no download and see their name on every page of the version.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.authoring import drafts, prepublication
from portal.authoring.models import Draft, ResponseKind
from portal.authoring.prepublication_forms import CommentForm, ReplyForm, ResolveForm, ResponseForm, ShareForm
from portal.db import get_session, utcnow
from portal.pagination import refuse_past_the_end, requested_page
from portal.reviews.access import Part, load_review_for
from portal.security.models import User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("prepublication", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int, needs: Part = Part.DRAFTS):
    review, _access = load_review_for(get_session(), _me(), review_id, needs=needs)
    return review


def _load_draft(review, draft_id: int) -> Draft:
    draft = drafts.load_draft(get_session(), review, draft_id)
    if draft is None:
        abort(404)
    return draft


def _load_shared(review, draft_id: int) -> Draft:
    draft = _load_draft(review, draft_id)
    if draft.shared_at is None:
        abort(404)
    return draft


# The author and coordinators -----------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/pre-publication")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def overview(review_id: int):
    review = _load(review_id)
    page = requested_page()
    versions, pagination = prepublication.shared_versions(get_session(), review, page=page)
    refuse_past_the_end(pagination, page)
    return render_template(
        "authoring/prepublication/overview.html", review=review, versions=versions, pagination=pagination
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/share", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def share(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    draft = _load_draft(review, draft_id)
    people = prepublication.candidates(db, review)
    form = ShareForm()
    form.readers.choices = [SelectChoice(m.id, f"{m.user.name} ({m.kind_enum.label.lower()})") for m in people.readers]
    if form.validate_on_submit():
        opens_at, closes_at = form.window(utcnow())
        try:
            shared = prepublication.share_version(
                db,
                draft,
                form.readers.data,
                opens_at=opens_at,
                closes_at=closes_at,
                message=form.message.data,
                actor=_me(),
            )
        except prepublication.PrepublicationRefused as refusal:
            db.rollback()
            form.readers.errors = [*form.readers.errors, str(refusal)]
        else:
            db.commit()
            flash(_shared_message(draft, shared), "success")
            return redirect(url_for("prepublication.overview", review_id=review.id))
    return render_template("authoring/prepublication/share.html", review=review, draft=draft, form=form, people=people)


def _shared_message(draft: Draft, shared: prepublication.Shared) -> str:
    count = len(shared.share.recipients)
    message = f"Version {draft.version} is shared with {count} {'person' if count == 1 else 'people'}."
    if shared.unreachable:
        names = ", ".join(person.name for person in shared.unreachable)
        message += f" We have no way to send a message to {names}: tell them yourself."
    return message


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/comments")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def comments(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id)
    draft = _load_shared(review, draft_id)
    page = requested_page()
    rows, pagination = prepublication.comments_of(db, draft, page=page)
    refuse_past_the_end(pagination, page)
    responses = prepublication.latest_responses(db, draft)
    names = prepublication.names_of(db, {c.replied_by_id for c in rows} | {c.resolved_by_id for c in rows})
    prepublication.record_comments_read(db, draft, _me(), rows)
    db.commit()
    return render_template(
        "authoring/prepublication/comments.html",
        review=review,
        draft=draft,
        comments=rows,
        pagination=pagination,
        responses=sorted(responses.values(), key=lambda response: response.user.name),
        names=names,
    )


def _load_comment(review, draft_id: int, comment_id: int):
    draft = _load_shared(review, draft_id)
    comment = prepublication.load_comment(get_session(), draft, comment_id)
    if comment is None:
        abort(404)
    return draft, comment


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def reply(review_id: int, draft_id: int, comment_id: int):
    db = get_session()
    review = _load(review_id)
    draft, comment = _load_comment(review, draft_id, comment_id)
    form = ReplyForm()
    if not form.is_submitted():
        form.reply.data = comment.reply
    if form.validate_on_submit():
        try:
            prepublication.reply(db, comment, draft, form.reply.data, by=_me())
        except prepublication.PrepublicationRefused as refusal:
            db.rollback()
            form.reply.errors = [*form.reply.errors, str(refusal)]
        else:
            db.commit()
            flash(f"Your reply to {comment.user.name} has been saved.", "success")
            return redirect(url_for("prepublication.comments", review_id=review.id, draft_id=draft.id))
    return render_template(
        "authoring/prepublication/reply.html", review=review, draft=draft, comment=comment, form=form
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/comments/<int:comment_id>/resolve", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def resolve(review_id: int, draft_id: int, comment_id: int):
    db = get_session()
    review = _load(review_id)
    draft, comment = _load_comment(review, draft_id, comment_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            prepublication.resolve(db, comment, draft, form.change_made.data, by=_me())
        except prepublication.PrepublicationRefused as refusal:
            db.rollback()
            form.change_made.errors = [*form.change_made.errors, str(refusal)]
        else:
            db.commit()
            flash(f"The comment from {comment.user.name} is resolved.", "success")
            return redirect(url_for("prepublication.comments", review_id=review.id, draft_id=draft.id))
    return render_template(
        "authoring/prepublication/resolve.html", review=review, draft=draft, comment=comment, form=form
    )


@bp.route("/reviews/<int:review_id>/drafts/<int:draft_id>/readers")
@requires(SIGNED_IN)  # coordinators only (Part.MANAGE), checked by the loader
def readers(review_id: int, draft_id: int):
    db = get_session()
    review = _load(review_id, needs=Part.MANAGE)
    draft = _load_shared(review, draft_id)
    page = requested_page()
    rows, pagination = prepublication.readers_of(db, draft, page=page)
    refuse_past_the_end(pagination, page)
    prepublication.record_readers_viewed(db, draft, _me())
    db.commit()
    return render_template(
        "authoring/prepublication/readers.html", review=review, draft=draft, rows=rows, pagination=pagination
    )


# Readers: panel members and family members ----------------------------------------------------------------


def _reading(draft_id: int) -> prepublication.Reading:
    reading = prepublication.reading_for(get_session(), _me(), draft_id)
    if reading is None:
        abort(404)
    return reading


@bp.route("/drafts-to-read")
@requires(SIGNED_IN)  # anyone signed in sees only the versions shared with them
def to_read():
    page = requested_page()
    rows, pagination = prepublication.drafts_to_read(get_session(), _me(), page=page)
    refuse_past_the_end(pagination, page)
    return render_template("authoring/prepublication/to_read.html", rows=rows, pagination=pagination)


@bp.route("/drafts-to-read/<int:draft_id>")
@requires(SIGNED_IN)  # only through an open share naming the person, checked by reading_for
def read(draft_id: int):
    db = get_session()
    reading = _reading(draft_id)
    prepublication.record_read(db, reading, _me())
    db.commit()
    response = None
    if reading.as_family:
        response = prepublication.latest_responses(db, reading.draft, [_me().id]).get(_me().id)
    return render_template("authoring/prepublication/read.html", reading=reading, response=response)


@bp.route("/drafts-to-read/<int:draft_id>/comment", methods=["GET", "POST"])
@requires(SIGNED_IN)  # only through an open share naming the person, checked by reading_for
def comment(draft_id: int):
    db = get_session()
    reading = _reading(draft_id)
    section_id = request.args.get("section", type=int)
    section = None
    if section_id is not None:
        section = next((item for item in reading.draft.sections if item.id == section_id), None)
        if section is None:
            abort(404)
    form = CommentForm()
    if form.validate_on_submit():
        prepublication.add_comment(db, reading, section=section, text=form.text.data, by=_me())
        db.commit()
        flash("Your comment has been sent.", "success")
        return redirect(url_for("prepublication.your_comments", draft_id=draft_id))
    return render_template("authoring/prepublication/comment.html", reading=reading, section=section, form=form)


@bp.route("/drafts-to-read/<int:draft_id>/your-comments")
@requires(SIGNED_IN)  # only through an open share naming the person, checked by reading_for
def your_comments(draft_id: int):
    reading = _reading(draft_id)
    page = requested_page()
    rows, pagination = prepublication.own_comments(get_session(), reading.draft, _me(), page=page)
    refuse_past_the_end(pagination, page)
    return render_template(
        "authoring/prepublication/your_comments.html", reading=reading, comments=rows, pagination=pagination
    )


@bp.route("/drafts-to-read/<int:draft_id>/response", methods=["GET", "POST"])
@requires(SIGNED_IN)  # family members with an open share naming them, checked by reading_for
def respond(draft_id: int):
    db = get_session()
    reading = _reading(draft_id)
    if not reading.as_family:
        abort(404)
    me = _me()
    current = prepublication.latest_responses(db, reading.draft, [me.id]).get(me.id)
    form = ResponseForm()
    if not form.is_submitted() and current is not None:
        form.kind.data, form.text.data = current.kind, current.text
    if form.validate_on_submit():
        prepublication.respond(db, reading, kind=ResponseKind(form.kind.data), text=form.text.data, by=me)
        db.commit()
        flash("Thank you. Your answer has been sent.", "success")
        return redirect(url_for("prepublication.read", draft_id=draft_id))
    return render_template("authoring/prepublication/respond.html", reading=reading, form=form, current=current)
