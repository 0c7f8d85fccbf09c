"""The health check load balancers and monitoring call: is the app up, and can it reach its database?"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.security.models import UserSession
from tests.conftest import free_port, make_test_app


def test_health_check_answers_without_signing_in_and_gives_nothing_away(app, client, db):
    sessions_before = db.scalar(sa.select(sa.func.count()).select_from(UserSession))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "app": "ok", "database": "ok"}
    for secret in (app.config["SECRET_KEY"], app.config["DATABASE_URL"]):
        assert secret not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    # Probed every few seconds: each probe must not leave a session behind or hand out a cookie.
    assert "Set-Cookie" not in response.headers
    assert db.scalar(sa.select(sa.func.count()).select_from(UserSession)) == sessions_before


def _unreachable_database(kind: str, tmp_path) -> str:
    if kind == "postgresql":
        # A port nothing listens on: taken free a moment ago and never bound since.
        return f"postgresql://portal:not-a-real-password@127.0.0.1:{free_port()}/portal"
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.db'}"


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_health_check_reports_an_unreachable_database_as_unavailable(tmp_path, kind):
    database_url = _unreachable_database(kind, tmp_path)
    broken = make_test_app(database_url)

    try:
        response = broken.test_client().get("/healthz")
    finally:
        broken.extensions["portal.db"].kw["bind"].dispose()

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "app": "ok", "database": "unavailable"}
    # The driver's error names the host, port or file: none of it belongs in an unauthenticated answer.
    assert "not-a-real-password" not in response.text
    assert "no-such-folder" not in response.text
    assert "127.0.0.1" not in response.text


def test_health_check_with_a_session_cookie_still_answers_when_the_database_is_down(tmp_path):
    broken = make_test_app(_unreachable_database("sqlite", tmp_path))
    client = broken.test_client()
    client.set_cookie("portal_session", "a-cookie-from-earlier", domain="portal.test")
    assert client.get("/healthz").status_code == 503
