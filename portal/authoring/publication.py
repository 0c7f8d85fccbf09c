"""Publication: the partnership's decision, the dates the report went out, and the public learning page.

TIMINGS.md sets two rules kept here. The final report goes to the National Panel and the Secretary of
State at least ``CLOCK_FINAL_REPORT_WORKING_DAYS`` working days before publication: a shorter notice is
a warning the coordinator must acknowledge, not a block. A published page stays online for at least
``ONLINE_MONTHS`` months, so taking it down before then is refused.

Nothing published is ever written into an audit entry: the reason not to publish may say why the
child or family is at risk, so entries record what was decided and when, never the words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.authoring import anonymisation
from portal.authoring.detectors import HitKind, find_hits
from portal.authoring.models import Draft, ProtectedTerm, Publication, PublicationDecision
from portal.db import utcnow
from portal.reviews import clocks
from portal.reviews.models import Review, Stage
from portal.reviews.services import ReviewRuleError, move_review
from portal.richtext import plain_text, rich_text_from_input
from portal.security import audit
from portal.security.models import User
from portal.templating import long_date
from portal.working_days import working_days_between

ONLINE_MONTHS = 12
SLUG_LENGTH = 80
# Room left at the end of the slug for "-2", "-3"… when two reviews would share one.
_SLUG_BASE_LENGTH = SLUG_LENGTH - 6
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

DECISION_TARGETS = {
    PublicationDecision.PUBLISH: Stage.PUBLISHED,
    PublicationDecision.DO_NOT_PUBLISH: Stage.NOT_PUBLISHED,
}


@dataclass
class PublicationRefused(Exception):
    """A change the publication rules do not allow; ``field`` names the form field the message belongs to."""

    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ShortNotice:
    """One copy of the report that went out later than the working-day rule asks."""

    recipient: str  # "the National Panel", "the Secretary of State"
    sent_on: date
    latest_on: date  # the last day it could have gone to meet the rule
    working_days: int  # working days from sending up to and including publication


# Reading -------------------------------------------------------------------------------------------


def publication_of(db: Session, review: Review) -> Publication | None:
    """The review's publication record, with its final version and who decided, or None before a decision."""
    return db.scalar(
        sa.select(Publication)
        .where(Publication.review_id == review.id)
        .options(
            joinedload(Publication.decided_by),
            joinedload(Publication.draft).selectinload(Draft.sections),
        )
    )


def final_version(db: Session, review: Review) -> Draft | None:
    """The version the anonymisation gate marked final, with its sections."""
    return db.scalar(
        sa.select(Draft)
        .where(Draft.review_id == review.id, Draft.final_at.is_not(None))
        .options(selectinload(Draft.sections))
    )


def is_settled(publication: Publication | None) -> bool:
    """Published, or published and since taken down: the record is then part of history and cannot change."""
    return publication is not None and publication.public_slug is not None


def short_notices(publication: Publication, closures: frozenset[date], config: Mapping) -> list[ShortNotice]:
    """Each copy sent later than the rule allows before the planned publication date."""
    if publication.publication_date is None:
        return []
    latest = clocks.final_report_latest_on(publication.publication_date, closures, config)
    sent = (
        ("the National Panel", publication.sent_to_panel_on),
        ("the Secretary of State", publication.sent_to_secretary_of_state_on),
    )
    return [
        ShortNotice(
            recipient,
            sent_on,
            latest,
            working_days_between(sent_on, publication.publication_date, closures),
        )
        for recipient, sent_on in sent
        if sent_on is not None and sent_on > latest
    ]


# The decision ---------------------------------------------------------------------------------------


def record_decision(
    db: Session,
    review: Review,
    decision: PublicationDecision,
    *,
    reason: str | None,
    improvements: str | None,
    learning_summary: str | None,
    actor: User,
) -> Publication:
    """Record (or change, until published) whether to publish; not publishing needs a reason and improvements."""
    publication = publication_of(db, review)
    if is_settled(publication):
        raise PublicationRefused("The decision cannot change once the review has been published", "decision")
    final = final_version(db, review)
    if decision == PublicationDecision.PUBLISH and final is None:
        raise PublicationRefused(
            "There is no final version yet. A version must pass the anonymisation check and be marked final"
            " before you can decide to publish it",
            "decision",
        )
    reason = (reason or "").strip()
    improvements = rich_text_from_input(improvements)
    if decision == PublicationDecision.DO_NOT_PUBLISH:
        if not reason:
            raise PublicationRefused("Enter why the report will not be published", "reason")
        if not plain_text(improvements).strip():
            raise PublicationRefused("Enter the information about improvements to publish instead", "improvements")
    if publication is None:
        publication = Publication(review_id=review.id)
        db.add(publication)
    publication.decision = decision.value
    publication.draft_id = final.id if final else None
    publication.reason = reason if decision == PublicationDecision.DO_NOT_PUBLISH else None
    publication.improvements = improvements if decision == PublicationDecision.DO_NOT_PUBLISH else None
    publication.learning_summary = rich_text_from_input(learning_summary) or None
    publication.decided_by_id = actor.id
    publication.decided_at = utcnow()
    db.flush()
    audit.record(
        db,
        "publication.decided",
        object_type="publication",
        object_id=publication.id,
        review_id=review.id,
        actor_id=actor.id,
        details={"decision": decision.value, "final_version": final.version if final else None},
    )
    return publication


# The dates ------------------------------------------------------------------------------------------


def record_dates(
    db: Session,
    publication: Publication,
    *,
    sent_to_panel_on: date | None,
    sent_to_secretary_of_state_on: date | None,
    publication_date: date | None,
    actor: User,
) -> None:
    """The dates the report went to the Panel and the Secretary of State, and the planned publication date."""
    if is_settled(publication):
        raise PublicationRefused("The dates cannot change once the review has been published", "publication_date")
    if publication_date is not None:
        for field, sent_on, whom in (
            ("sent_to_panel_on", sent_to_panel_on, "the National Panel"),
            ("sent_to_secretary_of_state_on", sent_to_secretary_of_state_on, "the Secretary of State"),
        ):
            if sent_on is not None and sent_on > publication_date:
                raise PublicationRefused(
                    f"The date the report went to {whom} must be on or before the publication date", field
                )
    changed = (
        publication.sent_to_panel_on != sent_to_panel_on
        or publication.sent_to_secretary_of_state_on != sent_to_secretary_of_state_on
        or publication.publication_date != publication_date
    )
    publication.sent_to_panel_on = sent_to_panel_on
    publication.sent_to_secretary_of_state_on = sent_to_secretary_of_state_on
    publication.publication_date = publication_date
    if changed:
        # An acknowledgement is of a particular short notice; new dates need a new one.
        publication.short_notice_acknowledged_at = None
        publication.short_notice_acknowledged_by_id = None
    audit.record(
        db,
        "publication.dates_recorded",
        object_type="publication",
        object_id=publication.id,
        review_id=publication.review_id,
        actor_id=actor.id,
        details={
            "sent_to_panel_on": _iso(sent_to_panel_on),
            "sent_to_secretary_of_state_on": _iso(sent_to_secretary_of_state_on),
            "publication_date": _iso(publication_date),
        },
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def record_nspcc_sent(db: Session, publication: Publication, sent_on: date, actor: User) -> None:
    """The day the report (or the information about improvements) went to the NSPCC repository."""
    publication.nspcc_sent_on = sent_on
    audit.record(
        db,
        "publication.nspcc_sent",
        object_type="publication",
        object_id=publication.id,
        review_id=publication.review_id,
        actor_id=actor.id,
        details={"sent_on": sent_on.isoformat()},
    )


# Publishing -----------------------------------------------------------------------------------------


def problems_before_publishing(
    db: Session, review: Review, publication: Publication, today: date
) -> list[PublicationRefused]:
    """Everything that stops publication now, each with the form field it belongs to; empty when it may go."""
    problems: list[PublicationRefused] = []
    if is_settled(publication):
        return [PublicationRefused("The review has already been published")]
    missing = [
        words
        for words, value in (
            ("the date the report went to the National Panel", publication.sent_to_panel_on),
            ("the date the report went to the Secretary of State", publication.sent_to_secretary_of_state_on),
            ("the publication date", publication.publication_date),
        )
        if value is None
    ]
    if missing:
        problems.append(PublicationRefused(f"Record {_listed(missing)} before publishing"))
    elif publication.publication_date > today:
        problems.append(
            PublicationRefused(
                f"The publication date is {long_date(publication.publication_date)}. Publish on or after that day"
            )
        )
    if publication.decision_enum == PublicationDecision.PUBLISH:
        problems.extend(_final_version_problems(db, review, publication))
    problems.extend(_protected_term_problems(db, review, publication))
    try:
        stage_path(db, review, publication)
    except PublicationRefused as refusal:
        problems.append(refusal)
    return problems


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _final_version_problems(db: Session, review: Review, publication: Publication) -> list[PublicationRefused]:
    final = final_version(db, review)
    if final is None:
        return [
            PublicationRefused(
                "There is no final version. A version must pass the anonymisation check and be marked final"
            )
        ]
    if publication.draft_id != final.id:
        return [
            PublicationRefused(
                f"Version {final.version} is now the final version. Record the decision again to publish it"
            )
        ]
    # Terms may have been protected since the version was marked final: check it again as it stands.
    check = anonymisation.check_version(db, review, final)
    if not check.passes:
        return [
            PublicationRefused(
                f"The anonymisation check of version {final.version} finds {check.remaining} to fix or waive"
                " before it can be published"
            )
        ]
    return []


def _protected_term_problems(db: Session, review: Review, publication: Publication) -> list[PublicationRefused]:
    """The anonymised name and the published summaries must not name anyone the review protects."""
    terms = list(db.scalars(sa.select(ProtectedTerm.term).where(ProtectedTerm.review_id == review.id)))
    if not terms:
        return []
    places = [
        ("The anonymised name", review.anonymised_name),
        ("The learning summary", plain_text(publication.learning_summary)),
    ]
    if publication.decision_enum == PublicationDecision.DO_NOT_PUBLISH:
        places.append(("The information about improvements", plain_text(publication.improvements)))
    return [
        PublicationRefused(f"{place} contains a protected term. Change it before publishing")
        for place, text in places
        if any(hit.kind == HitKind.PROTECTED_TERM for hit in find_hits(text, terms))
    ]


def stage_path(db: Session, review: Review, publication: Publication) -> list[Stage]:
    """The stage moves publishing makes: from Awaiting publication, or from Pre-publication once a version is final."""
    target = DECISION_TARGETS[publication.decision_enum]
    current = review.stage_enum
    if current == target:
        return []
    if current == Stage.AWAITING_PUBLICATION:
        return [target]
    if current == Stage.PRE_PUBLICATION and final_version(db, review) is not None:
        # The stage means "the report is final and waiting": with a final version, that is simply true.
        return [Stage.AWAITING_PUBLICATION, target]
    raise PublicationRefused(
        f"The review is at the {current.label} stage. It must reach {Stage.AWAITING_PUBLICATION.label}"
        " before it can be published"
    )


_STAGE_REASONS = {
    Stage.AWAITING_PUBLICATION: "The report is final and waiting to be published",
    Stage.PUBLISHED: "Published on the public learning page",
    # The reason itself stays with the decision: it may say why the child or family is at risk.
    Stage.NOT_PUBLISHED: "Not published; the reason is recorded with the publication decision."
    " Information about improvements is published instead",
}


def publish(
    db: Session,
    review: Review,
    publication: Publication,
    *,
    acknowledged: bool,
    actor: User,
    today: date,
    closures: frozenset[date],
    config: Mapping,
) -> None:
    """Put the public learning page up and move the review's stage; audited. Raises PublicationRefused."""
    problems = problems_before_publishing(db, review, publication, today)
    if problems:
        raise problems[0]
    notices = short_notices(publication, closures, config)
    if notices and not acknowledged:
        raise PublicationRefused(
            "Confirm that you know the report went out later than the working-day rule asks",
            "acknowledge",
        )
    if notices:
        publication.short_notice_acknowledged_at = utcnow()
        publication.short_notice_acknowledged_by_id = actor.id
        audit.record(
            db,
            "publication.short_notice_acknowledged",
            object_type="publication",
            object_id=publication.id,
            review_id=review.id,
            actor_id=actor.id,
            details={"recipients": [notice.recipient for notice in notices], "latest_on": _iso(notices[0].latest_on)},
        )
    for stage in stage_path(db, review, publication):
        try:
            move_review(db, review, stage, _STAGE_REASONS[stage], actor)
        except ReviewRuleError as refusal:
            raise PublicationRefused(refusal.message) from None
    publication.public_slug = unique_slug(db, review)
    publication.published_at = utcnow()
    publication.online_until = clocks.add_calendar_months(max(publication.publication_date, today), ONLINE_MONTHS)
    db.flush()
    audit.record(
        db,
        "publication.published",
        object_type="publication",
        object_id=publication.id,
        review_id=review.id,
        actor_id=actor.id,
        details={
            "decision": publication.decision,
            "slug": publication.public_slug,
            "online_until": publication.online_until.isoformat(),
        },
    )


def slug_base(review: Review) -> str:
    """The review's anonymised name and reference as a web address part: lower case ASCII and hyphens only."""
    words = unicodedata.normalize("NFKD", f"{review.anonymised_name} {review.reference}")
    ascii_words = words.encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", ascii_words).strip("-")[:_SLUG_BASE_LENGTH].rstrip("-") or "review"


def unique_slug(db: Session, review: Review) -> str:
    """A slug no other publication uses (the database's unique constraint settles any race)."""
    base = slug_base(review)
    taken = set(db.scalars(sa.select(Publication.public_slug).where(Publication.public_slug.like(f"{base}%"))))
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def take_down(db: Session, publication: Publication, actor: User, today: date) -> None:
    """Take the public page down: only once it has been online for the period TIMINGS.md asks."""
    if not publication.online:
        raise PublicationRefused("The public page is not online")
    if today < publication.online_until:
        raise PublicationRefused(
            f"The page must stay online until {long_date(publication.online_until)}: at least {ONLINE_MONTHS} months"
            " after publication"
        )
    publication.taken_down_at = utcnow()
    publication.taken_down_by_id = actor.id
    audit.record(
        db,
        "publication.taken_down",
        object_type="publication",
        object_id=publication.id,
        review_id=publication.review_id,
        actor_id=actor.id,
        details={"slug": publication.public_slug},
    )
