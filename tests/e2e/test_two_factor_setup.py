"""A coordinator's first sign-in: setting up an authenticator app in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.db import get_session
from portal.security import services
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Account

pytestmark = pytest.mark.e2e

PASSWORD = "a new coordinator's long password"


def register_coordinator(live_portal: LivePortal, email: str, name: str) -> Account:
    """Register a coordinator as the README tells an administrator to, then give them a password."""
    live_portal.cli("users", "create", "--email", email, "--name", name, "--role", "coordinator")
    # In real life the person chooses a password through the emailed reset link; the reset pages are
    # not what this test is about, so the password is set through the same service those pages use.
    with live_portal.app.app_context():
        db = get_session()
        services.set_password(db, services.find_user_by_email(db, email), PASSWORD)
        db.commit()
    return Account(role="coordinator", email=email, password=PASSWORD)


def test_a_new_coordinator_sets_up_two_factor_sign_in(journey, live_portal: LivePortal):
    account = register_coordinator(live_portal, "sam.lead@e2e.example.org", "Sam Lead")
    page = journey.page

    journey.sign_in(account)

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code for setting up your authenticator app")).to_be_visible()
    # The key is shown in groups of four for reading aloud or typing; the app takes it without spaces.
    key = "".join(page.locator(".portal-secret").inner_text().split())
    journey.type_into(page.get_by_label("Code from your authenticator app"), live_portal.totp_code(key))
    journey.press_enter_on(page.get_by_role("button", name="Turn on two-factor sign-in"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.locator(".portal-recovery-codes code")
    expect(codes).to_have_count(10)
    recovery_code = codes.first.inner_text()

    journey.click(page.get_by_role("link", name="I have saved my codes"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Sam Lead")
    expect(page.locator("main .govuk-caption-l")).to_have_text("Coordinator")

    # The codes shown are real: after signing out, one of them stands in for the authenticator app.
    journey.sign_out()
    journey.sign_in(account)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")
    code_field = page.get_by_label("Code from your authenticator app")
    # A phone's number pad could not type a recovery code's letters.
    expect(code_field).not_to_have_attribute("inputmode", "numeric")
    journey.type_into(code_field, recovery_code)
    journey.press_enter_on(page.get_by_role("button", name="Continue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Sam Lead")
