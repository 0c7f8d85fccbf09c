"""Pre-publication review: a version shared with named readers for a window, their comments and responses.

The author (or a coordinator) shares a version with the review's current panel members and with family
members whose latest choice is that they want to see the draft. Sharing freezes the version. A reader sees
a version only while a share naming them is open (``opens_at <= now < closes_at``), while they still hold
their panel or family membership and, for family members, while they still want to see it: one SQL
condition (``_may_read``) answers that for the reader's list and for the version page alike. Every read,
comment, reply, resolution and response is audited; the audit never holds the words themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.authoring.models import (
    Draft,
    DraftComment,
    DraftRead,
    DraftResponse,
    DraftSection,
    DraftShare,
    ResponseKind,
    draft_share_recipients,
)
from portal.consent.models import ConsentRecord, ConsentScope
from portal.db import utcnow
from portal.families.models import FamilyMember
from portal.families.services import channel_for, current_consent_for
from portal.notifications import outbox
from portal.notifications.models import Channel
from portal.pagination import Pagination
from portal.reviews.models import Membership, MembershipKind, Review
from portal.security import audit
from portal.security.models import User

VERSIONS_PER_PAGE = 20
COMMENTS_PER_PAGE = 25
READERS_PER_PAGE = 50
TO_READ_PER_PAGE = 20
OWN_COMMENTS_PER_PAGE = 20
TEXT_LENGTH = 5000
READER_KINDS = (MembershipKind.PANEL_MEMBER.value, MembershipKind.FAMILY.value)
MESSAGE_KIND = "draft_shared"


class PrepublicationRefused(ValueError):
    """Something the rules do not allow; the message is written for the person trying."""


# Who may read --------------------------------------------------------------------------------------------


def _wants_to_see_draft(person_id, review_id) -> sa.ColumnElement[bool]:
    """The person's latest choice about seeing the draft of this review is "yes" (no choice means no)."""
    latest = (
        sa.select(ConsentRecord.given)
        .where(
            ConsentRecord.person_id == person_id,
            ConsentRecord.review_id == review_id,
            ConsentRecord.scope == ConsentScope.SEE_DRAFT.value,
            ConsentRecord.channel.is_(None),
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
        .correlate_except(ConsentRecord)
        .scalar_subquery()
    )
    return latest.is_(True)


def _may_read(user: User, at: datetime) -> sa.ColumnElement[bool]:
    """For a query over DraftShare joined to Draft and the reader's Membership: this share is open to them now."""
    return sa.and_(
        draft_share_recipients.c.user_id == user.id,
        DraftShare.opens_at <= at,
        DraftShare.closes_at > at,
        Membership.user_id == user.id,
        Membership.review_id == Draft.review_id,
        Membership.ended_at.is_(None),
        Membership.kind.in_(READER_KINDS),
        sa.or_(
            Membership.kind == MembershipKind.PANEL_MEMBER.value,
            _wants_to_see_draft(Membership.user_id, Membership.review_id),
        ),
    )


def _open_shares(user: User, at: datetime):
    return (
        sa.select(DraftShare)
        .join(draft_share_recipients, draft_share_recipients.c.share_id == DraftShare.id)
        .join(Draft, Draft.id == DraftShare.draft_id)
        .join(Membership, sa.true())
        .where(_may_read(user, at))
    )


@dataclass(frozen=True)
class Reading:
    """A version a person may read now, through the share that lets them, and whether they read as family."""

    draft: Draft
    share: DraftShare
    as_family: bool


def reading_for(db: Session, user: User, draft_id: int, *, at: datetime | None = None) -> Reading | None:
    """The version if a share naming the person is open now (the one closing last); None otherwise."""
    at = at or utcnow()
    row = db.execute(
        _open_shares(user, at)
        .add_columns(Membership.kind)
        .where(DraftShare.draft_id == draft_id)
        .order_by(DraftShare.closes_at.desc(), Membership.kind)
        .limit(1)
    ).first()
    if row is None:
        return None
    share, kind = row
    draft = db.scalar(
        sa.select(Draft).options(selectinload(Draft.sections), joinedload(Draft.review)).where(Draft.id == draft_id)
    )
    return Reading(draft, share, as_family=kind == MembershipKind.FAMILY.value)


@dataclass(frozen=True)
class ToRead:
    draft: Draft
    closes_at: datetime


def drafts_to_read(
    db: Session, user: User, *, page: int = 1, at: datetime | None = None, review_id: int | None = None
) -> tuple[list[ToRead], Pagination]:
    """Versions open to the person now (of one review, or all), closing soonest first, with when each closes."""
    at = at or utcnow()
    closes = sa.func.max(DraftShare.closes_at)
    grouped = _open_shares(user, at).with_only_columns(DraftShare.draft_id, closes.label("closes_at"))
    if review_id is not None:
        grouped = grouped.where(Draft.review_id == review_id)
    grouped = grouped.group_by(DraftShare.draft_id).subquery()
    total = db.scalar(sa.select(sa.func.count()).select_from(grouped)) or 0
    pagination = Pagination.of(total, TO_READ_PER_PAGE, page)
    rows = db.execute(
        sa.select(Draft, grouped.c.closes_at)
        .join(grouped, grouped.c.draft_id == Draft.id)
        .options(joinedload(Draft.review))
        .order_by(grouped.c.closes_at, Draft.id)
        .offset(pagination.offset)
        .limit(TO_READ_PER_PAGE)
    )
    return [ToRead(draft, closes_at) for draft, closes_at in rows], pagination


def record_read(db: Session, reading: Reading, reader: User) -> None:
    """First and last read and how many times, in one statement so two tabs cannot lose a count."""
    now = utcnow()
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(DraftRead).values(
        draft_id=reading.draft.id, user_id=reader.id, first_read_at=now, last_read_at=now, times=1
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["draft_id", "user_id"],
            set_={"last_read_at": now, "times": DraftRead.__table__.c.times + 1},
        )
    )
    _record(db, "report_draft.read_shared", reading.draft, reader, share_id=reading.share.id)


# Sharing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """The review's current panel and family members who could read it, and family members who may not."""

    readers: list[Membership]
    not_asked: list[Membership]  # family members who have not said they want to see the draft

    def find(self, membership_ids: list[int]) -> list[Membership]:
        by_id = {membership.id: membership for membership in self.readers}
        return [by_id[membership_id] for membership_id in membership_ids if membership_id in by_id]


def candidates(db: Session, review: Review) -> Candidates:
    """Every current panel member and family member, by name; family consent read in one query."""
    memberships = list(
        db.scalars(
            sa.select(Membership)
            .join(Membership.user)
            .where(
                Membership.review_id == review.id,
                Membership.ended_at.is_(None),
                Membership.kind.in_(READER_KINDS),
                User.active.is_(True),
            )
            .options(joinedload(Membership.user))
            .order_by(User.name, Membership.id)
        )
    )
    family = [m for m in memberships if m.kind == MembershipKind.FAMILY.value]
    consent = current_consent_for(db, [m.user_id for m in family], review.id)

    def wants_to_see(membership: Membership) -> bool:
        record = consent.get(membership.user_id, {}).get((ConsentScope.SEE_DRAFT, None))
        return record is not None and record.given

    readers = [m for m in memberships if m.kind != MembershipKind.FAMILY.value or wants_to_see(m)]
    not_asked = [m for m in family if not wants_to_see(m)]
    return Candidates(readers, not_asked)


@dataclass
class Shared:
    share: DraftShare
    messaged: list[User] = field(default_factory=list)
    unreachable: list[User] = field(default_factory=list)  # family members we have no way to reach


def share_version(
    db: Session,
    draft: Draft,
    membership_ids: list[int],
    *,
    opens_at: datetime,
    closes_at: datetime,
    message: str | None,
    actor: User,
) -> Shared:
    """Share the version with the people chosen for the window, freezing it, and message each of them."""
    if closes_at <= opens_at:
        raise PrepublicationRefused("The window must close after it opens")
    chosen = candidates(db, draft.review).find(membership_ids)
    if not chosen or len(chosen) != len(set(membership_ids)):
        # Someone not on the list (left the review, or a family member who does not want to see it).
        raise PrepublicationRefused("Select who to share the version with from the list")
    _freeze(db, draft)
    share = DraftShare(
        draft_id=draft.id,
        opens_at=opens_at,
        closes_at=closes_at,
        message=(message or "").strip() or None,
        shared_by_id=actor.id,
        created_at=utcnow(),
    )
    share.recipients = [membership.user for membership in chosen]
    db.add(share)
    db.flush()
    family = _family_details(db, [m.id for m in chosen if m.kind == MembershipKind.FAMILY.value])
    result = Shared(share)
    for membership in chosen:
        sent = _send(db, share, draft, membership, family.get(membership.id))
        (result.messaged if sent else result.unreachable).append(membership.user)
    _record(
        db,
        "report_draft.shared",
        draft,
        actor,
        share_id=share.id,
        readers=[membership.user_id for membership in chosen],
        opens_at=opens_at.isoformat(),
        closes_at=closes_at.isoformat(),
        unreachable=[person.id for person in result.unreachable],
    )
    return result


def _freeze(db: Session, draft: Draft) -> None:
    """Mark the version shared under a lock on its row, so an edit in flight cannot land after sharing."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(sa.update(Draft).where(Draft.id == draft.id).values(id=Draft.id))
    locked = db.scalars(
        sa.select(Draft).where(Draft.id == draft.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if locked.shared_at is None:
        locked.shared_at = utcnow()


def _family_details(db: Session, membership_ids: list[int]) -> dict[int, FamilyMember]:
    if not membership_ids:
        return {}
    rows = db.scalars(
        sa.select(FamilyMember)
        .where(FamilyMember.membership_id.in_(membership_ids))
        .options(joinedload(FamilyMember.membership).joinedload(Membership.user))
    )
    return {member.membership_id: member for member in rows}


def _send(db: Session, share: DraftShare, draft: Draft, membership: Membership, family: FamilyMember | None) -> bool:
    """Queue the message for one reader; False when a family member has no way for us to reach them."""
    link = outbox.link_to("prepublication.read", draft_id=draft.id)
    if membership.kind == MembershipKind.FAMILY.value:
        channel = channel_for(family) if family is not None else None
        if channel is None:
            return False
        template, subject = "family", "You can read the report before it is shared"
        extra = {
            "channel": channel,
            # The outbox asks the ledger again when it sends: a change of mind after sharing still counts.
            "consent": (ConsentScope.SEE_DRAFT, draft.review_id),
            "letter_worker": family.letter_worker if channel == Channel.LETTER else None,
        }
    else:
        template, subject, extra = "panel", f"Draft report to read for {draft.review.reference}", {}
    body = render_template(
        f"authoring/prepublication/email/shared_{template}.txt",
        reader=membership.user,
        draft=draft,
        share=share,
        link=link,
    )
    outbox.enqueue(
        db,
        key=f"{MESSAGE_KIND}:{share.id}:{membership.user_id}",
        kind=MESSAGE_KIND,
        to=membership.user,
        subject=subject,
        body=body,
        **extra,
    )
    return True


# Comments and responses from readers ------------------------------------------------------------------


def add_comment(db: Session, reading: Reading, *, section: DraftSection | None, text: str, by: User) -> DraftComment:
    """A reader's comment on one section or on the whole version, while their window is open."""
    text = (text or "").strip()
    if not text:
        raise PrepublicationRefused("Enter your comment")
    comment = DraftComment(
        draft_id=reading.draft.id, section_id=section.id if section else None, user_id=by.id, text=text
    )
    db.add(comment)
    db.flush()
    _record_comment(db, "draft_comment.added", comment, reading.draft, by)
    return comment


def own_comments(db: Session, draft: Draft, reader: User, *, page: int = 1) -> tuple[list[DraftComment], Pagination]:
    """The reader's own comments on the version with the author's replies, newest first."""
    mine = sa.select(DraftComment).where(DraftComment.draft_id == draft.id, DraftComment.user_id == reader.id)
    total = db.scalar(sa.select(sa.func.count()).select_from(mine.subquery())) or 0
    pagination = Pagination.of(total, OWN_COMMENTS_PER_PAGE, page)
    rows = db.scalars(
        mine.options(joinedload(DraftComment.section))
        .order_by(DraftComment.created_at.desc(), DraftComment.id.desc())
        .offset(pagination.offset)
        .limit(OWN_COMMENTS_PER_PAGE)
    )
    return list(rows), pagination


def respond(db: Session, reading: Reading, *, kind: ResponseKind, text: str | None, by: User) -> DraftResponse:
    """A family member's overall response; a later one becomes their answer and the earlier ones are kept."""
    if not reading.as_family:
        raise PrepublicationRefused("Only family members give an overall response")
    response = DraftResponse(
        draft_id=reading.draft.id, user_id=by.id, kind=kind.value, text=(text or "").strip() or None
    )
    db.add(response)
    db.flush()
    _record(db, "draft_response.given", reading.draft, by, response_id=response.id, kind=kind.value)
    return response


def latest_responses(db: Session, draft: Draft, user_ids: list[int] | None = None) -> dict[int, DraftResponse]:
    """Each reader's latest response to the version (all readers, or just these), in one query."""
    latest = sa.select(sa.func.max(DraftResponse.id)).where(DraftResponse.draft_id == draft.id)
    if user_ids is not None:
        if not user_ids:
            return {}
        latest = latest.where(DraftResponse.user_id.in_(user_ids))
    rows = db.scalars(
        sa.select(DraftResponse)
        .where(DraftResponse.id.in_(latest.group_by(DraftResponse.user_id)))
        .options(joinedload(DraftResponse.user))
    )
    return {response.user_id: response for response in rows}


# The author's side -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedVersion:
    draft: Draft
    comments: int
    unresolved: int
    readers: int


def shared_versions(db: Session, review: Review, *, page: int = 1) -> tuple[list[SharedVersion], Pagination]:
    """The review's shared versions, newest first, with their comment and reader counts, in one query each."""
    shared = sa.select(Draft).where(Draft.review_id == review.id, Draft.shared_at.is_not(None))
    total = db.scalar(sa.select(sa.func.count()).select_from(shared.subquery())) or 0
    pagination = Pagination.of(total, VERSIONS_PER_PAGE, page)
    comments = sa.select(sa.func.count(DraftComment.id)).where(DraftComment.draft_id == Draft.id)
    unresolved = comments.where(DraftComment.resolved_at.is_(None))
    readers = (
        sa.select(sa.func.count(sa.distinct(draft_share_recipients.c.user_id)))
        .join(DraftShare, DraftShare.id == draft_share_recipients.c.share_id)
        .where(DraftShare.draft_id == Draft.id)
    )
    rows = db.execute(
        shared.add_columns(
            comments.scalar_subquery(), unresolved.scalar_subquery(), readers.correlate(Draft).scalar_subquery()
        )
        .order_by(Draft.version.desc())
        .offset(pagination.offset)
        .limit(VERSIONS_PER_PAGE)
    )
    return [SharedVersion(*row) for row in rows], pagination


def comments_of(db: Session, draft: Draft, *, page: int = 1) -> tuple[list[DraftComment], Pagination]:
    """Every reader's comments on the version: whole-version comments first, then section by section."""
    total = db.scalar(sa.select(sa.func.count(DraftComment.id)).where(DraftComment.draft_id == draft.id)) or 0
    pagination = Pagination.of(total, COMMENTS_PER_PAGE, page)
    rows = db.scalars(
        sa.select(DraftComment)
        .outerjoin(DraftSection, DraftSection.id == DraftComment.section_id)
        .where(DraftComment.draft_id == draft.id)
        .options(joinedload(DraftComment.user), joinedload(DraftComment.section))
        .order_by(sa.func.coalesce(DraftSection.position, -1), DraftComment.created_at, DraftComment.id)
        .offset(pagination.offset)
        .limit(COMMENTS_PER_PAGE)
    )
    return list(rows), pagination


def names_of(db: Session, user_ids: set[int | None]) -> dict[int, str]:
    """Names of the people who replied to or resolved comments, in one query."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    return dict(db.execute(sa.select(User.id, User.name).where(User.id.in_(wanted))).all())


def load_comment(db: Session, draft: Draft, comment_id: int) -> DraftComment | None:
    """A comment on this version, or None (another version's is never found)."""
    return db.scalar(
        sa.select(DraftComment)
        .options(joinedload(DraftComment.user), joinedload(DraftComment.section))
        .where(DraftComment.id == comment_id, DraftComment.draft_id == draft.id)
    )


def record_comments_read(db: Session, draft: Draft, reader: User, shown: list[DraftComment]) -> None:
    _record(db, "draft_comments.read", draft, reader, comments=[comment.id for comment in shown])


def reply(db: Session, comment: DraftComment, draft: Draft, text: str, *, by: User) -> None:
    """The author's reply, which the reader sees with their comment; a second reply replaces the first."""
    text = (text or "").strip()
    if not text:
        raise PrepublicationRefused("Enter your reply")
    if comment.resolved_at is not None:
        raise PrepublicationRefused("This comment has been resolved, so the reply can no longer change")
    comment.reply, comment.replied_by_id, comment.replied_at = text, by.id, utcnow()
    db.flush()
    _record_comment(db, "draft_comment.replied", comment, draft, by)


def resolve(db: Session, comment: DraftComment, draft: Draft, change_made: str, *, by: User) -> None:
    """Close the comment, recording what changed in the report because of it (or why nothing did)."""
    change_made = (change_made or "").strip()
    if not change_made:
        raise PrepublicationRefused("Enter what changed in the report, or why nothing changed")
    if comment.resolved_at is not None:
        raise PrepublicationRefused("This comment has already been resolved")
    comment.change_made, comment.resolved_by_id, comment.resolved_at = change_made, by.id, utcnow()
    db.flush()
    _record_comment(db, "draft_comment.resolved", comment, draft, by)


@dataclass(frozen=True)
class ReaderRow:
    """One reader of a version, for the coordinator: their window, their reading and their response."""

    reader: User
    opens_at: datetime
    closes_at: datetime
    read: DraftRead | None
    response: DraftResponse | None


def readers_of(db: Session, draft: Draft, *, page: int = 1) -> tuple[list[ReaderRow], Pagination]:
    """Everyone the version was shared with, by name: earliest opening and latest closing of their shares."""
    windows = (
        sa.select(
            draft_share_recipients.c.user_id,
            sa.func.min(DraftShare.opens_at).label("opens_at"),
            sa.func.max(DraftShare.closes_at).label("closes_at"),
        )
        .join(DraftShare, DraftShare.id == draft_share_recipients.c.share_id)
        .where(DraftShare.draft_id == draft.id)
        .group_by(draft_share_recipients.c.user_id)
        .subquery()
    )
    total = db.scalar(sa.select(sa.func.count()).select_from(windows)) or 0
    pagination = Pagination.of(total, READERS_PER_PAGE, page)
    rows = list(
        db.execute(
            sa.select(User, windows.c.opens_at, windows.c.closes_at)
            .join(windows, windows.c.user_id == User.id)
            .order_by(User.name, User.id)
            .offset(pagination.offset)
            .limit(READERS_PER_PAGE)
        )
    )
    user_ids = [person.id for person, _opens, _closes in rows]
    reads = {
        read.user_id: read
        for read in db.scalars(
            sa.select(DraftRead).where(DraftRead.draft_id == draft.id, DraftRead.user_id.in_(user_ids or [-1]))
        )
    }
    responses = latest_responses(db, draft, user_ids)
    return [
        ReaderRow(person, opens_at, closes_at, reads.get(person.id), responses.get(person.id))
        for person, opens_at, closes_at in rows
    ], pagination


def record_readers_viewed(db: Session, draft: Draft, viewer: User) -> None:
    _record(db, "report_draft.readers_viewed", draft, viewer)


# Audit --------------------------------------------------------------------------------------------------


def _record(db: Session, action: str, draft: Draft, actor: User, **details) -> None:
    audit.record(
        db,
        action,
        object_type="report_draft",
        object_id=draft.id,
        review_id=draft.review_id,
        actor_id=actor.id,
        details={"version": draft.version, **details},
    )


def _record_comment(db: Session, action: str, comment: DraftComment, draft: Draft, actor: User) -> None:
    audit.record(
        db,
        action,
        object_type="draft_comment",
        object_id=comment.id,
        review_id=draft.review_id,
        actor_id=actor.id,
        details={"version": draft.version, "section_id": comment.section_id},
    )
