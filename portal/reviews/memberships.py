"""Appointing people to a review, ending their part, and the author's declaration of independence.

Memberships are the only way anyone but a coordinator sees a review (see ``access.py``), so every
appointment, ending and declaration is audited with the review it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.db import utcnow
from portal.reviews.models import IndependenceDeclaration, Membership, MembershipKind, Review
from portal.security import audit
from portal.security.models import Agency, Role, User

# The global role a person needs for each part. Panel members and agency leads speak for an agency.
ROLE_FOR_KIND: dict[MembershipKind, Role] = {
    MembershipKind.AUTHOR: Role.AUTHOR,
    MembershipKind.PANEL_MEMBER: Role.PRACTITIONER,
    MembershipKind.AGENCY_LEAD: Role.PRACTITIONER,
    MembershipKind.PRACTITIONER: Role.PRACTITIONER,
    MembershipKind.FAMILY: Role.FAMILY,
}
KINDS_FOR_AN_AGENCY = frozenset({MembershipKind.PANEL_MEMBER, MembershipKind.AGENCY_LEAD})
ELIGIBLE_ROLES = (Role.AUTHOR, Role.PRACTITIONER, Role.FAMILY)


def a_or_an(label: str) -> str:
    """'an independent author', 'a panel member' — lower-cased for use mid-sentence."""
    label = label.lower()
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


@dataclass
class MembershipRefused(Exception):
    """A change the rules do not allow; ``message`` is written for the person who asked."""

    message: str

    def __str__(self) -> str:
        return self.message


def _open_of_kind(db: Session, review: Review, kind: MembershipKind, **where) -> list[Membership]:
    query = sa.select(Membership).where(
        Membership.review_id == review.id, Membership.kind == kind.value, Membership.ended_at.is_(None)
    )
    for column, value in where.items():
        query = query.where(getattr(Membership, column) == value)
    return list(db.scalars(query.options(joinedload(Membership.user))))


def appoint(
    db: Session, review: Review, user: User, kind: MembershipKind, actor: User, agency: Agency | None = None
) -> Membership:
    """Give ``user`` a part in ``review``; raises MembershipRefused when the rules do not allow it."""
    kind = MembershipKind(kind)
    if not actor.has_role(Role.COORDINATOR):
        raise MembershipRefused("Only a coordinator can appoint people to a review")
    if not user.active:
        raise MembershipRefused(f"{user.name}'s account has been deactivated, so they cannot be appointed")
    needed = ROLE_FOR_KIND[kind]
    if not user.has_role(needed):
        raise MembershipRefused(
            f"{user.name} cannot be appointed as {a_or_an(kind.label)}: "
            f"only people with {a_or_an(needed.label)} account can"
        )
    if kind in KINDS_FOR_AN_AGENCY:
        if user.agency_id is None:
            role_in_review = a_or_an(kind.label).capitalize()
            raise MembershipRefused(f"{user.name} is not linked to an agency. {role_in_review} must represent one")
        if agency is not None and agency.id != user.agency_id:
            raise MembershipRefused(f"{user.name} can only represent their own agency, {user.agency.name}")
    if _open_of_kind(db, review, kind, user_id=user.id):
        raise MembershipRefused(f"{user.name} is already {a_or_an(kind.label)} on this review")
    if kind == MembershipKind.AUTHOR:
        current = _open_of_kind(db, review, kind)
        if current:
            raise MembershipRefused(
                f"This review already has an independent author, {current[0].user.name}. "
                "End their membership before appointing another"
            )
    if kind == MembershipKind.AGENCY_LEAD:
        current = _open_of_kind(db, review, kind, agency_id=user.agency_id)
        if current:
            raise MembershipRefused(
                f"{user.agency.name} already has an agency lead on this review, {current[0].user.name}. "
                "End their membership before appointing another"
            )
    membership = Membership(
        review_id=review.id,
        user_id=user.id,
        kind=kind.value,
        # Kept for everyone linked to an agency: the members list shows whom each person speaks for.
        agency_id=user.agency_id,
        started_by_id=actor.id,
    )
    try:
        # A second coordinator appointing the same person at the same moment meets the unique index.
        with db.begin_nested():
            db.add(membership)
            db.flush()
    except sa.exc.IntegrityError:
        raise MembershipRefused(f"{user.name} is already {a_or_an(kind.label)} on this review") from None
    audit.record(
        db,
        "membership.appointed",
        object_type="membership",
        object_id=membership.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"user_id": user.id, "kind": kind.value, "agency_id": membership.agency_id},
    )
    return membership


def end_membership(db: Session, membership: Membership, actor: User, reason: str) -> Membership:
    """End a person's part in a review: from the next request they see nothing of it."""
    reason = (reason or "").strip()
    if not actor.has_role(Role.COORDINATOR):
        raise MembershipRefused("Only a coordinator can end a membership")
    if not reason:
        raise MembershipRefused("Enter why this membership is ending")
    if not membership.is_open:
        raise MembershipRefused("This membership has already ended")
    membership.ended_at = utcnow()
    membership.ended_by_id = actor.id
    membership.end_reason = reason
    db.flush()
    audit.record(
        db,
        "membership.ended",
        object_type="membership",
        object_id=membership.id,
        review_id=membership.review_id,
        actor_id=actor.id,
        details={"user_id": membership.user_id, "kind": membership.kind, "reason": reason},
    )
    return membership


def declare_independence(
    db: Session,
    membership: Membership,
    no_involvement_in_case: bool,
    no_involvement_with_agencies: bool,
    statement: str | None = None,
) -> IndependenceDeclaration:
    """The appointed author declares they had no part in the case or with the agencies reviewed."""
    if membership.kind != MembershipKind.AUTHOR or not membership.is_open:
        raise MembershipRefused("Only the appointed independent author can declare their independence")
    if membership.declaration is not None:
        raise MembershipRefused("You have already declared your independence for this review")
    if not (no_involvement_in_case and no_involvement_with_agencies):
        # Statutory guidance: the author must be independent of the case and of the agencies involved.
        raise MembershipRefused(
            "You can only be the independent author if both statements are true. "
            "If either is not, do not declare: contact the coordinator, who will appoint someone else"
        )
    declaration = IndependenceDeclaration(
        membership_id=membership.id,
        no_involvement_in_case=True,
        no_involvement_with_agencies=True,
        statement=(statement or "").strip() or None,
    )
    membership.declaration = declaration
    db.flush()
    audit.record(
        db,
        "independence.declared",
        object_type="membership",
        object_id=membership.id,
        review_id=membership.review_id,
        actor_id=membership.user_id,
        details={"declaration_id": declaration.id, "statement_given": declaration.statement is not None},
    )
    return declaration


# Reading ---------------------------------------------------------------------------------------------

_MEMBER_LOADS = (
    joinedload(Membership.user).joinedload(User.agency),
    joinedload(Membership.agency),
    selectinload(Membership.declaration),
)


def open_members(db: Session, review: Review) -> list[Membership]:
    """Everyone currently taking part, with person, agency and declaration loaded (fixed query count)."""
    return list(
        db.scalars(
            sa.select(Membership)
            .where(Membership.review_id == review.id, Membership.ended_at.is_(None))
            .options(*_MEMBER_LOADS)
            .order_by(Membership.kind, Membership.started_at, Membership.id)
        )
    )


ENDED_SHOWN = 50


def ended_members(db: Session, review: Review, limit: int = ENDED_SHOWN) -> list[Membership]:
    """The most recently ended memberships."""
    return list(
        db.scalars(
            sa.select(Membership)
            .where(Membership.review_id == review.id, Membership.ended_at.is_not(None))
            .options(*_MEMBER_LOADS)
            .order_by(Membership.ended_at.desc(), Membership.id.desc())
            .limit(limit)
        )
    )


CANDIDATES_SHOWN = 300


def candidates(db: Session, name_contains: str = "", limit: int = CANDIDATES_SHOWN) -> tuple[list[User], bool]:
    """Active people who could be appointed, by role then name; and whether there were more than ``limit``."""
    query = (
        sa.select(User)
        .where(User.active.is_(True), User.role.in_([role.value for role in ELIGIBLE_ROLES]))
        .options(joinedload(User.agency))
        .order_by(User.role, User.name, User.id)
        .limit(limit + 1)
    )
    if name_contains:
        query = query.where(sa.func.lower(User.name).contains(name_contains.lower(), autoescape=True))
    people = list(db.scalars(query))
    return people[:limit], len(people) > limit


def undeclared_author_membership(db: Session, user: User, review_id: int) -> Membership | None:
    """The person's open author membership of the review that still awaits its declaration."""
    return db.scalar(
        sa.select(Membership)
        .outerjoin(IndependenceDeclaration)
        .where(
            Membership.review_id == review_id,
            Membership.user_id == user.id,
            Membership.kind == MembershipKind.AUTHOR.value,
            Membership.ended_at.is_(None),
            IndependenceDeclaration.id.is_(None),
        )
        .options(joinedload(Membership.review))
    )


@dataclass(frozen=True)
class MyReview:
    """One review on a member's list, with only what their memberships let them see."""

    review: Review
    memberships: list[Membership]

    @property
    def sees_summary(self) -> bool:
        return any(m.grants_access for m in self.memberships)

    @property
    def awaiting_declaration(self) -> bool:
        return any(m.kind == MembershipKind.AUTHOR and not m.grants_access for m in self.memberships)

    @property
    def parts(self) -> list[str]:
        return [m.kind_enum.label for m in self.memberships if m.grants_access]


MY_REVIEWS_PER_PAGE = 20


def my_reviews(
    db: Session, user: User, page: int = 1, per_page: int = MY_REVIEWS_PER_PAGE
) -> tuple[list[MyReview], int]:
    """The reviews where the person holds an open membership, a page at a time; and how many in all."""
    open_review_ids = (
        sa.select(Membership.review_id)
        .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        .distinct()
        .scalar_subquery()
    )
    total = db.scalar(sa.select(sa.func.count()).select_from(Review).where(Review.id.in_(open_review_ids))) or 0
    reviews = list(
        db.scalars(
            sa.select(Review)
            .where(Review.id.in_(open_review_ids))
            .order_by(Review.reference)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    memberships = db.scalars(
        sa.select(Membership)
        .where(
            Membership.user_id == user.id,
            Membership.ended_at.is_(None),
            Membership.review_id.in_([review.id for review in reviews]),
        )
        .options(selectinload(Membership.declaration))
        .order_by(Membership.id)
    )
    by_review: dict[int, list[Membership]] = {review.id: [] for review in reviews}
    for membership in memberships:
        by_review[membership.review_id].append(membership)
    return [MyReview(review, by_review[review.id]) for review in reviews], total
