"""Contribution requests: the author and coordinators ask, the people asked answer.

Asking, the review's list of requests and withdrawing one load the review with
``needs=Part.REQUESTS`` (the review's declared author and coordinators; anyone else 404). The
coordinator's list of overdue requests across reviews is for the coordinator role. The answer pages
are for practitioners (agency leads, practitioners and panel members all hold that role) and find a
request only among the signed-in person's own, through a membership they still hold: anyone else's
request, even in the same review, is 404. Family members answer in their own pages (``family``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.authoring import requests as services
from portal.authoring.models import RequestStatus
from portal.authoring.request_forms import AnswerForm, AskForm
from portal.db import get_session
from portal.families import uploads
from portal.families.contribution_forms import ButtonForm, FileForm
from portal.pagination import refuse_past_the_end, requested_page
from portal.reviews.access import Part, load_review_for
from portal.richtext import editable_text, rich_text_from_input
from portal.security.models import Role, User
from portal.security.permissions import SIGNED_IN, requires
from portal.templating import long_date

bp = Blueprint("requests", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int):
    review, _access = load_review_for(get_session(), _me(), review_id, needs=Part.REQUESTS)
    return review


# The author and coordinators ---------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/requests")
@requires(SIGNED_IN)  # the review's author and coordinators, checked by the loader
def review_requests(review_id: int):
    db = get_session()
    review = _load(review_id)
    status = request.args.get("status", "all")
    if status not in services.STATUS_FILTERS:
        status = "all"
    page = requested_page()
    pagination, rows = services.review_requests(db, review, status=status, page=page)
    refuse_past_the_end(pagination, page)
    return render_template(
        "authoring/requests/list.html",
        review=review,
        requests=rows,
        pagination=pagination,
        status=status,
        filters=services.STATUS_FILTERS,
        today=services.today(),
        is_overdue=services.is_overdue,
        button_form=ButtonForm(),
    )


@bp.route("/reviews/<int:review_id>/requests/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # the review's author and coordinators, checked by the loader
def ask(review_id: int):
    db = get_session()
    review = _load(review_id)
    people = services.candidates(db, review)
    form = AskForm()
    form.recipients.choices = [(m.id, _label(m)) for m in people.askable]
    due_on = None
    if form.validate_on_submit():
        due_on = services.due_date(db, form.working_days.data)
        if form.send.data:
            try:
                made = services.ask(
                    db,
                    review,
                    form.recipients.data,
                    prompt=form.prompt.data,
                    guidance=form.guidance.data,
                    working_days=form.working_days.data,
                    actor=_me(),
                )
            except services.RequestRefused as refusal:
                db.rollback()
                form.recipients.errors = [*form.recipients.errors, str(refusal)]
            else:
                db.commit()
                asked = "1 person" if len(made) == 1 else f"{len(made)} people"
                flash(f"Request sent to {asked}. Answers are due by {long_date(made[0].due_on)}.", "success")
                return redirect(url_for("requests.review_requests", review_id=review.id))
    elif not form.is_submitted():
        due_on = services.due_date(db, services.DEFAULT_WORKING_DAYS)
    return render_template(
        "authoring/requests/ask.html", review=review, form=form, people=people, due_on=due_on, label=_label
    )


def _label(membership) -> str:
    where = f", {membership.agency.name}" if membership.agency else ""
    return f"{membership.user.name} ({membership.kind_enum.label}{where})"


@bp.route("/reviews/<int:review_id>/requests/<int:request_id>/withdraw", methods=["POST"])
@requires(SIGNED_IN)  # the review's author and coordinators, checked by the loader
def withdraw(review_id: int, request_id: int):
    db = get_session()
    review = _load(review_id)
    item = services.load_review_request(db, review, request_id)
    if item is None:
        abort(404)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if services.withdraw_request(db, item, _me()):
        db.commit()
        flash(f"The request to {item.recipient.name} has been withdrawn.", "success")
    return redirect(url_for("requests.review_requests", review_id=review.id))


@bp.route("/requests/overdue")
@requires(Role.COORDINATOR)
def overdue():
    db = get_session()
    page = requested_page()
    pagination, rows = services.overdue_everywhere(db, page=page)
    refuse_past_the_end(pagination, page)
    return render_template("authoring/requests/overdue.html", requests=rows, pagination=pagination)


# The person asked -------------------------------------------------------------------------------------


def _own(request_id: int):
    item = services.own_request(get_session(), _me(), request_id)
    if item is None:
        abort(404)
    return item


def _uploaded(field) -> tuple[str, bytes] | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", None):
        return None
    # One byte past the limit is enough to know a file is too big without reading it all.
    return storage.filename, storage.stream.read(uploads.MAX_FILE_BYTES + 1)


def _locked(item):
    flash("The author has acknowledged your answer, so it can no longer be changed.")
    return redirect(url_for("requests.answer", request_id=item.id))


def _answer_page(item, form: AnswerForm, file_form: FileForm | None = None):
    return render_template(
        "authoring/requests/answer.html",
        item=item,
        answer=item.answer,
        form=form,
        file_form=file_form or FileForm(prefix="another"),
        overdue=services.is_overdue(item),
        file_types=uploads.FILE_TYPES,
    )


@bp.route("/requests")
@requires(Role.PRACTITIONER)
def mine():
    page = requested_page()
    pagination, rows = services.requests_for(get_session(), _me(), page=page)
    refuse_past_the_end(pagination, page)
    return render_template(
        "authoring/requests/mine.html", requests=rows, pagination=pagination, is_overdue=services.is_overdue
    )


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@requires(Role.PRACTITIONER)
def answer(request_id: int):
    item = _own(request_id)
    if item.status == RequestStatus.WITHDRAWN.value or (item.answer and not item.answer.editable):
        return render_template(
            "authoring/requests/answer_closed.html", item=item, answer=item.answer, file_types=uploads.FILE_TYPES
        )
    form = AnswerForm()
    if not form.is_submitted() and item.answer:
        form.text.data = editable_text(item.answer.text)
    if form.validate_on_submit():
        page = _save(item, form)
        if page is not None:
            return page
    return _answer_page(item, form)


def _save(item, form: AnswerForm):
    """Save what was typed (and any file), and send it if asked; the page to show, or None to show the form."""
    db = get_session()
    upload = _uploaded(form.file)
    if upload is not None:
        try:
            uploads.check(upload[1])
        except uploads.UploadRefused as refusal:
            form.file.errors = [*form.file.errors, str(refusal)]
            return None
    has_files = bool(item.answer and item.answer.files)
    if form.send.data and upload is None and not has_files and not rich_text_from_input(form.text.data):
        form.text.errors = [*form.text.errors, "Write an answer or add a file before you send it"]
        return None
    try:
        services.save_answer(db, item, text=form.text.data or "", by=_me())
        if upload is not None:
            services.add_answer_file(db, item, original_name=upload[0], data=upload[1], by=_me())
        if form.send.data:
            services.send_answer(db, item, by=_me())
    except services.AnswerLocked:
        db.rollback()
        return _locked(item)
    db.commit()
    if form.send.data:
        flash("Your answer has been sent to the author. You can change it until they acknowledge it.", "success")
        return redirect(url_for("requests.mine"))
    flash("Saved as a draft. Only you can see it until you send it.", "success")
    return redirect(url_for("requests.answer", request_id=item.id))


@bp.route("/requests/<int:request_id>/files", methods=["POST"])
@requires(Role.PRACTITIONER)
def add_file(request_id: int):
    db = get_session()
    item = _own(request_id)
    if item.status == RequestStatus.WITHDRAWN.value:
        abort(404)
    file_form = FileForm(prefix="another")
    if file_form.validate_on_submit():
        upload = _uploaded(file_form.file)
        if upload is None:
            file_form.file.errors = ["Choose a file to add"]
        else:
            try:
                services.add_answer_file(db, item, original_name=upload[0], data=upload[1], by=_me())
            except services.AnswerLocked:
                db.rollback()
                return _locked(item)
            except uploads.UploadRefused as problem:
                db.rollback()
                file_form.file.errors = [str(problem)]
            else:
                db.commit()
                flash("Your file has been added.", "success")
                return redirect(url_for("requests.answer", request_id=item.id))
    text = editable_text(item.answer.text) if item.answer else ""
    return _answer_page(item, AnswerForm(formdata=None, data={"text": text}), file_form)


@bp.route("/requests/<int:request_id>/files/<int:file_id>")
@requires(Role.PRACTITIONER)
def answer_file(request_id: int, file_id: int):
    db = get_session()
    item = _own(request_id)
    stored = next((f for f in (item.answer.files if item.answer else []) if f.id == file_id), None)
    if stored is None or not uploads.path_of(stored.stored_name).is_file():
        abort(404)
    services.record_file_downloaded(db, item, stored, _me())
    db.commit()
    return uploads.download(stored.stored_name, stored.detected_type, stored.original_name)


@bp.route("/requests/<int:request_id>/files/<int:file_id>/remove", methods=["POST"])
@requires(Role.PRACTITIONER)
def remove_file(request_id: int, file_id: int):
    db = get_session()
    item = _own(request_id)
    if item.status == RequestStatus.WITHDRAWN.value or item.answer is None:
        abort(404)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    try:
        removed = services.remove_answer_file(db, item, file_id, by=_me())
    except services.AnswerLocked:
        db.rollback()
        return _locked(item)
    if not removed:
        abort(404)
    db.commit()
    flash("The file has been removed.", "success")
    return redirect(url_for("requests.answer", request_id=item.id))
