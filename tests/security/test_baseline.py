"""The security baseline every page shares: tokens, headers, throttling, limits and error pages."""

import re

import pytest
from flask import abort

from portal.security.models import Role
from portal.security.permissions import PUBLIC, requires
from tests.conftest import make_test_app, rolled_back, sign_in, submit
from tests.factories import make_user


def test_post_without_csrf_token_gets_a_friendly_400(client, db):
    user = make_user(db)
    response = client.post("/sign-in", data={"email": user.email, "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.text
    assert client.get("/account").status_code == 302  # and nothing happened


def test_post_with_a_token_from_another_session_is_refused(app, client, db):
    other = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', other.get("/sign-in").text).group(1)
    client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": token, "email": "a@example.org", "password": "x"})
    assert response.status_code == 400


def test_a_form_over_the_size_limit_is_refused_with_413(app, client):
    client.get("/sign-in")
    too_large = app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * too_large})
    assert response.status_code == 413
    assert "What you sent is too large" in response.text


def test_repeated_wrong_passwords_are_throttled_per_account(client, db):
    user = make_user(db)
    statuses = [
        submit(client, "/sign-in", {"email": user.email, "password": f"wrong {attempt}"}).status_code
        for attempt in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    page = submit(client, "/sign-in", {"email": user.email, "password": "correct horse battery staple"})
    assert page.status_code == 429
    assert "Too many attempts" in page.text
    # Another account from the same place is not locked out by this one.
    assert (
        submit(
            client, "/sign-in", {"email": make_user(db).email, "password": "correct horse battery staple"}
        ).status_code
        == 302
    )


def test_throttling_per_address_covers_many_accounts(app, client):
    app.config["SIGN_IN_LIMIT_PER_IP"] = "3 per 15 minutes"
    try:
        statuses = [
            submit(client, "/sign-in", {"email": f"guess{n}@example.org", "password": "guess"}).status_code
            for n in range(4)
        ]
    finally:
        app.config["SIGN_IN_LIMIT_PER_IP"] = "30 per 15 minutes"
    assert statuses == [200, 200, 200, 429]


def test_successful_sign_ins_do_not_count_towards_the_limit(app, db):
    user = make_user(db)
    for _ in range(7):
        browser = app.test_client()
        sign_in(browser, user)


def test_security_headers_on_every_page(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    # Every script on the page carries this response's nonce, and the next response gets another.
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert scripts and all(f'nonce="{nonce}"' in script for script in scripts)
    assert nonce not in client.get("/sign-in").headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # development serves plain HTTP


def test_hsts_in_production(app):
    app.config["PORTAL_ENV"] = "production"
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.config["PORTAL_ENV"] = "development"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_signed_in_pages_are_never_cached(client, db):
    sign_in(client, make_user(db))
    assert client.get("/account").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", list(Role))
def test_markup_in_a_name_is_shown_as_text_everywhere(client, db, role):
    user = make_user(db, role=role, name='<script>alert("x")</script><b>Bold</b>')
    sign_in(client, user)
    for url in ("/", "/account"):
        page = client.get(url).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt;" in page


@pytest.mark.parametrize(
    ("method", "url", "status", "heading"),
    [
        ("get", "/no-such-page", 404, "Page not found"),
        ("delete", "/sign-in", 405, "That action is not possible here"),
        ("get", "/account/sessions/not-a-number/end", 404, "Page not found"),
    ],
)
def test_error_pages_explain_and_leak_nothing(client, method, url, status, heading):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert heading in response.text
    assert "Traceback" not in response.text and "werkzeug" not in response.text.lower()


def test_forbidden_and_server_errors_have_their_own_pages(database_url):
    app = make_test_app(database_url)

    @requires(PUBLIC)
    def forbidden():
        abort(403)

    @requires(PUBLIC)
    def broken():
        raise RuntimeError("secret detail: connection string postgresql://user:pw@db")

    app.add_url_rule("/test-only/forbidden", "test_forbidden", forbidden)
    app.add_url_rule("/test-only/broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    with rolled_back(app):
        assert "You do not have permission" in client.get("/test-only/forbidden").text
        response = client.get("/test-only/broken")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "secret detail" not in response.text
