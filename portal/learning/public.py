"""What the public learning pages may show: published reviews only, and only their published parts.

A page is public from ``published_at`` until it is taken down (``taken_down_at``), so a page past
its ``online_until`` date stays up until someone decides otherwise (the period is a minimum).
Everything read here is already anonymised: the anonymised name, the final version that
passed the anonymisation gate, the learning summary, the information about improvements and a
published briefing. The reason for not publishing, other versions, comments and people's names are
never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.authoring.models import Draft, Publication, PublicationDecision
from portal.learning.models import Briefing

REVIEWS_PER_PAGE = 20

PUBLIC_DECISION_LABELS = {
    PublicationDecision.PUBLISH: "Report published",
    PublicationDecision.DO_NOT_PUBLISH: "Information about improvements published",
}


@dataclass(frozen=True)
class PublicReview:
    """One published review as the public sees it."""

    publication: Publication
    briefing: Briefing | None

    @property
    def decision_label(self) -> str:
        return PUBLIC_DECISION_LABELS[self.publication.decision_enum]

    @property
    def shows_report(self) -> bool:
        return self.publication.decision_enum == PublicationDecision.PUBLISH


def _published() -> sa.ColumnElement[bool]:
    return sa.and_(Publication.published_at.is_not(None), Publication.taken_down_at.is_(None))


def published_reviews(db: Session, *, page: int = 1, per_page: int = REVIEWS_PER_PAGE) -> tuple[list[Publication], int]:
    """A page of published reviews, the most recently published first, each with its review loaded."""
    total = db.scalar(sa.select(sa.func.count()).select_from(Publication).where(_published())) or 0
    publications = db.scalars(
        sa.select(Publication)
        .where(_published())
        .options(joinedload(Publication.review))
        .order_by(Publication.publication_date.desc(), Publication.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(publications), total


def public_review(db: Session, slug: str) -> PublicReview | None:
    """The published review at ``slug`` with what its page shows, or None when nothing is published there."""
    publication = db.scalar(
        sa.select(Publication)
        .where(Publication.public_slug == slug, _published())
        .options(joinedload(Publication.review), joinedload(Publication.draft).selectinload(Draft.sections))
    )
    if publication is None:
        return None
    if publication.decision_enum != PublicationDecision.PUBLISH:
        return PublicReview(publication, None)
    briefing = db.scalar(
        sa.select(Briefing).where(Briefing.review_id == publication.review_id, Briefing.published_at.is_not(None))
    )
    return PublicReview(publication, briefing)
