"""Server-side sessions: what the cookie holds, and every way a session ends."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.security import services
from portal.security.models import Role, UserSession
from tests.conftest import make_test_app, rolled_back, sign_in, submit
from tests.factories import make_user


def open_sessions(db, user):
    db.expire_all()
    return db.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()


def session_cookie(client):
    cookie = client.get_cookie("portal_session", domain="portal.test")
    return cookie.value if cookie else None


def test_cookie_holds_only_a_random_identifier_and_is_hardened(client, db):
    user = make_user(db)
    response = submit(client, "/sign-in", {"email": user.email, "password": "correct horse battery staple"})
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    value = session_cookie(client)
    assert "." not in value and user.email not in value  # not a signed payload, nothing about the person
    [record] = open_sessions(db, user)
    assert record.token_hash != value  # only a hash of the identifier is stored


def test_production_cookie_is_secure_with_host_prefix(database_url):
    app = make_test_app(database_url, SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-portal_session")
    with rolled_back(app):
        response = app.test_client().get("/sign-in")
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-portal_session=")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header


def test_a_new_identifier_is_issued_at_sign_in(client, db):
    client.get("/sign-in")
    before = session_cookie(client)
    sign_in(client, make_user(db))
    assert session_cookie(client) != before
    # The identifier from before sign-in is worthless now.
    stale = client.application.test_client()
    stale.set_cookie("portal_session", before, domain="portal.test")
    assert stale.get("/account").status_code == 302


def test_sign_out_ends_the_session_on_the_server(client, db):
    user = make_user(db)
    sign_in(client, user)
    token = session_cookie(client)
    page = submit(client, "/sign-out", {}, page="/account")
    assert "You have signed out" in page.text
    assert open_sessions(db, user) == []
    # Replaying the old cookie does not bring the session back.
    replay = client.application.test_client()
    replay.set_cookie("portal_session", token, domain="portal.test")
    assert replay.get("/account").status_code == 302


def test_sign_out_needs_a_post_with_a_token(client, db):
    sign_in(client, make_user(db))
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("field", "age", "reason"),
    [
        ("last_seen_at", timedelta(minutes=31), "idle"),  # 30 minutes without activity
        ("created_at", timedelta(hours=12, minutes=1), "expired"),  # 12 hours, however active
    ],
)
def test_session_ends_when_idle_or_too_old(client, db, field, age, reason):
    user = make_user(db)
    sign_in(client, user)
    [record] = open_sessions(db, user)
    setattr(record, field, utcnow() - age)
    db.commit()
    assert client.get("/account").status_code == 302
    db.expire_all()
    assert db.get(UserSession, record.id).ended_reason == reason


def test_activity_keeps_a_session_alive(client, db):
    user = make_user(db)
    sign_in(client, user)
    [record] = open_sessions(db, user)
    record.last_seen_at = utcnow() - timedelta(minutes=20)
    db.commit()
    assert client.get("/account").status_code == 200
    db.expire_all()
    assert utcnow() - db.get(UserSession, record.id).last_seen_at < timedelta(minutes=1)


def two_browsers(app, db, user):
    first, second = app.test_client(), app.test_client()
    sign_in(first, user)
    sign_in(second, user)
    assert len(open_sessions(db, user)) == 2
    return first, second


def test_password_change_ends_every_other_session_at_once(app, db):
    user = make_user(db)
    here, elsewhere = two_browsers(app, db, user)
    submit(
        here,
        "/account/password",
        {
            "current_password": "correct horse battery staple",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_deactivation_ends_every_session(app, db):
    user = make_user(db)
    first, second = two_browsers(app, db, user)
    services.set_active(db, user, False)
    db.commit()
    assert first.get("/account").status_code == 302
    assert second.get("/account").status_code == 302


def test_role_change_ends_every_session(app, db):
    user = make_user(db, role=Role.PRACTITIONER)
    first, _second = two_browsers(app, db, user)
    services.set_role(db, user, Role.FAMILY)
    db.commit()
    assert first.get("/account").status_code == 302
    assert open_sessions(db, user) == []


def test_people_see_and_end_their_own_sessions(app, db):
    user = make_user(db)
    here, elsewhere = two_browsers(app, db, user)
    page = here.get("/account/sessions")
    assert page.text.count("Sign out<span") == 2
    assert "This device" in page.text
    # The second browser signed in last, so its session is the newer one.
    elsewhere_record = max(open_sessions(db, user), key=lambda record: record.id)
    response = submit(
        here, f"/account/sessions/{elsewhere_record.id}/end", {}, page="/account/sessions", follow_redirects=True
    )
    assert "That session has been signed out" in response.text
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
