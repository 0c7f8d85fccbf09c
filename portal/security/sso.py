"""Agency single sign-on over OpenID Connect (authorisation code flow with state, nonce and PKCE)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
import sqlalchemy as sa
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask, current_app
from joserfc.errors import JoseError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from portal.config import ConfigError
from portal.security import audit
from portal.security.models import User
from portal.security.services import normalise_email

# What the refusal page tells the person to do: each says who can put it right.
ASK_TO_REGISTER = (
    "Only people the partnership has registered can use this service. If you should have access, "
    "ask the partnership's business unit to register your work email address."
)
ASK_AGENCY_TO_VERIFY = (
    "Ask your agency's IT service desk to confirm the email address on your agency account, then try again."
)
ASK_ABOUT_LINK = (
    "If you think this is wrong, contact the partnership's business unit. They can check which agency "
    "account is linked to yours."
)
ASK_TO_REACTIVATE = (
    "If you still need to use this service, ask the partnership's business unit to reactivate your account."
)
TRY_AGAIN = "Go back to sign in and try again. If it keeps happening, contact the partnership's business unit."


def init_app(app: Flask) -> None:
    if not app.config.get("SSO_ISSUER"):
        return
    # A half-configured provider would only fail later, at someone's first sign-in.
    if not app.config.get("SSO_CLIENT_ID") or not app.config.get("SSO_CLIENT_SECRET"):
        raise ConfigError("PORTAL_SSO_CLIENT_ID and PORTAL_SSO_CLIENT_SECRET must be set when PORTAL_SSO_ISSUER is")
    oauth = OAuth(app)
    oauth.register(
        "agency",
        client_id=app.config["SSO_CLIENT_ID"],
        client_secret=app.config["SSO_CLIENT_SECRET"],
        server_metadata_url=app.config["SSO_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        # Without a timeout a provider that stops answering would hold a worker until gunicorn kills it.
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "default_timeout": 10},
    )
    app.extensions["portal.sso"] = oauth


def sso_enabled() -> bool:
    return "portal.sso" in current_app.extensions


def client() -> FlaskOAuth2App:
    return current_app.extensions["portal.sso"].agency


@dataclass(frozen=True)
class SsoRefusal:
    """Why a person was not signed in (it completes "We could not sign you in because …") and what to do."""

    reason: str
    advice: str
    # 403: the provider vouched for someone who may not come in; 400: the sign-in itself did not hold
    # together; 503: the provider did not answer. Only a 403 is worth asking the business unit about.
    status: int = 403


def start_sign_in(db: Session, redirect_uri: str) -> Response | SsoRefusal:
    """Send the browser to the provider, keeping the state, nonce and PKCE verifier in our session."""
    try:
        return client().authorize_redirect(redirect_uri)
    except requests.RequestException as error:
        # The provider's discovery document could not be read: say so, rather than fail with a 500.
        return _failed(db, error)


def complete_sign_in(db: Session) -> User | SsoRefusal:
    """Finish the provider's redirect back to us: check the state, exchange the code, check the ID token.

    Authlib checks the state against this browser's session (so nobody can plant their own sign-in in
    someone else's browser), sends the PKCE verifier with the code, and checks the ID token's
    signature, audience, expiry, issuer and nonce. Any of those failing is an unfinished sign-in.
    """
    try:
        token = client().authorize_access_token()
    except (OAuthError, JoseError, requests.RequestException) as error:
        return _failed(db, error)
    claims = token.get("userinfo")
    if not claims:
        # Without an ID token nothing says who this is; an OpenID provider always sends one.
        return _failed(db, OAuthError(error="missing_id_token"))
    issuer = str(claims.get("iss", ""))
    if not _same_issuer(issuer, current_app.config["SSO_ISSUER"]):
        # Authlib compares with the issuer the discovery document names; this pins it to our own setting.
        return _failed(db, OAuthError(error="wrong_issuer", description=issuer))
    return match_sso_user(db, dict(claims))


def match_sso_user(db: Session, claims: dict) -> User | SsoRefusal:
    """Find the person for a verified ID token.

    After the first sign-in a person is found by issuer and subject only: an email address can be
    reassigned by an agency, a subject cannot. The first sign-in links a pre-registered person by
    the email the provider says it has verified, and only if no other identity is linked to them.
    """
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    if not issuer or not subject:
        return _refuse(db, issuer, subject, "the sign-in response did not say who you are", TRY_AGAIN)
    user = db.scalar(sa.select(User).where(User.sso_issuer == issuer, User.sso_subject == subject))
    if user is None:
        email = claims.get("email")
        # Only a real boolean true counts: an unverified address could be anyone's.
        if not email or claims.get("email_verified") is not True:
            return _refuse(
                db,
                issuer,
                subject,
                "your agency has not confirmed your email address",
                ASK_AGENCY_TO_VERIFY,
                detail="the provider did not confirm a verified email address",
            )
        user = db.scalar(sa.select(User).where(User.email == normalise_email(str(email))))
        if user is None:
            return _refuse(db, issuer, subject, "no account is registered for that email address", ASK_TO_REGISTER)
        if user.sso_subject is not None:
            return _refuse(
                db, issuer, subject, "that account is already linked to a different agency sign-in", ASK_ABOUT_LINK
            )
    if not user.active:
        return _refuse(db, issuer, subject, "your account has been deactivated", ASK_TO_REACTIVATE)
    # Linked only once every check has passed: a refused sign-in leaves no identity on the account.
    if user.sso_subject is None:
        user.sso_issuer, user.sso_subject = issuer, subject
        audit.record(
            db, "sso.linked", object_type="user", object_id=user.id, actor_id=user.id, details={"issuer": issuer}
        )
    return user


def _same_issuer(received: str, configured: str) -> bool:
    # Providers differ on a trailing slash (some publish one) and the setting is typed by hand;
    # nothing else may differ.
    return bool(received) and received.rstrip("/") == configured.rstrip("/")


def _refuse(
    db: Session, issuer: str, subject: str, reason: str, advice: str, *, detail: str | None = None
) -> SsoRefusal:
    audit.record(
        db,
        "sso.refused",
        object_type="sso_identity",
        # The column holds 60 characters; subjects may be longer, and the issuer is in the details.
        object_id=subject[:60] or None,
        details={"issuer": issuer, "reason": detail or reason},
    )
    return SsoRefusal(reason, advice)


def _failed(db: Session, error: Exception) -> SsoRefusal:
    unreachable = isinstance(error, requests.RequestException)
    code = "provider_unreachable" if unreachable else getattr(error, "error", None) or type(error).__name__
    description = str(error if unreachable else getattr(error, "description", "") or "")[:200]
    # The audit row says what failed; the log gives operators the detail to fix a misconfiguration.
    current_app.logger.warning("Single sign-on did not complete: %s %r", code, description)
    audit.record(db, "sso.failed", details={"error": code, "description": description})
    if unreachable:
        return SsoRefusal("your agency's sign-in service did not answer", TRY_AGAIN, status=503)
    return SsoRefusal("the sign-in did not finish", TRY_AGAIN, status=400)
