"""A family member's whole journey, from the invitation to stopping all contact, in a real browser.

The coordinator adds Ruth, the child's aunt, to the demo review and invites her by email. The outbox
is drained here as the worker would drain it, and Ruth, with JavaScript switched off, opens the link
from the email, chooses a password and reads what the review is. She agrees to some things and not
others, receives the update the coordinator sends by email and by nothing else, and sends the review
her own words with a file. The same update waits as a letter for the grandmother, which the
coordinator prints and records as given. Then Ruth stops all contact, and the coordinator's next update is not sent.
Every page on the way is checked by the ``Journey`` helper: axe, reflow at 320 pixels and the
Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.notifications import worker
from portal.notifications.models import OutboxMessage
from portal.reviews.models import Review
from portal.security.models import User
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey
from tests.e2e.test_review_journey import choose, expect_heading, expect_success, send

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
REFERENCE = "LSCP-2026-004"
RUTH = "Ruth Bennett"
GRANDMOTHER = "Pat Bennett"
RUTH_EMAIL = "ruth.bennett@example.org"
RUTH_PASSWORD = "kettle harbour violet 1987"
LETTER = "letter-from-ruth.pdf"
UPDATE_TEXT = "The panel met today. We will write again soon."
WORDS = "Child H stayed with me most weekends.\n\nShe was frightened of going home, and I told the school."

# A blank one-page PDF, complete with its cross-reference table: the portal judges a file by its bytes.
ONE_PAGE_PDF = b"\n".join(
    [
        b"%PDF-1.4",
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj",
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj",
        b"xref",
        b"0 4",
        b"0000000000 65535 f ",
        b"0000000009 00000 n ",
        b"0000000058 00000 n ",
        b"0000000115 00000 n ",
        b"trailer << /Size 4 /Root 1 0 R >>",
        b"startxref",
        b"186",
        b"%%EOF",
        b"",
    ]
)


@dataclass(frozen=True)
class Delivered:
    channel: str
    to_address: str
    subject: str
    body: str


@dataclass
class RecordingSender:
    """Stands in for the email and text message senders and keeps each message whole.

    The outbox blanks an invitation's body once it has gone, so the link can only be read here.
    """

    sent: list[tuple[int | None, Delivered]] = field(default_factory=list)

    def send(self, message: OutboxMessage) -> None:
        delivered = Delivered(message.channel, message.to_address, message.subject, message.body)
        self.sent.append((message.recipient_id, delivered))

    def to(self, person_id: int) -> list[Delivered]:
        """Everything sent to one person, by any channel."""
        return [delivered for recipient_id, delivered in self.sent if recipient_id == person_id]


def deliver(live_portal: LivePortal) -> RecordingSender:
    """Run the outbox once, as `flask notifications work` would; what was sent."""
    sender = RecordingSender()
    with live_portal.app.app_context():
        db = live_portal.app.extensions["portal.db"]()
        try:
            worker.drain(db, sender, live_portal.app.config)
        finally:
            db.close()
    return sender


def updates_queued_for(live_portal: LivePortal, person_id: int) -> dict[tuple[str, str], str]:
    """(channel, subject) to status for every family update queued for the person, on any channel."""
    db = live_portal.app.extensions["portal.db"]()
    try:
        rows = db.execute(
            sa.select(OutboxMessage.channel, OutboxMessage.subject, OutboxMessage.status).where(
                OutboxMessage.recipient_id == person_id, OutboxMessage.kind == "family_update"
            )
        )
        return {(channel, subject): status for channel, subject, status in rows}
    finally:
        db.close()


def lookup(live_portal: LivePortal, statement: sa.Select) -> int:
    """One id from the live portal's database, found the way the pages cannot show it."""
    db = live_portal.app.extensions["portal.db"]()
    try:
        found = db.scalar(statement)
        assert found is not None, statement
        return found
    finally:
        db.close()


@pytest.fixture
def uploads_kept_apart(live_portal: LivePortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the journey uploads go to this test's own folder, never the instance folder."""
    monkeypatch.setitem(live_portal.app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


# The coordinator's steps -----------------------------------------------------------------------------


def add_ruth(coordinator: Journey, review_id: int) -> None:
    """From the review page, through its family members, to Ruth's own page."""
    page = coordinator.page
    coordinator.visit(f"/reviews/{review_id}")
    coordinator.click(page.get_by_role("link", name=f"Family members of {REFERENCE}"))
    expect_heading(coordinator, "Family members")
    coordinator.press_enter_on(page.get_by_role("link", name="Add a family member"))
    expect_heading(coordinator, "Add a family member")
    coordinator.type_into(page.get_by_label("Full name"), RUTH)
    coordinator.type_into(page.get_by_label("Relationship to the child"), "Aunt")
    coordinator.type_into(page.get_by_label("Email address"), RUTH_EMAIL)
    coordinator.type_into(page.get_by_label("Mobile phone number (optional)"), "07700 900456")
    choose(coordinator, page.get_by_role("group", name="How do they prefer to hear from us?").get_by_label("Email"))
    choose(coordinator, page.get_by_role("group", name="Are they a young person?").get_by_label("No"))
    send(coordinator, "Add family member")
    expect_success(coordinator, f"{RUTH} has been added as a family member.")
    expect_heading(coordinator, RUTH)
    expect(page.get_by_text(f"{RUTH} has not joined the portal yet.")).to_be_visible()


def send_update(coordinator: Journey, review_id: int, subject: str) -> None:
    coordinator.visit(f"/reviews/{review_id}/family/updates/new")
    expect_heading(coordinator, "Write an update for the family")
    coordinator.type_into(coordinator.page.get_by_label("Subject"), subject)
    coordinator.type_into(coordinator.page.get_by_label("Update", exact=True), UPDATE_TEXT)
    send(coordinator, "Send update")
    expect_heading(coordinator, subject)


def give_the_grandmothers_letter(coordinator: Journey, review_id: int, subject: str) -> None:
    """The named worker's task: print the letter, give it, and record that it was given."""
    page = coordinator.page
    coordinator.visit(f"/reviews/{review_id}/family")
    coordinator.press_enter_on(page.get_by_role("link", name="Letters to give"))
    expect_heading(coordinator, "Letters to give")
    row = page.get_by_role("row").filter(has_text=subject)
    expect(row.get_by_role("cell")).to_have_text(
        [GRANDMOTHER, "Sam Reid, family liaison worker", re.compile(r"\S"), "Yes"]
    )
    coordinator.press_enter_on(row.get_by_role("link", name=subject))
    expect_heading(coordinator, f"Letter to {GRANDMOTHER}")
    letter = page.get_by_role("article", name="The letter")
    expect(letter).to_contain_text("12 Orchard Lane, Northshire")
    expect(letter).to_contain_text(UPDATE_TEXT)
    send(coordinator, "I have given or posted this letter")
    expect_success(coordinator, f"Recorded: the letter was given to {GRANDMOTHER}.")
    expect(page.get_by_role("row").filter(has_text=subject)).to_have_count(0)


def read_what_ruth_sent(coordinator: Journey, review_id: int) -> None:
    """The contribution is listed for the review team, with her words and the very file she added."""
    page = coordinator.page
    coordinator.visit(f"/reviews/{review_id}/family")
    coordinator.press_enter_on(page.get_by_role("link", name="What the family has sent"))
    expect_heading(coordinator, "What the family has sent")
    row = page.get_by_role("row").filter(has_text="Weekends at my house")
    expect(row.get_by_role("cell")).to_have_text([RUTH, re.compile(r"\S"), "1", "Sent"])
    coordinator.press_enter_on(row.get_by_role("link", name="Weekends at my house"))
    expect_heading(coordinator, "Weekends at my house")
    expect(page.get_by_text("She was frightened of going home, and I told the school.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=LETTER).click()
    assert Path(download.value.path()).read_bytes() == ONE_PAGE_PDF


def expect_delivery(coordinator: Journey, subject: str, status: str) -> None:
    """On a family member's page: the message's row in what was sent to them, by email, with its status."""
    page = coordinator.page
    messages = page.get_by_role("table", name=re.compile(r"^Every message to .+ about this review"))
    cells = messages.get_by_role("row").filter(has_text=subject).get_by_role("cell")
    expect(cells.nth(1)).to_have_text("Email")
    expect(cells.nth(2)).to_have_text(status)


# Ruth's steps ----------------------------------------------------------------------------------------


def answer(journey: Journey, question: str, option: str) -> None:
    choose(journey, journey.page.get_by_role("group", name=question).get_by_label(option, exact=True))


def accept_the_invitation(ruth: Journey, link: str) -> None:
    ruth.visit(link.removeprefix(ruth.base_url))
    expect_heading(ruth, "Choose a password")
    ruth.type_into(ruth.page.get_by_label("Password", exact=True), RUTH_PASSWORD)
    ruth.type_into(ruth.page.get_by_label("Type your password again"), RUTH_PASSWORD)
    send(ruth, "Save password")
    expect_success(ruth, f"You are signed in as {RUTH}.")
    expect_heading(ruth, f"Welcome, {RUTH}")


def make_her_choices(ruth: Journey) -> None:
    page = ruth.page
    ruth.press_enter_on(page.get_by_role("link", name="What this review is and your choices"))
    expect_heading(ruth, "What this review is and your choices")
    ruth.press_enter_on(page.get_by_role("button", name="Choose what you agree to"))
    expect_heading(ruth, "Choose what you agree to")
    answer(ruth, "Can we send you updates about the review?", "Yes")
    answer(ruth, "How should we send them?", "Email")
    answer(ruth, "Can the independent author contact you?", "No")
    answer(ruth, "Do you want to tell the review about your child and your family in your own words?", "Yes")
    answer(ruth, "Do you want to read the report before it is published?", "Yes")
    answer(ruth, "Can the report use your words without your name?", "No")
    send(ruth, "Save my choices")
    expect_heading(ruth, "Your choices")
    expect(page.locator("main li")).to_have_text(
        [
            "We will send you updates about the review by email.",
            "The person who writes the review will not get in touch with you.",
            "You want to tell us about your child and your family.",
            "You want to read the report before it is shared.",
            "The report will not use your words.",
        ]
    )


def contribute(ruth: Journey, letter: Path) -> None:
    """Write, add a file and save a draft; then send it to the review."""
    page = ruth.page
    ruth.press_enter_on(page.get_by_role("link", name="Your words for the review"))
    expect_heading(ruth, "Your words for the review")
    ruth.press_enter_on(page.get_by_role("button", name="Write something new"))
    expect_heading(ruth, "Write something new")
    ruth.type_into(page.get_by_label("Give it a short title"), "Weekends at my house")
    ruth.type_into(page.get_by_label("What would you like to tell us?"), WORDS)
    ruth.tab_to(page.get_by_label("Add a file (optional)"))
    page.get_by_label("Add a file (optional)").set_input_files(letter)
    send(ruth, "Save as draft")
    expect_success(ruth, "Saved. Only you can see it until you send it.")
    expect_heading(ruth, "Change what you wrote")
    expect(page.get_by_role("list").filter(has_text=LETTER)).to_be_visible()

    send(ruth, "Send to the review")
    expect_success(ruth, "Thank you. The review team can now read what you sent.")
    expect_heading(ruth, "Your words for the review")
    row = page.get_by_role("row").filter(has_text="Weekends at my house")
    expect(row.get_by_role("cell")).to_have_text(["Sent", "1"])

    ruth.press_enter_on(row.get_by_role("link", name="Weekends at my house"))
    expect(page.get_by_text("You sent this to the review.")).to_be_visible()
    expect(page.get_by_label("What would you like to tell us?")).to_have_value(WORDS)
    expect(page.get_by_role("list").filter(has_text=LETTER)).to_be_visible()


def stop_all_contact(ruth: Journey) -> None:
    # From any page, one step stops everything.
    ruth.press_enter_on(ruth.page.get_by_role("link", name="Stop all contact").first)
    expect_heading(ruth, "Stop all contact")
    send(ruth, "Stop all contact")
    expect(ruth.page.get_by_text("We have stopped all contact").first).to_be_visible()


# The journey -----------------------------------------------------------------------------------------


def test_an_invited_aunt_hears_only_what_she_agreed_to_sends_her_words_and_stops_all_contact(
    open_journey: Callable[..., Journey], live_portal: LivePortal, tmp_path: Path, uploads_kept_apart: None
):
    review_id = lookup(live_portal, sa.select(Review.id).where(Review.reference == REFERENCE))
    coordinator = open_journey()
    ruth = open_journey(java_script_enabled=False)

    # 1. The coordinator adds Ruth and invites her by email.
    coordinator.sign_in(live_portal.accounts[COORDINATOR])
    add_ruth(coordinator, review_id)
    ruth_path = coordinator.page.url.removeprefix(coordinator.base_url)
    send(coordinator, "Send an invitation by email")
    expect_success(coordinator, f"Invitation sent to {RUTH} by email. It works once, for 14 days.")
    ruth_id = lookup(live_portal, sa.select(User.id).where(User.email == RUTH_EMAIL))

    # 2. The invitation reaches her inbox, and nothing else reaches her.
    (invitation,) = deliver(live_portal).to(ruth_id)
    assert (invitation.channel, invitation.to_address, invitation.subject) == (
        "email",
        RUTH_EMAIL,
        "You are invited to take part in a review",
    )
    links = re.findall(r"https?://\S+", invitation.body)
    assert len(links) == 1 and links[0].startswith(f"{live_portal.url}/invitation/"), invitation.body

    # 3. Ruth opens it without JavaScript, chooses a password, reads and chooses.
    accept_the_invitation(ruth, links[0])
    make_her_choices(ruth)

    # 4. The coordinator's update reaches her by email, the one way she agreed to, and by nothing else.
    send_update(coordinator, review_id, "The panel has met")
    (update,) = deliver(live_portal).to(ruth_id)
    assert (update.channel, update.to_address, update.subject) == ("email", RUTH_EMAIL, "The panel has met")
    assert update.body.startswith(UPDATE_TEXT)
    assert updates_queued_for(live_portal, ruth_id) == {("email", "The panel has met"): "sent"}
    ruth.press_enter_on(ruth.page.get_by_role("link", name="Go back to the start"))
    ruth.press_enter_on(ruth.page.get_by_role("main").get_by_role("link", name="Updates", exact=True))
    expect_heading(ruth, "Updates")
    expect(ruth.page.get_by_role("heading", name="The panel has met")).to_be_visible()
    expect(ruth.page.get_by_text(UPDATE_TEXT)).to_be_visible()

    # The same update waits as a letter for the grandmother, who told her worker she wants letters.
    give_the_grandmothers_letter(coordinator, review_id, "The panel has met")

    # 5. She sends the review her own words and a file, and the coordinator can read them.
    letter = tmp_path / LETTER
    letter.write_bytes(ONE_PAGE_PDF)
    ruth.visit("/")
    contribute(ruth, letter)
    read_what_ruth_sent(coordinator, review_id)

    # 6. She stops all contact: the next update is not sent, and her page says why.
    stop_all_contact(ruth)
    send_update(coordinator, review_id, "The report is being written")
    assert deliver(live_portal).to(ruth_id) == []
    assert updates_queued_for(live_portal, ruth_id) == {
        ("email", "The panel has met"): "sent",
        ("email", "The report is being written"): "not_sent",
    }
    coordinator.visit(ruth_path)
    expect(coordinator.page.get_by_text(f"{RUTH} has joined the portal.")).to_be_visible()
    expect_delivery(coordinator, "The panel has met", "Sent")
    expect_delivery(coordinator, "The report is being written", "Not sent: no consent")
