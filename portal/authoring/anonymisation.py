"""The anonymisation gate: a review's protected terms, the check of a draft version, waivers, and finality.

Protected terms are the real names and places the published report must not hold, so every read of
the list is audited and no audit entry ever carries a term or the text around a hit. A version can be
marked final only when every hit of the check is fixed or waived; a waiver belongs to the review and
is keyed by the hit's fingerprint, so it holds in later versions while the words around the hit stay
the same.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.authoring.detectors import Hit, HitKind, find_hits
from portal.authoring.models import Draft, HitWaiver, ProtectedTerm, Publication, TermCategory
from portal.db import utcnow
from portal.reviews.models import Membership, MembershipKind, Review
from portal.richtext import plain_text
from portal.security import audit
from portal.security.models import User

TERMS_PER_PAGE = 50
HITS_PER_PAGE = 100
# A family is a handful of people; the cap keeps the list of one-button suggestions short.
MOST_SUGGESTIONS = 30
FINGERPRINT_LENGTH = 32


@dataclass
class AnonymisationRefused(Exception):
    """A change the gate does not allow; ``field`` names the form field the message belongs to."""

    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


# Protected terms -------------------------------------------------------------------------------------

_CATEGORY_ORDER = sa.case(
    {category.value: position for position, category in enumerate(TermCategory)}, value=ProtectedTerm.category
)


def protected_terms(
    db: Session, review: Review, *, page: int = 1, per_page: int = TERMS_PER_PAGE
) -> tuple[list[ProtectedTerm], int]:
    """A page of the review's terms, grouped by category in the order of the form, then alphabetically."""
    total = db.scalar(sa.select(sa.func.count()).where(ProtectedTerm.review_id == review.id)) or 0
    terms = db.scalars(
        sa.select(ProtectedTerm)
        .where(ProtectedTerm.review_id == review.id)
        .order_by(_CATEGORY_ORDER, ProtectedTerm.term, ProtectedTerm.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(terms), total


def _all_terms(db: Session, review: Review) -> list[ProtectedTerm]:
    return list(
        db.scalars(sa.select(ProtectedTerm).where(ProtectedTerm.review_id == review.id).order_by(ProtectedTerm.id))
    )


def _same_term(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def record_terms_viewed(db: Session, review: Review, user: User) -> None:
    """The terms are the family's real names and addresses: every read of the list is audited."""
    audit.record(
        db, "protected_terms.viewed", object_type="review", object_id=review.id, review_id=review.id, actor_id=user.id
    )


def add_term(db: Session, review: Review, term: str, category: TermCategory, actor: User) -> ProtectedTerm:
    """Protect one more term; the same words in another case count as the same term."""
    term = " ".join(term.split())
    if not term:
        raise AnonymisationRefused("Enter the name, address or other detail to protect", "term")
    existing = next((known for known in _all_terms(db, review) if _same_term(known.term, term)), None)
    if existing is not None:
        raise AnonymisationRefused(
            f"“{existing.term}” is already protected, as {existing.category_enum.label.lower()}", "term"
        )
    protected = ProtectedTerm(review_id=review.id, term=term, category=category.value, added_by_id=actor.id)
    try:
        # Two people adding the same term at once: the database keeps one.
        with db.begin_nested():
            db.add(protected)
            db.flush()
    except IntegrityError:
        raise AnonymisationRefused(f"“{term}” is already protected", "term") from None
    audit.record(
        db,
        "protected_term.added",
        object_type="protected_term",
        object_id=protected.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"category": category.value},
    )
    return protected


def load_term(db: Session, review: Review, term_id: int) -> ProtectedTerm | None:
    term = db.get(ProtectedTerm, term_id)
    return term if term is not None and term.review_id == review.id else None


def remove_term(db: Session, term: ProtectedTerm, actor: User) -> None:
    """Stop protecting a term; the audit keeps its category, never its words."""
    audit.record(
        db,
        "protected_term.removed",
        object_type="protected_term",
        object_id=term.id,
        review_id=term.review_id,
        actor_id=actor.id,
        details={"category": term.category},
    )
    db.delete(term)


def family_name_suggestions(db: Session, review: Review) -> list[str]:
    """Family members' full names, and each of their names on its own, that are not protected yet.

    A report often calls someone by a first name alone, so the parts are offered as well as the whole.
    """
    names = db.scalars(
        sa.select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.review_id == review.id,
            Membership.kind == MembershipKind.FAMILY.value,
            Membership.ended_at.is_(None),
        )
        .order_by(User.name)
    )
    protected = [term.term for term in _all_terms(db, review)]
    suggestions: list[str] = []
    for name in names:
        for candidate in [" ".join(name.split()), *name.split()]:
            known = [*protected, *suggestions]
            if len(candidate) > 1 and not any(_same_term(candidate, other) for other in known):
                suggestions.append(candidate)
    return suggestions[:MOST_SUGGESTIONS]


# The check of one version ----------------------------------------------------------------------------


def load_draft(db: Session, review: Review, draft_id: int) -> Draft | None:
    """A version of this review's report, with its sections; None for another review's version."""
    draft = db.scalar(
        sa.select(Draft)
        .where(Draft.id == draft_id, Draft.review_id == review.id)
        .options(selectinload(Draft.sections), joinedload(Draft.final_by))
    )
    return draft


@dataclass(frozen=True)
class CheckedText:
    """One piece of text the check read: the title, a section's heading, or a section's words."""

    position: int  # 0 for the title, then each section in order
    label: str
    text: str


@dataclass(frozen=True)
class FoundHit:
    """A hit as the check page shows it: where, what kind, in context, and any waiver."""

    hit: Hit
    place: CheckedText
    before: str
    matched: str
    after: str
    category: TermCategory | None
    waiver: HitWaiver | None

    @property
    def fingerprint(self) -> str:
        return self.hit.fingerprint()

    @property
    def kind_label(self) -> str:
        return self.hit.kind.label


@dataclass(frozen=True)
class VersionCheck:
    draft: Draft
    hits: list[FoundHit] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return sum(1 for found in self.hits if found.waiver is None)

    @property
    def waived(self) -> int:
        return len(self.hits) - self.remaining

    @property
    def passes(self) -> bool:
        return self.remaining == 0

    def find(self, fingerprint: str) -> FoundHit | None:
        return next((found for found in self.hits if found.fingerprint == fingerprint), None)

    def page(self, page: int, per_page: int = HITS_PER_PAGE) -> list[tuple[CheckedText, list[FoundHit]]]:
        """One page of hits, grouped by the place they were found, in reading order."""
        shown = self.hits[(page - 1) * per_page : page * per_page]
        groups = [list(found) for _position, found in itertools.groupby(shown, key=lambda found: found.place.position)]
        return [(found[0].place, found) for found in groups]


def checked_texts(draft: Draft) -> list[CheckedText]:
    """What the check reads: the version's title, then each section's heading and its words."""
    places = [CheckedText(0, "Title", draft.title)]
    for position, section in enumerate(draft.sections, start=1):
        # Heading and words apart, so renaming a section leaves the waivers of its words in place.
        places.append(CheckedText(position, section.heading, section.heading))
        places.append(CheckedText(position, section.heading, plain_text(section.body)))
    return places


def check_version(db: Session, review: Review, draft: Draft) -> VersionCheck:
    """Every hit in the version, with the review's waivers: a fixed number of queries however long it is."""
    terms = _all_terms(db, review)
    categories = {term.term: term.category_enum for term in terms}
    words = [term.term for term in terms]
    found: list[tuple[CheckedText, Hit]] = [
        (place, hit) for place in checked_texts(draft) for hit in find_hits(place.text, words)
    ]
    waivers = _waivers_for(db, review, {hit.fingerprint() for _place, hit in found})
    hits = []
    for place, hit in found:
        before, matched, after = hit.context(place.text)
        category = categories.get(hit.term) if hit.kind == HitKind.PROTECTED_TERM else None
        hits.append(FoundHit(hit, place, before, matched, after, category, waivers.get(hit.fingerprint())))
    return VersionCheck(draft, hits)


def _waivers_for(db: Session, review: Review, fingerprints: set[str]) -> dict[str, HitWaiver]:
    if not fingerprints:
        return {}
    waivers = db.scalars(
        sa.select(HitWaiver)
        .where(HitWaiver.review_id == review.id, HitWaiver.fingerprint.in_(fingerprints))
        .options(joinedload(HitWaiver.waived_by))
    )
    return {waiver.fingerprint: waiver for waiver in waivers}


def record_check_viewed(db: Session, check: VersionCheck, user: User) -> None:
    """The check shows the report's identifying words in context: every read is audited, counts only."""
    audit.record(
        db,
        "anonymisation_check.viewed",
        object_type="report_draft",
        object_id=check.draft.id,
        review_id=check.draft.review_id,
        actor_id=user.id,
        details={"remaining": check.remaining, "waived": check.waived},
    )


# Waivers ---------------------------------------------------------------------------------------------


def waive_hit(db: Session, check: VersionCheck, fingerprint: str, reason: str, actor: User) -> HitWaiver:
    """A coordinator lets one hit stay, with the reason; the waiver holds wherever the same hit recurs."""
    found = check.find(fingerprint)
    if found is None:
        raise AnonymisationRefused("This is not something the check found in this version")
    if found.waiver is not None:
        raise AnonymisationRefused(f"This was already waived by {found.waiver.waived_by.name}")
    reason = reason.strip()
    if not reason:
        raise AnonymisationRefused("Enter why this can stay in the report", "reason")
    waiver = HitWaiver(
        review_id=check.draft.review_id,
        fingerprint=fingerprint,
        kind=found.hit.kind.value,
        matched=found.hit.matched[:200],
        reason=reason,
        waived_by_id=actor.id,
        waived_at=utcnow(),
    )
    try:
        # Two coordinators waiving the same hit at once: the first waiver stands.
        with db.begin_nested():
            db.add(waiver)
            db.flush()
    except IntegrityError:
        raise AnonymisationRefused("Someone else waived this at the same moment") from None
    audit.record(
        db,
        "anonymisation_hit.waived",
        object_type="anonymisation_waiver",
        object_id=waiver.id,
        review_id=check.draft.review_id,
        actor_id=actor.id,
        details={"draft_id": check.draft.id, "kind": found.hit.kind.value, "fingerprint": fingerprint},
    )
    return waiver


# Marking a version final -----------------------------------------------------------------------------


def final_version(db: Session, review: Review) -> Draft | None:
    """The review's one final version, if there is one."""
    return db.scalar(sa.select(Draft).where(Draft.review_id == review.id, Draft.final_at.is_not(None)))


def mark_final(db: Session, review: Review, check: VersionCheck, actor: User) -> None:
    """Make the checked version the final one: only with no hit left, and only one final version per review."""
    draft = check.draft
    if draft.final_at is not None:
        raise AnonymisationRefused(f"Version {draft.version} is already final")
    current = final_version(db, review)
    if current is not None:
        raise AnonymisationRefused(
            f"Version {current.version} is already the final version. "
            f"A coordinator must undo that before version {draft.version} can be marked final"
        )
    if not check.passes:
        left = _plural(check.remaining, "hit remains", "hits remain")
        raise AnonymisationRefused(
            f"Version {draft.version} cannot be marked final: {left}. "
            "Change the text in a new version, or ask a coordinator to waive each one that can stay"
        )
    draft.final_at = utcnow()
    draft.final_by_id = actor.id
    try:
        # Two people marking two versions at once: the database keeps one final version per review.
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise AnonymisationRefused("Another version was marked final at the same moment") from None
    audit.record(
        db,
        "report_draft.marked_final",
        object_type="report_draft",
        object_id=draft.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"version": draft.version, "waived": check.waived},
    )


def undo_final(db: Session, draft: Draft, reason: str, actor: User) -> None:
    """A coordinator takes back a final mark before publication, saying why."""
    if draft.final_at is None:
        raise AnonymisationRefused(f"Version {draft.version} is not the final version")
    published = sa.select(Publication.id).where(
        Publication.review_id == draft.review_id, Publication.published_at.is_not(None)
    )
    if db.scalar(published) is not None:
        raise AnonymisationRefused("The report has been published: the final version stays final")
    reason = reason.strip()
    if not reason:
        raise AnonymisationRefused("Enter why this version is no longer final", "reason")
    audit.record(
        db,
        "report_draft.final_undone",
        object_type="report_draft",
        object_id=draft.id,
        review_id=draft.review_id,
        actor_id=actor.id,
        details={"version": draft.version, "reason": reason},
    )
    draft.final_at = None
    draft.final_by_id = None
