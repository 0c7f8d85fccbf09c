"""A person's browser tab, driven the way they would drive it, with every page checked on arrival.

Every document the tab loads is counted; ``check_page`` runs axe, checks the page reflows at 320
pixels wide and looks at the browser console, and the fixture that hands out a ``Journey`` fails
the test if any loaded page was never checked. So
a test cannot reach a page without its accessibility being checked, whether it got there by a link,
a button, the keyboard or a redirect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, Response

from tests.e2e.axe import assert_no_axe_violations

# Chromium reports a refused script, style or frame as a console message naming the policy.
CSP_MESSAGE = re.compile(r"content[ -]security[ -]policy", re.IGNORECASE)

# WCAG 1.4.10 (reflow): at 320 CSS pixels wide, the width of a 1280-pixel screen zoomed to 400%,
# nothing may need scrolling sideways. axe cannot judge this, so the page is measured directly.
REFLOW_WIDTH = 320
SIDEWAYS_OVERFLOW = """
() => {
  const page = document.documentElement;
  return page.scrollWidth - page.clientWidth;
}
"""


@dataclass
class Account:
    role: str
    email: str
    password: str
    totp_secret: str | None = None


@dataclass
class Journey:
    page: Page
    base_url: str
    # Supplies a fresh authenticator code for a secret (codes are single-use on the server).
    totp_code: Callable[[str], str]
    javascript: bool = True
    # Requests the browser was stopped from making to anywhere but the portal (see conftest).
    off_site: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)
    checked: int = 0
    policy_messages: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("load", lambda page: self.loads.append(page.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.script_errors.append(f"{self.page.url}: {error}"))

    def _console(self, message) -> None:
        if CSP_MESSAGE.search(message.text):
            self.policy_messages.append(f"{self.page.url}: {message.text}")

    # Getting to pages -------------------------------------------------------------------------

    def visit(self, path: str, *, status: int = 200) -> Response:
        """Type an address into the browser, then check the page that comes back."""
        response = self.page.goto(self.base_url + path)
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        self.check_page()
        return response

    def navigate(self, action: Callable[[], object]) -> None:
        """Do something that loads a new page (follow a link, send a form), then check that page."""
        with self.page.expect_event("load"):
            action()
        self.check_page()

    def click(self, target: Locator) -> None:
        self.navigate(target.click)

    def press_enter_on(self, target: Locator) -> None:
        """Move to ``target`` with the Tab key and press Enter on it, as a keyboard user would."""
        self.tab_to(target)
        self.navigate(lambda: self.page.keyboard.press("Enter"))

    # The keyboard -----------------------------------------------------------------------------

    def is_focused(self, target: Locator) -> bool:
        return target.evaluate("element => element === document.activeElement")

    def tab_to(self, target: Locator, *, limit: int = 40) -> None:
        """Press Tab until ``target`` has focus; fails if the keyboard cannot reach it."""
        for _ in range(limit):
            if self.is_focused(target):
                return
            self.page.keyboard.press("Tab")
        assert self.is_focused(target), f"{target} could not be reached with the Tab key on {self.page.url}"

    def type_into(self, target: Locator, text: str) -> None:
        self.tab_to(target)
        self.page.keyboard.type(text)

    # Checks -----------------------------------------------------------------------------------

    def check_page(self) -> None:
        """Accessibility (axe and reflow, WCAG 2.2 AA) and policy checks for the page that is open now."""
        assert self.loads, "check_page() was called before any page loaded"
        # Counted before the assertions, so a failure here is reported once, not again at teardown.
        self.checked = len(self.loads)
        assert_no_axe_violations(self.page, page_scripts_run=self.javascript)
        self.assert_reflows()
        self.assert_no_policy_violations()

    def assert_reflows(self) -> None:
        """The page fits a 320 pixel wide window without scrolling sideways (WCAG 1.4.10)."""
        viewport = self.page.viewport_size
        self.page.set_viewport_size({"width": REFLOW_WIDTH, "height": viewport["height"]})
        try:
            overflow = self.page.evaluate(SIDEWAYS_OVERFLOW)
        finally:
            self.page.set_viewport_size(viewport)
        assert overflow <= 0, f"{self.page.url} needs scrolling sideways by {overflow}px at {REFLOW_WIDTH}px wide"

    def assert_no_policy_violations(self) -> None:
        assert not self.policy_messages, "Content-Security-Policy violations:\n" + "\n".join(self.policy_messages)
        assert not self.script_errors, "Script errors:\n" + "\n".join(self.script_errors)

    def assert_every_page_checked(self) -> None:
        unchecked = self.loads[self.checked :]
        assert not unchecked, f"pages were loaded but never checked: {unchecked}"

    def assert_stayed_on_the_portal(self) -> None:
        assert not self.off_site, f"the pages asked for addresses other than the portal: {self.off_site}"

    # Signing in -------------------------------------------------------------------------------

    def sign_in(self, account: Account) -> None:
        """Sign in from the sign-in page with the keyboard alone, including the authenticator step."""
        page = self.page
        self.visit("/sign-in")
        self.type_into(page.get_by_label("Email address"), account.email)
        self.type_into(page.get_by_label("Password", exact=True), account.password)
        self.press_enter_on(page.get_by_role("button", name="Sign in"))
        if account.totp_secret:
            assert page.get_by_role("heading", level=1).inner_text() == "Enter the code from your authenticator app"
            self.type_into(page.get_by_label("Code from your authenticator app"), self.totp_code(account.totp_secret))
            self.press_enter_on(page.get_by_role("button", name="Continue"))

    def sign_out(self) -> None:
        self.press_enter_on(self.page.get_by_role("banner").get_by_role("button", name="Sign out"))
