"""Family contributions: a family member's own words (and files) for the review, and the staff who read them.

A contribution belongs to one family membership. Its author (the family member) keeps it private
as a draft, sends it when ready, and may go on changing it until the review's author says they have
read it; then it is locked. Staff see only what was sent, and every time they read it is audited.
"""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portal.authoring import requests
from portal.authoring.models import ContributionRequest
from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.db import utcnow
from portal.families import uploads
from portal.families.models import ContributionFile, ContributionStatus, FamilyContribution, FamilyMember
from portal.reviews.models import Membership, Review
from portal.richtext import rich_text_from_input
from portal.security import audit
from portal.security.models import User

CONTRIBUTIONS_PER_PAGE = 20
_ONLY_PARAGRAPHS = re.compile(r"^(?:<p>(?:(?!</?p>)(?!<(?!br>)).)*</p>)*$", re.DOTALL)


class ContributionLocked(Exception):
    """The author has read the contribution, so it can no longer change."""


def may_contribute(db: Session, membership: Membership) -> bool:
    """Whether the family member's current choices include telling the review in their own words."""
    return ledger.allows(
        db, person_id=membership.user_id, review_id=membership.review_id, scope=ConsentScope.CONTRIBUTE
    )


def editable_text(html: str) -> str:
    """Stored words back as the plain text the person typed, when they were plain; else the clean markup."""
    if not _ONLY_PARAGRAPHS.match(html or ""):
        return html or ""
    paragraphs = re.findall(r"<p>(.*?)</p>", html, re.DOTALL)
    return "\n\n".join(unescape(paragraph.replace("<br>", "\n")) for paragraph in paragraphs)


def own_contributions(db: Session, membership: Membership) -> list[FamilyContribution]:
    """The family member's own contributions to this review, newest first, with their files."""
    return list(
        db.scalars(
            sa.select(FamilyContribution)
            .options(selectinload(FamilyContribution.files))
            .where(FamilyContribution.membership_id == membership.id)
            .order_by(FamilyContribution.id.desc())
        )
    )


def own_contribution(db: Session, membership: Membership, contribution_id: int) -> FamilyContribution | None:
    """One of the family member's own contributions, or None (another person's is never found)."""
    return db.scalar(
        sa.select(FamilyContribution)
        .options(selectinload(FamilyContribution.files))
        .where(FamilyContribution.id == contribution_id, FamilyContribution.membership_id == membership.id)
    )


def _check_editable(contribution: FamilyContribution) -> None:
    if not contribution.editable:
        raise ContributionLocked


def _record(db: Session, action: str, contribution: FamilyContribution, actor: User, **details) -> None:
    audit.record(
        db,
        action,
        object_type="family_contribution",
        object_id=contribution.id,
        review_id=contribution.review_id,
        actor_id=actor.id,
        details=details or None,
    )


def save_contribution(
    db: Session,
    membership: Membership,
    contribution: FamilyContribution | None,
    *,
    title: str,
    text: str,
    request_id: int | None = None,
) -> FamilyContribution:
    """Create or change a contribution's title and words; a locked one raises ContributionLocked.

    A new contribution may answer one of the author's requests (``request_id``): sending it answers the request.
    """
    now = utcnow()
    if contribution is None:
        contribution = FamilyContribution(
            membership_id=membership.id,
            review_id=membership.review_id,
            status=ContributionStatus.DRAFT.value,
            created_at=now,
            title="",
            text="",
            request_id=request_id,
        )
        db.add(contribution)
        action = "family_contribution.created"
    else:
        _check_editable(contribution)
        action = "family_contribution.changed"
    contribution.title = title
    contribution.text = rich_text_from_input(text)
    contribution.updated_at = now
    db.flush()
    _record(db, action, contribution, membership.user)
    return contribution


def add_file(
    db: Session, contribution: FamilyContribution, *, original_name: str, data: bytes, by: User
) -> ContributionFile:
    """Check the file by its content, keep it under a random name and attach it; may raise UploadRefused."""
    _check_editable(contribution)
    kind = uploads.check(data)
    stored_name = uploads.store(db, data)
    added = ContributionFile(
        original_name=(original_name or "file").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file",
        stored_name=stored_name,
        detected_type=kind.key,
        size_bytes=len(data),
        uploaded_at=utcnow(),
    )
    contribution.files.append(added)
    contribution.updated_at = utcnow()
    db.flush()
    _record(db, "family_contribution.file_added", contribution, by, file_id=added.id, type=kind.key)
    return added


def remove_file(db: Session, contribution: FamilyContribution, file_id: int, *, by: User) -> bool:
    """Take a file off a contribution and delete it from the disk; False when it is not this contribution's."""
    _check_editable(contribution)
    removed = next((item for item in contribution.files if item.id == file_id), None)
    if removed is None:
        return False
    contribution.files.remove(removed)
    contribution.updated_at = utcnow()
    db.flush()
    _record(db, "family_contribution.file_removed", contribution, by, file_id=file_id)
    uploads.remove(db, removed.stored_name)  # from the disk once the row's removal is committed
    return True


def submit_contribution(db: Session, membership: Membership, contribution: FamilyContribution) -> None:
    """Send the contribution to the review; a young person's records the adult who supports them."""
    _check_editable(contribution)
    details = db.scalar(sa.select(FamilyMember).where(FamilyMember.membership_id == membership.id))
    contribution.supporting_adult = details.supporting_adult if details and details.young_person else None
    now = utcnow()
    if contribution.status == ContributionStatus.DRAFT.value:
        contribution.status = ContributionStatus.SUBMITTED.value
    contribution.submitted_at = now
    contribution.updated_at = now
    db.flush()
    _record(db, "family_contribution.submitted", contribution, membership.user)
    if contribution.request_id is not None:
        requests.mark_answered(db, db.get(ContributionRequest, contribution.request_id), membership.user)


# Staff --------------------------------------------------------------------------------------------


def _sent():
    return FamilyContribution.status != ContributionStatus.DRAFT.value


def submitted_contributions(db: Session, review: Review, *, page: int = 1) -> tuple[list[FamilyContribution], int]:
    """The review's sent contributions (drafts stay private), newest first, and how many there are."""
    total = db.scalar(
        sa.select(sa.func.count(FamilyContribution.id)).where(FamilyContribution.review_id == review.id, _sent())
    )
    rows = db.scalars(
        sa.select(FamilyContribution)
        .options(
            selectinload(FamilyContribution.membership).selectinload(Membership.user),
            selectinload(FamilyContribution.files),
        )
        .where(FamilyContribution.review_id == review.id, _sent())
        .order_by(FamilyContribution.submitted_at.desc(), FamilyContribution.id.desc())
        .limit(CONTRIBUTIONS_PER_PAGE)
        .offset((page - 1) * CONTRIBUTIONS_PER_PAGE)
    )
    return list(rows), total or 0


def submitted_contribution(db: Session, review: Review, contribution_id: int) -> FamilyContribution | None:
    """One sent contribution of this review, or None (a draft or another review's is never found)."""
    return db.scalar(
        sa.select(FamilyContribution)
        .options(
            selectinload(FamilyContribution.membership).selectinload(Membership.user),
            selectinload(FamilyContribution.files),
        )
        .where(FamilyContribution.id == contribution_id, FamilyContribution.review_id == review.id, _sent())
    )


def record_contributions_listed(db: Session, review: Review, reader: User, shown: list[FamilyContribution]) -> None:
    """Audit that someone saw the list of a review's family contributions."""
    audit.record(
        db,
        "family_contributions.listed",
        object_type="review",
        object_id=review.id,
        review_id=review.id,
        actor_id=reader.id,
        details={"contribution_ids": [contribution.id for contribution in shown]},
    )


def record_contribution_read(db: Session, contribution: FamilyContribution, reader: User) -> None:
    """Audit one read of a family contribution."""
    _record(db, "family_contribution.read", contribution, reader)


def record_file_downloaded(db: Session, contribution: FamilyContribution, item: ContributionFile, reader: User) -> None:
    """Audit one download of a file from a family contribution."""
    _record(db, "family_contribution.file_downloaded", contribution, reader, file_id=item.id)


def acknowledge_contribution(db: Session, contribution: FamilyContribution, by: User) -> bool:
    """Say the author has read it, which locks it; False when it was already acknowledged."""
    if contribution.status == ContributionStatus.ACKNOWLEDGED.value:
        return False
    now = utcnow()
    contribution.status = ContributionStatus.ACKNOWLEDGED.value
    contribution.acknowledged_at = now
    contribution.acknowledged_by_id = by.id
    db.flush()
    _record(db, "family_contribution.acknowledged", contribution, by)
    return True
