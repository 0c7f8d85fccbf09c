"""The author's inbox: one place for everything gathered for a review, whatever its source.

Four kinds of thing arrive: professionals' answers to requests, practitioners' reflections shared
with the author, family contributions and panel members' notes. Each gets an ``InboxItem`` holding
the author's own state about it (new, read, acknowledged; themes; private notes). ``sync`` creates
the missing items when the inbox is opened, so no other part of the portal has to remember to.
The audit trail records every read and change, never the words.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.authoring.models import (
    AnswerFile,
    AnswerStatus,
    ContributionRequest,
    InboxItem,
    InboxNote,
    InboxSource,
    InboxStatus,
    PanelNote,
    RecipientKind,
    RequestAnswer,
    Theme,
    inbox_item_themes,
)
from portal.db import utcnow
from portal.events.models import Reflection, ReflectionStatus, Sharing
from portal.events.reflections import attribution
from portal.families import contributions
from portal.families.models import ContributionStatus, FamilyContribution
from portal.reviews.models import Membership, Review
from portal.richtext import plain_text, rich_text_from_input
from portal.security import audit
from portal.security.models import User

ITEMS_PER_PAGE = 25
NOTES_PER_PAGE = 20
PANEL_NOTES_PER_PAGE = 20
SUMMARY_LENGTH = 160
THEME_NAME_LENGTH = 100


class InboxRefused(Exception):
    """Something the rules do not allow; the message is written for the person asking."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _insert(db: Session, target):
    """An INSERT that can skip rows a concurrent request has just written (both databases say it the same way)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(target)


# Gathering --------------------------------------------------------------------------------------------

ANSWER_SOURCE = {
    RecipientKind.AGENCY_LEAD: InboxSource.AGENCY,
    RecipientKind.PRACTITIONER: InboxSource.PRACTITIONER,
    RecipientKind.PANEL_MEMBER: InboxSource.PANEL,
}
_SENT_ANSWER = (AnswerStatus.SUBMITTED.value, AnswerStatus.ACKNOWLEDGED.value)
_SENT_CONTRIBUTION = (ContributionStatus.SUBMITTED.value, ContributionStatus.ACKNOWLEDGED.value)
_SHARED = (Sharing.NAMED.value, Sharing.ANONYMOUS.value)


def sync(db: Session, review: Review) -> None:
    """Give everything gathered for the review its inbox item: one statement per source, however much there is.

    Two people opening the inbox at once may both try to add the same item; the unique source
    columns turn the second insert into nothing rather than an error.
    """
    answer_source = sa.case(
        *((ContributionRequest.recipient_kind == kind.value, source.value) for kind, source in ANSWER_SOURCE.items())
    )
    _insert_missing(
        db,
        review,
        InboxItem.request_answer_id,
        sa.select(RequestAnswer.id, answer_source, RequestAnswer.submitted_at)
        .join(ContributionRequest, ContributionRequest.id == RequestAnswer.request_id)
        .where(
            ContributionRequest.review_id == review.id,
            ContributionRequest.recipient_kind.in_([kind.value for kind in ANSWER_SOURCE]),
            RequestAnswer.status.in_(_SENT_ANSWER),
        ),
    )
    _insert_missing(
        db,
        review,
        InboxItem.reflection_id,
        sa.select(Reflection.id, sa.literal(InboxSource.PRACTITIONER.value), Reflection.submitted_at).where(
            Reflection.review_id == review.id,
            Reflection.status == ReflectionStatus.SUBMITTED.value,
            Reflection.sharing.in_(_SHARED),
        ),
    )
    _insert_missing(
        db,
        review,
        InboxItem.family_contribution_id,
        sa.select(FamilyContribution.id, sa.literal(InboxSource.FAMILY.value), FamilyContribution.submitted_at).where(
            FamilyContribution.review_id == review.id, FamilyContribution.status.in_(_SENT_CONTRIBUTION)
        ),
    )
    _insert_missing(
        db,
        review,
        InboxItem.panel_note_id,
        sa.select(PanelNote.id, sa.literal(InboxSource.PANEL.value), PanelNote.created_at).where(
            PanelNote.review_id == review.id
        ),
    )
    # A family contribution can be acknowledged from the family pages too: the inbox follows.
    _follow_acknowledgement(db, review, InboxItem.family_contribution_id, FamilyContribution)
    _follow_acknowledgement(db, review, InboxItem.request_answer_id, RequestAnswer)


def _insert_missing(db: Session, review: Review, link, things: sa.Select) -> None:
    """INSERT ... SELECT the things (id, source, received at) that have no inbox item yet."""
    thing_id = things.selected_columns[0]
    candidates = things.add_columns(
        sa.literal(review.id, sa.Integer), sa.literal(InboxStatus.NEW.value, sa.String)
    ).where(~sa.exists().where(link == thing_id))
    statement = (
        _insert(db, InboxItem)
        .from_select([link.key, "source", "received_at", "review_id", "status"], candidates)
        .on_conflict_do_nothing()
    )
    db.execute(statement)


def _follow_acknowledgement(db: Session, review: Review, link, model) -> None:
    """Mark acknowledged the items whose thing was acknowledged somewhere else, with who and when."""
    thing = sa.select(model).where(model.id == link).correlate(InboxItem)
    acknowledged_at = thing.with_only_columns(model.acknowledged_at).scalar_subquery()
    db.execute(
        sa.update(InboxItem)
        .where(
            InboxItem.review_id == review.id,
            InboxItem.status != InboxStatus.ACKNOWLEDGED.value,
            link.in_(sa.select(model.id).where(model.acknowledged_at.is_not(None))),
        )
        .values(
            status=InboxStatus.ACKNOWLEDGED.value,
            acknowledged_at=acknowledged_at,
            acknowledged_by_id=thing.with_only_columns(model.acknowledged_by_id).scalar_subquery(),
            read_at=sa.func.coalesce(
                InboxItem.read_at, thing.with_only_columns(model.acknowledged_at).scalar_subquery()
            ),
        )
        .execution_options(synchronize_session=False)
    )


# What each item is about ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """An inbox item with the thing it stands for, and how the author may see who it is from."""

    item: InboxItem
    title: str
    from_whom: str
    text: str  # clean rich text
    answer: RequestAnswer | None = None
    reflection: Reflection | None = None
    contribution: FamilyContribution | None = None
    panel_note: PanelNote | None = None

    @property
    def summary(self) -> str:
        return textwrap.shorten(plain_text(self.text), SUMMARY_LENGTH, placeholder="…")


def _entries(db: Session, items: list[InboxItem], *, with_files: bool = False) -> list[Entry]:
    """The things behind the items, one query per source present, whatever the number of items."""
    answers = _by_id(
        db,
        RequestAnswer,
        [item.request_answer_id for item in items],
        joinedload(RequestAnswer.request).joinedload(ContributionRequest.recipient),
        joinedload(RequestAnswer.request).joinedload(ContributionRequest.membership).joinedload(Membership.agency),
        *([selectinload(RequestAnswer.files)] if with_files else []),
    )
    reflections = _by_id(
        db,
        Reflection,
        [item.reflection_id for item in items],
        joinedload(Reflection.author).joinedload(User.agency),
        joinedload(Reflection.event),
    )
    family = _by_id(
        db,
        FamilyContribution,
        [item.family_contribution_id for item in items],
        joinedload(FamilyContribution.membership).joinedload(Membership.user),
        *([selectinload(FamilyContribution.files)] if with_files else []),
    )
    notes = _by_id(
        db,
        PanelNote,
        [item.panel_note_id for item in items],
        joinedload(PanelNote.membership).joinedload(Membership.user),
    )
    entries = []
    for item in items:
        if item.request_answer_id is not None:
            entries.append(_answer_entry(item, answers[item.request_answer_id]))
        elif item.reflection_id is not None:
            entries.append(_reflection_entry(item, reflections[item.reflection_id]))
        elif item.family_contribution_id is not None:
            entries.append(_family_entry(item, family[item.family_contribution_id]))
        else:
            entries.append(_panel_note_entry(item, notes[item.panel_note_id]))
    return entries


def _by_id(db: Session, model, ids: list[int | None], *options) -> dict:
    wanted = [thing_id for thing_id in ids if thing_id is not None]
    if not wanted:
        return {}
    return {thing.id: thing for thing in db.scalars(sa.select(model).where(model.id.in_(wanted)).options(*options))}


def _answer_entry(item: InboxItem, answer: RequestAnswer) -> Entry:
    asked = answer.request
    kind = asked.recipient_kind_enum
    role = kind.label.lower()
    if kind == RecipientKind.AGENCY_LEAD and asked.membership.agency is not None:
        role = f"{role}, {asked.membership.agency.name}"
    title = "Answer to: " + textwrap.shorten(asked.prompt, 80, placeholder="…")
    return Entry(item, title, f"{asked.recipient.name} ({role})", answer.text, answer=answer)


def _reflection_entry(item: InboxItem, reflection: Reflection) -> Entry:
    # The writer chose whether the author learns who they are: an anonymous one shows only role and agency.
    shown = attribution(reflection.author, reflection.sharing_enum)
    if reflection.sharing_enum == Sharing.ANONYMOUS:
        shown = shown[:1].upper() + shown[1:]
    return Entry(item, reflection.title, shown, reflection.body_html, reflection=reflection)


def _family_entry(item: InboxItem, contribution: FamilyContribution) -> Entry:
    from_whom = f"{contribution.membership.user.name} (family member)"
    return Entry(item, contribution.title, from_whom, contribution.text, contribution=contribution)


def _panel_note_entry(item: InboxItem, note: PanelNote) -> Entry:
    from_whom = f"{note.membership.user.name} (panel member)"
    return Entry(item, "Note from a panel member", from_whom, note.text, panel_note=note)


# The list -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the author chose to see; None means any."""

    source: InboxSource | None = None
    status: InboxStatus | None = None
    theme_id: int | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query parameters, so the next page keeps them."""
        args = {"source": self.source and self.source.value, "status": self.status and self.status.value}
        args["theme"] = str(self.theme_id) if self.theme_id else None
        return {key: value for key, value in args.items() if value}


def filters_from(args, themes: list[Theme]) -> Filters:
    """Filters from the query string; a value that is not one of the choices means any."""
    sources = {source.value: source for source in InboxSource}
    statuses = {status.value: status for status in InboxStatus}
    theme_ids = {str(theme.id): theme.id for theme in themes}
    return Filters(
        sources.get(args.get("source", "")), statuses.get(args.get("status", "")), theme_ids.get(args.get("theme", ""))
    )


@dataclass(frozen=True)
class InboxPage:
    entries: list[Entry]
    total: int  # matching the filters
    counts: dict[InboxStatus, int]  # the whole inbox, by status


def inbox_page(db: Session, review: Review, filters: Filters, *, page: int = 1) -> InboxPage:
    """One page of the review's items matching the filters, newest first, with the counts by status."""
    conditions = [InboxItem.review_id == review.id]
    if filters.source is not None:
        conditions.append(InboxItem.source == filters.source.value)
    if filters.status is not None:
        conditions.append(InboxItem.status == filters.status.value)
    if filters.theme_id is not None:
        tagged = sa.select(inbox_item_themes.c.inbox_item_id).where(inbox_item_themes.c.theme_id == filters.theme_id)
        conditions.append(InboxItem.id.in_(tagged))
    total = db.scalar(sa.select(sa.func.count(InboxItem.id)).where(*conditions)) or 0
    items = list(
        db.scalars(
            sa.select(InboxItem)
            .where(*conditions)
            .options(selectinload(InboxItem.themes))
            .order_by(InboxItem.received_at.desc(), InboxItem.id.desc())
            .offset((max(page, 1) - 1) * ITEMS_PER_PAGE)
            .limit(ITEMS_PER_PAGE)
        )
    )
    return InboxPage(_entries(db, items), total, status_counts(db, review))


def status_counts(db: Session, review: Review) -> dict[InboxStatus, int]:
    rows = db.execute(
        sa.select(InboxItem.status, sa.func.count(InboxItem.id))
        .where(InboxItem.review_id == review.id)
        .group_by(InboxItem.status)
    )
    counted = dict(rows.all())
    return {status: counted.get(status.value, 0) for status in InboxStatus}


def themes_of(db: Session, review: Review) -> list[Theme]:
    """The review's themes by name, for the filter and for tagging."""
    return list(db.scalars(sa.select(Theme).where(Theme.review_id == review.id).order_by(Theme.name, Theme.id)))


def record_inbox_listed(db: Session, review: Review, reader: User, shown: list[Entry]) -> None:
    """Audit that someone saw a page of the inbox (its summaries are the words of the people who wrote them)."""
    audit.record(
        db,
        "inbox.listed",
        object_type="review",
        object_id=review.id,
        review_id=review.id,
        actor_id=reader.id,
        details={"inbox_item_ids": [entry.item.id for entry in shown]},
    )


# One item -----------------------------------------------------------------------------------------------


def load_entry(db: Session, review: Review, item_id: int) -> Entry | None:
    """One item of this review with its thing, files and themes; None for another review's."""
    item = db.scalar(
        sa.select(InboxItem)
        .where(InboxItem.id == item_id, InboxItem.review_id == review.id)
        .options(selectinload(InboxItem.themes))
    )
    if item is None:
        return None
    return _entries(db, [item], with_files=True)[0]


def request_answered(db: Session, entry: Entry) -> ContributionRequest | None:
    """The request the thing answers, if it answers one (reflections and panel notes never do)."""
    if entry.answer is not None:
        return entry.answer.request
    if entry.contribution is not None and entry.contribution.request_id is not None:
        return db.get(ContributionRequest, entry.contribution.request_id)
    return None


def answer_file(entry: Entry, file_id: int) -> AnswerFile | None:
    """A file of the answer behind the item; None when it is not one of them."""
    if entry.answer is None:
        return None
    return next((stored for stored in entry.answer.files if stored.id == file_id), None)


def notes_of(db: Session, item: InboxItem, *, page: int = 1) -> tuple[list[InboxNote], int]:
    """The author's private notes on the item, newest first, and how many there are."""
    total = db.scalar(sa.select(sa.func.count(InboxNote.id)).where(InboxNote.inbox_item_id == item.id)) or 0
    notes = db.scalars(
        sa.select(InboxNote)
        .where(InboxNote.inbox_item_id == item.id)
        .options(joinedload(InboxNote.written_by))
        .order_by(InboxNote.created_at.desc(), InboxNote.id.desc())
        .offset((max(page, 1) - 1) * NOTES_PER_PAGE)
        .limit(NOTES_PER_PAGE)
    )
    return list(notes), total


def _record(db: Session, action: str, item: InboxItem, actor: User, **details) -> None:
    # Identifiers only: the words belong to the people who wrote them and the author's notes are private.
    audit.record(
        db,
        action,
        object_type="inbox_item",
        object_id=item.id,
        review_id=item.review_id,
        actor_id=actor.id,
        details={"source": item.source, **details},
    )


def record_read(db: Session, entry: Entry, reader: User) -> None:
    """Audit the read, and mark a new item read (once, even when two people open it at the same moment)."""
    item = entry.item
    now = utcnow()
    db.execute(
        sa.update(InboxItem)
        .where(InboxItem.id == item.id, InboxItem.status == InboxStatus.NEW.value)
        .values(status=InboxStatus.READ.value, read_at=now)
        .execution_options(synchronize_session=False)
    )
    db.expire(item, ["status", "read_at"])
    _record(db, "inbox_item.read", item, reader)
    if entry.contribution is not None:
        contributions.record_contribution_read(db, entry.contribution, reader)


def record_file_downloaded(db: Session, entry: Entry, stored: AnswerFile, reader: User) -> None:
    """Audit one download of a file from an answer."""
    _record(db, "inbox_item.file_downloaded", entry.item, reader, file_id=stored.id)


def acknowledge(db: Session, entry: Entry, by: User) -> bool:
    """Acknowledge the item and lock the thing itself; False when it was already acknowledged."""
    item = entry.item
    now = utcnow()
    changed = db.execute(
        sa.update(InboxItem)
        .where(InboxItem.id == item.id, InboxItem.status != InboxStatus.ACKNOWLEDGED.value)
        .values(
            status=InboxStatus.ACKNOWLEDGED.value,
            acknowledged_at=now,
            acknowledged_by_id=by.id,
            read_at=sa.func.coalesce(InboxItem.read_at, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.expire(item, ["status", "read_at", "acknowledged_at", "acknowledged_by_id"])
    if not changed:
        return False
    if entry.answer is not None:
        _lock_answer(db, entry.answer, by, now)
    if entry.contribution is not None:
        contributions.acknowledge_contribution(db, entry.contribution, by)
    # Reflections and panel notes cannot change once sent: there is nothing else to lock.
    _record(db, "inbox_item.acknowledged", item, by)
    return True


def _lock_answer(db: Session, answer: RequestAnswer, by: User, now) -> None:
    db.execute(
        sa.update(RequestAnswer)
        .where(RequestAnswer.id == answer.id, RequestAnswer.status != AnswerStatus.ACKNOWLEDGED.value)
        .values(status=AnswerStatus.ACKNOWLEDGED.value, acknowledged_at=now, acknowledged_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    db.expire(answer, ["status", "acknowledged_at", "acknowledged_by_id"])


# Themes and notes ---------------------------------------------------------------------------------------


def tidy_theme_name(name: str | None) -> str:
    """A theme's name as kept: no spaces around it or doubled inside it."""
    return " ".join((name or "").split())


def find_or_create_theme(db: Session, review: Review, name: str, by: User) -> Theme:
    """The review's theme of that name, whatever its capitals; created when there is none."""
    name = tidy_theme_name(name)
    if not name:
        raise InboxRefused("Enter the name of the new theme", field="new_theme")
    if len(name) > THEME_NAME_LENGTH:
        raise InboxRefused(f"The theme's name must be {THEME_NAME_LENGTH} characters or fewer", field="new_theme")
    existing = _theme_named(db, review, name)
    if existing is not None:
        return existing
    # Someone else may create the same theme at this moment: then theirs is the one used.
    db.execute(_insert(db, Theme).values(review_id=review.id, name=name).on_conflict_do_nothing())
    theme = _theme_named(db, review, name)
    audit.record(
        db, "inbox_theme.created", object_type="theme", object_id=theme.id, review_id=review.id, actor_id=by.id
    )
    return theme


def _theme_named(db: Session, review: Review, name: str) -> Theme | None:
    return db.scalar(
        sa.select(Theme)
        .where(Theme.review_id == review.id, sa.func.lower(Theme.name) == sa.func.lower(sa.literal(name)))
        .order_by(Theme.id)
        .limit(1)
    )


def theme_of(db: Session, review: Review, theme_id: int) -> Theme | None:
    """One of the review's themes; None for another review's."""
    return db.scalar(sa.select(Theme).where(Theme.id == theme_id, Theme.review_id == review.id))


def add_theme(db: Session, entry: Entry, theme: Theme, by: User) -> bool:
    """Tag the item with the theme; False when it already had it."""
    item = entry.item
    added = db.execute(
        _insert(db, inbox_item_themes).values(inbox_item_id=item.id, theme_id=theme.id).on_conflict_do_nothing()
    ).rowcount
    db.expire(item, ["themes"])
    if added:
        _record(db, "inbox_item.theme_added", item, by, theme_id=theme.id)
    return bool(added)


def remove_theme(db: Session, entry: Entry, theme: Theme, by: User) -> bool:
    """Take the theme off the item (the theme stays for other items); False when it was not there."""
    item = entry.item
    removed = db.execute(
        sa.delete(inbox_item_themes).where(
            inbox_item_themes.c.inbox_item_id == item.id, inbox_item_themes.c.theme_id == theme.id
        )
    ).rowcount
    db.expire(item, ["themes"])
    if removed:
        _record(db, "inbox_item.theme_removed", item, by, theme_id=theme.id)
    return bool(removed)


def add_note(db: Session, entry: Entry, text: str, by: User) -> InboxNote:
    """A private note on the item, in plain text, for the author and coordinators only."""
    text = (text or "").strip()
    if not text:
        raise InboxRefused("Enter your note", field="text")
    note = InboxNote(inbox_item_id=entry.item.id, text=text, written_by_id=by.id, created_at=utcnow())
    db.add(note)
    db.flush()
    _record(db, "inbox_note.added", entry.item, by, note_id=note.id)
    return note


# Panel members' notes -----------------------------------------------------------------------------------


def write_panel_note(db: Session, membership: Membership, text: str) -> PanelNote:
    """A panel member's note for the author; it reaches the inbox the next time the author opens it."""
    html = rich_text_from_input(text)
    if not plain_text(html).strip():
        raise InboxRefused("Enter your note for the author", field="text")
    note = PanelNote(review_id=membership.review_id, membership_id=membership.id, text=html, created_at=utcnow())
    db.add(note)
    db.flush()
    audit.record(
        db,
        "panel_note.written",
        object_type="panel_note",
        object_id=note.id,
        review_id=note.review_id,
        actor_id=membership.user_id,
    )
    return note


def own_panel_notes(db: Session, review: Review, user: User, *, page: int = 1) -> tuple[list[PanelNote], int]:
    """The notes this person wrote for the review's author, newest first, and how many there are."""
    mine = [
        PanelNote.review_id == review.id,
        PanelNote.membership_id.in_(
            sa.select(Membership.id).where(Membership.review_id == review.id, Membership.user_id == user.id)
        ),
    ]
    total = db.scalar(sa.select(sa.func.count(PanelNote.id)).where(*mine)) or 0
    notes = db.scalars(
        sa.select(PanelNote)
        .where(*mine)
        .order_by(PanelNote.created_at.desc(), PanelNote.id.desc())
        .offset((max(page, 1) - 1) * PANEL_NOTES_PER_PAGE)
        .limit(PANEL_NOTES_PER_PAGE)
    )
    return list(notes), total
