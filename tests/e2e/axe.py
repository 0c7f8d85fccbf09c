"""Accessibility checks with axe-core, run inside the page the browser has open.

WCAG 2.2 AA is the floor for the service (public sector bodies must meet it), so the rules run are
exactly the WCAG A and AA ones up to 2.2; best-practice rules are left to review, not to the build.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Starts axe over the whole document and leaves the outcome on the window for Python to collect, so a
# run that never finishes is reported after a deadline instead of hanging the test session.
START_AXE = """
(tags) => {
  window.__portalAxe = { done: false };
  window.axe
    .run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] })
    .then(
      (results) => {
        window.__portalAxe = {
          done: true,
          violations: results.violations.map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            help: violation.help,
            helpUrl: violation.helpUrl,
            targets: violation.nodes.map((node) => node.target.join(" ")),
          })),
        };
      },
      (error) => {
        window.__portalAxe = { done: true, error: String(error) };
      },
    );
}
"""

# With JavaScript turned off in the browser, Chromium still runs code sent over the DevTools
# protocol and its promise chains, but never calls a timer's callback, and axe waits on timers.
# None of the page's own scripts has run, so giving axe promise-based timers changes nothing the
# person sees.
PROMISE_TIMERS = """
() => {
  let lastId = 0;
  const cancelled = new Set();
  window.setTimeout = (callback, _delay, ...args) => {
    const id = ++lastId;
    Promise.resolve().then(() => cancelled.has(id) || callback(...args));
    return id;
  };
  window.clearTimeout = (id) => cancelled.add(id);
}
"""

AXE_DEADLINE_SECONDS = 30


@cache
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        raise FileNotFoundError(f"{AXE_SCRIPT.relative_to(REPO_ROOT)} is missing: run `npm ci` first")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def inject_axe(page: Page, *, page_scripts_run: bool = True) -> None:
    """Load axe into the open page without weakening its Content-Security-Policy.

    A <script> tag would be refused by the page's nonce-based policy, and turning the policy off
    (bypass_csp) would hide the very violations these tests look for. Evaluating the source over
    the DevTools protocol is not subject to the page's policy, so the page runs as users get it.
    """
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    if not page_scripts_run:
        page.evaluate(PROMISE_TIMERS)
    page.evaluate(axe_source())


def axe_violations(page: Page, *, page_scripts_run: bool = True) -> list[dict]:
    """The page's WCAG 2.2 A and AA violations; ``page_scripts_run`` is False when JavaScript is off."""
    inject_axe(page, page_scripts_run=page_scripts_run)
    page.evaluate(START_AXE, WCAG_TAGS)
    deadline = time.monotonic() + AXE_DEADLINE_SECONDS
    while True:
        outcome = page.evaluate("() => window.__portalAxe")
        if outcome["done"]:
            break
        assert time.monotonic() < deadline, f"axe did not finish within {AXE_DEADLINE_SECONDS}s on {page.url}"
        time.sleep(0.01)
    assert "error" not in outcome, f"axe failed on {page.url}: {outcome['error']}"
    return outcome["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        lines.extend(f"    at {target}" for target in violation["targets"])
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, *, page_scripts_run: bool = True) -> None:
    violations = axe_violations(page, page_scripts_run=page_scripts_run)
    assert not violations, (
        f"axe found {len(violations)} WCAG 2.2 AA violation(s) on {page.url}:\n{describe_violations(violations)}"
    )
