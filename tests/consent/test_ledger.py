"""The consent ledger: choices are appended, never changed; current consent is the latest choice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentRecord, ConsentScope
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.factories import make_review, make_user

TEXT = "2026-11"


@pytest.fixture
def family(db):
    review = make_review(db)
    person = make_user(db, role=Role.FAMILY)
    return person, review


def test_no_choice_at_all_means_no(db, family):
    person, review = family
    assert not ledger.allows(db, person_id=person.id, review_id=review.id, scope=ConsentScope.CONTRIBUTE)
    assert ledger.current_consent(db, person.id, review.id) == {}


def test_current_consent_is_the_latest_choice_for_each_scope_and_channel(db, family):
    person, review = family
    for scope, channel, given in [
        (ConsentScope.UPDATES, ConsentChannel.EMAIL, True),
        (ConsentScope.UPDATES, ConsentChannel.SMS, True),
        (ConsentScope.CONTRIBUTE, None, True),
        (ConsentScope.UPDATES, ConsentChannel.SMS, False),
        (ConsentScope.SEE_DRAFT, None, False),
    ]:
        ledger.record_choice(
            db, person=person, review_id=review.id, scope=scope, channel=channel, given=given, text_version=TEXT
        )
    db.commit()

    current = {choice: record.given for choice, record in ledger.current_consent(db, person.id, review.id).items()}
    assert current == {
        (ConsentScope.UPDATES, ConsentChannel.EMAIL): True,
        (ConsentScope.UPDATES, ConsentChannel.SMS): False,
        (ConsentScope.CONTRIBUTE, None): True,
        (ConsentScope.SEE_DRAFT, None): False,
    }
    allows = ledger.allows
    assert allows(
        db, person_id=person.id, review_id=review.id, scope=ConsentScope.UPDATES, channel=ConsentChannel.EMAIL
    )
    assert not allows(
        db, person_id=person.id, review_id=review.id, scope=ConsentScope.UPDATES, channel=ConsentChannel.SMS
    )
    # Consent is per review: the same person's choices about another review are separate.
    other = make_review(db)
    assert not allows(db, person_id=person.id, review_id=other.id, scope=ConsentScope.CONTRIBUTE)
    assert db.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 5


def test_withdrawing_everything_is_one_step_that_leaves_the_history(db, family):
    person, review = family
    coordinator = make_user(db, role=Role.COORDINATOR)
    ledger.record_choice(
        db,
        person=person,
        review_id=review.id,
        scope=ConsentScope.UPDATES,
        channel=ConsentChannel.EMAIL,
        given=True,
        text_version=TEXT,
    )
    ledger.record_choice(
        db,
        person=person,
        review_id=review.id,
        scope=ConsentScope.AUTHOR_CONTACT,
        given=True,
        text_version=TEXT,
        recorded_by=coordinator,
    )
    ledger.record_choice(
        db, person=person, review_id=review.id, scope=ConsentScope.SEE_DRAFT, given=False, text_version=TEXT
    )

    withdrawn = ledger.withdraw_everything(db, person=person, review_id=review.id, text_version=TEXT)
    db.commit()

    assert {(record.scope, record.channel) for record in withdrawn} == {("updates", "email"), ("author_contact", None)}
    assert not any(record.given for record in ledger.current_consent(db, person.id, review.id).values())
    history = db.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(r.scope, r.given, r.method) for r in history] == [
        ("updates", True, "online"),
        ("author_contact", True, "recorded_by_staff"),
        ("see_draft", False, "online"),
        ("updates", False, "online"),
        ("author_contact", False, "online"),
    ]
    assert history[1].recorded_by_id == coordinator.id
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.review_id == review.id)).all()
    assert actions.count("consent.withdrawn") == 3
    assert actions.count("consent.given") == 2


def test_the_ledger_refuses_changes_and_deletions_in_the_database_itself(db, family):
    person, review = family
    record = ledger.record_choice(
        db, person=person, review_id=review.id, scope=ConsentScope.CONTRIBUTE, given=True, text_version=TEXT
    )
    db.commit()
    for statement in (
        sa.update(ConsentRecord).where(ConsentRecord.id == record.id).values(given=False),
        sa.delete(ConsentRecord).where(ConsentRecord.id == record.id),
    ):
        with pytest.raises(DatabaseError, match="append-only"), db.begin_nested():
            db.execute(statement)


@pytest.mark.parametrize(
    ("scope", "channel", "method_by_staff_without_recorder"),
    [(ConsentScope.UPDATES, None, False), (ConsentScope.CONTRIBUTE, ConsentChannel.EMAIL, False)],
)
def test_updates_need_a_channel_and_other_scopes_have_none(
    db, family, scope, channel, method_by_staff_without_recorder
):
    person, review = family
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(
            ConsentRecord(
                person_id=person.id,
                review_id=review.id,
                scope=scope.value,
                channel=channel.value if channel else None,
                given=True,
                text_version=TEXT,
                method="online",
            )
        )
        db.flush()


def test_a_choice_recorded_by_staff_names_who_recorded_it(db, family):
    person, review = family
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(
            ConsentRecord(
                person_id=person.id,
                review_id=review.id,
                scope="contribute",
                given=True,
                text_version=TEXT,
                method="recorded_by_staff",
            )
        )
        db.flush()
