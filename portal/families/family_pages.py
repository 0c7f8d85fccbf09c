"""What a family member's own pages read and write: their reviews, their choices, their updates.

A family member reaches a review only through their own open family membership of it; everything else
is 404, so they cannot learn that another review exists. Choices are read from and written to the
consent ledger for the signed-in person only: nothing here takes another person's id.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session, joinedload

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentScope
from portal.families.explanation import EXPLANATION_VERSION
from portal.families.models import FamilyMember, FamilyUpdate
from portal.pagination import Pagination
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security import audit
from portal.security.models import User

UPDATES_PER_PAGE = 10

# Where a review has reached, as a family member would want to hear it: no stage names, no jargon.
STAGE_SENTENCES: dict[Stage, str] = {
    Stage.INCIDENT_RECORDED: "The team has just started to look at what happened.",
    Stage.NOTIFIED: "The team has just started to look at what happened.",
    Stage.RAPID_REVIEW: "The team is looking at what happened. Then they will decide if there will be a full review.",
    Stage.CSPR_COMMISSIONED: "A full review will take place. We are finding the right person to write it.",
    Stage.CSPR_IN_PROGRESS: "The review is going on now. The author is finding out what happened.",
    Stage.PRE_PUBLICATION: "The report has been written. It is being checked before it is shared.",
    Stage.AWAITING_PUBLICATION: "The report is finished. We are getting ready to share it.",
    Stage.PUBLISHED: "The report has been shared with the public.",
    Stage.NOT_PUBLISHED: "The review is finished. The report will not be shared with the public.",
    Stage.ACTION_PLAN: "The review is over. Now the changes it asked for are being made.",
    Stage.CLOSED: "The review is finished.",
}

# The questions with one yes or no each, in the order the page asks them.
SINGLE_CHOICES: tuple[ConsentScope, ...] = (
    ConsentScope.AUTHOR_CONTACT,
    ConsentScope.CONTRIBUTE,
    ConsentScope.SEE_DRAFT,
    ConsentScope.QUOTE_ANONYMOUSLY,
)

# What each choice means, said back to the person on the summary page.
SAID_YES: dict[ConsentScope, str] = {
    ConsentScope.AUTHOR_CONTACT: "The person who writes the review can get in touch with you.",
    ConsentScope.CONTRIBUTE: "You want to tell us about your child and your family.",
    ConsentScope.SEE_DRAFT: "You want to read the report before it is shared.",
    ConsentScope.QUOTE_ANONYMOUSLY: "The report can use your words. It will not use your name.",
}
SAID_NO: dict[ConsentScope, str] = {
    ConsentScope.AUTHOR_CONTACT: "The person who writes the review will not get in touch with you.",
    ConsentScope.CONTRIBUTE: "You do not want to tell us about your family for now.",
    ConsentScope.SEE_DRAFT: "You do not want to read the report before it is shared.",
    ConsentScope.QUOTE_ANONYMOUSLY: "The report will not use your words.",
}
CHANNEL_WORDS: dict[ConsentChannel, str] = {
    ConsentChannel.EMAIL: "by email",
    ConsentChannel.SMS: "by text message",
    ConsentChannel.LETTER: "by letter",
}


def review_title(review: Review) -> str:
    """How family pages name a review: never its reference, only the child's anonymised name."""
    return f"the review about {review.anonymised_name}"


def stage_sentence(review: Review) -> str:
    return STAGE_SENTENCES[review.stage_enum]


def load_own_family_membership(db: Session, user: User, review_id: int) -> Membership:
    """The person's open family membership of the review, with the review; 404 if they have none."""
    membership = db.scalar(
        sa.select(Membership)
        .options(joinedload(Membership.review))
        .where(
            Membership.review_id == review_id,
            Membership.user_id == user.id,
            Membership.kind == MembershipKind.FAMILY.value,
            Membership.ended_at.is_(None),
        )
    )
    if membership is None:
        abort(404)
    return membership


def own_family_memberships(db: Session, user: User) -> list[Membership]:
    """Every review the person is part of as a family member, oldest first, with its review."""
    return list(
        db.scalars(
            sa.select(Membership)
            .options(joinedload(Membership.review))
            .where(
                Membership.user_id == user.id,
                Membership.kind == MembershipKind.FAMILY.value,
                Membership.ended_at.is_(None),
            )
            .order_by(Membership.review_id)
        )
    )


# Choices ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """A person's answers: None means they have not answered that question yet."""

    updates: bool | None
    channels: frozenset[ConsentChannel]
    single: dict[ConsentScope, bool | None]

    def wanted(self) -> dict[tuple[ConsentScope, ConsentChannel | None], bool]:
        """The ledger rows these answers stand for, one per scope (and per channel for updates)."""
        rows: dict[tuple[ConsentScope, ConsentChannel | None], bool] = {}
        if self.updates is not None:
            for channel in ConsentChannel:
                rows[(ConsentScope.UPDATES, channel)] = self.updates and channel in self.channels
        for scope, given in self.single.items():
            if given is not None:
                rows[(scope, None)] = given
        return rows


def current_choices(db: Session, person: User, review_id: int) -> Choices:
    """What the ledger says the person has chosen now, to fill in the form and to say back to them."""
    current = ledger.current_consent(db, person.id, review_id)
    update_records = {channel: record for (scope, channel), record in current.items() if scope == ConsentScope.UPDATES}
    channels = frozenset(channel for channel, record in update_records.items() if record.given)
    updates = True if channels else (False if update_records else None)
    single = {scope: (current[(scope, None)].given if (scope, None) in current else None) for scope in SINGLE_CHOICES}
    return Choices(updates=updates, channels=channels, single=single)


def save_choices(db: Session, person: User, review_id: int, choices: Choices) -> int:
    """Append a ledger row for each choice that is new or changed, with the explanation's version.

    Answers that match the ledger add nothing, so the ledger shows when a mind was changed, not when
    a page was saved. The number of rows added.
    """
    current = ledger.current_consent(db, person.id, review_id)
    added = 0
    for (scope, channel), given in choices.wanted().items():
        latest = current.get((scope, channel))
        if latest is not None and latest.given == given:
            continue
        ledger.record_choice(
            db,
            person=person,
            review_id=review_id,
            scope=scope,
            channel=channel,
            given=given,
            text_version=EXPLANATION_VERSION,
        )
        added += 1
    return added


def ways_to_reach(db: Session, person: User, review_id: int) -> set[ConsentChannel]:
    """The channels we hold details for: an email address, a mobile number, an address or a worker for letters."""
    ways = set()
    if person.email:
        ways.add(ConsentChannel.EMAIL)
    if person.phone:
        ways.add(ConsentChannel.SMS)
    details = db.scalar(
        sa.select(FamilyMember)
        .join(Membership, FamilyMember.membership_id == Membership.id)
        .where(
            Membership.review_id == review_id,
            Membership.user_id == person.id,
            Membership.kind == MembershipKind.FAMILY.value,
            Membership.ended_at.is_(None),
        )
    )
    if details is not None and (details.postal_address or details.letter_worker):
        ways.add(ConsentChannel.LETTER)
    return ways


def said_back(choices: Choices) -> list[str]:
    """The person's choices in plain words, one sentence each, for the summary page."""
    sentences = []
    if choices.updates:
        ways = [CHANNEL_WORDS[channel] for channel in ConsentChannel if channel in choices.channels]
        joined = ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " and " + ways[-1]
        sentences.append(f"We will send you updates about the review {joined}.")
    elif choices.updates is False:
        sentences.append("We will not send you updates. You can still read them here.")
    for scope, given in choices.single.items():
        if given is not None:
            sentences.append((SAID_YES if given else SAID_NO)[scope])
    return sentences


# Stop all contact ---------------------------------------------------------------------------------


def stop_all_contact(db: Session, person: User) -> int:
    """Withdraw every choice now given, for every review the person is part of. The number withdrawn."""
    withdrawn = 0
    for membership in own_family_memberships(db, person):
        withdrawn += len(
            ledger.withdraw_everything(
                db, person=person, review_id=membership.review_id, text_version=EXPLANATION_VERSION
            )
        )
        audit.record(
            db,
            "family.stop_all_contact",
            object_type="person",
            object_id=person.id,
            review_id=membership.review_id,
            actor_id=person.id,
        )
    return withdrawn


# Updates ------------------------------------------------------------------------------------------


def updates_page(db: Session, review_id: int, page: int) -> tuple[Pagination, list[FamilyUpdate]]:
    """One page of the updates written for the review's families, newest first."""
    where = FamilyUpdate.review_id == review_id
    total = db.scalar(sa.select(sa.func.count()).select_from(FamilyUpdate).where(where)) or 0
    pagination = Pagination.of(total, UPDATES_PER_PAGE, page)
    rows = db.scalars(
        sa.select(FamilyUpdate)
        .where(where)
        .order_by(FamilyUpdate.created_at.desc(), FamilyUpdate.id.desc())
        .offset(pagination.offset)
        .limit(pagination.per_page)
    )
    return pagination, list(rows)
