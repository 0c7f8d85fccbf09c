"""Need-to-know: who may see a review, and which parts of it.

Apart from coordinators, a person sees a review only through an open membership of it, and each
membership sees only its part. Loaders answer 404 for a review the person may not know exists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session, selectinload

from portal.reviews.models import Membership, MembershipKind, Review
from portal.security.models import Role, User


class Part(enum.Enum):
    SUMMARY = "reference, anonymised name and stage"
    TIMELINE = "the timeline and clocks"
    MEMBERS = "who is taking part"
    RAPID_REVIEW = "the Rapid Review record and decisions"
    AGENCY_RETURNS = "agency information returns"
    MONITORING = "regulation 14 monitoring requests"
    FAMILY = "family members: their details, consent and the updates written for them"
    REQUESTS = "contribution requests and the inbox of everything gathered for the author"
    DRAFTS = "drafts of the report"
    ANONYMISATION = "protected terms and the anonymisation check"
    PUBLICATION = "the publication decision and its dates"
    ACTION_PLAN = "learning points, actions and the briefing's read rates"
    MANAGE = "changing anything about the review"


# What each kind of membership may see. Families and practitioners see only that the review exists
# and where it has reached; their own pages (contributions, events) come from their capabilities.
PARTS_BY_MEMBERSHIP: dict[MembershipKind, frozenset[Part]] = {
    MembershipKind.AUTHOR: frozenset(
        {
            Part.SUMMARY,
            Part.TIMELINE,
            Part.MEMBERS,
            Part.RAPID_REVIEW,
            Part.MONITORING,
            Part.FAMILY,
            Part.REQUESTS,
            Part.DRAFTS,
            Part.ANONYMISATION,
            Part.PUBLICATION,
            Part.ACTION_PLAN,
        }
    ),
    MembershipKind.PANEL_MEMBER: frozenset(
        {Part.SUMMARY, Part.TIMELINE, Part.MEMBERS, Part.RAPID_REVIEW, Part.ACTION_PLAN}
    ),
    MembershipKind.AGENCY_LEAD: frozenset({Part.SUMMARY, Part.AGENCY_RETURNS, Part.ACTION_PLAN}),
    MembershipKind.PRACTITIONER: frozenset({Part.SUMMARY}),
    MembershipKind.FAMILY: frozenset({Part.SUMMARY}),
}
ALL_PARTS = frozenset(Part)


@dataclass(frozen=True)
class ReviewAccess:
    """What one person may see of one review."""

    parts: frozenset[Part]
    memberships: tuple[Membership, ...] = ()

    def can(self, part: Part) -> bool:
        return part in self.parts

    @property
    def is_coordinator(self) -> bool:
        return Part.MANAGE in self.parts

    def membership_of_kind(self, kind: MembershipKind) -> Membership | None:
        return next((m for m in self.memberships if m.kind == kind), None)


def open_memberships(db: Session, user: User, review_id: int) -> list[Membership]:
    return list(
        db.scalars(
            sa.select(Membership)
            .where(Membership.review_id == review_id, Membership.user_id == user.id, Membership.ended_at.is_(None))
            .options(selectinload(Membership.declaration))
        )
    )


def access_to(db: Session, user: User, review: Review) -> ReviewAccess | None:
    """None when the person may not know the review exists."""
    if user.role == Role.COORDINATOR:
        return ReviewAccess(ALL_PARTS)
    memberships = tuple(m for m in open_memberships(db, user, review.id) if m.grants_access)
    if not memberships:
        return None
    parts = frozenset().union(*(PARTS_BY_MEMBERSHIP[m.kind_enum] for m in memberships))
    return ReviewAccess(parts, memberships)


def load_review_for(
    db: Session, user: User, review_id: int, *, needs: Part = Part.SUMMARY
) -> tuple[Review, ReviewAccess]:
    """The review and what this person may see of it; 404 unless they may see ``needs``."""
    review = db.get(Review, review_id)
    access = access_to(db, user, review) if review is not None else None
    if access is None or not access.can(needs):
        abort(404)
    return review, access
