"""The browser harness's own checks fail when they should, so a green run means something.

Each test breaks one thing on a real portal page and expects the matching check to complain, then
leaves the tab in a state the fixture's final checks accept.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.journey import CSP_MESSAGE

pytestmark = pytest.mark.e2e

ADD_UNLABELLED_IMAGE = """
() => {
  const image = document.createElement("img");
  image.id = "picture-without-alt";
  image.src = "/static/images/favicon.svg";
  document.querySelector("main").append(image);
}
"""

# Preformatted text never wraps, so a long line of it is wider than a small screen.
ADD_UNBREAKABLE_LINE = """
() => {
  const line = document.createElement("pre");
  line.textContent = "x".repeat(200);
  document.querySelector("main").append(line);
}
"""


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["javascript-on", "javascript-off"])
def test_axe_reports_each_violation_with_its_rule_impact_and_element(open_journey, java_script_enabled):
    journey = open_journey(java_script_enabled=java_script_enabled)
    journey.visit("/")
    journey.page.evaluate(ADD_UNLABELLED_IMAGE)

    with pytest.raises(AssertionError) as failure:
        journey.check_page()

    message = str(failure.value)
    assert "image-alt (critical): Images must have alternative text" in message
    assert "at #picture-without-alt" in message


def test_a_page_too_wide_for_a_small_screen_is_reported(journey):
    journey.visit("/")
    journey.page.evaluate(ADD_UNBREAKABLE_LINE)

    with pytest.raises(AssertionError, match="needs scrolling sideways"):
        journey.assert_reflows()


def test_a_script_refused_by_the_content_security_policy_fails_the_test(journey):
    page = journey.page
    journey.visit("/")

    # An inline script without the page's nonce is what an injection would look like.
    with page.expect_event("console", lambda message: CSP_MESSAGE.search(message.text) is not None):
        page.evaluate("() => document.body.append(Object.assign(document.createElement('script'), {text: '1'}))")

    with pytest.raises(AssertionError, match="Content-Security-Policy violations"):
        journey.assert_no_policy_violations()
    journey.policy_messages.clear()


def test_a_page_loaded_without_a_check_is_reported(journey):
    journey.visit("/")
    journey.page.goto(f"{journey.base_url}/privacy")

    with pytest.raises(AssertionError, match="never checked"):
        journey.assert_every_page_checked()
    journey.check_page()


def test_requests_to_anywhere_but_the_portal_are_blocked_and_reported(journey):
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        journey.page.goto("http://192.0.2.1/")

    assert journey.off_site == ["http://192.0.2.1/"]
    with pytest.raises(AssertionError, match="other than the portal"):
        journey.assert_stayed_on_the_portal()
    journey.off_site.clear()
    # Chromium then shows its own error page; once it has, leave the tab on a checked portal page.
    journey.page.wait_for_url("chrome-error://chromewebdata/")
    journey.visit("/")
