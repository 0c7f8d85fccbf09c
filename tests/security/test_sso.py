"""Agency single sign-on, end to end against a real OpenID provider running on 127.0.0.1.

Every test drives the whole authorisation code flow over HTTP: the portal sends the browser to the
provider, the provider's own form issues a code, and the portal exchanges that code for tokens
with the provider and checks the signed ID token. Only the browser's hop back to the portal is
simulated, by reading the provider's Location header: portal.test is never contacted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import oidc_provider_mock
import pyotp
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.config import ConfigError
from portal.security.audit import AuditEvent
from portal.security.models import Role, User, UserSession
from portal.security.sessions import hash_token
from tests.conftest import free_port, make_test_app, rolled_back, submit
from tests.factories import make_user

# Raised inside the provider (Authlib's server side), not by the portal's own code.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

CLIENT_ID = "safeguarding-portal"
CLIENT_SECRET = "test-client-secret"
CALLBACK_URL = "http://portal.test/sso/callback"


@dataclass(frozen=True)
class Provider:
    """The running OpenID provider, and the people it knows."""

    issuer: str

    def add_person(self, **claims: object) -> str:
        """Give the provider a person with these claims; returns their subject, unique to the test."""
        subject = f"agency-{uuid.uuid4().hex}"
        self.set_claims(subject, **claims)
        return subject

    def set_claims(self, subject: str, **claims: object) -> None:
        answer = requests.put(f"{self.issuer}/users/{subject}", json=claims, timeout=10)
        assert answer.status_code == 204, answer.text


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    # require_nonce makes the provider itself refuse any authorisation request without a nonce.
    with oidc_provider_mock.run_server_in_thread(port=0, require_nonce=True) as server:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1", f"the provider must listen on the loopback address only, not {host}"
        yield Provider(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def sso_base_app(base_app: Flask, database_url: str, smtp_server, provider: Provider) -> Flask:
    # base_app has already migrated the shared database; this app differs only in its SSO settings.
    controller, _mailbox = smtp_server
    return make_test_app(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        SSO_ISSUER=provider.issuer,
        SSO_CLIENT_ID=CLIENT_ID,
        SSO_CLIENT_SECRET=CLIENT_SECRET,
    )


@pytest.fixture
def app(sso_base_app: Flask) -> Iterator[Flask]:
    """In this module ``app`` (and so ``client`` and ``db``) is the portal with single sign-on on."""
    with rolled_back(sso_base_app):
        yield sso_base_app


# The three hops of the flow ----------------------------------------------------------------------


def start_sign_in(client: FlaskClient) -> str:
    """Press "Sign in with your agency account"; returns where the portal sends the browser."""
    response = client.get("/sso/start")
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def choose_person_at_provider(authorize_url: str, subject: str, action: str | None = None) -> str:
    """What the browser does at the provider: submit its sign-in form; returns the way back to the portal."""
    form = {"sub": subject} if action is None else {"sub": subject, "action": action}
    answer = requests.post(authorize_url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def return_to_portal(client: FlaskClient, callback_url: str):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK_URL
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_by_sso(client: FlaskClient, subject: str):
    return return_to_portal(client, choose_person_at_provider(start_sign_in(client), subject))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


# Checks ------------------------------------------------------------------------------------------


def registered_person(db: Session, **fields) -> User:
    # Agency staff who sign in by SSO need no password here (and skipping the Argon2 hash keeps tests fast).
    return make_user(db, password=None, **fields)


def audit_events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def signed_in_as(client: FlaskClient) -> str | None:
    page = client.get("/").text
    if "Sign out" not in page:
        return None
    return page.split("Welcome, ", 1)[1].split("<", 1)[0].strip()


def assert_refused(response, *, reason: str, advice: str, status: int = 403) -> None:
    assert response.status_code == status, response.text
    assert '<h1 class="govuk-heading-l">' in response.text
    assert reason in response.text
    assert advice in response.text
    assert 'href="/sign-in"' in response.text


# The authorisation request -----------------------------------------------------------------------


def test_start_sends_the_browser_to_the_provider_with_state_nonce_and_s256_pkce(client, db, provider):
    authorize_url = start_sign_in(client)

    parts = urlsplit(authorize_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{provider.issuer}/oauth2/authorize"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK_URL
    assert set(query["scope"].split()) >= {"openid", "email"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 20
    assert len(query["nonce"]) >= 20

    # The verifier stays on the server: the challenge sent out must be its SHA-256, not the verifier.
    record = db.scalar(
        sa.select(UserSession).where(
            UserSession.token_hash == hash_token(client.get_cookie("portal_session", domain="portal.test").value)
        )
    )
    saved = json.loads(record.data)[f"_state_agency_{query['state']}"]["data"]
    digest = hashlib.sha256(saved["code_verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert saved["nonce"] == query["nonce"]


def test_sign_in_page_offers_single_sign_on_only_when_it_is_configured(sso_base_app, base_app):
    # One app at a time: on SQLite two open write transactions on the same file would lock each other.
    with rolled_back(sso_base_app):
        page = sso_base_app.test_client().get("/sign-in")
        assert "Sign in with your agency account" in page.text
        assert 'href="/sso/start"' in page.text

    with rolled_back(base_app):
        browser = base_app.test_client()
        page = browser.get("/sign-in")
        assert page.status_code == 200
        assert "Sign in with your agency account" not in page.text
        assert "/sso/start" not in page.text
        assert browser.get("/sso/start").status_code == 404
        assert browser.get("/sso/callback?code=x&state=y").status_code == 404


# Who may sign in ---------------------------------------------------------------------------------


def test_first_sign_in_links_a_registered_practitioner_by_verified_email(client, db, provider):
    user = registered_person(db, role=Role.PRACTITIONER, name="Priya Shah", email="priya.shah@agency.example")
    # Agencies' directories are not consistent about case; the match is on the normalised address.
    subject = provider.add_person(email="Priya.Shah@Agency.example", email_verified=True, name="P Shah")

    response = sign_in_by_sso(client, subject)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_as(client) == "Priya Shah"
    db.refresh(user)
    assert (user.sso_issuer, user.sso_subject) == (provider.issuer, subject)
    [linked] = audit_events(db, "sso.linked")
    assert linked.object_id == str(user.id)
    [signed_in] = audit_events(db, "sign_in.succeeded")
    assert signed_in.actor_id == user.id
    assert json.loads(signed_in.details) == {"method": "single sign-on"}


def test_a_linked_person_is_found_by_subject_even_when_their_email_changes(app, client, db, provider):
    user = registered_person(db, name="Priya Shah", email="priya.shah@agency.example")
    other = registered_person(db, name="Sam Other", email="sam.other@agency.example")
    subject = provider.add_person(email=user.email, email_verified=True)
    assert sign_in_by_sso(client, subject).status_code == 302

    # The agency gives the address to someone else who is registered here: the subject still decides.
    provider.set_claims(subject, email=other.email, email_verified=True)
    later = app.test_client()
    response = sign_in_by_sso(later, subject)
    assert response.status_code == 302
    assert signed_in_as(later) == "Priya Shah"
    db.refresh(other)
    assert other.sso_subject is None
    assert len(audit_events(db, "sso.linked")) == 1


def test_another_subject_claiming_a_linked_persons_email_is_refused(app, client, db, provider):
    user = registered_person(db, email="priya.shah@agency.example")
    first = provider.add_person(email=user.email, email_verified=True)
    assert sign_in_by_sso(client, first).status_code == 302

    impostor = provider.add_person(email=user.email, email_verified=True)
    elsewhere = app.test_client()
    response = sign_in_by_sso(elsewhere, impostor)
    assert_refused(
        response,
        reason="that account is already linked to a different agency sign-in",
        advice="contact the partnership&#39;s business unit",
    )
    assert signed_in_as(elsewhere) is None
    db.refresh(user)
    assert user.sso_subject == first
    [refused] = audit_events(db, "sso.refused")
    assert refused.object_id == impostor[:60]
    assert json.loads(refused.details)["issuer"] == provider.issuer


@pytest.mark.parametrize("verified", [{"email_verified": False}, {}], ids=["unverified", "not-said"])
def test_an_email_the_provider_has_not_verified_is_refused(client, db, provider, verified):
    user = registered_person(db, email="priya.shah@agency.example")
    subject = provider.add_person(email=user.email, **verified)

    response = sign_in_by_sso(client, subject)

    assert_refused(
        response,
        reason="your agency has not confirmed your email address",
        advice="Ask your agency&#39;s IT service desk",
    )
    assert signed_in_as(client) is None
    db.refresh(user)
    assert user.sso_subject is None
    [refused] = audit_events(db, "sso.refused")
    assert "verified" in json.loads(refused.details)["reason"]


def test_an_unknown_email_is_refused_with_a_page_that_says_why_and_what_to_do(client, db, provider):
    subject = provider.add_person(email="nobody@agency.example", email_verified=True)

    response = sign_in_by_sso(client, subject)

    assert_refused(
        response,
        reason="no account is registered for that email address",
        advice="ask the partnership&#39;s business unit to register your work email address",
    )
    assert "<title>You cannot sign in with your agency account " in response.text
    assert signed_in_as(client) is None
    [refused] = audit_events(db, "sso.refused")
    assert refused.object_type == "sso_identity"
    assert refused.object_id == subject[:60]


def test_a_deactivated_person_is_refused_and_not_linked(client, db, provider):
    user = registered_person(db, email="priya.shah@agency.example", active=False)
    subject = provider.add_person(email=user.email, email_verified=True)

    response = sign_in_by_sso(client, subject)

    assert_refused(response, reason="your account has been deactivated", advice="reactivate")
    assert signed_in_as(client) is None
    db.refresh(user)
    assert user.sso_subject is None
    assert audit_events(db, "sso.linked") == []
    assert len(audit_events(db, "sso.refused")) == 1


def test_a_linked_person_deactivated_later_is_refused(app, client, db, provider):
    user = registered_person(db, email="priya.shah@agency.example")
    subject = provider.add_person(email=user.email, email_verified=True)
    assert sign_in_by_sso(client, subject).status_code == 302

    user.active = False
    db.commit()
    later = app.test_client()
    assert_refused(sign_in_by_sso(later, subject), reason="your account has been deactivated", advice="reactivate")
    assert signed_in_as(later) is None


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.AUTHOR])
def test_a_role_needing_two_factor_still_enters_the_authenticator_code_after_sso(client, db, provider, role):
    user = registered_person(db, role=role, name="Chris Lead", email="chris.lead@partnership.example")
    subject = provider.add_person(email=user.email, email_verified=True)

    response = sign_in_by_sso(client, subject)

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/two-factor"
    assert signed_in_as(client) is None
    assert audit_events(db, "sign_in.succeeded") == []

    answer = submit(client, "/sign-in/two-factor", {"code": pyotp.TOTP(user.totp_secret).now()})
    assert answer.status_code == 302
    assert signed_in_as(client) == "Chris Lead"
    [signed_in] = audit_events(db, "sign_in.succeeded")
    assert json.loads(signed_in.details) == {"method": "single sign-on"}


def test_a_role_needing_two_factor_without_an_authenticator_is_sent_to_set_one_up(client, db, provider):
    user = registered_person(db, role=Role.COORDINATOR, email="new.lead@partnership.example", with_totp=False)
    subject = provider.add_person(email=user.email, email_verified=True)

    response = sign_in_by_sso(client, subject)

    assert response.headers["Location"] == "/sign-in/two-factor/set-up"
    assert signed_in_as(client) is None


# A sign-in that does not complete ----------------------------------------------------------------

RETRY = "Go back to sign in and try again"


def test_a_tampered_state_is_refused_with_a_friendly_page(client, db, provider):
    user = registered_person(db, email="priya.shah@agency.example")
    subject = provider.add_person(email=user.email, email_verified=True)
    callback = choose_person_at_provider(start_sign_in(client), subject)

    response = return_to_portal(client, with_query(callback, state="made-up-by-an-attacker"))

    assert_refused(response, reason="the sign-in did not finish", advice=RETRY, status=400)
    assert signed_in_as(client) is None
    db.refresh(user)
    assert user.sso_subject is None
    [failed] = audit_events(db, "sso.failed")
    assert json.loads(failed.details)["error"] == "mismatching_state"


def test_a_callback_this_browser_did_not_start_is_refused(app, client, db, provider):
    # Login CSRF: an attacker's own code and state, planted in the victim's browser, must not sign them in.
    attacker = provider.add_person(email=registered_person(db).email, email_verified=True)
    callback = choose_person_at_provider(start_sign_in(client), attacker)

    victim = app.test_client()
    assert_refused(return_to_portal(victim, callback), reason="the sign-in did not finish", advice=RETRY, status=400)
    assert signed_in_as(victim) is None


def test_a_callback_works_only_once(client, db, provider):
    # The state is spent by its first use, so a callback address seen in a log or history is worthless.
    subject = provider.add_person(email="nobody@agency.example", email_verified=True)
    callback = choose_person_at_provider(start_sign_in(client), subject)
    assert return_to_portal(client, callback).status_code == 403

    assert_refused(return_to_portal(client, callback), reason="the sign-in did not finish", advice=RETRY, status=400)
    assert len(audit_events(db, "sso.refused")) == 1
    [failed] = audit_events(db, "sso.failed")
    assert json.loads(failed.details)["error"] == "mismatching_state"


def test_declining_at_the_provider_is_a_friendly_page(client, db, provider):
    subject = provider.add_person(email=registered_person(db).email, email_verified=True)
    callback = choose_person_at_provider(start_sign_in(client), subject, action="deny")
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]

    assert_refused(return_to_portal(client, callback), reason="the sign-in did not finish", advice=RETRY, status=400)
    [failed] = audit_events(db, "sso.failed")
    assert json.loads(failed.details)["error"] == "access_denied"


def test_an_id_token_with_a_nonce_we_did_not_send_is_refused(client, db, provider):
    # The provider copies claims into the ID token, so a stale or replayed token can be imitated.
    user = registered_person(db)
    subject = provider.add_person(email=user.email, email_verified=True, nonce="a-nonce-from-another-sign-in")

    response = sign_in_by_sso(client, subject)

    assert_refused(response, reason="the sign-in did not finish", advice=RETRY, status=400)
    assert signed_in_as(client) is None
    db.refresh(user)
    assert user.sso_subject is None
    [failed] = audit_events(db, "sso.failed")
    assert json.loads(failed.details)["error"] == "invalid_claim"


def test_an_id_token_from_another_issuer_is_refused(client, db, provider):
    user = registered_person(db)
    subject = provider.add_person(email=user.email, email_verified=True, iss="http://127.0.0.1:9/other-provider")

    response = sign_in_by_sso(client, subject)

    assert_refused(response, reason="the sign-in did not finish", advice=RETRY, status=400)
    db.refresh(user)
    assert user.sso_subject is None


def test_a_provider_that_does_not_answer_gets_a_friendly_page(base_app, database_url):
    # Nothing listens on this loopback port: the portal cannot even read the provider's settings.
    silent = make_test_app(
        database_url,
        SSO_ISSUER=f"http://127.0.0.1:{free_port()}",
        SSO_CLIENT_ID=CLIENT_ID,
        SSO_CLIENT_SECRET=CLIENT_SECRET,
    )
    with rolled_back(silent):
        response = silent.test_client().get("/sso/start")
        assert_refused(response, reason="sign-in service did not answer", advice=RETRY, status=503)
        assert "Your sign-in did not finish" in response.text
        db = silent.extensions["portal.db"]()
        [failed] = audit_events(db, "sso.failed")
        assert json.loads(failed.details)["error"] == "provider_unreachable"
        db.close()
    silent.extensions["portal.db"].kw["bind"].dispose()


def test_an_issuer_without_client_credentials_stops_the_portal_starting(database_url, provider):
    with pytest.raises(ConfigError, match="PORTAL_SSO_CLIENT_SECRET"):
        make_test_app(database_url, SSO_ISSUER=provider.issuer, SSO_CLIENT_ID=CLIENT_ID)
