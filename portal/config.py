"""Settings from the environment, with safe defaults for development.

Every setting can be given as an environment variable (``PORTAL_*`` and a few conventional names such
as ``DATABASE_URL``). Development needs no set-up: a SQLite file and a generated secret key under
``instance/``. Production refuses to start while anything security-relevant is missing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """The settings are not safe to run with; the message says what to fix."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret() -> str:
    # Generated once and kept, so sessions survive a restart of the development server.
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config() -> dict:
    """Read the settings from the environment."""
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    production = env == "production"
    secret = os.environ.get("PORTAL_SECRET_KEY") or (None if production else _development_secret())
    secure_cookies = _flag("PORTAL_SECURE_COOKIES", production)
    config = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret,
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.db'}"),
        "PARTNERSHIP_NAME": os.environ.get("PORTAL_PARTNERSHIP_NAME", "Local Safeguarding Children Partnership"),
        "SERVICE_NAME": "Safeguarding Review Portal",
        "SESSION_IDLE_MINUTES": int(os.environ.get("PORTAL_SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(os.environ.get("PORTAL_SESSION_ABSOLUTE_HOURS", "12")),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The __Host- prefix pins the cookie to this host over HTTPS with no Domain attribute.
        "SESSION_COOKIE_NAME": "__Host-portal_session" if secure_cookies else "portal_session",
        "MAX_CONTENT_LENGTH": int(os.environ.get("PORTAL_MAX_CONTENT_LENGTH", str(5 * 1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
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
        "MAIL_PORT": int(os.environ.get("PORTAL_MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("PORTAL_MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("PORTAL_MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag("PORTAL_MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("PORTAL_MAIL_SENDER", "no-reply@safeguarding-portal.invalid"),
        "SSO_ISSUER": os.environ.get("PORTAL_SSO_ISSUER"),
        "SSO_CLIENT_ID": os.environ.get("PORTAL_SSO_CLIENT_ID"),
        "SSO_CLIENT_SECRET": os.environ.get("PORTAL_SSO_CLIENT_SECRET"),
        "SSO_NAME": os.environ.get("PORTAL_SSO_NAME", "your agency account"),
        "TOTP_ISSUER": os.environ.get("PORTAL_TOTP_ISSUER", "Safeguarding Review Portal"),
        "TRUSTED_PROXIES": int(os.environ.get("PORTAL_TRUSTED_PROXIES", "0")),
    }
    return config


def check_production(config: dict) -> None:
    """Refuse to run in production with settings that would put records at risk."""
    if config.get("PORTAL_ENV") != "production":
        return
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < 32:
        problems.append("PORTAL_SECRET_KEY must be set to a random value of at least 32 characters")
    if str(config.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("secure cookies must be on (unset PORTAL_SECURE_COOKIES or set it to true)")
    if config.get("MAIL_BACKEND") == "console":
        problems.append("PORTAL_MAIL_SERVER must be set: the console mail backend is for development only")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
