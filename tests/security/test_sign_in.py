import pyotp
import pytest

from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import DEFAULT_PASSWORD, make_user


def test_practitioner_signs_in_and_reaches_their_home_page(client, db):
    user = make_user(db, role=Role.PRACTITIONER, name="Priya Shah")
    sign_in(client, user)
    page = client.get("/")
    assert "Welcome, Priya Shah" in page.text
    assert "Sign out" in page.text


def test_wrong_password_unknown_email_and_deactivated_account_get_the_same_answer(client, db):
    user = make_user(db)
    inactive = make_user(db, active=False)
    answers = [
        submit(client, "/sign-in", {"email": user.email, "password": "wrong password!"}),
        submit(client, "/sign-in", {"email": "nobody@example.org", "password": DEFAULT_PASSWORD}),
        submit(client, "/sign-in", {"email": inactive.email, "password": DEFAULT_PASSWORD}),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert "Enter a correct email address and password" in answer.text
        assert 'class="govuk-error-summary"' in answer.text or "govuk-error-summary" in answer.text
    # What the person typed stays in the form.
    assert f'value="{user.email}"' in answers[0].text


def test_sign_in_returns_to_the_page_that_asked_for_it(client, db):
    user = make_user(db)
    login_page = client.get("/account/sessions").headers["Location"]
    assert "next=" in login_page
    response = submit(client, login_page, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/account/sessions"


def test_return_address_survives_the_two_factor_step(client, db):
    user = make_user(db, role=Role.COORDINATOR)
    submit(client, "/sign-in?next=/account", {"email": user.email, "password": DEFAULT_PASSWORD})
    response = submit(client, "/sign-in/two-factor", {"code": pyotp.TOTP(user.totp_secret).now()})
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_sign_in_never_sends_people_to_another_site(client, db, target):
    user = make_user(db)
    response = submit(client, f"/sign-in?next={target}", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/"
