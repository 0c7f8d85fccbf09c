"""Letters: updates for family members who hear from us through a named worker.

A letter is an outbox message on the letter channel. No machine sends it: it waits as a task until
the worker prints it, gives or posts it, and records that here. Consent is asked again at that
moment, holding the person's row as the outbox worker does before an email goes, so a letter is
never recorded as given after the person withdrew, and the delivery log says why it was not.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.consent.models import ConsentScope, choice_for
from portal.db import utcnow
from portal.families import services
from portal.families.models import FamilyMember
from portal.notifications import outbox
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.reviews.models import Membership, MembershipKind, Review
from portal.security import audit
from portal.security.models import User

LETTERS_PER_PAGE = 25
NO_LONGER_FAMILY = "not sent: no longer a family member of this review"


@dataclass(frozen=True)
class LetterTask:
    """A letter, the family member it is for (None once they stopped taking part) and whether it may go."""

    message: OutboxMessage
    member: FamilyMember | None
    may_send: bool

    @property
    def waiting(self) -> bool:
        return self.message.status == MessageStatus.PENDING.value


def _letters(review: Review):
    return sa.select(OutboxMessage).where(
        OutboxMessage.review_id == review.id, OutboxMessage.channel == Channel.LETTER.value
    )


def _waiting(review: Review):
    return _letters(review).where(OutboxMessage.status == MessageStatus.PENDING.value)


def waiting_letters(
    db: Session, review: Review, *, page: int = 1, per_page: int = LETTERS_PER_PAGE
) -> tuple[list[LetterTask], int]:
    """A page of the review's letters still to be given, oldest first; and how many there are."""
    total = count_waiting(db, review)
    messages = list(
        db.scalars(
            _waiting(review)
            .options(joinedload(OutboxMessage.recipient))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return _tasks(db, review, messages), total


def count_waiting(db: Session, review: Review) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(_waiting(review).subquery())) or 0


def load_letter(db: Session, review: Review, message_id: int) -> LetterTask | None:
    """The review's letter with this id, whatever became of it; None for anything else."""
    message = db.scalar(
        _letters(review).where(OutboxMessage.id == message_id).options(joinedload(OutboxMessage.recipient))
    )
    return _tasks(db, review, [message])[0] if message is not None else None


def _tasks(db: Session, review: Review, messages: list[OutboxMessage]) -> list[LetterTask]:
    """Each letter with its family member and current consent: two queries however many letters."""
    person_ids = sorted({message.recipient_id for message in messages})
    members = {
        member.membership.user_id: member
        for member in db.scalars(
            sa.select(FamilyMember)
            .join(FamilyMember.membership)
            .where(
                Membership.review_id == review.id,
                Membership.kind == MembershipKind.FAMILY.value,
                Membership.ended_at.is_(None),
                Membership.user_id.in_(person_ids),
            )
            .options(joinedload(FamilyMember.membership))
        )
    }
    consent = services.current_consent_for(db, person_ids, review.id)

    def may_send(message: OutboxMessage) -> bool:
        if message.recipient_id not in members:
            return False
        latest = consent[message.recipient_id].get(choice_for(ConsentScope(message.consent_scope), message.channel))
        return latest is not None and latest.given

    return [LetterTask(message, members.get(message.recipient_id), may_send(message)) for message in messages]


def close_letter(db: Session, task: LetterTask, actor: User) -> MessageStatus:
    """Record a waiting letter as given or posted, or, if it may no longer go, as not sent and why."""
    message = task.message
    if not task.waiting:
        return message.status_enum
    if task.member is None:
        message.status = MessageStatus.NOT_SENT.value
        message.last_error = NO_LONGER_FAMILY
        message.failed_at = utcnow()
    elif outbox.consent_holds(db, message):
        outbox.record_sent(message, utcnow())
    else:
        outbox.record_no_consent(message, utcnow())
    audit.record(
        db,
        "family_letter.given" if message.status == MessageStatus.SENT.value else "family_letter.not_sent",
        object_type="outbox_message",
        object_id=message.id,
        review_id=message.review_id,
        actor_id=actor.id,
        details={"recipient_id": message.recipient_id},
    )
    return message.status_enum


def record_letter_viewed(db: Session, task: LetterTask, actor: User) -> None:
    """A letter shows the person's name and home address: every read is audited."""
    audit.record(
        db,
        "family_letter.viewed",
        object_type="outbox_message",
        object_id=task.message.id,
        review_id=task.message.review_id,
        actor_id=actor.id,
    )
