"""Staff add and change a review's family members, and record consent told in a conversation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentRecord, ConsentScope
from portal.families import services
from portal.families.models import FamilyMember, PreferredChannel
from portal.reviews.memberships import end_membership
from portal.reviews.models import Membership, MembershipKind
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_review, make_user

VALID = {
    "name": "Sam Carter",
    "relationship_to_child": "Mother",
    "email": "Sam.Carter@example.org",
    "phone": "",
    "postal_address": "",
    "preferred_channel": "email",
    "letter_worker": "",
    "support_needs": "",
    "young_person": "no",
    "supporting_adult": "",
}


def add_member(db, review, actor, **changes) -> FamilyMember:
    values = {
        "name": "Alex Doe",
        "email": "alex@example.org",
        "relationship_to_child": "Father",
        "preferred_channel": PreferredChannel.EMAIL,
    }
    values.update(changes)
    member = services.add_family_member(db, review, services.FamilyDetails(**values), actor)
    db.commit()
    return member


@pytest.mark.parametrize(
    ("channel", "extra", "shown"),
    [
        ("email", {}, "Email"),
        ("sms", {"phone": "07700 900982"}, "Text message"),
        (
            "letter",
            {"postal_address": "1 High Street\nTown", "letter_worker": "Jo Smith"},
            "Letter through a named worker",
        ),
    ],
)
def test_adding_a_family_member_with_each_preferred_channel(as_coordinator, db, coordinator, channel, extra, shown):
    review = make_review(db, coordinator=coordinator)
    response = submit(
        as_coordinator, f"/reviews/{review.id}/family/new", {**VALID, "preferred_channel": channel, **extra}
    )
    assert response.status_code == 302, text_of(response.text)

    person = db.scalar(sa.select(User).where(User.email == "sam.carter@example.org"))
    assert person.role == Role.FAMILY and person.password_hash is None
    membership = db.scalar(sa.select(Membership).where(Membership.user_id == person.id))
    assert membership.review_id == review.id and membership.kind == MembershipKind.FAMILY
    member = db.scalar(sa.select(FamilyMember).where(FamilyMember.membership_id == membership.id))
    assert member.preferred_channel == channel
    if channel == "sms":
        assert person.phone == "+447700900982"
    page = text_of(as_coordinator.get(response.headers["Location"]).text)
    assert "Sam Carter" in page and shown in page
    assert "Updates by email Not asked yet" in page
    actions = set(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.review_id == review.id)))
    assert {"membership.appointed", "family_member.added"} <= actions


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        ({"name": "", "email": ""}, "Enter their email address", "Mother"),
        ({"email": "not an address"}, "Enter an email address in the correct format", "not an address"),
        ({"phone": "0123 456"}, "Enter a UK mobile number, like 07700 900982", "0123 456"),
        ({"preferred_channel": "sms"}, "Enter a mobile number to send them text messages", "Sam Carter"),
        ({"preferred_channel": "letter"}, "Enter the name of the worker who will give them letters", "Sam Carter"),
        ({"preferred_channel": "letter", "letter_worker": "Jo"}, "Enter a postal address to send them letters", "Jo"),
        ({"young_person": "yes"}, "Enter the name of the adult supporting the young person", "Sam Carter"),
        ({"young_person": ""}, "Select yes if they are a young person", "Sam Carter"),
        ({"preferred_channel": ""}, "Select how they prefer to hear from us", "Sam Carter"),
    ],
)
def test_a_wrong_form_says_what_to_fix_and_keeps_what_was_typed(
    as_coordinator, db, coordinator, changes, message, kept
):
    review = make_review(db, coordinator=coordinator)
    response = submit(as_coordinator, f"/reviews/{review.id}/family/new", {**VALID, **changes})
    assert response.status_code == 200
    assert response.text.count(message) >= 2, "in the error summary and by the field"
    assert kept in text_of(response.text) or f'value="{kept}"' in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(FamilyMember)) == 0


def test_an_email_already_used_gets_a_clear_error_on_the_email_field(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    make_user(db, email="sam.carter@example.org")
    response = submit(as_coordinator, f"/reviews/{review.id}/family/new", VALID)
    assert response.status_code == 200
    assert 'href="#email"' in response.text
    assert "already used by someone with an account" in text_of(response.text)
    assert 'value="Sam Carter"' in response.text


def test_editing_details_never_touches_the_ledger(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    member = add_member(db, review, coordinator)
    ledger.record_choice(
        db,
        person=member.person,
        review_id=review.id,
        scope=ConsentScope.UPDATES,
        channel=ConsentChannel.EMAIL,
        given=True,
        text_version="2026-11",
    )
    db.commit()
    before = db.execute(sa.select(ConsentRecord.id, ConsentRecord.given)).all()
    url = f"/reviews/{review.id}/family/{member.id}/edit"
    form = text_of(as_coordinator.get(url).text)
    assert "Alex Doe" in as_coordinator.get(url).text and "does not change what they have agreed to" in form

    response = submit(
        as_coordinator,
        url,
        {
            **VALID,
            "name": "Alex Doe-Smith",
            "email": "alex@example.org",
            "preferred_channel": "sms",
            "phone": "+44 7700 900123",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.execute(sa.select(ConsentRecord.id, ConsentRecord.given)).all() == before
    assert member.person.name == "Alex Doe-Smith" and member.person.phone == "+447700900123"
    page = text_of(as_coordinator.get(response.headers["Location"]).text)
    assert "Updates by email Yes" in page
    # The stored number is shown back in the form the way people write it.
    assert 'value="07700 900123"' in as_coordinator.get(url).text


def test_consent_recorded_by_staff_shows_how_and_by_whom_and_only_changes_are_added(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    member = add_member(db, review, coordinator)
    url = f"/reviews/{review.id}/family/{member.id}/consent"
    answers = {"updates_email": "yes", "updates_sms": "no", "contribute": "yes"}
    assert submit(as_coordinator, url, answers).status_code == 302

    rows = db.scalars(sa.select(ConsentRecord).where(ConsentRecord.person_id == member.person.id)).all()
    assert {(r.scope, r.channel, r.given) for r in rows} == {
        ("updates", "email", True),
        ("updates", "sms", False),
        ("contribute", None, True),
    }
    assert {(r.method, r.recorded_by_id, r.text_version) for r in rows} == {
        ("recorded_by_staff", coordinator.id, "conversation")
    }
    page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{member.id}").text)
    assert "Updates by email Yes" in page
    assert f"Recorded by {coordinator.name} after a conversation" in page
    assert "Their words may be quoted anonymously Not asked yet" in page

    # The same answers again, and one change: only the change is appended.
    assert submit(as_coordinator, url, {**answers, "contribute": "no"}).status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 4
    listing = text_of(as_coordinator.get(f"/reviews/{review.id}/family").text)
    assert "They want to contribute: No" in listing and "Updates by email: Yes" in listing


def test_the_family_list_makes_the_same_number_of_queries_with_1_or_10_members(as_coordinator, db, coordinator):
    small, big = make_review(db, coordinator=coordinator), make_review(db, coordinator=coordinator)
    for review, count in ((small, 1), (big, 10)):
        for number in range(count):
            member = add_member(
                db, review, coordinator, name=f"Person {number}", email=f"p{review.id}-{number}@example.org"
            )
            ledger.record_choice(
                db,
                person=member.person,
                review_id=review.id,
                scope=ConsentScope.SEE_DRAFT,
                given=True,
                text_version="conversation",
                recorded_by=coordinator,
            )
    db.commit()
    as_coordinator.get(f"/reviews/{small.id}/family")

    with counting_queries(db) as small_queries:
        small_page = as_coordinator.get(f"/reviews/{small.id}/family")
    with counting_queries(db) as big_queries:
        big_page = as_coordinator.get(f"/reviews/{big.id}/family")

    assert small_page.status_code == big_page.status_code == 200
    assert text_of(big_page.text).count("They want to see the draft before publication: Yes") == 10
    assert len(big_queries) == len(small_queries), "\n".join(big_queries)


def test_reading_the_list_and_a_person_page_is_audited(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    member = add_member(db, review, coordinator)
    as_coordinator.get(f"/reviews/{review.id}/family")
    as_coordinator.get(f"/reviews/{review.id}/family/{member.id}")
    viewed = db.execute(
        sa.select(AuditEvent.action, AuditEvent.object_id).where(AuditEvent.action.like("family%viewed"))
    ).all()
    assert set(viewed) == {("family_members.viewed", str(review.id)), ("family_member.viewed", str(member.id))}


def test_the_review_page_links_to_the_family_section_for_coordinators(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    page = as_coordinator.get(f"/reviews/{review.id}").text
    assert f'href="/reviews/{review.id}/family"' in page


def test_an_ended_membership_is_not_listed(as_coordinator, db, coordinator):
    review = make_review(db, coordinator=coordinator)
    member = add_member(db, review, coordinator)
    end_membership(db, member.membership, coordinator, "Moved away")
    db.commit()
    assert "Alex Doe" not in text_of(as_coordinator.get(f"/reviews/{review.id}/family").text)
    assert as_coordinator.get(f"/reviews/{review.id}/family/{member.id}").status_code == 404


def test_staff_invite_a_family_member_by_email_and_a_coordinator_can_print_a_letter(app, client, db, mailbox):
    from portal.security.models import Invitation

    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator)
    sign_in(client, coordinator)
    submit(client, f"/reviews/{review.id}/family/new", VALID)
    member = db.scalar(sa.select(FamilyMember))
    page_url = f"/reviews/{review.id}/family/{member.id}"

    page = submit(client, f"{page_url}/invite", {"channel": "email"}, page=page_url, follow_redirects=True)

    assert "Invitation sent to" in page.text
    invitation_email = mailbox.last_to(member.person.email)
    assert "/invitation/" in invitation_email.get_payload(decode=True).decode()
    letter = submit(
        client, "/invitations/letter", {"person_id": member.person.id, "review_id": review.id}, page=page_url
    )
    assert letter.status_code == 200
    assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2}", letter.text)
    # The letter's invitation replaced the emailed one: only the newest works.
    invitations = db.scalars(sa.select(Invitation).order_by(Invitation.id)).all()
    assert [(i.channel, i.superseded_at is not None) for i in invitations] == [("email", True), ("letter", False)]
