"""Signing in and out in a real browser, as each kind of person who uses the portal.

Every page reached here is checked with axe (WCAG 2.2 AA) and for Content-Security-Policy reports
by the ``Journey`` helper; the assertions below are about what the person sees.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey

pytestmark = pytest.mark.e2e

# What each demo person should see on arriving home: their name, and the caption that tells them
# which role they are acting in. Family members get no role caption: their page speaks to them
# as a family, not as a role in the review.
DEMO_PEOPLE = [
    pytest.param("coordinator@demo.example.org", "Carys Morgan", "Coordinator", id="coordinator"),
    pytest.param(
        "health.visitor@demo.example.org",
        "Priya Shah",
        "Practitioner, Northshire NHS Foundation Trust",
        id="practitioner-health",
    ),
    pytest.param(
        "social.worker@demo.example.org",
        "Tom Okafor",
        "Practitioner, Northshire Council Children's Services",
        id="practitioner-social-care",
    ),
    pytest.param("author@demo.example.org", "Dr Ruth Adeyemi", "Independent author", id="author"),
    pytest.param("parent@demo.example.org", "Jo Bennett", None, id="family-parent"),
    pytest.param("grandparent@demo.example.org", "Pat Bennett", None, id="family-grandparent"),
]


def expect_home_page(journey: Journey, name: str, caption: str | None) -> None:
    page = journey.page
    assert page.url == f"{journey.base_url}/"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    captions = page.locator("main .govuk-caption-l")
    if caption is None:
        expect(captions).to_have_count(0)
        expect(page.get_by_text("find out about the review")).to_be_visible()
    else:
        expect(captions).to_have_text(caption)
    expect(page.get_by_role("banner")).to_contain_text(f"{name} is signed in")


@pytest.mark.parametrize(("email", "name", "caption"), DEMO_PEOPLE)
def test_each_demo_person_signs_in_and_reaches_their_home_page(journey, live_portal: LivePortal, email, name, caption):
    account = live_portal.accounts[email]
    # Coordinators and authors see sensitive records, so they are asked for an authenticator code; the
    # demo family members use an app for their second step on a new device. Practitioners are not asked.
    assert (account.totp_secret is not None) == (account.role in {"coordinator", "author", "family"})

    journey.sign_in(account)

    expect_home_page(journey, name, caption)
    expect(journey.page.get_by_text(f"You are signed in as {name}.")).to_be_visible()


def test_the_start_page_leads_to_sign_in(journey):
    page = journey.page
    journey.visit("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding Review Portal")
    # The GOV.UK template's inline script only runs if the page's CSP nonce is right.
    expect(page.locator("body")).to_have_class("govuk-template__body js-enabled govuk-frontend-supported")
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)

    journey.click(page.get_by_role("button", name="Sign in"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_sending_the_sign_in_form_empty_shows_a_focused_error_summary(journey):
    page = journey.page
    journey.visit("/sign-in")

    journey.press_enter_on(page.get_by_role("button", name="Sign in"))

    assert page.title().startswith("Error: Sign in")
    # The summary takes focus, so a screen reader announces it and the keyboard starts from it.
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    email_link = summary.get_by_role("link", name="Enter your email address")
    expect(email_link).to_have_attribute("href", "#email")
    expect(summary.get_by_role("link", name="Enter your password")).to_have_attribute("href", "#password")
    # Following the summary's link takes the person to the field to correct.
    email_link.click()
    expect(page.get_by_label("Email address")).to_be_focused()


def test_a_wrong_password_is_refused_with_one_message_for_both_fields(journey, live_portal: LivePortal):
    page = journey.page
    account = live_portal.accounts["health.visitor@demo.example.org"]
    journey.visit("/sign-in")
    journey.type_into(page.get_by_label("Email address"), account.email)
    journey.type_into(page.get_by_label("Password", exact=True), "not the password")

    journey.press_enter_on(page.get_by_role("button", name="Sign in"))

    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        ["Enter a correct email address and password"] * 2
    )
    # What the person typed stays in the email field, so they only retype the password.
    expect(page.get_by_label("Email address")).to_have_value(account.email)


def test_the_accessibility_statement_and_privacy_notice_are_linked_from_every_page(journey):
    page = journey.page
    footer = page.get_by_role("contentinfo")
    journey.visit("/")

    journey.click(footer.get_by_role("link", name="Accessibility statement"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    expect(page.get_by_text("Web Content Accessibility Guidelines version 2.2")).to_be_visible()

    journey.click(footer.get_by_role("link", name="Privacy notice"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")


def test_an_unknown_address_shows_the_not_found_page(journey):
    journey.visit("/no-such-page", status=404)

    expect(journey.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(journey.page.get_by_role("link", name="Go to the home page")).to_be_visible()


def test_a_person_sees_their_account_and_sessions_then_signs_out(journey, live_portal: LivePortal):
    page = journey.page
    journey.sign_in(live_portal.accounts["health.visitor@demo.example.org"])

    journey.click(page.get_by_role("banner").get_by_role("link", name="Your account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text("health.visitor@demo.example.org")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Northshire NHS Foundation Trust")

    journey.click(page.get_by_role("link", name="See where you are signed in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Where you are signed in")
    this_device = page.get_by_role("row").filter(has_text="This device")
    expect(this_device).to_have_count(1)
    expect(this_device).to_contain_text("Chrome on Linux")

    journey.sign_out()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)

    # The session really ended: the account page now asks the person to sign in.
    journey.visit("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("Sign in to see that page.")).to_be_visible()


def test_asking_for_a_password_reset_says_to_check_email(journey, live_portal: LivePortal):
    page = journey.page
    journey.visit("/sign-in")

    journey.click(page.get_by_role("link", name="Forgotten your password?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    journey.type_into(page.get_by_label("Email address"), "social.worker@demo.example.org")
    journey.press_enter_on(page.get_by_role("button", name="Send reset link"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_text("If social.worker@demo.example.org has an account")).to_be_visible()


def test_a_practitioner_signs_in_and_out_without_javascript(open_journey, live_portal: LivePortal):
    journey = open_journey(java_script_enabled=False)
    page = journey.page

    journey.sign_in(live_portal.accounts["social.worker@demo.example.org"])

    # The GOV.UK template marks the page when its scripts run; without JavaScript they must not have.
    expect(page.locator("body")).not_to_have_class("govuk-template__body js-enabled govuk-frontend-supported")
    expect_home_page(journey, "Tom Okafor", "Practitioner, Northshire Council Children's Services")
    journey.sign_out()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
