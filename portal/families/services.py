"""Staff work on a review's family members: their details, consent recorded in a conversation, updates.

Every write here is audited with the review it belongs to. Consent is only ever written through the
ledger (``portal.consent.ledger``); changing a family member's details never touches it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentRecord, ConsentScope
from portal.db import utcnow
from portal.families.models import FamilyMember, FamilyUpdate, PreferredChannel
from portal.notifications import outbox
from portal.notifications.models import Channel, MessageStatus, OutboxMessage
from portal.reviews.models import Membership, MembershipKind, Review
from portal.security import audit
from portal.security.models import Role, User
from portal.security.services import create_user, find_user_by_email, normalise_email

# The ledger's text version for choices a member of staff records after talking with the person.
CONVERSATION = "conversation"
UPDATE_KIND = "family_update"
FAMILY_PER_PAGE = 50
UPDATES_PER_PAGE = 20
HISTORY_SHOWN = 100

Choice = tuple[ConsentScope, ConsentChannel | None]


@dataclass(frozen=True)
class ConsentQuestion:
    """One choice a family member makes, with the words staff see for it."""

    key: str  # the form field's name
    label: str
    scope: ConsentScope
    channel: ConsentChannel | None = None

    @property
    def choice(self) -> Choice:
        return (self.scope, self.channel)


CONSENT_QUESTIONS: tuple[ConsentQuestion, ...] = (
    ConsentQuestion("updates_email", "Updates by email", ConsentScope.UPDATES, ConsentChannel.EMAIL),
    ConsentQuestion("updates_sms", "Updates by text message", ConsentScope.UPDATES, ConsentChannel.SMS),
    ConsentQuestion("updates_letter", "Updates by letter", ConsentScope.UPDATES, ConsentChannel.LETTER),
    ConsentQuestion("author_contact", "The author may contact them", ConsentScope.AUTHOR_CONTACT),
    ConsentQuestion("contribute", "They want to contribute", ConsentScope.CONTRIBUTE),
    ConsentQuestion("see_draft", "They want to see the draft before publication", ConsentScope.SEE_DRAFT),
    ConsentQuestion("quote_anonymously", "Their words may be quoted anonymously", ConsentScope.QUOTE_ANONYMOUSLY),
)
QUESTION_BY_CHOICE = {question.choice: question for question in CONSENT_QUESTIONS}


def answer(record: ConsentRecord | None) -> str:
    """'Yes', 'No' or 'Not asked yet' for the latest record of one choice."""
    if record is None:
        return "Not asked yet"
    return "Yes" if record.given else "No"


def how_chosen(record: ConsentRecord) -> str:
    """'Online' or 'Recorded by <name> after a conversation'."""
    if record.recorded_by_id is None:
        return "Online, by them"
    return f"Recorded by {record.recorded_by.name if record.recorded_by else 'a member of staff'} after a conversation"


@dataclass
class FamilyRefused(Exception):
    """A change the rules do not allow; ``field`` names the form field the message belongs to."""

    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FamilyDetails:
    """What staff enter about a family member: already checked and tidied by the form."""

    name: str
    email: str
    relationship_to_child: str
    preferred_channel: PreferredChannel
    phone: str | None = None  # international form, +44…
    postal_address: str | None = None
    letter_worker: str | None = None
    support_needs: str | None = None
    young_person: bool = False
    supporting_adult: str | None = None


def _check(details: FamilyDetails) -> None:
    # The form asks for these too; the rules live here so no other caller can break them.
    if details.preferred_channel == PreferredChannel.SMS and not details.phone:
        raise FamilyRefused("Enter a mobile number to send them text messages", "phone")
    if details.preferred_channel == PreferredChannel.LETTER:
        if not details.letter_worker:
            raise FamilyRefused("Enter the name of the worker who will give them letters", "letter_worker")
        if not details.postal_address:
            raise FamilyRefused("Enter a postal address to send them letters", "postal_address")
    if details.young_person and not details.supporting_adult:
        raise FamilyRefused("Enter the name of the adult supporting the young person", "supporting_adult")


def _apply(member: FamilyMember, details: FamilyDetails) -> None:
    member.relationship_to_child = details.relationship_to_child
    member.preferred_channel = details.preferred_channel.value
    member.postal_address = details.postal_address or None
    member.letter_worker = details.letter_worker or None
    member.support_needs = details.support_needs or None
    member.young_person = details.young_person
    member.supporting_adult = (details.supporting_adult or None) if details.young_person else None


DETAIL_COLUMNS = (
    "relationship_to_child",
    "preferred_channel",
    "postal_address",
    "letter_worker",
    "support_needs",
    "young_person",
    "supporting_adult",
)
EMAIL_TAKEN = "This email address is already used by someone with an account. Enter a different email address"


def add_family_member(db: Session, review: Review, details: FamilyDetails, actor: User) -> FamilyMember:
    """Create the person (no password yet), their family membership of the review and their details."""
    _check(details)
    if find_user_by_email(db, details.email) is not None:
        raise FamilyRefused(EMAIL_TAKEN, "email")
    try:
        with db.begin_nested():
            person = create_user(db, email=details.email, name=details.name, role=Role.FAMILY, actor_id=actor.id)
    except sa.exc.IntegrityError:
        # Someone else added the same address at the same moment.
        raise FamilyRefused(EMAIL_TAKEN, "email") from None
    person.phone = details.phone or None
    # memberships.appoint is for coordinators only, and the review's author may add family members
    # too; its other rules (an active person with the family role, not already a member) hold for
    # someone created a moment ago, and the same audit entry is written.
    membership = Membership(
        review_id=review.id, user_id=person.id, kind=MembershipKind.FAMILY.value, started_by_id=actor.id
    )
    db.add(membership)
    db.flush()
    audit.record(
        db,
        "membership.appointed",
        object_type="membership",
        object_id=membership.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"user_id": person.id, "kind": MembershipKind.FAMILY.value, "agency_id": None},
    )
    member = FamilyMember(membership_id=membership.id, membership=membership)
    _apply(member, details)
    db.add(member)
    db.flush()
    audit.record(
        db,
        "family_member.added",
        object_type="family_member",
        object_id=member.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"user_id": person.id, "preferred_channel": member.preferred_channel},
    )
    return member


def update_family_member(db: Session, member: FamilyMember, details: FamilyDetails, actor: User) -> FamilyMember:
    """Change a family member's details. Their consent is in the ledger and stays as it is."""
    _check(details)
    person = member.person
    email = normalise_email(details.email)
    if email != person.email:
        other = find_user_by_email(db, email)
        if other is not None and other.id != person.id:
            raise FamilyRefused(EMAIL_TAKEN, "email")
    changed = sorted(
        name
        for name, old, new in (
            ("name", person.name, details.name),
            ("email", person.email, email),
            ("phone", person.phone, details.phone or None),
        )
        if old != new
    )
    person.name = details.name
    person.email = email
    person.phone = details.phone or None
    before = {column: getattr(member, column) for column in DETAIL_COLUMNS}
    _apply(member, details)
    changed += sorted(column for column, old in before.items() if getattr(member, column) != old)
    member.updated_at = utcnow()
    try:
        with db.begin_nested():
            db.flush()
    except sa.exc.IntegrityError:
        raise FamilyRefused(EMAIL_TAKEN, "email") from None
    # Only which details changed goes in the trail: the audit log is not a second copy of them.
    audit.record(
        db,
        "family_member.updated",
        object_type="family_member",
        object_id=member.id,
        review_id=member.membership.review_id,
        actor_id=actor.id,
        details={"changed": changed},
    )
    return member


# Reading ---------------------------------------------------------------------------------------------


def _open_family(review_id: int):
    return (
        sa.select(FamilyMember)
        .join(FamilyMember.membership)
        .where(
            Membership.review_id == review_id,
            Membership.kind == MembershipKind.FAMILY.value,
            Membership.ended_at.is_(None),
        )
        .options(joinedload(FamilyMember.membership).joinedload(Membership.user))
    )


def family_members(
    db: Session, review: Review, *, page: int = 1, per_page: int = FAMILY_PER_PAGE
) -> tuple[list[FamilyMember], int]:
    """A page of the review's family members (open memberships), by name; and how many in all."""
    total = db.scalar(sa.select(sa.func.count()).select_from(_open_family(review.id).subquery())) or 0
    members = db.scalars(
        _open_family(review.id)
        .join(Membership.user)
        .order_by(User.name, FamilyMember.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(members), total


def all_family_members(db: Session, review: Review) -> list[FamilyMember]:
    """Every current family member of the review, by name."""
    return list(db.scalars(_open_family(review.id).join(Membership.user).order_by(User.name, FamilyMember.id)))


def load_family_member(db: Session, review: Review, member_id: int) -> FamilyMember | None:
    """The review's current family member with this id, or None (another review's, or ended)."""
    return db.scalar(_open_family(review.id).where(FamilyMember.id == member_id))


def current_consent_for(db: Session, person_ids: list[int], review_id: int) -> dict[int, dict[Choice, ConsentRecord]]:
    """Current consent of many people at once (one query): person id → the latest record per choice."""
    if not person_ids:
        return {}
    latest = (
        sa.select(sa.func.max(ConsentRecord.id))
        .where(ConsentRecord.person_id.in_(person_ids), ConsentRecord.review_id == review_id)
        .group_by(ConsentRecord.person_id, ConsentRecord.scope, ConsentRecord.channel)
    )
    records = db.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.id.in_(latest)).options(joinedload(ConsentRecord.recorded_by))
    )
    by_person: dict[int, dict[Choice, ConsentRecord]] = {person_id: {} for person_id in person_ids}
    for record in records:
        channel = ConsentChannel(record.channel) if record.channel else None
        by_person[record.person_id][(ConsentScope(record.scope), channel)] = record
    return by_person


def consent_history(db: Session, person_id: int, review_id: int, limit: int = HISTORY_SHOWN) -> list[ConsentRecord]:
    """The person's ledger rows for this review, newest first."""
    return list(
        db.scalars(
            sa.select(ConsentRecord)
            .where(ConsentRecord.person_id == person_id, ConsentRecord.review_id == review_id)
            .options(joinedload(ConsentRecord.recorded_by))
            .order_by(ConsentRecord.id.desc())
            .limit(limit)
        )
    )


def delivery_history(db: Session, person_id: int, review_id: int, limit: int = HISTORY_SHOWN) -> list[OutboxMessage]:
    """Every message to the person about this review, newest first."""
    return list(
        db.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient_id == person_id, OutboxMessage.review_id == review_id)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def record_family_viewed(db: Session, review: Review, user: User) -> None:
    """Family members' details are sensitive: every read of the list is audited."""
    audit.record(
        db, "family_members.viewed", object_type="review", object_id=review.id, review_id=review.id, actor_id=user.id
    )


def record_family_member_viewed(db: Session, member: FamilyMember, user: User) -> None:
    """Every read of one family member's details, consent and deliveries is audited."""
    audit.record(
        db,
        "family_member.viewed",
        object_type="family_member",
        object_id=member.id,
        review_id=member.membership.review_id,
        actor_id=user.id,
    )


# Consent recorded by staff ------------------------------------------------------------------------------


def record_conversation(
    db: Session, member: FamilyMember, answers: dict[Choice, bool | None], actor: User
) -> list[ConsentRecord]:
    """Record the choices a person told a member of staff; only choices that change are appended.

    ``None`` for a choice leaves it as it is.
    """
    review_id = member.membership.review_id
    current = ledger.current_consent(db, member.person.id, review_id)
    written = []
    for choice, given in answers.items():
        if given is None:
            continue
        latest = current.get(choice)
        if latest is not None and latest.given == given:
            continue
        scope, channel = choice
        written.append(
            ledger.record_choice(
                db,
                person=member.person,
                review_id=review_id,
                scope=scope,
                channel=channel,
                given=given,
                text_version=CONVERSATION,
                recorded_by=actor,
            )
        )
    return written


# Updates ---------------------------------------------------------------------------------------------

UPDATE_FOOTER = (
    "You get news about the review because you asked for it. "
    "If you want to stop, or change how we reach you, tell the person who is your contact."
)


@dataclass
class UpdateSent:
    """What happened to one update: who it was queued for, and who could not be reached at all."""

    update: FamilyUpdate
    queued: list[tuple[FamilyMember, Channel]] = field(default_factory=list)
    unreachable: list[FamilyMember] = field(default_factory=list)

    @property
    def letters(self) -> int:
        return sum(1 for _member, channel in self.queued if channel == Channel.LETTER)


def update_key(update: FamilyUpdate, person: User, channel: Channel) -> str:
    return f"{UPDATE_KIND}:{update.id}:{person.id}:{channel.value}"


def send_update(db: Session, review: Review, subject: str, body: str, actor: User) -> UpdateSent:
    """Write an update and queue it for each family member on their preferred channel.

    Consent is not checked here: every message carries the consent it needs, and the outbox worker
    asks the ledger at the moment of sending, so that check is the single source of truth and a
    choice changed after queueing still counts.
    """
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise FamilyRefused("Enter a subject", "subject")
    if not body:
        raise FamilyRefused("Enter the update", "body")
    update = FamilyUpdate(review_id=review.id, subject=subject, body=body, written_by_id=actor.id)
    db.add(update)
    db.flush()
    result = UpdateSent(update)
    for member in all_family_members(db, review):
        channel = channel_for(member)
        if channel is None:
            result.unreachable.append(member)
            continue
        outbox.enqueue(
            db,
            key=update_key(update, member.person, channel),
            kind=UPDATE_KIND,
            to=member.person,
            subject=subject,
            body=f"{body}\n\n{UPDATE_FOOTER}",
            channel=channel,
            consent=(ConsentScope.UPDATES, review.id),
            letter_worker=member.letter_worker if channel == Channel.LETTER else None,
        )
        result.queued.append((member, channel))
    audit.record(
        db,
        "family_update.sent",
        object_type="family_update",
        object_id=update.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"queued": len(result.queued), "unreachable": [member.id for member in result.unreachable]},
    )
    return result


def channel_for(member: FamilyMember) -> Channel | None:
    """How an update reaches them: their preferred way, or None when we lack what it needs."""
    preferred = member.preferred_channel_enum
    if preferred == PreferredChannel.LETTER:
        return Channel.LETTER if member.letter_worker else None
    if preferred == PreferredChannel.SMS:
        # Details entered through the pages always have a number; older records may not.
        return Channel.SMS if member.person.phone else None
    return Channel.EMAIL


def _messages_of_update():
    """Join condition: an update's outbox messages, found by their idempotency key."""
    prefix = sa.literal(f"{UPDATE_KIND}:") + sa.cast(FamilyUpdate.id, sa.String) + sa.literal(":%")
    return sa.and_(
        OutboxMessage.review_id == FamilyUpdate.review_id,
        OutboxMessage.kind == UPDATE_KIND,
        OutboxMessage.idempotency_key.like(prefix),
    )


@dataclass(frozen=True)
class UpdateSummary:
    update: FamilyUpdate
    counts: Counter

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: MessageStatus) -> int:
        return self.counts.get(status.value, 0)


def updates(
    db: Session, review: Review, *, page: int = 1, per_page: int = UPDATES_PER_PAGE
) -> tuple[list[UpdateSummary], int]:
    """A page of the review's updates, newest first, each with its deliveries counted by status."""
    where = FamilyUpdate.review_id == review.id
    total = db.scalar(sa.select(sa.func.count()).select_from(FamilyUpdate).where(where)) or 0
    rows = list(
        db.scalars(
            sa.select(FamilyUpdate)
            .where(where)
            .options(joinedload(FamilyUpdate.written_by))
            .order_by(FamilyUpdate.created_at.desc(), FamilyUpdate.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    counts: dict[int, Counter] = {update.id: Counter() for update in rows}
    if rows:
        grouped = db.execute(
            sa.select(FamilyUpdate.id, OutboxMessage.status, sa.func.count())
            .join(OutboxMessage, _messages_of_update())
            .where(FamilyUpdate.id.in_(list(counts)))
            .group_by(FamilyUpdate.id, OutboxMessage.status)
        )
        for update_id, status, number in grouped:
            counts[update_id][status] = number
    return [UpdateSummary(update, counts[update.id]) for update in rows], total


def load_update(db: Session, review: Review, update_id: int) -> FamilyUpdate | None:
    """The review's update with this id, or None."""
    return db.scalar(
        sa.select(FamilyUpdate)
        .where(FamilyUpdate.id == update_id, FamilyUpdate.review_id == review.id)
        .options(joinedload(FamilyUpdate.written_by))
    )


def deliveries_of(db: Session, update: FamilyUpdate) -> list[OutboxMessage]:
    """The update's outbox messages, one per person reached, with the person."""
    prefix = f"{UPDATE_KIND}:{update.id}:"
    return list(
        db.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.review_id == update.review_id,
                OutboxMessage.kind == UPDATE_KIND,
                OutboxMessage.idempotency_key.startswith(prefix, autoescape=True),
            )
            .options(joinedload(OutboxMessage.recipient))
            .order_by(OutboxMessage.id)
        )
    )


def not_reached(db: Session, update: FamilyUpdate, deliveries: list[OutboxMessage]) -> list[FamilyMember]:
    """Current family members with no message for this update: added since, or no way to reach them."""
    reached = {message.recipient_id for message in deliveries}
    return [member for member in all_family_members(db, update.review) if member.person.id not in reached]
