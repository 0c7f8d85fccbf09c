"""A parent chooses what they agree to, hears only what they agreed to, and stops all contact.

Jo, the demo review's mother, uses the portal with JavaScript switched off: she reads what the
review is, agrees to updates by email but not to everything else, and reads the update the
coordinator sends. Then she stops all contact, and the coordinator's next update is not sent. The
outbox is drained here as the worker would drain it. Every page is checked by the ``Journey`` helper.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.notifications import worker
from portal.notifications.models import OutboxMessage
from portal.reviews.models import Review
from tests.consent.test_sending_with_consent import Recorder
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey
from tests.e2e.test_review_journey import choose, expect_heading, send

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
PARENT = "parent@demo.example.org"


def answer(journey: Journey, question: str, option: str) -> None:
    choose(journey, journey.page.get_by_role("group", name=question).get_by_label(option, exact=True))


def send_update(coordinator: Journey, review_id: int, subject: str) -> None:
    coordinator.visit(f"/reviews/{review_id}/family/updates/new")
    expect_heading(coordinator, "Write an update for the family")
    coordinator.type_into(coordinator.page.get_by_label("Subject"), subject)
    coordinator.type_into(
        coordinator.page.get_by_label("Update", exact=True), "The panel met today. We will write again soon."
    )
    send(coordinator, "Send update")
    expect_heading(coordinator, subject)


def deliver(live_portal: LivePortal) -> dict[str, str]:
    """Run the outbox once, as `flask notifications work` would; what became of each message to Jo."""
    with live_portal.app.app_context():
        db = live_portal.app.extensions["portal.db"]()
        try:
            worker.drain(db, Recorder(), live_portal.app.config)
            return dict(
                db.execute(
                    sa.select(OutboxMessage.subject, OutboxMessage.status).where(
                        OutboxMessage.to_address == PARENT, OutboxMessage.kind == "family_update"
                    )
                ).all()
            )
        finally:
            db.close()


def test_a_parent_hears_only_what_she_agreed_to_and_can_stop_all_contact(
    open_journey: Callable[..., Journey], live_portal: LivePortal
):
    with live_portal.app.app_context():
        db = live_portal.app.extensions["portal.db"]()
        review_id = db.scalar(sa.select(Review.id).where(Review.reference == "LSCP-2026-004"))
        db.close()
    jo = open_journey(java_script_enabled=False)
    coordinator = open_journey()

    jo.sign_in(live_portal.accounts[PARENT])
    expect_heading(jo, "Welcome, Jo Bennett")
    jo.press_enter_on(jo.page.get_by_role("link", name="What this review is and your choices"))
    expect_heading(jo, "What this review is and your choices")
    jo.press_enter_on(jo.page.get_by_role("button", name="Choose what you agree to"))

    answer(jo, "Can we send you updates about the review?", "Yes")
    choose(jo, jo.page.get_by_role("group", name="How should we send them?").get_by_label("Email", exact=True))
    answer(jo, "Can the independent author contact you?", "No")
    answer(jo, "Do you want to tell the review about your child and your family in your own words?", "Yes")
    answer(jo, "Do you want to read the report before it is published?", "Yes")
    answer(jo, "Can the report use your words without your name?", "No")
    send(jo, "Save my choices")
    expect_heading(jo, "Your choices")

    coordinator.sign_in(live_portal.accounts[COORDINATOR])
    send_update(coordinator, review_id, "The panel has met")
    assert deliver(live_portal) == {"The panel has met": "sent"}

    jo.visit(f"/family/reviews/{review_id}/updates")
    expect(jo.page.get_by_text("The panel has met")).to_be_visible()

    # From any page, one step stops everything.
    jo.press_enter_on(jo.page.get_by_role("link", name="Stop all contact").first)
    expect_heading(jo, "Stop all contact")
    send(jo, "Stop all contact")
    expect(jo.page.get_by_text("We have stopped all contact").first).to_be_visible()

    send_update(coordinator, review_id, "The report is being written")
    assert deliver(live_portal) == {"The panel has met": "sent", "The report is being written": "not_sent"}
