"""Two-factor sign-in with an authenticator app for coordinators and authors."""

import re

import pyotp
import pytest

from portal.security.models import Role
from tests.conftest import submit
from tests.factories import DEFAULT_PASSWORD, make_user


def password_step(client, user):
    response = submit(client, "/sign-in", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.AUTHOR])
def test_password_alone_does_not_sign_in_roles_that_need_two_factor(client, db, role):
    user = make_user(db, role=role)
    assert password_step(client, user).endswith("/sign-in/two-factor")
    assert client.get("/account").status_code == 302  # not signed in yet


def test_first_sign_in_sets_up_the_app_and_shows_recovery_codes(client, db):
    user = make_user(db, role=Role.COORDINATOR, with_totp=False)
    assert password_step(client, user).endswith("/sign-in/two-factor/set-up")
    page = client.get("/sign-in/two-factor/set-up")
    assert 'src="data:image/svg+xml' in page.text  # the QR code
    key = re.search(r'<code class="portal-secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    wrong = submit(client, "/sign-in/two-factor/set-up", {"code": "000000"})
    assert "The code is not correct" in wrong.text
    done = submit(client, "/sign-in/two-factor/set-up", {"code": pyotp.TOTP(key).now()}, follow_redirects=True)
    assert "Save your recovery codes" in done.text
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.text)
    assert len(codes) == 10
    assert client.get("/account").status_code == 200
    db.refresh(user)
    assert user.totp_secret == key
    # The codes are shown once: refreshing the page does not show them again.
    again = client.get("/account/recovery-codes", follow_redirects=True)
    assert "Recovery codes are shown only once" in again.text
    assert codes[0] not in again.text


def test_a_code_cannot_be_used_twice(app, db):
    user = make_user(db, role=Role.AUTHOR)
    code = pyotp.TOTP(user.totp_secret).now()
    first, second = app.test_client(), app.test_client()
    password_step(first, user)
    assert submit(first, "/sign-in/two-factor", {"code": code}).status_code == 302
    password_step(second, user)
    replay = submit(second, "/sign-in/two-factor", {"code": code})
    assert "already been used" in replay.text
    assert second.get("/account").status_code == 302


def test_recovery_code_works_once(client, db):
    user = make_user(db, role=Role.COORDINATOR, with_totp=False)
    password_step(client, user)
    page = client.get("/sign-in/two-factor/set-up")
    key = re.search(r'<code class="portal-secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    done = submit(client, "/sign-in/two-factor/set-up", {"code": pyotp.TOTP(key).now()}, follow_redirects=True)
    recovery = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", done.text)[0]
    submit(client, "/sign-out", {}, page="/account")

    password_step(client, user)
    assert submit(client, "/sign-in/two-factor", {"code": recovery.upper()}).status_code == 302
    submit(client, "/sign-out", {}, page="/account")
    password_step(client, user)
    assert "The code is not correct" in submit(client, "/sign-in/two-factor", {"code": recovery}).text


def test_practitioners_do_not_need_a_second_factor(client, db):
    user = make_user(db, role=Role.PRACTITIONER)
    assert password_step(client, user).endswith("/")


def test_repeated_wrong_codes_are_throttled(client, db):
    user = make_user(db, role=Role.COORDINATOR)
    password_step(client, user)
    statuses = [submit(client, "/sign-in/two-factor", {"code": "123456"}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
