"""Every route declares who may use it, and each role gets exactly what it should."""

import pytest
import sqlalchemy as sa

from portal.security.models import Role, UserSession
from portal.security.permissions import permission_of
from tests.conftest import sign_in, submit
from tests.factories import make_user

# Flask's own static route serves built CSS and JavaScript: public by nature, nothing to declare.
UNDECLARED_ALLOWED = {"static"}


def test_every_route_declares_a_permission(app):
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in UNDECLARED_ALLOWED and permission_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == [], f"routes without @requires(...): {missing}"


# What each route answers to someone signed out, and to anyone signed in (every role alike so far).
# (method, url, anonymous, signed in); POSTs are sent with a valid form token.
ROUTES = {
    "pages.home": ("GET", "/", 200, 200),
    "pages.accessibility": ("GET", "/accessibility", 200, 200),
    "pages.privacy": ("GET", "/privacy", 200, 200),
    "pages.healthz": ("GET", "/healthz", 200, 200),
    "security.sign_in": ("GET", "/sign-in", 200, 302),
    "security.two_factor": ("GET", "/sign-in/two-factor", 302, 302),
    "security.two_factor_setup": ("GET", "/sign-in/two-factor/set-up", 302, 302),
    "security.sign_out": ("POST", "/sign-out", 302, 200),
    "security.sso_start": ("GET", "/sso/start", 404, 404),  # single sign-on is off in this app
    "security.sso_callback": ("GET", "/sso/callback", 404, 404),
    "security.password_reset_request": ("GET", "/password-reset", 200, 200),
    "security.password_reset": ("GET", "/password-reset/not-a-real-token", 404, 404),
    "security.account": ("GET", "/account", 302, 200),
    "security.change_password": ("GET", "/account/password", 302, 200),
    "security.sessions": ("GET", "/account/sessions", 302, 200),
    "security.end_session": ("POST", "/account/sessions/999999/end", 302, 404),
    "security.recovery_codes": ("GET", "/account/recovery-codes", 302, 302),
    # Family sign-in: the code step needs a password first, like the authenticator step.
    "security.sign_in_code": ("GET", "/sign-in/code", 302, 302),
    "security.new_sign_in_code": ("POST", "/sign-in/code/new", 302, 302),
    # Invitations: one kind page, whoever asks, for anything that is not a live invitation.
    "invitations.invitation": ("GET", "/invitation/not-a-real-token", 404, 404),
    "invitations.invitation_code": ("GET", "/invitation", 200, 200),
    "invitations.invitation_password": ("GET", "/invitation/choose-password", 404, 404),
    # Only coordinators print letters; an empty form is refused.
    "invitations.invitation_letter": ("POST", "/invitations/letter", 302, {Role.COORDINATOR: 400, "others": 403}),
}


# Review routes have their own, larger access table (memberships too): tests/reviews/test_access.py;
# events, reflections and the outbox theirs in tests/events/; families, authoring, learning in theirs.
REVIEW_BLUEPRINTS = {"reviews", "rapid_review", "memberships", "clocks"}
EVENT_BLUEPRINTS = {"events", "event_admin", "reflections", "notifications"}
FAMILY_BLUEPRINTS = {"family", "family_admin"}  # tests/families/
AUTHORING_BLUEPRINTS = {"requests", "inbox", "drafts", "anonymisation", "prepublication", "publication"}
LEARNING_BLUEPRINTS = {"learning", "learning_public"}  # tests/learning/


def test_the_access_table_covers_every_route(app):
    endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0]
        not in REVIEW_BLUEPRINTS | EVENT_BLUEPRINTS | FAMILY_BLUEPRINTS | AUTHORING_BLUEPRINTS | LEARNING_BLUEPRINTS
        and rule.endpoint not in UNDECLARED_ALLOWED
    }
    assert endpoints == set(ROUTES), "add new routes to ROUTES with what each visitor should get"


# Steps of signing in send a visitor without a password back to the sign-in page, with no return address.
SIGNING_IN_STEPS = {
    "security.two_factor",
    "security.two_factor_setup",
    "security.sign_in_code",
    "security.new_sign_in_code",
}


def visit(client, method: str, url: str, token_page: str):
    if method == "GET":
        return client.get(url)
    return submit(client, url, {}, page=token_page)


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_anonymous_visitors(client, endpoint):
    method, url, expected, _ = ROUTES[endpoint]
    response = visit(client, method, url, "/password-reset")
    assert response.status_code == expected
    if expected == 302 and endpoint not in SIGNING_IN_STEPS:
        assert "/sign-in?next=" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_each_role(client, db, role, endpoint):
    method, url, _, expected = ROUTES[endpoint]
    if isinstance(expected, dict):
        expected = expected.get(role, expected["others"])
    sign_in(client, make_user(db, role=role))
    assert visit(client, method, url, "/account/password").status_code == expected


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_its_own_home_page(client, db, role):
    user = make_user(db, role=role)
    sign_in(client, user)
    page = client.get("/")
    assert f"Welcome, {user.name}" in page.text
    expected = {
        Role.COORDINATOR: "set up reviews",
        Role.PRACTITIONER: "register for learning events",
        Role.AUTHOR: "gather contributions",
        Role.FAMILY: "find out about the review",
    }[role]
    assert expected in page.text
    navigation = page.text[page.text.index('class="govuk-service-navigation__list"') :]
    assert 'href="/account"' in navigation and 'aria-current="page"' in navigation


def test_two_factor_pages_need_a_password_first(client):
    for url in ("/sign-in/two-factor", "/sign-in/two-factor/set-up"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/sign-in")


def test_ending_someone_elses_session_is_not_found(client, db):
    owner = make_user(db)
    other_client = client.application.test_client()
    sign_in(other_client, owner)

    record_id = db.scalar(sa.select(UserSession.id).where(UserSession.user_id == owner.id))
    sign_in(client, make_user(db))
    response = submit(client, f"/account/sessions/{record_id}/end", {}, page="/account/sessions")
    assert response.status_code == 404
