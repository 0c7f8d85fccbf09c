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


PUBLIC_PAGES = ["/", "/sign-in", "/accessibility", "/privacy", "/healthz", "/password-reset"]
SIGNED_IN_PAGES = ["/account", "/account/password", "/account/sessions"]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_open_to_anyone(client, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_pages_send_anonymous_visitors_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_pages_open_to_every_role(client, db, role, url):
    sign_in(client, make_user(db, role=role))
    assert client.get(url).status_code == 200


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
