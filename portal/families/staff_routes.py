"""Coordinators' and authors' pages about a review's family members: details, consent, updates.

Every route loads the review with ``needs=Part.FAMILY``: coordinators and the review's declared
author get in; everyone else, family members included, gets 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.consent import ledger
from portal.db import get_session, utcnow
from portal.families import contributions, invitations, letters, services, uploads
from portal.families.contribution_forms import ButtonForm
from portal.families.readability import readability
from portal.families.staff_forms import ConsentConversationForm, FamilyMemberForm, UpdateForm
from portal.notifications.models import MessageStatus
from portal.pagination import page_of, requested_page
from portal.reviews.access import Part, load_review_for
from portal.security.forms import ConfirmForm
from portal.security.models import InvitationChannel, Role, User
from portal.security.permissions import SIGNED_IN, requires

bp = Blueprint("family_admin", __name__)


def _me() -> User:
    return current_user._get_current_object()


def _load(review_id: int):
    review, _access = load_review_for(get_session(), _me(), review_id, needs=Part.FAMILY)
    return review


def _load_member(review, member_id: int):
    member = services.load_family_member(get_session(), review, member_id)
    if member is None:
        abort(404)
    return member


def _show_refusal(form, refusal: services.FamilyRefused, default_field: str) -> None:
    target = getattr(form, refusal.field or default_field, None) or getattr(form, default_field)
    target.errors = [*target.errors, refusal.message]


@bp.route("/reviews/<int:review_id>/family")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def family_members(review_id: int):
    db = get_session()
    review = _load(review_id)
    page = requested_page()
    members, total = services.family_members(db, review, page=page)
    pagination = page_of(total, services.FAMILY_PER_PAGE, page)
    consent = services.current_consent_for(db, [member.person.id for member in members], review.id)
    services.record_family_viewed(db, review, _me())
    db.commit()
    return render_template(
        "families/staff/family_members.html",
        review=review,
        members=members,
        consent=consent,
        letters_waiting=letters.count_waiting(db, review),
        questions=services.CONSENT_QUESTIONS,
        answer=services.answer,
        pagination=pagination,
    )


@bp.route("/reviews/<int:review_id>/family/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def add_family_member(review_id: int):
    db = get_session()
    review = _load(review_id)
    form = FamilyMemberForm()
    if form.validate_on_submit():
        try:
            member = services.add_family_member(db, review, form.details(), _me())
        except services.FamilyRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "name")
        else:
            db.commit()
            flash(f"{member.person.name} has been added as a family member.", "success")
            return redirect(url_for("family_admin.family_member", review_id=review.id, member_id=member.id))
    return render_template("families/staff/member_form.html", review=review, form=form, member=None)


@bp.route("/reviews/<int:review_id>/family/<int:member_id>/edit", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def edit_family_member(review_id: int, member_id: int):
    db = get_session()
    review = _load(review_id)
    member = _load_member(review, member_id)
    form = FamilyMemberForm()
    if not form.is_submitted():
        form.fill_from(member)
    if form.validate_on_submit():
        try:
            services.update_family_member(db, member, form.details(), _me())
        except services.FamilyRefused as refusal:
            db.rollback()
            _show_refusal(form, refusal, "name")
        else:
            db.commit()
            flash(f"{member.person.name}'s details have been saved.", "success")
            return redirect(url_for("family_admin.family_member", review_id=review.id, member_id=member.id))
    return render_template("families/staff/member_form.html", review=review, form=form, member=member)


@bp.route("/reviews/<int:review_id>/family/<int:member_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def family_member(review_id: int, member_id: int):
    db = get_session()
    review = _load(review_id)
    member = _load_member(review, member_id)
    person_id = member.person.id
    consent = services.current_consent_for(db, [person_id], review.id)[person_id]
    history = services.consent_history(db, person_id, review.id)
    deliveries = services.delivery_history(db, person_id, review.id)
    services.record_family_member_viewed(db, member, _me())
    db.commit()
    return render_template(
        "families/staff/family_member.html",
        review=review,
        member=member,
        consent=consent,
        history=history,
        deliveries=deliveries,
        questions=services.CONSENT_QUESTIONS,
        question_by_choice=services.QUESTION_BY_CHOICE,
        answer=services.answer,
        how_chosen=services.how_chosen,
        history_shown=services.HISTORY_SHOWN,
        MessageStatus=MessageStatus,
        confirm_form=ConfirmForm(),
        can_print_letter=_me().role == Role.COORDINATOR,
    )


@bp.route("/reviews/<int:review_id>/family/<int:member_id>/consent", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def record_consent(review_id: int, member_id: int):
    db = get_session()
    review = _load(review_id)
    member = _load_member(review, member_id)
    form = ConsentConversationForm()
    if form.validate_on_submit():
        written = services.record_conversation(db, member, form.answers(), _me())
        db.commit()
        if written:
            flash(f"{member.person.name}'s choices have been recorded.", "success")
        else:
            flash(f"Nothing changed: {member.person.name}'s choices were already recorded like that.")
        return redirect(url_for("family_admin.family_member", review_id=review.id, member_id=member.id))
    current = ledger.current_consent(db, member.person.id, review.id)
    return render_template(
        "families/staff/record_consent.html",
        review=review,
        member=member,
        form=form,
        current=current,
        questions=services.CONSENT_QUESTIONS,
        answer=services.answer,
    )


@bp.route("/reviews/<int:review_id>/family/updates/new", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def new_update(review_id: int):
    db = get_session()
    review = _load(review_id)
    form = UpdateForm()
    reading = None
    if form.validate_on_submit():
        if form.send.data:
            try:
                sent = services.send_update(db, review, form.subject.data, form.body.data, _me())
            except services.FamilyRefused as refusal:
                db.rollback()
                _show_refusal(form, refusal, "body")
            else:
                db.commit()
                flash(_queued_message(sent), "success")
                return redirect(url_for("family_admin.update", review_id=review.id, update_id=sent.update.id))
        reading = readability(form.body.data)
    return render_template("families/staff/new_update.html", review=review, form=form, reading=reading)


def _queued_message(sent: services.UpdateSent) -> str:
    queued = f"Your update has been queued for {len(sent.queued)} family members."
    if sent.letters:
        return f"{queued} {sent.letters} of them get it by letter: it is waiting in Letters to give."
    return queued


@bp.route("/reviews/<int:review_id>/family/updates")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def updates(review_id: int):
    db = get_session()
    review = _load(review_id)
    page = requested_page()
    summaries, total = services.updates(db, review, page=page)
    pagination = page_of(total, services.UPDATES_PER_PAGE, page)
    return render_template(
        "families/staff/updates.html",
        review=review,
        summaries=summaries,
        pagination=pagination,
        MessageStatus=MessageStatus,
    )


@bp.route("/reviews/<int:review_id>/family/updates/<int:update_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def update(review_id: int, update_id: int):
    db = get_session()
    review = _load(review_id)
    family_update = services.load_update(db, review, update_id)
    if family_update is None:
        abort(404)
    deliveries = services.deliveries_of(db, family_update)
    return render_template(
        "families/staff/update.html",
        review=review,
        update=family_update,
        deliveries=deliveries,
        not_reached=services.not_reached(db, family_update, deliveries),
        MessageStatus=MessageStatus,
    )


@bp.route("/reviews/<int:review_id>/family/<int:member_id>/invite", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def invite(review_id: int, member_id: int):
    db = get_session()
    review = _load(review_id)
    member = _load_member(review, member_id)
    channels = {"email": InvitationChannel.EMAIL, "sms": InvitationChannel.SMS}
    channel = channels.get(request.form.get("channel", ""))
    if not ConfirmForm().validate_on_submit() or channel is None:
        abort(400)
    try:
        invitations.invite(db, member.person, review.id, by=_me(), channel=channel)
    except invitations.InvitationRefused as refusal:
        db.rollback()
        flash(str(refusal), "info")
    else:
        db.commit()
        how = "email" if channel == InvitationChannel.EMAIL else "text message"
        flash(f"Invitation sent to {member.person.name} by {how}. It works once, for 14 days.", "success")
    return redirect(url_for("family_admin.family_member", review_id=review.id, member_id=member.id))


# Letters ------------------------------------------------------------------------------------------


def _load_letter(review, message_id: int) -> letters.LetterTask:
    task = letters.load_letter(get_session(), review, message_id)
    if task is None:
        abort(404)
    return task


@bp.route("/reviews/<int:review_id>/family/letters")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def letters_to_give(review_id: int):
    db = get_session()
    review = _load(review_id)
    page = requested_page()
    tasks, total = letters.waiting_letters(db, review, page=page)
    pagination = page_of(total, letters.LETTERS_PER_PAGE, page)
    return render_template("families/staff/letters.html", review=review, tasks=tasks, pagination=pagination)


@bp.route("/reviews/<int:review_id>/family/letters/<int:message_id>", methods=["GET", "POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def letter(review_id: int, message_id: int):
    db = get_session()
    review = _load(review_id)
    task = _load_letter(review, message_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        outcome = letters.close_letter(db, task, _me())
        db.commit()
        name = task.message.recipient.name
        if outcome == MessageStatus.SENT:
            flash(f"Recorded: the letter was given to {name}.", "success")
        elif task.member is None:
            flash(f"Recorded as not sent: {name} no longer takes part in this review. Do not give it.", "info")
        else:
            flash(f"Recorded as not sent: {name} has not agreed to updates by letter. Do not give it.", "info")
        return redirect(url_for("family_admin.letters_to_give", review_id=review.id))
    if task.may_send and task.waiting:
        letters.record_letter_viewed(db, task, _me())
        db.commit()
    return render_template("families/staff/letter.html", review=review, task=task, form=form, today=utcnow())


# Family contributions -----------------------------------------------------------------------------


def _load_contribution(review, contribution_id: int):
    contribution = contributions.submitted_contribution(get_session(), review, contribution_id)
    if contribution is None:
        abort(404)
    return contribution


@bp.route("/reviews/<int:review_id>/family/contributions")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def contributions_list(review_id: int):
    db = get_session()
    review = _load(review_id)
    page = requested_page()
    rows, total = contributions.submitted_contributions(db, review, page=page)
    pagination = page_of(total, contributions.CONTRIBUTIONS_PER_PAGE, page)
    contributions.record_contributions_listed(db, review, _me(), rows)
    db.commit()
    return render_template(
        "families/staff/contributions/list.html", review=review, contributions=rows, pagination=pagination
    )


@bp.route("/reviews/<int:review_id>/family/contributions/<int:contribution_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def contribution(review_id: int, contribution_id: int):
    db = get_session()
    review = _load(review_id)
    item = _load_contribution(review, contribution_id)
    contributions.record_contribution_read(db, item, _me())
    db.commit()
    return render_template(
        "families/staff/contributions/contribution.html",
        review=review,
        contribution=item,
        file_types=uploads.FILE_TYPES,
        button_form=ButtonForm(),
    )


@bp.route("/reviews/<int:review_id>/family/contributions/<int:contribution_id>/files/<int:file_id>")
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def contribution_file(review_id: int, contribution_id: int, file_id: int):
    db = get_session()
    review = _load(review_id)
    item = _load_contribution(review, contribution_id)
    stored = next((candidate for candidate in item.files if candidate.id == file_id), None)
    if stored is None or not uploads.path_of(stored.stored_name).is_file():
        abort(404)
    contributions.record_file_downloaded(db, item, stored, _me())
    db.commit()
    return uploads.download(stored.stored_name, stored.detected_type, stored.original_name)


@bp.route("/reviews/<int:review_id>/family/contributions/<int:contribution_id>/acknowledge", methods=["POST"])
@requires(SIGNED_IN)  # coordinators and the review's author, checked by the loader
def acknowledge_contribution(review_id: int, contribution_id: int):
    db = get_session()
    review = _load(review_id)
    item = _load_contribution(review, contribution_id)
    ButtonForm().validate_on_submit()  # the CSRF check itself runs before every POST
    if contributions.acknowledge_contribution(db, item, _me()):
        db.commit()
        flash(f"Marked as read. {item.membership.user.name} can no longer change it.", "success")
    return redirect(url_for("family_admin.contribution", review_id=review.id, contribution_id=item.id))
