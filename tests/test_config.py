"""Settings: production refuses to start while anything security-relevant is missing; development needs nothing."""

from __future__ import annotations

import os
import stat

import pytest

from portal import create_app
from portal.config import ConfigError, load_config

PRODUCTION_SECRET = "k" * 20 + "-production-secret-key-0123456789"
# What each refusal must name, so the operator knows which setting to fix.
SETTINGS = ("PORTAL_SECRET_KEY", "DATABASE_URL", "PORTAL_SECURE_COOKIES", "PORTAL_MAIL_SERVER")


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """An environment holding none of the portal's settings (the test database's own are left alone)."""
    for name in list(os.environ):
        if (name.startswith("PORTAL_") and not name.startswith("PORTAL_TEST_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    return monkeypatch


@pytest.fixture
def production(environment):
    """Everything production needs; each test takes one piece away."""
    environment.setenv("PORTAL_ENV", "production")
    environment.setenv("PORTAL_SECRET_KEY", PRODUCTION_SECRET)
    environment.setenv("DATABASE_URL", "postgresql://portal@db.internal.example/portal")
    environment.setenv("PORTAL_MAIL_SERVER", "smtp.internal.example")
    return environment


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        pytest.param("PORTAL_SECRET_KEY", None, "PORTAL_SECRET_KEY", id="no secret key"),
        pytest.param("PORTAL_SECRET_KEY", "short-key-1234", "PORTAL_SECRET_KEY", id="short secret key"),
        pytest.param("DATABASE_URL", "sqlite:///portal.db", "DATABASE_URL", id="sqlite"),
        pytest.param("DATABASE_URL", None, "DATABASE_URL", id="no database"),
        pytest.param("DATABASE_URL", "", "DATABASE_URL", id="empty database url"),
        pytest.param("PORTAL_SECURE_COOKIES", "false", "PORTAL_SECURE_COOKIES", id="insecure cookies"),
        pytest.param("PORTAL_MAIL_SERVER", None, "PORTAL_MAIL_SERVER", id="no mail server"),
    ],
)
def test_production_refuses_to_start_and_names_what_is_missing(production, tmp_path, variable, value, named):
    if value is None:
        production.delenv(variable)
    else:
        production.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        create_app()

    message = str(refused.value)
    assert message.startswith("Refusing to start in production")
    assert named in message
    assert [other for other in SETTINGS if other != named and other in message] == []
    assert "short-key-1234" not in message, "a secret must never be repeated in an error"
    assert not (tmp_path / "instance" / "secret_key").exists(), "production must not invent a secret key"


def test_production_lists_every_problem_at_once(production):
    for name in ("PORTAL_SECRET_KEY", "DATABASE_URL", "PORTAL_MAIL_SERVER"):
        production.delenv(name)
    production.setenv("PORTAL_SECURE_COOKIES", "false")

    with pytest.raises(ConfigError) as refused:
        create_app()

    assert all(name in str(refused.value) for name in SETTINGS)


def test_production_with_everything_set_starts_with_a_host_only_secure_cookie(app, production):
    portal = create_app()

    assert portal.config["PORTAL_ENV"] == "production"
    assert portal.config["SECRET_KEY"] == PRODUCTION_SECRET
    assert portal.config["SESSION_COOKIE_SECURE"] is True
    assert portal.config["SESSION_COOKIE_NAME"].startswith("__Host-")

    # Browsers drop a __Host- cookie unless it is Secure, has Path=/ and no Domain: nobody could sign in.
    # The production app is given the test database (rolled back afterwards) for this one request.
    portal.extensions["portal.db"] = app.extensions["portal.db"]
    response = portal.test_client().get("/sign-in", base_url="https://portal.example")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith("__Host-")
    assert "secure" in attributes
    assert "path=/" in attributes
    assert not any(attribute.startswith("domain=") for attribute in attributes)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_setting_that_is_not_a_number_is_named(environment):
    environment.setenv("PORTAL_SESSION_IDLE_MINUTES", "thirty")

    with pytest.raises(ConfigError, match="PORTAL_SESSION_IDLE_MINUTES must be a whole number"):
        load_config()


def test_development_needs_no_settings_and_keeps_its_generated_secret(environment, tmp_path):
    instance = tmp_path / "instance"

    first = load_config()

    assert first["PORTAL_ENV"] == "development"
    assert first["DATABASE_URL"] == f"sqlite:///{instance / 'portal.db'}"
    assert len(first["SECRET_KEY"]) >= 32
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, "the key file should be readable by its owner only"
    # The development server on plain http://127.0.0.1 needs a cookie it can send back.
    assert first["SESSION_COOKIE_SECURE"] is False
    assert not first["SESSION_COOKIE_NAME"].startswith("__Host-")

    # A restart must keep the key, or everyone signed in would be signed out.
    assert load_config()["SECRET_KEY"] == first["SECRET_KEY"]
    assert create_app().config["SECRET_KEY"] == first["SECRET_KEY"]


def test_development_instance_folders_do_not_share_a_secret(environment, tmp_path):
    first = load_config()["SECRET_KEY"]
    environment.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "another"))

    second = load_config()

    assert second["SECRET_KEY"] != first
    assert second["DATABASE_URL"] == f"sqlite:///{tmp_path / 'another' / 'portal.db'}"


@pytest.mark.parametrize("name", ["prod", "live", "Production-ish"])
def test_an_unknown_environment_is_refused_rather_than_run_as_development(environment, name):
    environment.setenv("PORTAL_ENV", name)

    with pytest.raises(ConfigError, match="PORTAL_ENV must be one of development, production"):
        create_app()


NOTIFY_KEY = "portal_live-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_SECRET = NOTIFY_KEY[-36:]


@pytest.fixture
def notify_production(production):
    """Production sending email and text messages through GOV.UK Notify instead of a mail server."""
    production.delenv("PORTAL_MAIL_SERVER")
    production.setenv("PORTAL_MAIL_BACKEND", "notify")
    production.setenv("PORTAL_GOVUK_NOTIFY_API_KEY", NOTIFY_KEY)
    production.setenv("PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID", "f33517ff-2a88-4f6e-b855-c550268ce08a")
    production.setenv("PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID", "8e222534-7f05-4972-86e3-17c5d9f894e2")
    return production


def test_production_can_send_everything_through_notify_without_a_mail_server(notify_production):
    portal = create_app()

    assert portal.config["MAIL_BACKEND"] == "notify"
    assert portal.config["GOVUK_NOTIFY_BASE_URL"] == "https://api.notifications.service.gov.uk"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        pytest.param("PORTAL_GOVUK_NOTIFY_API_KEY", None, "PORTAL_GOVUK_NOTIFY_API_KEY", id="notify without a key"),
        pytest.param(
            "PORTAL_GOVUK_NOTIFY_API_KEY", "live-key-1234", "PORTAL_GOVUK_NOTIFY_API_KEY", id="not a notify key"
        ),
        pytest.param(
            "PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID",
            None,
            "PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID",
            id="no email template",
        ),
        pytest.param(
            "PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID", None, "PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID", id="no text template"
        ),
        pytest.param(
            "PORTAL_GOVUK_NOTIFY_BASE_URL",
            "http://api.notifications.example",
            "PORTAL_GOVUK_NOTIFY_BASE_URL",
            id="notify over plain http",
        ),
    ],
)
def test_production_refuses_unsafe_notify_settings_and_names_which(notify_production, variable, value, named):
    if value is None:
        notify_production.delenv(variable)
    else:
        notify_production.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        create_app()

    message = str(refused.value)
    assert message.startswith("Refusing to start in production")
    assert named in message
    # One problem, and it is about this setting.
    problems = message.removeprefix("Refusing to start in production: ").split("; ")
    assert [problem.split()[0] for problem in problems] == [named]
    for secret in (NOTIFY_KEY, NOTIFY_SECRET, "live-key-1234"):
        assert secret not in message, "a key must never be repeated in an error"


def test_production_with_a_mail_server_needs_only_the_text_template_for_notify(production):
    production.setenv("PORTAL_GOVUK_NOTIFY_API_KEY", NOTIFY_KEY)

    with pytest.raises(ConfigError) as refused:
        create_app()

    assert "PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID must be set" in str(refused.value)
    assert "PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID" not in str(refused.value)

    production.setenv("PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID", "8e222534-7f05-4972-86e3-17c5d9f894e2")
    assert create_app().config["MAIL_BACKEND"] == "smtp"


def test_production_without_a_mail_server_suggests_notify(production):
    production.delenv("PORTAL_MAIL_SERVER")

    with pytest.raises(ConfigError, match="PORTAL_MAIL_SERVER must be set \\(or PORTAL_MAIL_BACKEND=notify\\)"):
        create_app()


def test_development_sends_nothing_through_notify_unless_a_key_is_given(environment):
    config = load_config()

    assert config["GOVUK_NOTIFY_API_KEY"] is None
    assert config["MAIL_BACKEND"] == "console"

    environment.setenv("PORTAL_GOVUK_NOTIFY_API_KEY", NOTIFY_KEY)
    environment.setenv("PORTAL_GOVUK_NOTIFY_BASE_URL", "http://127.0.0.1:8999")
    config = load_config()
    assert config["GOVUK_NOTIFY_API_KEY"] == NOTIFY_KEY
    assert config["GOVUK_NOTIFY_BASE_URL"] == "http://127.0.0.1:8999"
