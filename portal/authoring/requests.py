"""Contribution requests: the author (or a coordinator) asks named members of a review for a contribution.

Each person asked gets their own request, an email (or, for a family member, their preferred way of
hearing from us) and a reminder queued for a few working days before the due date. Family members are
asked only when they have agreed both that the author may contact them and that they want to
contribute; they answer with a family contribution in their own pages. Everyone else answers here,
with a ``RequestAnswer`` only they can see until they send it. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.authoring.models import AnswerFile, AnswerStatus, ContributionRequest, RequestAnswer, RequestStatus
from portal.consent.models import ConsentScope
from portal.db import LONDON, utcnow
from portal.events.services import REMINDER_TIME
from portal.families import uploads
from portal.families.models import FamilyContribution, FamilyMember
from portal.families.services import channel_for, current_consent_for
from portal.notifications import outbox
from portal.notifications.models import Channel
from portal.pagination import Pagination
from portal.reviews.clocks import closure_days
from portal.reviews.models import Membership, MembershipKind, Review
from portal.richtext import plain_text, rich_text_from_input
from portal.security import audit
from portal.security.models import User
from portal.working_days import add_working_days, working_days_before

REQUESTS_PER_PAGE = 25
HOME_PAGE_REQUESTS = 10
DEFAULT_WORKING_DAYS = 10
MOST_WORKING_DAYS = 120
ASKABLE_KINDS = (
    MembershipKind.AGENCY_LEAD,
    MembershipKind.PRACTITIONER,
    MembershipKind.PANEL_MEMBER,
    MembershipKind.FAMILY,
)
# A family member is asked only when both choices are "yes" at the moment of asking.
FAMILY_CONSENT = (ConsentScope.AUTHOR_CONTACT, ConsentScope.CONTRIBUTE)
MESSAGE_KIND = "contribution_request"
REMINDER_KIND = "contribution_request_reminder"

OVERDUE = "overdue"
STATUS_FILTERS = {
    "all": "All requests",
    RequestStatus.OPEN.value: "Waiting for an answer",
    OVERDUE: "Overdue",
    RequestStatus.ANSWERED.value: "Answered",
    RequestStatus.WITHDRAWN.value: "Withdrawn",
}


class RequestRefused(ValueError):
    """A request the rules do not allow; the message is written for the person asking."""


class AnswerLocked(Exception):
    """The author has acknowledged the answer, so it can no longer change."""


def today() -> date:
    """Today in England: due dates and 'overdue' are about the day people are living in."""
    return utcnow().astimezone(LONDON).date()


def is_overdue(request: ContributionRequest, on: date | None = None) -> bool:
    """Still waiting for an answer after its due date."""
    return request.status == RequestStatus.OPEN.value and request.due_on < (on or today())


def due_date(db: Session, working_days: int, *, start: date | None = None) -> date:
    """The day an answer is due: ``working_days`` working days after today (closure days skipped too)."""
    return add_working_days(start or today(), working_days, closure_days(db))


# Who may be asked --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """The review's current members who could be asked, and family members who may not be."""

    askable: list[Membership]
    not_asked: list[Membership]  # family members without both consents

    def find(self, membership_ids: list[int]) -> list[Membership]:
        by_id = {membership.id: membership for membership in self.askable}
        return [by_id[membership_id] for membership_id in membership_ids if membership_id in by_id]


def candidates(db: Session, review: Review) -> Candidates:
    """Every current agency lead, practitioner, panel member and family member, by name; consent in one query."""
    memberships = list(
        db.scalars(
            sa.select(Membership)
            .join(Membership.user)
            .where(
                Membership.review_id == review.id,
                Membership.ended_at.is_(None),
                Membership.kind.in_([kind.value for kind in ASKABLE_KINDS]),
                User.active.is_(True),
            )
            .options(joinedload(Membership.user), joinedload(Membership.agency))
            .order_by(User.name, Membership.id)
        )
    )
    family_ids = [m.user_id for m in memberships if m.kind == MembershipKind.FAMILY.value]
    consent = current_consent_for(db, family_ids, review.id)

    def agreed(membership: Membership) -> bool:
        records = consent.get(membership.user_id, {})
        return all((record := records.get((scope, None))) is not None and record.given for scope in FAMILY_CONSENT)

    askable = [m for m in memberships if m.kind != MembershipKind.FAMILY.value or agreed(m)]
    not_asked = [m for m in memberships if m.kind == MembershipKind.FAMILY.value and not agreed(m)]
    return Candidates(askable, not_asked)


# Asking ------------------------------------------------------------------------------------------------


def _record(db: Session, action: str, request: ContributionRequest, actor: User, **details) -> None:
    audit.record(
        db,
        action,
        object_type="contribution_request",
        object_id=request.id,
        review_id=request.review_id,
        actor_id=actor.id,
        details=details or None,
    )


def ask(
    db: Session,
    review: Review,
    membership_ids: list[int],
    *,
    prompt: str,
    guidance: str | None,
    working_days: int,
    actor: User,
) -> list[ContributionRequest]:
    """One request per person chosen, each with its message and reminder queued in the same transaction."""
    prompt = (prompt or "").strip()
    if not prompt:
        raise RequestRefused("Enter the question or prompt")
    if not 1 <= working_days <= MOST_WORKING_DAYS:
        raise RequestRefused(f"The number of working days must be between 1 and {MOST_WORKING_DAYS}")
    chosen = candidates(db, review).find(membership_ids)
    if not chosen or len(chosen) != len(set(membership_ids)):
        # Someone not on the list (left the review, or a family member without consent) is never asked.
        raise RequestRefused("Select who to ask from the list")
    due_on = due_date(db, working_days)
    clean_guidance = rich_text_from_input(guidance) or None
    family = _family_details(db, [m.id for m in chosen if m.kind == MembershipKind.FAMILY.value])
    made = []
    for membership in chosen:
        request = ContributionRequest(
            review_id=review.id,
            membership_id=membership.id,
            recipient_id=membership.user_id,
            recipient_kind=membership.kind,
            prompt=prompt,
            guidance=clean_guidance,
            due_on=due_on,
            asked_by_id=actor.id,
            asked_at=utcnow(),
            status=RequestStatus.OPEN.value,
        )
        request.review, request.membership, request.recipient = review, membership, membership.user
        db.add(request)
        db.flush()
        _record(db, "contribution_request.created", request, actor, kind=membership.kind, due_on=due_on.isoformat())
        _send(db, request, family.get(membership.id), reminder=False)
        _schedule_reminder(db, request, family.get(membership.id))
        made.append(request)
    return made


def _family_details(db: Session, membership_ids: list[int]) -> dict[int, FamilyMember]:
    if not membership_ids:
        return {}
    rows = db.scalars(
        sa.select(FamilyMember)
        .where(FamilyMember.membership_id.in_(membership_ids))
        .options(joinedload(FamilyMember.membership).joinedload(Membership.user))
    )
    return {member.membership_id: member for member in rows}


def _key(request: ContributionRequest, what: str = "") -> str:
    return f"{MESSAGE_KIND}:{request.id}:{what}"


def _send(db: Session, request: ContributionRequest, family: FamilyMember | None, *, reminder: bool, **kw) -> bool:
    """Queue the message (or the reminder) for the person asked; False when we have no way to reach them."""
    if request.recipient_kind == MembershipKind.FAMILY.value:
        channel = channel_for(family) if family is not None else None
        if channel is None or (reminder and channel == Channel.LETTER):
            return False  # a letter is given by hand: a second one as a reminder is not worth a visit
        template, link = "family", outbox.link_to("family.about", review_id=request.review_id)
        extra = {
            "channel": channel,
            "consent": (ConsentScope.AUTHOR_CONTACT, request.review_id),
            "letter_worker": family.letter_worker if channel == Channel.LETTER else None,
        }
    else:
        template, link, extra = "professional", outbox.link_to("requests.answer", request_id=request.id), {}
    what = "reminder" if reminder else "asked"
    subject = _subject(request, reminder=reminder)
    body = render_template(
        f"authoring/requests/email/{what}_{template}.txt",
        request=request,
        link=link,
        guidance=plain_text(request.guidance),
    )
    outbox.enqueue(
        db,
        key=_key(request, what),
        kind=REMINDER_KIND if reminder else MESSAGE_KIND,
        to=request.recipient,
        subject=subject,
        body=body,
        **extra,
        **kw,
    )
    return True


def _subject(request: ContributionRequest, *, reminder: bool) -> str:
    if request.recipient_kind == MembershipKind.FAMILY.value:
        # Family messages never carry the review's reference.
        return "A reminder: the author's question for you" if reminder else "The author of the review has a question"
    prefix = "Reminder: contribution due" if reminder else "Contribution requested"
    return f"{prefix} for {request.review.reference}"


def reminder_time(db: Session, due_on: date) -> datetime:
    """9am London time on the working day the configured number of working days before the due date."""
    days = current_app.config["REQUEST_REMINDER_WORKING_DAYS"]
    remind_on = working_days_before(due_on, days, closure_days(db)) if days else due_on
    return datetime.combine(remind_on, REMINDER_TIME, tzinfo=LONDON)


def _schedule_reminder(db: Session, request: ContributionRequest, family: FamilyMember | None) -> None:
    send_at = reminder_time(db, request.due_on)
    if send_at <= utcnow():
        return  # due so soon that the request itself is the reminder
    _send(db, request, family, reminder=True, send_after=send_at)


def _withdraw_reminder(db: Session, request: ContributionRequest) -> None:
    outbox.withdraw(db, key_prefix=_key(request, "reminder"))


def withdraw_request(db: Session, request: ContributionRequest, actor: User) -> bool:
    """The author no longer needs it: nothing more is sent; False when it was not waiting for an answer."""
    if request.status != RequestStatus.OPEN.value:
        return False
    request.status = RequestStatus.WITHDRAWN.value
    request.withdrawn_at = utcnow()
    db.flush()
    # The message itself too, when it has not gone yet.
    outbox.withdraw(db, key_prefix=_key(request))
    _record(db, "contribution_request.withdrawn", request, actor)
    return True


def mark_answered(db: Session, request: ContributionRequest, by: User) -> None:
    """The answer has been sent: the request is answered and its reminder will not go."""
    if request.status == RequestStatus.OPEN.value:
        request.status = RequestStatus.ANSWERED.value
        request.answered_at = utcnow()
        db.flush()
        _record(db, "contribution_request.answered", request, by)
    _withdraw_reminder(db, request)


# The review's requests ---------------------------------------------------------------------------------


def _status_filter(status: str, on: date):
    if status == OVERDUE:
        return sa.and_(ContributionRequest.status == RequestStatus.OPEN.value, ContributionRequest.due_on < on)
    if status in {s.value for s in RequestStatus}:
        return ContributionRequest.status == status
    return sa.true()


def review_requests(db: Session, review: Review, *, status: str, page: int) -> tuple[Pagination, list]:
    """A page of the review's requests, soonest due first, with the person asked: two queries."""
    where = sa.and_(ContributionRequest.review_id == review.id, _status_filter(status, today()))
    total = db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest).where(where)) or 0
    pagination = Pagination.of(total, REQUESTS_PER_PAGE, page)
    rows = db.scalars(
        sa.select(ContributionRequest)
        .where(where)
        .options(joinedload(ContributionRequest.recipient))
        .order_by(ContributionRequest.due_on, ContributionRequest.id)
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return pagination, list(rows)


def load_review_request(db: Session, review: Review, request_id: int) -> ContributionRequest | None:
    """The review's request with this id, or None (another review's is never found)."""
    return db.scalar(
        sa.select(ContributionRequest).where(
            ContributionRequest.id == request_id, ContributionRequest.review_id == review.id
        )
    )


def overdue_count(db: Session) -> int:
    """How many requests, across every review, are still waiting past their due date (the coordinator's home)."""
    return db.scalar(
        sa.select(sa.func.count()).select_from(ContributionRequest).where(_status_filter(OVERDUE, today()))
    )


def overdue_everywhere(db: Session, *, page: int) -> tuple[Pagination, list]:
    """A page of every overdue request, most overdue first, with its review and the person asked."""
    where = _status_filter(OVERDUE, today())
    total = db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest).where(where)) or 0
    pagination = Pagination.of(total, REQUESTS_PER_PAGE, page)
    rows = db.scalars(
        sa.select(ContributionRequest)
        .where(where)
        .options(joinedload(ContributionRequest.recipient), joinedload(ContributionRequest.review))
        .order_by(ContributionRequest.due_on, ContributionRequest.id)
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return pagination, list(rows)


# The person asked --------------------------------------------------------------------------------------


def _own(user: User):
    """Requests to this person through a membership they still hold; family members answer elsewhere."""
    return sa.and_(
        ContributionRequest.recipient_id == user.id,
        ContributionRequest.recipient_kind != MembershipKind.FAMILY.value,
        ContributionRequest.membership_id.in_(
            sa.select(Membership.id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        ),
    )


def open_for(db: Session, user: User, *, limit: int = HOME_PAGE_REQUESTS) -> tuple[int, list[ContributionRequest]]:
    """For the home page: how many requests wait for this person, and the soonest due, with their reviews."""
    where = sa.and_(_own(user), ContributionRequest.status == RequestStatus.OPEN.value)
    total = db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest).where(where)) or 0
    rows = db.scalars(
        sa.select(ContributionRequest)
        .where(where)
        .options(joinedload(ContributionRequest.review))
        .order_by(ContributionRequest.due_on, ContributionRequest.id)
        .limit(limit)
    )
    return total, list(rows)


def requests_for(db: Session, user: User, *, page: int) -> tuple[Pagination, list[ContributionRequest]]:
    """A page of every request to this person, open ones first, soonest due first."""
    where = _own(user)
    total = db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest).where(where)) or 0
    pagination = Pagination.of(total, REQUESTS_PER_PAGE, page)
    waiting_first = sa.case((ContributionRequest.status == RequestStatus.OPEN.value, 0), else_=1)
    rows = db.scalars(
        sa.select(ContributionRequest)
        .where(where)
        .options(joinedload(ContributionRequest.review), joinedload(ContributionRequest.answer))
        .order_by(waiting_first, ContributionRequest.due_on, ContributionRequest.id)
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return pagination, list(rows)


def own_request(db: Session, user: User, request_id: int) -> ContributionRequest | None:
    """A request to this person, with its answer and files; None for anyone else's."""
    return db.scalar(
        sa.select(ContributionRequest)
        .where(ContributionRequest.id == request_id, _own(user))
        .options(
            joinedload(ContributionRequest.review),
            selectinload(ContributionRequest.answer).selectinload(RequestAnswer.files),
        )
    )


def _record_answer(db: Session, action: str, answer: RequestAnswer, actor: User, **details) -> None:
    audit.record(
        db,
        action,
        object_type="request_answer",
        object_id=answer.id,
        review_id=answer.request.review_id,
        actor_id=actor.id,
        details={"request_id": answer.request_id, **details},
    )


def _answer_of(db: Session, request: ContributionRequest) -> RequestAnswer:
    if request.status == RequestStatus.WITHDRAWN.value:
        raise RequestRefused("This request has been withdrawn, so it cannot be answered")
    if request.answer is None:
        now = utcnow()
        request.answer = RequestAnswer(
            request_id=request.id, text="", status=AnswerStatus.DRAFT.value, created_at=now, updated_at=now
        )
        db.flush()
    if not request.answer.editable:
        raise AnswerLocked
    return request.answer


def save_answer(db: Session, request: ContributionRequest, *, text: str, by: User) -> RequestAnswer:
    """Keep what the person wrote; a draft stays theirs alone until they send it."""
    answer = _answer_of(db, request)
    answer.text = rich_text_from_input(text)
    answer.updated_at = utcnow()
    db.flush()
    _record_answer(db, "request_answer.saved", answer, by)
    return answer


def send_answer(db: Session, request: ContributionRequest, *, by: User) -> RequestAnswer:
    """Send the answer to the author (again, after a change): the request is answered."""
    answer = _answer_of(db, request)
    if not answer.text and not answer.files:
        raise RequestRefused("Write an answer or add a file before you send it")
    now = utcnow()
    answer.status = AnswerStatus.SUBMITTED.value
    answer.submitted_at = now
    answer.updated_at = now
    db.flush()
    _record_answer(db, "request_answer.sent", answer, by)
    mark_answered(db, request, by)
    return answer


def add_answer_file(
    db: Session, request: ContributionRequest, *, original_name: str, data: bytes, by: User
) -> AnswerFile:
    """Check the file by its content, keep it under a random name and attach it; may raise UploadRefused."""
    kind = uploads.check(data)
    answer = _answer_of(db, request)
    added = AnswerFile(
        original_name=(original_name or "file").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file",
        stored_name=uploads.store(db, data),
        detected_type=kind.key,
        size_bytes=len(data),
        uploaded_at=utcnow(),
    )
    answer.files.append(added)
    answer.updated_at = utcnow()
    db.flush()
    _record_answer(db, "request_answer.file_added", answer, by, file_id=added.id, type=kind.key)
    return added


def remove_answer_file(db: Session, request: ContributionRequest, file_id: int, *, by: User) -> bool:
    """Take a file off the answer (deleted from disk on commit); False when it is not this answer's."""
    answer = _answer_of(db, request)
    removed = next((item for item in answer.files if item.id == file_id), None)
    if removed is None:
        return False
    answer.files.remove(removed)
    answer.updated_at = utcnow()
    db.flush()
    _record_answer(db, "request_answer.file_removed", answer, by, file_id=file_id)
    uploads.remove(db, removed.stored_name)
    return True


def record_file_downloaded(db: Session, request: ContributionRequest, item: AnswerFile, by: User) -> None:
    """Audit the person asked taking their own file back."""
    _record_answer(db, "request_answer.file_downloaded", request.answer, by, file_id=item.id)


# Family members ----------------------------------------------------------------------------------------


def open_for_family_member(db: Session, membership: Membership) -> list[ContributionRequest]:
    """What the author has asked this family member and is still waiting for, soonest due first."""
    return list(
        db.scalars(
            sa.select(ContributionRequest)
            .where(
                ContributionRequest.membership_id == membership.id,
                ContributionRequest.status == RequestStatus.OPEN.value,
            )
            .order_by(ContributionRequest.due_on, ContributionRequest.id)
            .limit(REQUESTS_PER_PAGE)
        )
    )


def family_request(db: Session, membership: Membership, request_id: int) -> ContributionRequest | None:
    """A request to this family member through this membership, or None."""
    return db.scalar(
        sa.select(ContributionRequest).where(
            ContributionRequest.id == request_id,
            ContributionRequest.membership_id == membership.id,
            ContributionRequest.recipient_kind == MembershipKind.FAMILY.value,
        )
    )


def contribution_answering(db: Session, request: ContributionRequest) -> FamilyContribution | None:
    """The family contribution written in answer to the request, if one has been started."""
    return db.scalar(sa.select(FamilyContribution).where(FamilyContribution.request_id == request.id))
