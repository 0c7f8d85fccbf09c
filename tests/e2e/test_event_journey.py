"""Two practitioners and one small learning event, in a real browser.

Tom, with JavaScript switched off, finds the event, registers and gets a confirmation with a
calendar invitation in the outbox; Priya, with JavaScript on, joins the waiting list. Tom cancels,
so Priya is promoted at once and told. Tom then writes a reflection on the event, saves it as a
draft and shares it with the review's author without his name. Every page on the way is checked by
the ``Journey`` helper (axe, reflow at 320 pixels, the Content-Security-Policy); everything Tom
does works without JavaScript and with the keyboard alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from playwright.sync_api import expect

from portal.db import utcnow
from portal.events import services as event_services
from portal.events.models import EventKind, Mode, Reflection
from portal.notifications.models import OutboxMessage
from portal.reviews.models import Review
from portal.security.models import User
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey
from tests.e2e.test_review_journey import choose, expect_heading, pick, send

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
TOM = "social.worker@demo.example.org"
PRIYA = "health.visitor@demo.example.org"
TITLE = "Practitioner learning event: what the health visits showed"


@pytest.fixture(scope="module")
def one_place_event(live_portal: LivePortal) -> int:
    """A published practitioner event for the demo review with a single place."""
    db = live_portal.app.extensions["portal.db"]()
    try:
        coordinator = db.scalar(sa.select(User).where(User.email == COORDINATOR))
        review = db.scalar(sa.select(Review).where(Review.reference == "LSCP-2026-004"))
        starts = (utcnow() + timedelta(days=40)).replace(hour=10, minute=0, second=0, microsecond=0)
        event = event_services.create_event(
            db,
            actor=coordinator,
            title=TITLE,
            summary_html="<p>A small round-table for the practitioners who knew the family.</p>",
            kind=EventKind.PRACTITIONER_EVENT.value,
            review_id=review.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            mode=Mode.IN_PERSON.value,
            venue="Room 4, Northshire Council Offices",
            capacity=1,
            registration_opens_at=utcnow() - timedelta(days=1),
            registration_closes_at=starts - timedelta(days=1),
        )
        event_services.publish_event(db, event.id, actor=coordinator)
        db.commit()
        return event.id
    finally:
        db.close()


def outbox_to(live_portal: LivePortal, email: str, kind: str) -> list[OutboxMessage]:
    """The messages of one kind about this journey's event queued for one person."""
    db = live_portal.app.extensions["portal.db"]()
    try:
        return list(
            db.scalars(
                sa.select(OutboxMessage)
                .where(
                    OutboxMessage.to_address == email,
                    OutboxMessage.kind == kind,
                    OutboxMessage.subject.endswith(TITLE),
                )
                .order_by(OutboxMessage.id)
            )
        )
    finally:
        db.close()


def test_a_practitioner_registers_cancels_and_a_waiting_colleague_is_promoted_then_he_reflects(
    open_journey: Callable[..., Journey], live_portal: LivePortal, one_place_event: int
):
    tom = open_journey(java_script_enabled=False)
    priya = open_journey()
    event_path = f"/events/{one_place_event}"

    # Tom finds the event from the service navigation, filtering the list to practitioner events.
    tom.sign_in(live_portal.accounts[TOM])
    tom.press_enter_on(tom.page.get_by_role("navigation").get_by_role("link", name="Events", exact=True))
    expect_heading(tom, "Events")
    pick(tom, tom.page.get_by_label("Type of event"), "Practitioner event")
    tom.press_enter_on(tom.page.get_by_role("button", name="Show events"))
    tom.press_enter_on(tom.page.get_by_role("link", name=TITLE))
    expect_heading(tom, TITLE)
    expect(tom.page.get_by_text("1 of 1 place left")).to_be_visible()

    # He registers, telling the events team about a reasonable adjustment.
    tom.press_enter_on(tom.page.get_by_role("link", name="Register", exact=True))
    expect_heading(tom, "Register for this event")
    tom.type_into(tom.page.get_by_label("Access needs or reasonable adjustments"), "A seat near the door, please")
    send(tom, "Register")
    expect(tom.page.get_by_text("Your place is confirmed.")).to_be_visible()

    (confirmation,) = outbox_to(live_portal, TOM, "event_confirmation")
    assert confirmation.subject == f"Your place is confirmed: {TITLE}"
    invitation = Calendar.from_ical(confirmation.attachment)
    assert (str(invitation["METHOD"]), invitation.walk("VEVENT")[0]["SEQUENCE"]) == ("REQUEST", 1)

    # Priya finds the event full and joins the waiting list.
    priya.sign_in(live_portal.accounts[PRIYA])
    priya.visit(event_path)
    expect(priya.page.get_by_text("Full", exact=True)).to_be_visible()
    priya.press_enter_on(priya.page.get_by_role("link", name="Join the waiting list"))
    send(priya, "Join the waiting list")
    expect(priya.page.get_by_text("You are number 1 on the waiting list.")).to_be_visible()
    assert outbox_to(live_portal, PRIYA, "event_waiting")

    # Tom can no longer come: he gives up his place, and Priya has it at once.
    tom.press_enter_on(tom.page.get_by_role("link", name="Cancel my place"))
    send(tom, "Yes, cancel my place")
    expect(tom.page.get_by_text("Your place has been cancelled")).to_be_visible()
    (cancellation,) = outbox_to(live_portal, TOM, "event_registration_cancelled")
    assert str(Calendar.from_ical(cancellation.attachment)["METHOD"]) == "CANCEL"

    priya.visit(event_path)
    expect(priya.page.get_by_text("Your place is confirmed.")).to_be_visible()
    (promotion,) = outbox_to(live_portal, PRIYA, "event_promotion")
    assert promotion.subject == f"A place has come up for you: {TITLE}"

    # Tom reflects on the event: a private draft first, then shared without his name.
    tom.visit(event_path)
    tom.press_enter_on(tom.page.get_by_role("link", name="Write a reflection on this event"))
    expect_heading(tom, "Write a reflection")
    tom.type_into(tom.page.get_by_label("Title"), "Before the learning event")
    tom.type_into(
        tom.page.get_by_label("Your reflection"),
        "I did not know the health visitor had seen the bruise.\n\nWe need one shared chronology.",
    )
    send(tom, "Save draft")
    expect(tom.page.get_by_text("Your draft is saved. Only you can read it.")).to_be_visible()
    expect(tom.page.locator("#reflection-body p")).to_have_count(2)

    tom.press_enter_on(tom.page.get_by_role("link", name="Submit reflection"))
    expect_heading(tom, "Submit your reflection")
    choose(tom, tom.page.get_by_label("Share with the review's author without my name", exact=False))
    send(tom, "Submit reflection")
    expect(
        tom.page.get_by_text("Your reflection is submitted and shared with the review's author, without your name.")
    ).to_be_visible()

    db = live_portal.app.extensions["portal.db"]()
    try:
        reflection = db.scalar(sa.select(Reflection).where(Reflection.title == "Before the learning event"))
        assert (reflection.status, reflection.sharing, reflection.event_id) == (
            "submitted",
            "anonymous",
            one_place_event,
        )
    finally:
        db.close()
