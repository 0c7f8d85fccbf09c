"""The cross-site scripting corpus in a real browser: stored as reflections and event summaries, nothing runs.

Every payload is stored the way the portal stores what people type (through ``rich_text_from_input``)
in the live portal's database, then the pages that show them are opened in Chromium. Payloads call
``alert`` or set ``window.__xss``: a dialog fails the test at once, and the sentinel must stay unset.
A handler that survived the sanitiser would also be refused by the Content-Security-Policy, which
the ``Journey`` reports as a failure, so a bypass is caught even though the policy stops it running.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Dialog, expect

from portal.authoring.models import InboxItem
from portal.db import utcnow
from portal.events import reflections
from portal.events import services as event_services
from portal.events.models import Audience, EventKind, Mode, Reflection
from portal.reviews.models import Review
from portal.richtext import rich_text_from_input
from portal.security.models import User
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import CSP_MESSAGE, Journey
from tests.test_richtext import PAYLOADS

pytestmark = pytest.mark.e2e

PRACTITIONER = "social.worker@demo.example.org"  # a practitioner member of the demo review
COORDINATOR = "coordinator@demo.example.org"
SENTINEL = "() => window.__xss"
PER_PAGE = reflections.PER_PAGE


def _session(live_portal: LivePortal):
    return live_portal.app.extensions["portal.db"]()


@pytest.fixture(scope="module")
def stored(live_portal: LivePortal) -> Iterator[dict]:
    """Each payload as a reflection (title and body), all of them in one reflection, and as event summaries."""
    db = _session(live_portal)
    try:
        practitioner = db.scalar(sa.select(User).where(User.email == PRACTITIONER))
        coordinator = db.scalar(sa.select(User).where(User.email == COORDINATOR))
        review = db.scalar(sa.select(Review).order_by(Review.id).limit(1))
        ids = []
        for payload in PAYLOADS:
            reflection = reflections.start_reflection(db, practitioner, review=review, title=payload, body=payload)
            ids.append(reflection.id)
        together = reflections.start_reflection(
            db, practitioner, review=review, title="Every payload together", body="\n".join(PAYLOADS)
        )
        starts = utcnow() + timedelta(days=20)
        events = []
        # One summary holds every payload cleaned on its own; the other, all of them cleaned as one text.
        for title, summary in (
            ("Briefing with each payload", "".join(rich_text_from_input(payload) for payload in PAYLOADS)),
            ("Briefing with the payloads together", rich_text_from_input("\n\n".join(PAYLOADS))),
        ):
            event = event_services.create_event(
                db,
                actor=coordinator,
                title=title,
                summary_html=summary,
                kind=EventKind.BRIEFING.value,
                audience=Audience.ALL_PRACTITIONERS.value,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                mode=Mode.IN_PERSON.value,
                venue="Council Offices",
                capacity=10,
                registration_opens_at=utcnow() - timedelta(days=1),
                registration_closes_at=starts - timedelta(hours=1),
            )
            event_services.publish_event(db, event.id, actor=coordinator)
            events.append(event.id)
        db.commit()
        yield {"reflections": ids, "together": together.id, "events": events}
        # Shared reflections may have reached the author's inbox (another test opened it) by now.
        theirs = sa.select(Reflection.id).where(Reflection.author_id == practitioner.id)
        db.execute(sa.delete(InboxItem).where(InboxItem.reflection_id.in_(theirs)))
        db.execute(sa.delete(Reflection).where(Reflection.author_id == practitioner.id))
        db.commit()
    finally:
        db.close()


def guard(journey: Journey) -> list[str]:
    """Fail on any dialog: record it and dismiss it, so the page does not hang waiting for a click."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{journey.page.url}: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    journey.page.on("dialog", on_dialog)
    return dialogs


def assert_nothing_ran(journey: Journey, dialogs: list[str]) -> None:
    assert not dialogs, "a payload opened a dialog:\n" + "\n".join(dialogs)
    assert journey.page.evaluate(SENTINEL) is None, f"a payload ran a script on {journey.page.url}"


def test_payloads_in_reflections_run_nothing(journey: Journey, live_portal: LivePortal, stored):
    dialogs = guard(journey)
    journey.sign_in(live_portal.accounts[PRACTITIONER])

    # The list shows every payload as a title, a page at a time.
    pages = -(-(len(stored["reflections"]) + 1) // PER_PAGE)
    for number in range(1, pages + 1):
        journey.visit(f"/reflections?page={number}")
        assert_nothing_ran(journey, dialogs)

    journey.visit(f"/reflections/{stored['together']}")
    expect(journey.page.locator("#reflection-body")).to_be_visible()
    assert_nothing_ran(journey, dialogs)

    # Each payload on its own page: the title as plain text, the body as cleaned markup. The page's
    # template has been checked with axe above; a second tab opens the other 90-odd pages quickly,
    # with its own dialog, script-error and policy watch.
    page = journey.page
    for reflection_id in stored["reflections"][:3]:
        journey.visit(f"/reflections/{reflection_id}")
        assert_nothing_ran(journey, dialogs)
    quick = journey.page.context.new_page()
    quick_dialogs: list[str] = []
    quick_problems: list[str] = []
    quick.on("dialog", lambda dialog: (quick_dialogs.append(f"{quick.url}: {dialog.message!r}"), dialog.dismiss()))
    quick.on("pageerror", lambda error: quick_problems.append(f"{quick.url}: {error}"))
    quick.on(
        "console",
        lambda message: (
            quick_problems.append(f"{quick.url}: {message.text}") if CSP_MESSAGE.search(message.text) else None
        ),
    )
    try:
        for reflection_id, payload in zip(stored["reflections"], PAYLOADS, strict=True):
            response = quick.goto(f"{live_portal.url}/reflections/{reflection_id}")
            assert response is not None and response.status == 200
            assert quick.locator("#reflection-title").text_content().strip() == payload.strip()
            assert quick.locator("#reflection-body script, #reflection-body img, #reflection-body iframe").count() == 0
            assert quick.evaluate(SENTINEL) is None, f"{payload!r} ran a script"
    finally:
        quick.close()
    assert not quick_dialogs, "a payload opened a dialog:\n" + "\n".join(quick_dialogs)
    assert not quick_problems, "\n".join(quick_problems)

    # Hovering, focusing and clicking what is left of the links still runs nothing.
    journey.visit(f"/reflections/{stored['together']}")
    links = page.locator("#reflection-body a")
    for index in range(links.count()):
        href = links.nth(index).get_attribute("href") or ""
        assert href.split(":", 1)[0].lower() in {"http", "https", "mailto"}, href
        links.nth(index).hover()
    assert_nothing_ran(journey, dialogs)


def test_payloads_in_event_summaries_run_nothing(journey: Journey, live_portal: LivePortal, stored):
    dialogs = guard(journey)
    journey.sign_in(live_portal.accounts[PRACTITIONER])
    for event_id in stored["events"]:
        journey.visit(f"/events/{event_id}")
        expect(journey.page.locator(".portal-rich-text")).to_be_visible()
        assert journey.page.locator(".portal-rich-text script, .portal-rich-text img").count() == 0
        assert_nothing_ran(journey, dialogs)


def test_the_sentinel_and_dialog_checks_can_fail(journey: Journey, live_portal: LivePortal):
    # A test whose checks could never fail would prove nothing: trip both on purpose in the page itself.
    dialogs = guard(journey)
    journey.visit("/")
    journey.page.evaluate("() => { window.__xss = 1; alert(1); }")
    with pytest.raises(AssertionError, match="opened a dialog"):
        assert_nothing_ran(journey, dialogs)
    dialogs.clear()
    with pytest.raises(AssertionError, match="ran a script"):
        assert_nothing_ran(journey, dialogs)
    # Leave the tab as the fixture's final checks expect.
    journey.visit("/")
