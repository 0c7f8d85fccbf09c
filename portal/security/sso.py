"""Agency single sign-on over OpenID Connect (authorisation code flow with state, nonce and PKCE)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from sqlalchemy.orm import Session

from portal.security import audit
from portal.security.models import User
from portal.security.services import normalise_email


def init_app(app: Flask) -> None:
    if not app.config.get("SSO_ISSUER"):
        return
    oauth = OAuth(app)
    oauth.register(
        "agency",
        client_id=app.config["SSO_CLIENT_ID"],
        client_secret=app.config["SSO_CLIENT_SECRET"],
        server_metadata_url=app.config["SSO_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    app.extensions["portal.sso"] = oauth


def sso_enabled() -> bool:
    return "portal.sso" in current_app.extensions


def client():
    return current_app.extensions["portal.sso"].agency


@dataclass(frozen=True)
class SsoRefusal:
    reason: str


def match_sso_user(db: Session, claims: dict) -> User | SsoRefusal:
    """Find the person for a verified ID token.

    After the first sign-in a person is found by issuer and subject only: an email address can be
    reassigned by an agency, a subject cannot. The first sign-in links a pre-registered person by
    the email the provider says it has verified, and only if no other identity is linked to them.
    """
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    if not issuer or not subject:
        return SsoRefusal("the sign-in response had no issuer or subject")
    user = db.scalar(sa.select(User).where(User.sso_issuer == issuer, User.sso_subject == subject))
    if user is None:
        email = claims.get("email")
        if not email or claims.get("email_verified") is not True:
            return _refuse(db, issuer, subject, "the provider did not confirm a verified email address")
        user = db.scalar(sa.select(User).where(User.email == normalise_email(str(email))))
        if user is None:
            return _refuse(db, issuer, subject, "no account is registered for that email address")
        if user.sso_subject is not None:
            return _refuse(db, issuer, subject, "that account is already linked to a different sign-in")
        user.sso_issuer, user.sso_subject = issuer, subject
        audit.record(
            db, "sso.linked", object_type="user", object_id=user.id, actor_id=user.id, details={"issuer": issuer}
        )
    if not user.active:
        return _refuse(db, issuer, subject, "the account is deactivated")
    return user


def _refuse(db: Session, issuer: str, subject: str, reason: str) -> SsoRefusal:
    audit.record(
        db,
        "sso.refused",
        object_type="sso_identity",
        object_id=subject[:60],
        details={"issuer": issuer, "reason": reason},
    )
    return SsoRefusal(reason)
