"""Family members signing in on a new device give a second proof: a code we send, or their authenticator app."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.notifications.models import OutboxMessage
from portal.security import services
from portal.security.audit import AuditEvent
from portal.security.models import Role, SignInCode, TrustedDevice
from tests.conftest import csrf_token, submit
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture
def person(db):
    return make_user(db, role=Role.FAMILY, name="Jo Bennett")


def password_step(client, user, password=DEFAULT_PASSWORD):
    return submit(client, "/sign-in", {"email": user.email, "password": password})


def codes_sent(db, user) -> list[str]:
    """Each six-digit code sent to the person, oldest first, read from the outbox before sending."""
    bodies = db.scalars(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.recipient_id == user.id, OutboxMessage.kind == "sign_in_code")
        .order_by(OutboxMessage.id)
    )
    return [re.search(r"\b\d{6}\b", body).group() for body in bodies]


def enter(client, code, *, remember=False):
    data = {"code": code, **({"remember": "y"} if remember else {})}
    return submit(client, "/sign-in/code", data)


def signed_in(client, user) -> bool:
    return f"Welcome, {user.name}" in client.get("/").text


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_password_alone_does_not_sign_a_family_member_in_on_a_new_device(client, db, mailbox, person):
    response = password_step(client, person)
    assert response.headers["Location"].endswith("/sign-in/code")
    assert not signed_in(client, person)

    page = client.get("/sign-in/code")
    assert "Check your email" in page.text
    assert "p•••@example.org" in page.text
    email = mailbox.last_to(person.email)
    code = re.search(r"\b\d{6}\b", email.get_payload(decode=True).decode()).group()
    assert code not in email["Subject"]

    response = enter(client, code)
    assert response.status_code == 302
    assert signed_in(client, person)
    # Only a hash is kept, and the outbox keeps no readable copy once it is sent.
    stored = db.scalars(sa.select(SignInCode)).one()
    assert code not in stored.code_hash
    assert code not in db.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.kind == "sign_in_code")).one()


def test_a_wrong_code_is_refused_with_a_clear_message(client, db, person):
    password_step(client, person)
    response = enter(client, wrong(codes_sent(db, person)[-1]))
    assert response.status_code == 200
    assert "The code is not right. Check it and try again" in response.text
    assert not signed_in(client, person)


def test_a_code_works_for_15_minutes(client, db, person):
    password_step(client, person)
    code = codes_sent(db, person)[-1]
    stored = db.scalars(sa.select(SignInCode)).one()
    assert stored.expires_at - stored.created_at == timedelta(minutes=15)
    stored.created_at -= timedelta(minutes=16)
    stored.expires_at -= timedelta(minutes=16)
    db.commit()

    assert "This code no longer works. Ask for a new code" in enter(client, code).text
    assert not signed_in(client, person)


def test_a_code_works_once(app, client, db, person):
    password_step(client, person)
    code = codes_sent(db, person)[-1]
    enter(client, code)
    assert signed_in(client, person)

    other = app.test_client()
    password_step(other, person)
    # The used code is dead; the one just sent is different, so the old one is simply not right.
    assert "not right" in enter(other, code).text
    assert not signed_in(other, person)


def test_after_five_wrong_tries_even_the_right_code_is_refused(client, db, person):
    password_step(client, person)
    code = codes_sent(db, person)[-1]
    for _ in range(4):
        assert "not right" in enter(client, wrong(code)).text
    assert "no longer works" in enter(client, wrong(code)).text

    assert "no longer works" in enter(client, code).text
    assert not signed_in(client, person)
    assert db.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "sign_in_code.locked")) == 1


def test_a_new_code_replaces_the_old_one(client, db, person):
    password_step(client, person)
    old = codes_sent(db, person)[-1]
    page = client.get("/sign-in/code")
    response = client.post("/sign-in/code/new", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    new = codes_sent(db, person)[-1]
    assert len(codes_sent(db, person)) == 2

    assert "Check your email" in client.get("/sign-in/code").text
    if old != new:
        # The old code is checked against the new one, so it is simply not right.
        assert "not right" in enter(client, old).text
        assert not signed_in(client, person)
    enter(client, new)
    assert signed_in(client, person)


def test_no_more_than_five_codes_an_hour(client, db, person):
    password_step(client, person)
    for _ in range(6):
        page = client.get("/sign-in/code")
        client.post("/sign-in/code/new", data={"csrf_token": csrf_token(page.text)})
    assert len(codes_sent(db, person)) == 5
    assert "We have sent you a lot of codes" in client.get("/sign-in/code").text
    # Five codes with five tries each: 25 guesses at a million codes an hour, at most.


def test_guessing_codes_cannot_get_far(client, db, person):
    """However the requests are spread, at most 5 tries per code and 5 codes an hour reach the check."""
    password_step(client, person)
    tries = 0
    for _ in range(6):
        for _ in range(6):
            if enter(client, "000000").status_code == 429:
                break
            tries += 1
        page = client.get("/sign-in/code")
        client.post("/sign-in/code/new", data={"csrf_token": csrf_token(page.text)})
    checked = db.scalar(sa.select(sa.func.sum(SignInCode.failed_attempts)))
    assert checked <= 25
    assert not signed_in(client, person)


def test_a_remembered_device_skips_the_code_for_30_days(app, client, db, person):
    password_step(client, person)
    response = enter(client, codes_sent(db, person)[-1], remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=2592000" in cookie
    device = db.scalars(sa.select(TrustedDevice)).one()
    assert device.expires_at - device.created_at == timedelta(days=30)
    assert cookie.split(";")[0].split("=", 1)[1] not in device.token_hash

    submit(client, "/sign-out", {}, page="/")
    response = password_step(client, person)
    assert response.headers["Location"] == "/"
    assert signed_in(client, person)
    assert len(codes_sent(db, person)) == 1

    # A password is still needed on a remembered device.
    submit(client, "/sign-out", {}, page="/")
    assert password_step(client, person, "not the password at all").status_code == 200

    device.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    assert password_step(client, person).headers["Location"].endswith("/sign-in/code")


def test_without_ticking_the_box_the_device_is_not_remembered(client, db, person):
    password_step(client, person)
    response = enter(client, codes_sent(db, person)[-1])
    assert not any(c.startswith("portal_device=") for c in response.headers.getlist("Set-Cookie"))
    submit(client, "/sign-out", {}, page="/")
    assert password_step(client, person).headers["Location"].endswith("/sign-in/code")


def test_a_remembered_device_is_only_for_the_person_who_asked(client, db, person):
    password_step(client, person)
    enter(client, codes_sent(db, person)[-1], remember=True)
    submit(client, "/sign-out", {}, page="/")

    relative = make_user(db, role=Role.FAMILY)
    assert password_step(client, relative).headers["Location"].endswith("/sign-in/code")


@pytest.mark.parametrize("change", ["password", "deactivation"])
def test_changing_the_password_or_deactivating_forgets_every_device(client, db, person, change):
    password_step(client, person)
    enter(client, codes_sent(db, person)[-1], remember=True)
    submit(client, "/sign-out", {}, page="/")
    if change == "password":
        services.set_password(db, person, DEFAULT_PASSWORD)
    else:
        services.set_active(db, person, False)
        services.set_active(db, person, True)
    db.commit()

    assert db.scalar(sa.select(sa.func.count()).select_from(TrustedDevice)) == 0
    assert password_step(client, person).headers["Location"].endswith("/sign-in/code")


def test_a_family_member_with_an_authenticator_app_uses_it_and_can_be_remembered(client, db):
    person = make_user(db, role=Role.FAMILY, with_totp=True)
    response = password_step(client, person)
    assert response.headers["Location"].endswith("/sign-in/two-factor")
    assert codes_sent(db, person) == []
    # No code by email instead: the app is their second step.
    assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in/two-factor")

    page = client.get("/sign-in/two-factor")
    assert "Remember this device for 30 days" in page.text
    response = submit(client, "/sign-in/two-factor", {"code": pyotp.TOTP(person.totp_secret).now(), "remember": "y"})
    assert any(c.startswith("portal_device=") for c in response.headers.getlist("Set-Cookie"))
    assert signed_in(client, person)


def test_a_family_member_cannot_set_up_an_app_with_only_their_password(client, db, person):
    password_step(client, person)
    response = client.get("/sign-in/two-factor/set-up")
    assert response.headers["Location"].endswith("/sign-in/code")


def test_coordinators_keep_their_authenticator_step_and_are_never_remembered(client, db):
    coordinator = make_user(db, role=Role.COORDINATOR)
    password_step(client, coordinator)
    assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in/two-factor")
    page = client.get("/sign-in/two-factor")
    assert "Remember this device" not in page.text
    code = pyotp.TOTP(coordinator.totp_secret).now()
    response = submit(client, "/sign-in/two-factor", {"code": code, "remember": "y"})
    assert response.status_code == 302
    assert not any(c.startswith("portal_device=") for c in response.headers.getlist("Set-Cookie"))


def test_practitioners_are_not_asked_for_a_code(client, db):
    practitioner = make_user(db, role=Role.PRACTITIONER)
    assert password_step(client, practitioner).headers["Location"] == "/"


def test_the_demo_family_accounts_sign_in_with_an_authenticator_app(app, client, db):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--json"])
    assert result.exit_code == 0, result.output
    parent = next(a for a in json.loads(result.output) if a["email"] == "parent@demo.example.org")
    assert parent["role"] == "family" and parent["totp_secret"]

    response = submit(client, "/sign-in", {"email": parent["email"], "password": parent["password"]})
    assert response.headers["Location"].endswith("/sign-in/two-factor")
    response = submit(client, "/sign-in/two-factor", {"code": pyotp.TOTP(parent["totp_secret"]).now()})
    assert response.status_code == 302
    assert "Welcome, Jo Bennett" in client.get("/").text


def test_each_step_is_audited(client, db, person):
    password_step(client, person)
    code = codes_sent(db, person)[-1]
    enter(client, wrong(code))
    enter(client, code, remember=True)
    actions = set(db.scalars(sa.select(AuditEvent.action)))
    assert {"sign_in_code.sent", "sign_in_code.failed", "sign_in_code.accepted", "device.remembered"} <= actions
