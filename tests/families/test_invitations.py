"""Invitations let a family member in once: a link by email or text message, or a code in a letter."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.families import invitations
from portal.families.readability import readability
from portal.notifications.models import OutboxMessage
from portal.reviews.models import MembershipKind, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Invitation, InvitationChannel, Role, User
from portal.security.passwords import common_passwords
from tests.conftest import csrf_token, sign_in, submit, text_of
from tests.factories import make_membership, make_review, make_user

GOOD_PASSWORD = "violet harbour kettle drum"
KIND_PAGE = "This invitation does not work"


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_COMMISSIONED)


@pytest.fixture
def person(db, review):
    # Added by staff with no password: the invitation is how they first get in.
    user = make_user(db, role=Role.FAMILY, email="jo.bennett@example.org", name="Jo Bennett", password=None)
    user.active = False
    make_membership(db, review, user, MembershipKind.FAMILY)
    db.commit()
    return user


def invite(app, db, person, review, coordinator, channel=InvitationChannel.EMAIL):
    with app.test_request_context():
        issued = invitations.invite(db, person, review.id, by=coordinator, channel=channel)
    db.commit()
    return issued


def emailed_link(mailbox, person) -> str:
    body = mailbox.last_to(person.email).get_payload(decode=True).decode()
    return re.search(r"http://portal\.test(/invitation/\S+)", body).group(1)


def choose_password(client, url, password=GOOD_PASSWORD, confirm=None):
    return submit(client, url, {"password": password, "confirm": confirm or password})


def audit_actions(db, object_type="invitation") -> list[str]:
    return list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == object_type)))


def test_an_emailed_link_lets_the_person_choose_a_password_and_signs_them_in(
    app, client, db, mailbox, review, person, coordinator
):
    invite(app, db, person, review, coordinator)
    link = emailed_link(mailbox, person)

    page = client.get(link)
    assert page.status_code == 200
    assert "Choose a password" in page.text and "Jo Bennett" in page.text

    response = choose_password(client, link)
    assert response.status_code == 302
    home = client.get(response.headers["Location"])
    assert "Welcome, Jo Bennett" in home.text
    # The link came to their own inbox: this first sign-in counts as checked, and the device is remembered.
    cookie = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("portal_device=") and "HttpOnly" in c and "SameSite=Lax" in c for c in cookie)
    db.refresh(person)
    assert person.active
    assert {"invitation.created", "invitation.used"} <= set(audit_actions(db))


def test_the_token_has_at_least_128_random_bits_and_only_its_hash_is_kept(
    app, db, mailbox, review, person, coordinator
):
    invite(app, db, person, review, coordinator)
    token = emailed_link(mailbox, person).rsplit("/", 1)[1]

    assert len(token) >= 43  # 32 random bytes in URL-safe base64
    stored = db.scalars(sa.select(Invitation)).one()
    assert stored.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=14)
    row = db.execute(sa.select(Invitation.__table__)).one()
    assert not any(token in str(value) for value in row)
    # Once sent, the outbox keeps no readable copy of the link either.
    message = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "family_invitation")).one()
    assert token not in message.body


def test_a_text_message_invitation_goes_to_the_mobile_number(app, client, db, review, person, coordinator):
    person.phone = "+447700900123"
    db.commit()
    invite(app, db, person, review, coordinator, InvitationChannel.SMS)

    message = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "family_invitation")).one()
    assert (message.channel, message.to_address) == ("sms", "+447700900123")
    link = re.search(r"http://portal\.test(/invitation/\S+)", message.body).group(1)
    assert "Choose a password" in client.get(link).text


def test_a_link_works_once(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    link = emailed_link(mailbox, person)
    choose_password(client, link)

    again = app.test_client().get(link)
    assert again.status_code == 404
    assert KIND_PAGE in again.text


def test_a_link_expires_after_14_days(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    link = emailed_link(mailbox, person)
    stored = db.scalars(sa.select(Invitation)).one()
    stored.created_at -= timedelta(days=14, minutes=1)
    stored.expires_at -= timedelta(days=14, minutes=1)
    db.commit()

    assert KIND_PAGE in client.get(link).text
    # Not even a password sent straight to it is accepted.
    client.post(link, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    db.refresh(person)
    assert person.password_hash is None and not person.active


def test_a_newer_invitation_replaces_the_older_one(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    first = emailed_link(mailbox, person)
    invite(app, db, person, review, coordinator)
    second = emailed_link(mailbox, person)

    assert first != second
    assert KIND_PAGE in client.get(first).text
    assert "Choose a password" in client.get(second).text


def test_a_link_stops_working_when_the_person_is_no_longer_a_family_member_of_that_review(
    app, client, db, mailbox, review, person, coordinator
):
    invite(app, db, person, review, coordinator)
    link = emailed_link(mailbox, person)
    # Still a family member of another review: the link is bound to this one.
    make_membership(db, make_review(db), person, MembershipKind.FAMILY)
    membership = next(m for m in db.scalars(sa.select(invitations.Membership)) if m.review_id == review.id)
    membership.ended_at = utcnow()
    db.commit()

    assert KIND_PAGE in client.get(link).text


def test_only_family_members_of_the_review_can_be_invited(app, db, review, person, coordinator):
    practitioner = make_user(db, role=Role.PRACTITIONER)
    stranger = make_user(db, role=Role.FAMILY)
    for who in (practitioner, stranger):
        with pytest.raises(invitations.InvitationRefused):
            invite(app, db, who, review, coordinator)
    with pytest.raises(invitations.InvitationRefused, match="no mobile number"):
        invite(app, db, person, review, coordinator, InvitationChannel.SMS)


def test_every_refused_link_gets_the_same_kind_page(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    used = emailed_link(mailbox, person)
    choose_password(client, used)
    other = make_user(db, role=Role.FAMILY, password=None)
    make_membership(db, review, other, MembershipKind.FAMILY)
    invite(app, db, other, review, coordinator)
    superseded = emailed_link(mailbox, other)
    invite(app, db, other, review, coordinator)

    pages = [app.test_client().get(url) for url in (used, superseded, "/invitation/" + "A" * 43, "/invitation/x")]
    assert {page.status_code for page in pages} == {404}
    assert len({text_of(page.text) for page in pages}) == 1
    assert "ask the person who invited you for a new invitation" in text_of(pages[0].text)
    # Nothing about the person or their address appears.
    assert "Jo Bennett" not in pages[0].text and person.email not in pages[0].text
    reasons = db.scalars(sa.select(AuditEvent.details).where(AuditEvent.action == "invitation.refused")).all()
    assert {"used", "superseded", "unknown"} <= {json.loads(details)["reason"] for details in reasons}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "Password must be 12 characters or more"),
        ("PASSWORD1234", "This one is used by a lot of people"),
        ("Qwertyuiop123", "This one is used by a lot of people"),
        ("my jo.bennett password", "must not contain your email address"),
        ("", "Enter a password"),
    ],
)
def test_passwords_that_are_easy_to_guess_are_refused(
    app, client, db, mailbox, review, person, coordinator, password, message
):
    invite(app, db, person, review, coordinator)
    link = emailed_link(mailbox, person)
    response = choose_password(client, link, password)
    assert response.status_code == 200
    assert message in response.text
    assert "govuk-error-summary" in response.text
    db.refresh(person)
    assert person.password_hash is None


def test_the_two_passwords_must_match(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    response = choose_password(client, emailed_link(mailbox, person), GOOD_PASSWORD, GOOD_PASSWORD + "x")
    assert "The two passwords must match" in response.text


def test_the_common_password_list_is_long_and_ours():
    assert len(common_passwords()) >= 10_000
    assert "password1234" in common_passwords()
    assert GOOD_PASSWORD not in common_passwords()


# Letters ----------------------------------------------------------------------------------------


def print_letter(client, person, review):
    page = client.get("/")
    return client.post(
        "/invitations/letter",
        data={"csrf_token": csrf_token(page.text), "person_id": person.id, "review_id": review.id},
    )


def test_a_coordinator_prints_a_letter_whose_code_opens_the_invitation_once(
    app, client, db, review, person, coordinator
):
    sign_in(client, coordinator)
    letter = print_letter(client, person, review)
    assert letter.status_code == 200
    assert letter.headers["Cache-Control"] == "no-store"
    assert "Dear Jo Bennett" in letter.text
    assert "http://portal.test/invitation" in letter.text
    code = re.search(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{2}\b", letter.text).group()
    row = db.execute(sa.select(Invitation.__table__)).one()
    assert not any(code.replace("-", "") in str(value) for value in row)
    # The letter's code is not a link: it cannot be tried at the unthrottled link address.
    assert app.test_client().get(f"/invitation/{code.replace('-', '')}").status_code == 404

    family = app.test_client()
    # Typed by hand: lower case, with spaces instead of hyphens.
    typed = submit(family, "/invitation", {"code": code.lower().replace("-", " ")})
    assert typed.status_code == 302 and typed.headers["Location"].endswith("/invitation/choose-password")
    response = choose_password(family, "/invitation/choose-password")
    assert response.status_code == 302
    assert "Welcome, Jo Bennett" in family.get("/").text

    again = submit(app.test_client(), "/invitation", {"code": code})
    assert "This code does not work" in again.text


def test_a_new_letter_replaces_the_old_code(app, client, db, review, person, coordinator):
    sign_in(client, coordinator)
    first = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2}", print_letter(client, person, review).text).group()
    print_letter(client, person, review)
    assert "This code does not work" in submit(app.test_client(), "/invitation", {"code": first}).text


def test_wrong_letter_codes_are_throttled(client):
    statuses = [submit(client, "/invitation", {"code": "AAAA-BBBB-CC"}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_the_choose_password_page_needs_a_code_first(client):
    page = client.get("/invitation/choose-password")
    assert page.status_code == 404 and KIND_PAGE in page.text


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.PRACTITIONER, Role.FAMILY])
def test_only_coordinators_print_letters(app, client, db, review, person, role):
    sign_in(client, make_user(db, role=role))
    assert print_letter(client, person, review).status_code == 403
    assert db.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_a_letter_for_someone_who_is_not_a_family_member_is_not_printed(client, db, review, coordinator):
    sign_in(client, coordinator)
    stranger = make_user(db, role=Role.FAMILY)
    assert print_letter(client, stranger, review).status_code == 404
    assert print_letter(client, User(id=999999), review).status_code == 404


def test_the_pages_a_family_member_reads_first_are_plain(app, client, db, mailbox, review, person, coordinator):
    invite(app, db, person, review, coordinator)
    email = mailbox.last_to(person.email).get_payload(decode=True).decode()
    urls = [emailed_link(mailbox, person), "/invitation/x", "/invitation"]
    pages = [client.get(url).text for url in urls]
    email = re.sub(r"https?://\S+", "", email)  # a link is not words to read
    for words in [email, *(text_of(page[page.index("<main") : page.index("</main>")]) for page in pages)]:
        assert not readability(words).too_hard, words
