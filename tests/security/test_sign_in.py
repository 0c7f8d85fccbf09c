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
