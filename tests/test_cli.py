"""The operator's commands: ``flask users create``, ``flask demo seed`` and ``flask audit verify``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from portal.db import utcnow
from portal.security.audit import AuditEvent
from portal.security.models import Agency, Role, User, UserSession
from portal.security.passwords import verify_password
from tests.factories import make_user


def flask(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def seed(app: Flask, *options: str) -> list[dict]:
    result = flask(app, "demo", "seed", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def count_users(db) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(User))


def test_users_create_registers_a_person_with_a_lower_cased_email_in_their_agency(app, db):
    result = flask(
        app,
        *("users", "create", "--email", "  Alex.Jones@Northshire-Police.example.ORG "),
        *("--name", "Alex Jones", "--role", "practitioner", "--agency", "Northshire Police"),
    )

    assert result.exit_code == 0, result.output
    assert "Created practitioner alex.jones@northshire-police.example.org" in result.output
    assert "/password-reset" in result.output
    user = db.scalar(sa.select(User).where(User.email == "alex.jones@northshire-police.example.org"))
    assert user is not None
    assert (user.name, user.role, user.agency.name) == ("Alex Jones", Role.PRACTITIONER, "Northshire Police")
    assert user.password_hash is None, "they choose their own password through the reset link"
    recorded = db.scalar(
        sa.select(AuditEvent.details).where(AuditEvent.action == "user.created", AuditEvent.object_id == str(user.id))
    )
    assert recorded is not None, "creating a person must be in the audit trail"


def test_users_create_refuses_an_email_someone_already_has_whatever_its_case(app, db):
    make_user(db, email="sam.taylor@example.org")
    before = count_users(db)

    result = flask(
        app,
        *("users", "create", "--email", "Sam.Taylor@EXAMPLE.org", "--name", "Another Sam"),
        *("--role", "family", "--agency", "Agency nobody asked for"),
    )

    assert result.exit_code != 0
    assert "Someone already has the email address sam.taylor@example.org." in result.output
    assert "Traceback" not in result.output
    assert count_users(db) == before
    assert db.scalar(sa.select(Agency).where(Agency.name == "Agency nobody asked for")) is None


def test_users_create_refuses_an_address_that_is_not_an_email(app, db):
    before = count_users(db)
    result = flask(app, "users", "create", "--email", "sam at example", "--name", "Sam", "--role", "practitioner")
    assert result.exit_code != 0
    assert "is not a usable email address" in result.output
    assert count_users(db) == before


def test_demo_seed_creates_one_person_for_each_part_of_a_review(app, db):
    before = count_users(db)
    accounts = seed(app)

    assert count_users(db) == before + 6
    assert Counter(account["role"] for account in accounts) == {
        Role.COORDINATOR: 1,
        Role.PRACTITIONER: 2,
        Role.AUTHOR: 1,
        Role.FAMILY: 2,
    }
    users = {account["email"]: db.scalar(sa.select(User).where(User.email == account["email"])) for account in accounts}
    assert all(user is not None for user in users.values())
    practitioner_agencies = {user.agency.name for user in users.values() if user.role == Role.PRACTITIONER}
    assert len(practitioner_agencies) == 2, "the two practitioners should come from different agencies"
    for account in accounts:
        assert users[account["email"]].role == account["role"]
        assert verify_password(users[account["email"]].password_hash, account["password"])


def test_demo_seed_prints_json_a_script_can_sign_in_with(app, db):
    accounts = seed(app)

    assert isinstance(accounts, list) and len(accounts) == 6
    for account in accounts:
        assert set(account) == {"role", "email", "password", "totp_secret"}
        if account["role"] in {Role.COORDINATOR, Role.AUTHOR, Role.FAMILY}:
            # The secret is what an authenticator app is given: it must produce codes. Demo family
            # members use an app, so scripts can sign them in on a new device.
            assert pyotp.TOTP(account["totp_secret"]).now().isdigit()
        else:
            assert account["totp_secret"] is None


def test_demo_seed_run_twice_adds_nobody_and_keeps_the_authenticator_secrets(app, db):
    first = seed(app)
    after_first = count_users(db)
    second = seed(app)

    assert count_users(db) == after_first
    assert {a["email"]: a["totp_secret"] for a in second} == {a["email"]: a["totp_secret"] for a in first}
    emails = [account["email"] for account in first]
    stored = dict(db.execute(sa.select(User.email, User.totp_secret).where(User.email.in_(emails))).all())
    assert stored == {a["email"]: a["totp_secret"] for a in first}


def test_demo_seed_with_a_password_resets_every_demo_account_to_it(app, db):
    original = seed(app)
    new_password = "a different demo pass phrase"

    accounts = seed(app, "--password", new_password)

    assert {account["password"] for account in accounts} == {new_password}
    for account in accounts:
        db.expire_all()
        user = db.scalar(sa.select(User).where(User.email == account["email"]))
        assert verify_password(user.password_hash, new_password)
        assert not verify_password(user.password_hash, original[0]["password"])


def test_demo_seed_is_refused_in_production(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    before = count_users(db)

    result = flask(app, "demo", "seed")

    assert result.exit_code != 0
    assert "The demo cannot be seeded in production." in result.output
    assert count_users(db) == before


def test_audit_verify_passes_on_a_freshly_seeded_demo(app, db):
    seed(app)
    rows = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert rows > 0, "seeding the demo should leave an audit trail"

    result = flask(app, "audit", "verify")

    assert result.exit_code == 0, result.output
    assert f"Audit trail intact: {rows} rows checked." in result.output


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_users_create_accepts_every_role(app, db, role):
    result = flask(app, "users", "create", "--email", f"new.{role}@example.org", "--name", "New Person", "--role", role)
    assert result.exit_code == 0, result.output
    assert db.scalar(sa.select(User.role).where(User.email == f"new.{role}@example.org")) == role


def test_sessions_prune_removes_only_old_records(app, db):
    now = utcnow()
    user = make_user(db)
    db.add_all(
        [
            UserSession(token_hash="a" * 64, user_id=user.id, created_at=now, last_seen_at=now),
            UserSession(
                token_hash="b" * 64, created_at=now - timedelta(days=40), last_seen_at=now - timedelta(days=40)
            ),
            UserSession(
                token_hash="c" * 64,
                user_id=user.id,
                created_at=now - timedelta(days=3),
                last_seen_at=now - timedelta(days=3),
                ended_at=now - timedelta(days=31),
            ),
        ]
    )
    db.commit()
    result = flask(app, "sessions", "prune", "--days", "30")
    assert result.exit_code == 0
    assert "session records older than 30 days" in result.output
    db.expire_all()
    left = set(
        db.scalars(sa.select(UserSession.token_hash).where(UserSession.token_hash.in_(["a" * 64, "b" * 64, "c" * 64])))
    )
    assert left == {"a" * 64}


def test_demo_seed_adds_one_review_part_way_through_its_cspr_once(app, db):
    from portal.reviews.access import Part, access_to
    from portal.reviews.models import Membership, Review, StageChange

    seed(app)
    seed(app)

    (review,) = db.scalars(sa.select(Review).where(Review.reference == "LSCP-2026-004")).all()
    assert (review.anonymised_name, review.stage) == ("Child H", "cspr_in_progress")
    stages = db.scalars(
        sa.select(StageChange.to_stage).where(StageChange.review_id == review.id).order_by(StageChange.id)
    ).all()
    assert stages == ["incident_recorded", "notified", "rapid_review", "cspr_commissioned", "cspr_in_progress"]
    kinds = dict(
        db.execute(
            sa.select(User.email, Membership.kind)
            .join(User, User.id == Membership.user_id)
            .where(Membership.review_id == review.id)
        ).all()
    )
    assert kinds == {
        "author@demo.example.org": "author",
        "health.visitor@demo.example.org": "agency_lead",
        "social.worker@demo.example.org": "practitioner",
        "parent@demo.example.org": "family",
        "grandparent@demo.example.org": "family",
    }
    author = db.scalar(sa.select(User).where(User.email == "author@demo.example.org"))
    assert access_to(db, author, review).can(Part.TIMELINE), "the demo author has declared their independence"
    moves = db.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "review.stage_changed", AuditEvent.review_id == review.id)
    )
    assert moves == 4


def test_demo_seed_adds_learning_events_once_with_a_registration_and_a_certificate_to_show(app, db):
    from portal.events.models import Event, Registration
    from portal.notifications.models import OutboxMessage

    seed(app)
    seed(app)

    events = {event.title: event for event in db.scalars(sa.select(Event))}
    assert len(events) == 4
    assert {event.status for event in events.values()} == {"published"}
    child_h = events["Practitioner learning event: Child H"]
    assert (child_h.audience, child_h.review.reference) == ("review_members", "LSCP-2026-004")
    places = db.execute(
        sa.select(Event.title, User.email, Registration.status, Registration.attendance)
        .join(Registration.event)
        .join(Registration.user)
        .order_by(Event.title, User.email)
    ).all()
    assert places == [
        (
            "Learning briefing: sharing information between agencies",
            "social.worker@demo.example.org",
            "confirmed",
            None,
        ),
        ("Training: the voice of the child in assessments", "health.visitor@demo.example.org", "confirmed", "attended"),
        ("Training: the voice of the child in assessments", "social.worker@demo.example.org", "confirmed", "attended"),
    ]
    confirmation = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "event_confirmation"))
    assert confirmation.to_address == "social.worker@demo.example.org"
    assert confirmation.attachment_type == "text/calendar; method=REQUEST"


def test_demo_seed_gives_each_demo_family_member_their_details_and_consent_only_as_told(app, db):
    from portal.consent.models import ConsentRecord
    from portal.families.models import FamilyMember

    seed(app)
    seed(app)

    members = {member.person.email: member for member in db.scalars(sa.select(FamilyMember))}
    assert {email: m.relationship_to_child for email, m in members.items()} == {
        "parent@demo.example.org": "Mother",
        "grandparent@demo.example.org": "Grandmother",
    }
    assert members["grandparent@demo.example.org"].letter_worker == "Sam Reid, family liaison worker"
    # Consent is theirs to give: the mother chooses online; the grandmother, who hears by letter, told
    # her worker, and the coordinator recorded that after the conversation.
    records = db.scalars(sa.select(ConsentRecord)).all()
    assert {record.person_id for record in records} == {members["grandparent@demo.example.org"].person.id}
    assert {(record.scope, record.channel, record.given, record.method) for record in records} == {
        ("updates", "letter", True, "recorded_by_staff"),
        ("see_draft", None, True, "recorded_by_staff"),
    }


def test_demo_seed_adds_the_authors_work_once(app, db):
    from portal.authoring.anonymisation import check_version
    from portal.authoring.drafts import SUGGESTED_HEADINGS
    from portal.authoring.models import ContributionRequest, Draft, ProtectedTerm
    from portal.learning.models import LearningPoint
    from portal.learning.services import today
    from portal.notifications.models import OutboxMessage
    from portal.reviews.models import Review
    from portal.richtext import plain_text

    seed(app)
    seed(app)

    review = db.scalar(sa.select(Review).where(Review.reference == "LSCP-2026-004"))
    author = db.scalar(sa.select(User).where(User.email == "author@demo.example.org"))
    health_visitor = db.scalar(sa.select(User).where(User.email == "health.visitor@demo.example.org"))

    (request,) = db.scalars(sa.select(ContributionRequest).where(ContributionRequest.review_id == review.id)).all()
    assert (request.asked_by, request.recipient, request.status) == (author, health_visitor, "answered")
    assert (request.answer.status, request.answer.files) == ("submitted", [])
    assert "four home visits" in plain_text(request.answer.text)
    messages = db.execute(
        sa.select(OutboxMessage.kind, OutboxMessage.status).where(OutboxMessage.recipient_id == health_visitor.id)
    ).all()
    assert ("contribution_request", "pending") in messages, "the health visitor was told she had been asked"
    assert ("contribution_request_reminder", "pending") not in messages, "no reminder once she has answered"

    terms = db.execute(sa.select(ProtectedTerm.term, ProtectedTerm.category)).all()
    assert terms == [("Harry", "child_name")]

    (draft,) = db.scalars(sa.select(Draft).where(Draft.review_id == review.id)).all()
    assert (draft.version, draft.kind, draft.created_by, draft.shared_at) == (1, "written", author, None)
    assert [section.heading for section in draft.sections] == list(SUGGESTED_HEADINGS)
    assert all(plain_text(section.body).strip() for section in draft.sections), "every section has some words"
    assert check_version(db, review, draft).hits == [], "the demo draft names no one and holds no personal data"

    (point,) = db.scalars(sa.select(LearningPoint).where(LearningPoint.review_id == review.id)).all()
    (action,) = point.actions
    assert (action.agency_id, action.status) == (health_visitor.agency_id, "not_started")
    assert action.due_on > today()


def test_demo_seed_says_what_it_added_of_the_authors_work_only_the_first_time(app, db):
    first = flask(app, "demo", "seed")
    second = flask(app, "demo", "seed")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "Added the author's work to LSCP-2026-004: an answered contribution request" in first.output
    assert "author's work" not in second.output


def test_demo_seed_protects_the_childs_first_name_and_no_other_seeded_text_holds_it(app, db):
    from portal.authoring.detectors import HitKind, find_hits
    from portal.db import Base

    seed(app)

    found = []
    for table in Base.metadata.sorted_tables:
        if table.name == "protected_terms":
            continue
        columns = [column for column in table.columns if isinstance(column.type, sa.String)]
        for row in db.execute(sa.select(*columns)) if columns else ():
            for column, value in zip(columns, row, strict=True):
                hits = find_hits(value, ["Harry"]) if isinstance(value, str) else []
                if any(hit.kind == HitKind.PROTECTED_TERM for hit in hits):
                    found.append(f"{table.name}.{column.name}")
    assert found == []
