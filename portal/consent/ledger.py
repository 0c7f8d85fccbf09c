"""Recording consent choices and reading current consent from the ledger."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.consent.models import ConsentChannel, ConsentMethod, ConsentRecord, ConsentScope
from portal.db import utcnow
from portal.security import audit
from portal.security.models import User

Choice = tuple[ConsentScope, ConsentChannel | None]


def record_choice(
    db: Session,
    *,
    person: User,
    review_id: int,
    scope: ConsentScope,
    given: bool,
    text_version: str,
    channel: ConsentChannel | None = None,
    recorded_by: User | None = None,
    at: datetime | None = None,
) -> ConsentRecord:
    """Append one choice; by the person online, or by a member of staff after a conversation."""
    # The outbox worker holds this row (FOR SHARE) while it checks consent and sends: a withdrawal
    # waits for a send in progress, and a send that starts afterwards sees the withdrawal.
    db.execute(sa.select(User.id).where(User.id == person.id).with_for_update())
    record = ConsentRecord(
        person_id=person.id,
        review_id=review_id,
        scope=scope.value,
        channel=channel.value if channel else None,
        given=given,
        text_version=text_version,
        method=(ConsentMethod.RECORDED_BY_STAFF if recorded_by else ConsentMethod.ONLINE).value,
        recorded_by_id=recorded_by.id if recorded_by else None,
        recorded_at=at or utcnow(),
    )
    db.add(record)
    db.flush()
    audit.record(
        db,
        "consent.given" if given else "consent.withdrawn",
        object_type="person",
        object_id=person.id,
        review_id=review_id,
        actor_id=(recorded_by or person).id,
        details={"scope": scope.value, "channel": record.channel, "method": record.method},
    )
    return record


def withdraw_everything(
    db: Session, *, person: User, review_id: int, text_version: str, recorded_by: User | None = None
) -> list[ConsentRecord]:
    """Withdraw every choice now given, in one step, effective at once."""
    return [
        record_choice(
            db,
            person=person,
            review_id=review_id,
            scope=ConsentScope(record.scope),
            channel=ConsentChannel(record.channel) if record.channel else None,
            given=False,
            text_version=text_version,
            recorded_by=recorded_by,
        )
        for record in current_consent(db, person.id, review_id).values()
        if record.given
    ]


def current_consent(db: Session, person_id: int, review_id: int) -> dict[Choice, ConsentRecord]:
    """The latest record for each choice the person has ever made about this review."""
    latest = (
        sa.select(sa.func.max(ConsentRecord.id))
        .where(ConsentRecord.person_id == person_id, ConsentRecord.review_id == review_id)
        .group_by(ConsentRecord.scope, ConsentRecord.channel)
    )
    # In the order the choices were made, so withdrawing everything appends in a predictable order.
    records = db.scalars(sa.select(ConsentRecord).where(ConsentRecord.id.in_(latest)).order_by(ConsentRecord.id))
    return {
        (ConsentScope(record.scope), ConsentChannel(record.channel) if record.channel else None): record
        for record in records
    }


def allows(
    db: Session, *, person_id: int, review_id: int, scope: ConsentScope, channel: ConsentChannel | None = None
) -> bool:
    """Whether the latest choice for this scope (and channel) is "yes". No choice at all means no."""
    record = db.scalar(
        sa.select(ConsentRecord)
        .where(
            ConsentRecord.person_id == person_id,
            ConsentRecord.review_id == review_id,
            ConsentRecord.scope == scope.value,
            ConsentRecord.channel.is_(None) if channel is None else ConsentRecord.channel == channel.value,
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
    return record is not None and record.given
