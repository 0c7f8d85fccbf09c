"""Practitioners' reflections: written as private drafts, then submitted and optionally shared.

A reflection belongs to the person who wrote it and nobody else reads it, with one exception the
writer chooses on submitting: sharing it with the independent author of the review it is about,
either with their name or showing only their role and agency. The audit trail records every change
but never the reflection's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.db import utcnow
from portal.events import services as event_services
from portal.events.models import (
    Event,
    Reflection,
    ReflectionStatus,
    Registration,
    RegistrationStatus,
    Sharing,
)
from portal.reviews.models import Membership, MembershipKind, Review
from portal.richtext import rich_text_from_input
from portal.security import audit
from portal.security.models import Role, User

PER_PAGE = 20


class ReflectionRefused(Exception):
    """Something the rules do not allow; the message is written for the person asking."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# What a reflection can be about ---------------------------------------------------------------


def is_member_of(db: Session, user: User, review_id: int) -> bool:
    """Whether the person holds any open membership of the review."""
    return bool(
        db.scalar(
            sa.select(sa.literal(True)).where(
                sa.exists().where(
                    Membership.review_id == review_id,
                    Membership.user_id == user.id,
                    Membership.ended_at.is_(None),
                )
            )
        )
    )


def event_to_reflect_on(db: Session, user: User, event_id: int) -> Event | None:
    """The event, if this person may write about it (they can see it)."""
    event = db.get(Event, event_id)
    if event is None or not event_services.can_see(db, user, event):
        return None
    return event


def review_to_reflect_on(db: Session, user: User, review_id: int) -> Review | None:
    """The review, if this person is taking part in it."""
    review = db.get(Review, review_id)
    if review is None or not is_member_of(db, user, review.id):
        return None
    return review


@dataclass(frozen=True)
class Subjects:
    """What a person can choose to write about: events they registered for, reviews they take part in."""

    events: list[Event]
    reviews: list[Review]


SUBJECTS_SHOWN = 200


def subjects_for(db: Session, user: User) -> Subjects:
    """The events (registered, newest first) and reviews (open memberships) offered on the new reflection form."""
    events = list(
        db.scalars(
            sa.select(Event)
            .join(Registration, Registration.event_id == Event.id)
            .where(Registration.user_id == user.id, Registration.status != RegistrationStatus.CANCELLED.value)
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(SUBJECTS_SHOWN)
        )
    )
    reviews = list(
        db.scalars(
            sa.select(Review)
            .where(
                Review.id.in_(
                    sa.select(Membership.review_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
                )
            )
            .order_by(Review.reference)
            .limit(SUBJECTS_SHOWN)
        )
    )
    return Subjects(events, reviews)


# Writing ------------------------------------------------------------------------------------------


def start_reflection(
    db: Session,
    author: User,
    *,
    event: Event | None = None,
    review: Review | None = None,
    title: str,
    body: str,
) -> Reflection:
    """A new private draft about an event (and so its review) or about a review the person takes part in."""
    if author.role != Role.PRACTITIONER.value:
        raise ReflectionRefused("Only practitioners write reflections")
    if event is None and review is None:
        raise ReflectionRefused("Select what your reflection is about", field="about")
    if event is not None:
        if not event_services.can_see(db, author, event):
            raise ReflectionRefused("Select an event you can see", field="about")
        if review is not None and review.id != event.review_id:
            raise ReflectionRefused("The event is not part of that review", field="about")
        review_id = event.review_id
    else:
        if not is_member_of(db, author, review.id):
            raise ReflectionRefused("Select a review you are taking part in", field="about")
        review_id = review.id
    now = utcnow()
    reflection = Reflection(
        author_id=author.id,
        event_id=event.id if event is not None else None,
        review_id=review_id,
        title=_title(title),
        body_html=rich_text_from_input(body),
        status=ReflectionStatus.DRAFT.value,
        sharing=Sharing.PRIVATE.value,
        created_at=now,
        updated_at=now,
    )
    db.add(reflection)
    db.flush()
    _audit(db, reflection, "reflection.started")
    return reflection


def save_draft(db: Session, reflection: Reflection, *, title: str, body: str) -> Reflection:
    """Keep the changes to a draft; a submitted reflection is final."""
    _must_be_draft(reflection)
    reflection.title = _title(title)
    reflection.body_html = rich_text_from_input(body)
    reflection.updated_at = utcnow()
    db.flush()
    _audit(db, reflection, "reflection.saved")
    return reflection


def sharing_choices(db: Session, reflection: Reflection) -> list[Sharing]:
    """How this reflection may be shared: with the author only when its review has one."""
    if reflection.review_id is not None and review_has_author(db, reflection.review_id):
        return [Sharing.PRIVATE, Sharing.NAMED, Sharing.ANONYMOUS]
    return [Sharing.PRIVATE]


def review_has_author(db: Session, review_id: int) -> bool:
    return bool(
        db.scalar(
            sa.select(sa.literal(True)).where(
                sa.exists().where(
                    Membership.review_id == review_id,
                    Membership.kind == MembershipKind.AUTHOR.value,
                    Membership.ended_at.is_(None),
                )
            )
        )
    )


def submit_reflection(
    db: Session, reflection: Reflection, sharing: Sharing, *, now: datetime | None = None
) -> Reflection:
    """Make the reflection final, kept private or shared with the review's author as the person chose."""
    _must_be_draft(reflection)
    if sharing not in sharing_choices(db, reflection):
        raise ReflectionRefused(
            "This reflection can only be kept to yourself: its review has no independent author", field="sharing"
        )
    if not reflection.body_html.strip():
        raise ReflectionRefused("Write your reflection before you submit it", field="sharing")
    reflection.status = ReflectionStatus.SUBMITTED.value
    reflection.sharing = sharing.value
    reflection.submitted_at = now or utcnow()
    reflection.updated_at = reflection.submitted_at
    db.flush()
    _audit(db, reflection, "reflection.submitted", sharing=sharing.value)
    return reflection


def delete_draft(db: Session, reflection: Reflection) -> None:
    """Remove a draft for good; a submitted reflection stays."""
    _must_be_draft(reflection)
    _audit(db, reflection, "reflection.deleted")
    db.delete(reflection)
    db.flush()


def _must_be_draft(reflection: Reflection) -> None:
    if not reflection.is_draft:
        raise ReflectionRefused("This reflection has been submitted and can no longer be changed")


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ReflectionRefused("Enter a title for your reflection", field="title")
    return title[:200]


def _audit(db: Session, reflection: Reflection, action: str, **details) -> None:
    # Only identifiers and choices: the title and words are the practitioner's own and stay out of the log.
    audit.record(
        db,
        action,
        object_type="reflection",
        object_id=reflection.id,
        review_id=reflection.review_id,
        actor_id=reflection.author_id,
        details={"event": reflection.event_id, **details},
    )


# Reading ------------------------------------------------------------------------------------------


def load_reflection_for(db: Session, user: User, reflection_id: int) -> Reflection | None:
    """The person's own reflection with what it is about; None for anyone else's (they get 404)."""
    return db.scalar(
        sa.select(Reflection)
        .where(Reflection.id == reflection_id, Reflection.author_id == user.id)
        .options(joinedload(Reflection.event), joinedload(Reflection.review))
    )


def reflections_of(db: Session, user: User, page: int = 1, per_page: int = PER_PAGE) -> tuple[list[Reflection], int]:
    """The person's reflections, drafts and submitted, most recently changed first; and how many in all."""
    total = db.scalar(sa.select(sa.func.count()).select_from(Reflection).where(Reflection.author_id == user.id)) or 0
    reflections = list(
        db.scalars(
            sa.select(Reflection)
            .where(Reflection.author_id == user.id)
            .options(joinedload(Reflection.event), joinedload(Reflection.review))
            .order_by(Reflection.updated_at.desc(), Reflection.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page)
        )
    )
    return reflections, total


@dataclass(frozen=True)
class SharedReflection:
    """A reflection as the review's author sees it: the words, and only the attribution the writer chose."""

    reflection: Reflection
    attribution: str

    @property
    def anonymous(self) -> bool:
        return self.reflection.sharing == Sharing.ANONYMOUS.value


def attribution(writer: User, sharing: Sharing) -> str:
    """The writer's name when shared with it; otherwise only their role and agency, never who they are."""
    if sharing == Sharing.NAMED:
        return writer.name
    agency = writer.agency.name if writer.agency else "a partner agency"
    return f"a {writer.role_enum.label.lower()} from {agency}"


def shared_reflections_for_review(db: Session, review_id: int) -> list[SharedReflection]:
    """Submitted reflections shared with the review's author, oldest first, with their attribution."""
    reflections = db.scalars(
        sa.select(Reflection)
        .where(
            Reflection.review_id == review_id,
            Reflection.status == ReflectionStatus.SUBMITTED.value,
            Reflection.sharing.in_([Sharing.NAMED.value, Sharing.ANONYMOUS.value]),
        )
        .options(joinedload(Reflection.author).joinedload(User.agency), joinedload(Reflection.event))
        .order_by(Reflection.submitted_at, Reflection.id)
    )
    return [
        SharedReflection(reflection, attribution(reflection.author, reflection.sharing_enum))
        for reflection in reflections
    ]
