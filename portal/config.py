"""Settings from the environment, with safe defaults for development.

Every setting can be given as an environment variable (``PORTAL_*`` and a few conventional names such
as ``DATABASE_URL``). Development needs no set-up: a SQLite file and a generated secret key under
``instance/``. Production refuses to start while anything security-relevant is missing.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """Where development keeps its SQLite file and secret key (``PORTAL_INSTANCE_DIR``, else ``instance/``)."""
    # Read on every call, not once at import, so the setting takes effect whenever settings are loaded.
    return Path(os.environ.get("PORTAL_INSTANCE_DIR") or PROJECT_ROOT / "instance")


ENVIRONMENTS = ("development", "production")
NOTIFY_API_URL = "https://api.notifications.service.gov.uk"
# A GOV.UK Notify API key is "{key name}-{service id}-{secret}", the last two being UUIDs.
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTIFY_API_KEY_FORMAT = re.compile(rf".+-(?P<service_id>{_UUID})-(?P<secret>{_UUID})", re.IGNORECASE)


class ConfigError(RuntimeError):
    """The settings are not safe to run with; the message says what to fix."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _development_secret(folder: Path) -> str:
    # Generated once and kept, so sessions survive a restart of the development server.
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config() -> dict:
    """Read the settings from the environment."""
    env = (os.environ.get("PORTAL_ENV") or "development").strip().lower()
    if env not in ENVIRONMENTS:
        # Anything unrecognised ("prod", "live") would otherwise run with development defaults and
        # skip every production check.
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    production = env == "production"
    folder = instance_dir()
    secret = os.environ.get("PORTAL_SECRET_KEY") or (None if production else _development_secret(folder))
    secure_cookies = _flag("PORTAL_SECURE_COOKIES", production)
    config = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret,
        # An empty DATABASE_URL counts as unset rather than as a URL nothing can connect to.
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'portal.db'}",
        "PARTNERSHIP_NAME": os.environ.get("PORTAL_PARTNERSHIP_NAME", "Local Safeguarding Children Partnership"),
        "SERVICE_NAME": "Safeguarding Review Portal",
        "SESSION_IDLE_MINUTES": _whole_number("PORTAL_SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _whole_number("PORTAL_SESSION_ABSOLUTE_HOURS", 12),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The __Host- prefix pins the cookie to this host over HTTPS with no Domain attribute.
        "SESSION_COOKIE_NAME": "__Host-portal_session" if secure_cookies else "portal_session",
        # Room for one 20 MB family file plus the form around it; larger requests are refused whole.
        "MAX_CONTENT_LENGTH": _whole_number("PORTAL_MAX_CONTENT_LENGTH", 21 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        # Families' files, kept outside static/ so they are only ever served through a checked download.
        "UPLOAD_DIR": os.environ.get("PORTAL_UPLOAD_DIR") or str(folder / "uploads"),
        "WTF_CSRF_TIME_LIMIT": None,
        "PASSWORD_RESET_MINUTES": 60,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _flag("PORTAL_RATELIMIT_ENABLED", True),
        "SIGN_IN_LIMIT_PER_ACCOUNT": os.environ.get("PORTAL_SIGN_IN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "SIGN_IN_LIMIT_PER_IP": os.environ.get("PORTAL_SIGN_IN_LIMIT_PER_IP", "30 per 15 minutes"),
        "PUBLIC_URL": os.environ.get("PORTAL_PUBLIC_URL", "http://127.0.0.1:5000"),
        "MAIL_BACKEND": os.environ.get(
            "PORTAL_MAIL_BACKEND", "smtp" if os.environ.get("PORTAL_MAIL_SERVER") else "console"
        ),
        "MAIL_SERVER": os.environ.get("PORTAL_MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": _whole_number("PORTAL_MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("PORTAL_MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("PORTAL_MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag("PORTAL_MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("PORTAL_MAIL_SENDER", "no-reply@safeguarding-portal.invalid"),
        # GOV.UK Notify: text messages whenever a key is set, email too with PORTAL_MAIL_BACKEND=notify.
        "GOVUK_NOTIFY_API_KEY": os.environ.get("PORTAL_GOVUK_NOTIFY_API_KEY") or None,
        "GOVUK_NOTIFY_BASE_URL": os.environ.get("PORTAL_GOVUK_NOTIFY_BASE_URL") or NOTIFY_API_URL,
        "GOVUK_NOTIFY_EMAIL_TEMPLATE_ID": os.environ.get("PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID") or None,
        "GOVUK_NOTIFY_SMS_TEMPLATE_ID": os.environ.get("PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID") or None,
        "SSO_ISSUER": os.environ.get("PORTAL_SSO_ISSUER"),
        "SSO_CLIENT_ID": os.environ.get("PORTAL_SSO_CLIENT_ID"),
        "SSO_CLIENT_SECRET": os.environ.get("PORTAL_SSO_CLIENT_SECRET"),
        "SSO_NAME": os.environ.get("PORTAL_SSO_NAME", "your agency account"),
        "TOTP_ISSUER": os.environ.get("PORTAL_TOTP_ISSUER", "Safeguarding Review Portal"),
        "TRUSTED_PROXIES": _whole_number("PORTAL_TRUSTED_PROXIES", 0),
        # The length of each clock in TIMINGS.md, so a partnership can follow its own procedures.
        "CLOCK_NOTIFY_WORKING_DAYS": _whole_number("PORTAL_CLOCK_NOTIFY_WORKING_DAYS", 5),
        "CLOCK_RAPID_REVIEW_WORKING_DAYS": _whole_number("PORTAL_CLOCK_RAPID_REVIEW_WORKING_DAYS", 15),
        "CLOCK_AGENCY_RETURN_WORKING_DAYS": _whole_number("PORTAL_CLOCK_AGENCY_RETURN_WORKING_DAYS", 8),
        "CLOCK_CSPR_MONTHS": _whole_number("PORTAL_CLOCK_CSPR_MONTHS", 6),
        "CLOCK_FINAL_REPORT_WORKING_DAYS": _whole_number("PORTAL_CLOCK_FINAL_REPORT_WORKING_DAYS", 7),
        "CLOCK_DUE_SOON_WORKING_DAYS": _whole_number("PORTAL_CLOCK_DUE_SOON_WORKING_DAYS", 3),
        # The notifications outbox: a failing message is tried again after 30 s, 1 min, 2 min, …
        # (doubling, at most an hour apart) and given up after this many attempts.
        "NOTIFY_MAX_ATTEMPTS": _whole_number("PORTAL_NOTIFY_MAX_ATTEMPTS", 8),
        "NOTIFY_RETRY_SECONDS": _whole_number("PORTAL_NOTIFY_RETRY_SECONDS", 30),
        "NOTIFY_POLL_SECONDS": _whole_number("PORTAL_NOTIFY_POLL_SECONDS", 5),
        "EVENT_REMINDER_WORKING_DAYS": _whole_number("PORTAL_EVENT_REMINDER_WORKING_DAYS", 2),
        # A contribution request's reminder goes at 9am this many working days before it is due.
        "REQUEST_REMINDER_WORKING_DAYS": _whole_number("PORTAL_REQUEST_REMINDER_WORKING_DAYS", 2),
    }
    return config


def _is_postgresql(url: object) -> bool:
    # Parsed rather than prefix-matched, so an empty or malformed URL is refused here, at start-up,
    # instead of failing at the first request.
    try:
        return sa.make_url(str(url or "")).get_backend_name() == "postgresql"
    except sa.exc.ArgumentError:
        return False


def check_production(config: dict) -> None:
    """Refuse to run in production with settings that would put records at risk."""
    if config.get("PORTAL_ENV") != "production":
        return
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < 32:
        problems.append("PORTAL_SECRET_KEY must be set to a random value of at least 32 characters")
    if not _is_postgresql(config.get("DATABASE_URL")):
        problems.append("DATABASE_URL must point at PostgreSQL (postgresql://...): SQLite is for development only")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("secure cookies must be on (unset PORTAL_SECURE_COOKIES or set it to true)")
    if config.get("SSO_ISSUER") and not str(config["SSO_ISSUER"]).startswith("https://"):
        problems.append("PORTAL_SSO_ISSUER must be an https:// address")
    if config.get("MAIL_BACKEND") == "console":
        problems.append(
            "PORTAL_MAIL_SERVER must be set (or PORTAL_MAIL_BACKEND=notify): "
            "the console mail backend is for development only"
        )
    problems.extend(_notify_problems(config))
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")


def _notify_problems(config: dict) -> list[str]:
    # Each problem names the setting but never repeats the key: error messages end up in logs.
    key = config.get("GOVUK_NOTIFY_API_KEY")
    by_notify = config.get("MAIL_BACKEND") == "notify"
    problems = []
    if by_notify and not key:
        problems.append("PORTAL_GOVUK_NOTIFY_API_KEY must be set when PORTAL_MAIL_BACKEND is notify")
    if by_notify and not config.get("GOVUK_NOTIFY_EMAIL_TEMPLATE_ID"):
        problems.append("PORTAL_GOVUK_NOTIFY_EMAIL_TEMPLATE_ID must be set when PORTAL_MAIL_BACKEND is notify")
    if key:
        if not NOTIFY_API_KEY_FORMAT.fullmatch(key):
            problems.append("PORTAL_GOVUK_NOTIFY_API_KEY is not a GOV.UK Notify API key (name, service id and secret)")
        if not config.get("GOVUK_NOTIFY_SMS_TEMPLATE_ID"):
            problems.append("PORTAL_GOVUK_NOTIFY_SMS_TEMPLATE_ID must be set when PORTAL_GOVUK_NOTIFY_API_KEY is")
    if (key or by_notify) and not str(config.get("GOVUK_NOTIFY_BASE_URL") or "").startswith("https://"):
        problems.append("PORTAL_GOVUK_NOTIFY_BASE_URL must be an https:// address")
    return problems
