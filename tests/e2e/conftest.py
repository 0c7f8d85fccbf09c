"""The browser tests' world: the portal served on 127.0.0.1 from its own database, and one Chromium.

The portal runs exactly as in development (migrated with ``db upgrade``, the demo loaded with
``demo seed``), so the journeys exercise the real sign-in pages, headers and Content-Security-Policy.
One browser serves the whole run; each test gets a fresh context, so no cookie leaks between tests.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright
from werkzeug.serving import make_server

from tests import databases
from tests.conftest import make_test_app
from tests.e2e.journey import Account, Journey

# Debian's Chromium: the tests never download a browser of their own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LivePortal:
    url: str
    app: Flask
    accounts: dict[str, Account]
    # The last authenticator time step used per secret: the portal refuses a code twice.
    used_steps: dict[str, int] = field(default_factory=dict)

    def cli(self, *args: str) -> str:
        """Run a ``flask`` command against the live portal's database; fails the test if it fails."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}"
        return result.output

    def totp_code(self, secret: str) -> str:
        """A code the portal will accept now: the current one, or the next if the current one is used.

        The portal accepts codes one 30-second step either side of its clock, but never a step at or
        before the last one used, so two sign-ins within one step need the next step's code.
        """
        totp = pyotp.TOTP(secret)
        step = max(totp.timecode(time.time()), self.used_steps.get(secret, -1) + 1)
        while step > totp.timecode(time.time()) + 1:
            time.sleep(1)
        self.used_steps[secret] = step
        return totp.generate_otp(step)


def _chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests need it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    executable = _chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory) -> Iterator[LivePortal]:
    database_url, drop_database = databases.create_database(tmp_path_factory.mktemp("e2e-db"))
    # No SERVER_NAME: the browser reaches the portal as 127.0.0.1:<port>, and Flask would answer 404
    # to any host other than SERVER_NAME. Emails go to the console: no test here reads one.
    app = make_test_app(database_url, SERVER_NAME=None, PUBLIC_URL=None, MAIL_BACKEND="console")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    # The port is only known once the server has bound it; nothing reads PUBLIC_URL before now.
    app.config["PUBLIC_URL"] = url
    portal = LivePortal(url=url, app=app, accounts={})
    portal.cli("db", "upgrade")
    accounts = json.loads(portal.cli("demo", "seed", "--json"))
    portal.accounts = {
        account["email"]: Account(account["role"], account["email"], account["password"], account["totp_secret"])
        for account in accounts
    }

    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].kw["bind"].dispose()
        drop_database()


@pytest.fixture
def open_journey(chromium: Browser, live_portal: LivePortal) -> Iterator[Callable[..., Journey]]:
    """Open a new, empty browser context (its own cookies) for one person; closed after the test."""
    opened: list[tuple[BrowserContext, Journey]] = []

    def open_(*, java_script_enabled: bool = True) -> Journey:
        context = chromium.new_context(java_script_enabled=java_script_enabled)
        off_site: list[str] = []

        # The tests may contact nothing but the portal under test on 127.0.0.1.
        def keep_to_the_portal(route: Route) -> None:
            if route.request.url.startswith(f"{live_portal.url}/"):
                route.continue_()
            else:
                off_site.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", keep_to_the_portal)
        journey = Journey(
            context.new_page(),
            live_portal.url,
            live_portal.totp_code,
            javascript=java_script_enabled,
            off_site=off_site,
        )
        opened.append((context, journey))
        return journey

    yield open_
    try:
        for _context, journey in opened:
            journey.assert_every_page_checked()
            journey.assert_no_policy_violations()
            journey.assert_stayed_on_the_portal()
    finally:
        for context, _journey in opened:
            context.close()


@pytest.fixture
def journey(open_journey: Callable[..., Journey]) -> Journey:
    """A browser tab with JavaScript on, as most people have it."""
    return open_journey()
