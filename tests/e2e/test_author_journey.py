"""The independent author's journey from asking for contributions to a published report, in a real browser.

The author asks the health visitor, the agency lead, for a contribution; she answers in the portal and
the author reads it in the review's inbox, tags it with a theme and acknowledges it. The author protects
the child's first name and writes a new version that uses it: the anonymisation check shows the name in
its sentence and offers no way to mark the version final until the section is changed. The corrected
version is shared with the grandmother, who asked to see the draft and hears from us by letter, so the
coordinator gives her the letter. She signs in with JavaScript switched off, reads the report with her
name on it as a watermark, comments on a section and says she has concerns. The author replies and
resolves the comment, the coordinator sees that she read it, the author marks the version final and
writes the practitioners' briefing, and the coordinator moves the review on, records the decision and
the dates, and publishes. The public learning page shows the report without the name and without any
comment. Every page on the way is checked by the ``Journey`` helper: axe, reflow at 320 pixels and the
Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, expect

from portal.reviews.clocks import london_today
from portal.reviews.models import Review
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey
from tests.e2e.test_family_journey import lookup
from tests.e2e.test_review_journey import choose, enter_date, expect_heading, expect_success, move_to, send

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
AUTHOR = "author@demo.example.org"
HEALTH_VISITOR = "health.visitor@demo.example.org"
GRANDPARENT = "grandparent@demo.example.org"
REFERENCE = "LSCP-2026-004"
GRANDMOTHER = "Pat Bennett"
# The pages write the possessive with a typographic apostrophe.
GRANDMOTHERS = f"{GRANDMOTHER}\u2019s"
WATERMARK = f"Shared with {GRANDMOTHER} only — do not copy"

QUESTION = "What did the health visits in the months before the injuries show?"
HEALTH_VISITOR_AS_SEEN = "Priya Shah (agency lead, Northshire NHS Foundation Trust)"
HEALTH_ANSWER = "Four home visits. At the last one the baby had a small bruise on the ear, and it was not shared."
THEME = "Information sharing"

# The child's first name: invented for the demo, protected, and never to reach the public page.
CHILD_NAME = "Huxley"
TITLE = "Draft for the panel and the family"
SECTION = "What the health visitor saw"
NAMED_TEXT = f"At the last home visit {CHILD_NAME} had a small bruise on his ear. Nobody else was told about it."
ANONYMISED_TEXT = "At the last home visit Child H had a small bruise on his ear. Nobody else was told about it."

COMMENT = "He was with me the weekend before. I told his mother about the bruise."
REPLY = "Thank you. We checked the health records again and they agree with what you told us."
CHANGE_MADE = "No change: the report already says the bruise was seen and not shared."
LEARNING_SUMMARY = "Agencies must share what they see, even when it seems small."
BRIEFING_TITLE = "Share what you see"
# The links under "The report" on the review page, and where each leads within the review.
REPORT_PARTS = {
    f"Contribution requests for {REFERENCE}": "requests",
    f"Inbox: everything gathered for {REFERENCE}": "inbox",
    f"Drafts of the report for {REFERENCE}": "drafts",
    f"Pre-publication review: shared versions, comments and responses for {REFERENCE}": "pre-publication",
    f"Protected terms for {REFERENCE}": "protected-terms",
    f"Publication of {REFERENCE}": "publication",
    f"Action plan and learning for {REFERENCE}": "action-plan",
}
BRIEFING = "A small bruise on a baby who is not yet mobile is a reason to tell the other agencies the same day."


@dataclass(frozen=True)
class Version:
    """The version the author writes: its number, and the address of its page."""

    number: str
    path: str


# Small helpers ---------------------------------------------------------------------------------------------


def replace_text(journey: Journey, field: Locator, text: str) -> None:
    """Select everything in a box with the keyboard and type over it."""
    journey.tab_to(field)
    journey.page.keyboard.press("Control+A")
    journey.page.keyboard.type(text)


def see_the_parts_of_the_report(journey: Journey, review_id: int) -> None:
    """The review page lists every part of the author's work, each leading where its name says."""
    journey.visit(f"/reviews/{review_id}")
    report = journey.page.get_by_role("region", name="The report")
    for name, part in REPORT_PARTS.items():
        link = report.get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("href", f"/reviews/{review_id}/{part}")


def open_part(journey: Journey, review_id: int, part: str, heading: str) -> None:
    """Go straight to one part of the review's report, as its link on the review page does."""
    journey.visit(f"/reviews/{review_id}/{part}")
    expect_heading(journey, heading)


def follow(journey: Journey, name: str | re.Pattern, heading: str | None = None) -> None:
    journey.press_enter_on(journey.page.get_by_role("link", name=name))
    if heading is not None:
        expect_heading(journey, heading)


# 1. A contribution asked for, answered and taken in ----------------------------------------------------


def ask_the_health_visitor(author: Journey, review_id: int) -> None:
    page = author.page
    see_the_parts_of_the_report(author, review_id)
    author.press_enter_on(page.get_by_role("link", name=f"Contribution requests for {REFERENCE}"))
    expect_heading(author, "Contribution requests")
    author.press_enter_on(page.get_by_role("button", name="Ask for a contribution"))
    expect_heading(author, "Ask for a contribution")
    choose(author, page.get_by_role("checkbox", name=re.compile(r"^Priya Shah \(Agency lead")))
    author.type_into(page.get_by_label("Your question or prompt"), QUESTION)
    send(author, "Send the request")
    expect_success(author, "Request sent to 1 person. Answers are due by")
    expect_heading(author, "Contribution requests")
    row = page.get_by_role("row").filter(has_text=QUESTION)
    expect(row.get_by_role("rowheader")).to_have_text("Priya Shah")
    expect(row).to_contain_text("Waiting for an answer")


def answer_as_the_health_visitor(health_visitor: Journey) -> None:
    page = health_visitor.page
    expect_heading(health_visitor, "Welcome, Priya Shah")
    follow(health_visitor, f"{REFERENCE}: {QUESTION}", "Answer a request")
    expect(page.locator(".govuk-inset-text")).to_contain_text(QUESTION)
    health_visitor.type_into(page.get_by_label("Your answer"), HEALTH_ANSWER)
    send(health_visitor, "Send to the author")
    expect_success(health_visitor, "Your answer has been sent to the author.")
    expect_heading(health_visitor, "Requests for you")
    expect(page.get_by_role("row").filter(has_text=QUESTION)).to_contain_text("Sent")


def take_in_the_answer(author: Journey, review_id: int) -> None:
    page = author.page
    open_part(author, review_id, "inbox", "Inbox")
    row = page.get_by_role("row").filter(has_text=f"Answer to: {QUESTION}")
    expect(row.get_by_role("cell")).to_have_text(
        [
            HEALTH_VISITOR_AS_SEEN,
            "Agency information",
            re.compile(r"\S"),
            "New",
            "",
        ]
    )
    author.press_enter_on(row.get_by_role("link", name=f"Answer to: {QUESTION}"))
    expect_heading(author, f"Answer to: {QUESTION}")
    expect(page.get_by_text(HEALTH_ANSWER)).to_be_visible()

    author.type_into(page.get_by_role("textbox", name=re.compile(r"^(Or enter a new theme|Enter a theme)$")), THEME)
    send(author, "Add theme")
    expect_success(author, f"Theme added: {THEME}.")
    send(author, "Acknowledge")
    expect_success(author, "Acknowledged. The person who sent it can no longer change it.")
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    status = page.locator(".govuk-summary-list__row").filter(has=page.locator("dt", has_text="Status"))
    expect(status.locator("dd")).to_contain_text("Acknowledged on")
    expect(page.locator("#themes + dl dt")).to_have_text([THEME])


# 2. The anonymisation gate --------------------------------------------------------------------------------


def protect_the_childs_name(author: Journey, review_id: int) -> None:
    page = author.page
    open_part(author, review_id, "protected-terms", "Protected terms")
    choose(author, page.get_by_role("group", name="What is it?").get_by_label("Child's name"))
    author.type_into(page.get_by_label("Name, address or other detail"), CHILD_NAME)
    send(author, "Add term")
    expect_success(author, f"“{CHILD_NAME}” is now protected.")
    terms = page.get_by_role("table", name=re.compile(r"^Protected now"))
    expect(terms.get_by_role("rowheader", name=CHILD_NAME, exact=True)).to_be_visible()


def write_a_version_naming_the_child(author: Journey, review_id: int) -> Version:
    """Start a new version and add a section that uses the protected name."""
    page = author.page
    open_part(author, review_id, "drafts", "Drafts of the report")
    send(author, "Write a new version")
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(re.compile(r"Version \d+ has been started\."))
    version = re.search(r"Version (\d+)", banner.inner_text()).group(1)
    expect_heading(author, f"Change version {version}")
    replace_text(author, page.get_by_label("Title of this version"), TITLE)
    send(author, "Save title")
    expect_success(author, "The title has been saved.")

    follow(author, "Add a section", "Add a section")
    author.type_into(page.get_by_label("Heading"), SECTION)
    author.type_into(page.get_by_label("Text", exact=True), NAMED_TEXT)
    send(author, "Add section")
    expect_success(author, f"The section “{SECTION}” has been added.")
    follow(author, "Read the whole version", f"Version {version}: {TITLE}")
    expect(page.get_by_role("article", name=f"The report, version {version}")).to_contain_text(NAMED_TEXT)
    return Version(version, page.url.removeprefix(author.base_url))


def check_finds_the_name(author: Journey, version: Version) -> None:
    page = author.page
    number = version.number
    follow(author, f"Anonymisation check of version {number}", f"Anonymisation check of version {number}")
    expect(page.locator("#remaining")).to_have_text("1")
    # The hit is shown in its sentence, under the section it is in.
    expect(page.get_by_role("heading", name=re.compile(f"{SECTION}$"))).to_be_visible()
    hit = page.locator(".portal-hits li").filter(has=page.locator("mark", has_text=CHILD_NAME))
    expect(hit).to_contain_text("To fix")
    expect(hit).to_contain_text("Protected term: child's name")
    expect(hit).to_contain_text("At the last home visit Huxley had a small bruise")
    # Marking it final is refused: the page says why and offers no button.
    expect(page.get_by_text("This version cannot be marked final while 1 hit remains.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Mark version {number} as final")).to_have_count(0)


def take_the_name_out(author: Journey, version: Version) -> None:
    page = author.page
    number = version.number
    follow(author, f"Back to version {number}", f"Version {number}: {TITLE}")
    follow(author, "Change this version", f"Change version {number}")
    follow(author, f"Change the section “{SECTION}”", f"Change the section “{SECTION}”")
    replace_text(author, page.get_by_label("Text", exact=True), ANONYMISED_TEXT)
    send(author, "Save section")
    expect_success(author, f"The section “{SECTION}” has been saved.")
    follow(author, "Read the whole version", f"Version {number}: {TITLE}")
    follow(author, f"Anonymisation check of version {number}", f"Anonymisation check of version {number}")
    expect(page.locator("#remaining")).to_have_text("0")
    expect(page.locator("mark", has_text=CHILD_NAME)).to_have_count(0)
    expect(page.get_by_role("button", name=f"Mark version {number} as final")).to_be_visible()


# 3. Pre-publication review with the grandmother -------------------------------------------------------------


def share_with_the_grandmother(author: Journey, version: Version) -> None:
    page = author.page
    number = version.number
    follow(author, f"Back to version {number}", f"Version {number}: {TITLE}")
    follow(author, "Share this version for pre-publication review", f"Share version {number}: {TITLE}")
    choose(author, page.get_by_role("checkbox", name=f"{GRANDMOTHER} (family member)"))
    enter_date(author, "Closes on", london_today() + timedelta(days=14))
    author.type_into(page.get_by_label("Closes at"), "5pm")
    send(author, "Share this version")
    expect_success(author, f"Version {number} is shared with 1 person.")
    expect_heading(author, "Pre-publication review")


def give_the_grandmother_her_letter(coordinator: Journey, review_id: int) -> None:
    """She hears from us by letter: the family liaison worker gives it and records that it was given."""
    page = coordinator.page
    subject = "You can read the report before it is shared"
    coordinator.visit(f"/reviews/{review_id}/family")
    follow(coordinator, "Letters to give", "Letters to give")
    row = page.get_by_role("row").filter(has_text=subject)
    expect(row.get_by_role("cell").first).to_have_text(GRANDMOTHER)
    coordinator.press_enter_on(row.get_by_role("link", name=subject))
    expect_heading(coordinator, f"Letter to {GRANDMOTHER}")
    expect(page.get_by_role("article", name="The letter")).to_contain_text("It is ready for you.")
    send(coordinator, "I have given or posted this letter")
    expect_success(coordinator, f"Recorded: the letter was given to {GRANDMOTHER}.")


def expect_watermark(journey: Journey) -> None:
    expect(journey.page.locator("[data-watermark]").first).to_have_text(re.compile(re.escape(WATERMARK)))


def read_and_comment_as_the_grandmother(grandmother: Journey) -> None:
    page = grandmother.page
    expect_heading(grandmother, f"Welcome, {GRANDMOTHER}")
    follow(grandmother, "What this review is and your choices", "What this review is and your choices")
    grandmother.press_enter_on(page.locator("#reports-to-read").get_by_role("link", name="Read the report"))
    expect_heading(grandmother, "The report about Child H")
    expect_watermark(grandmother)
    report = page.get_by_role("article", name="The report")
    expect(report).to_contain_text(ANONYMISED_TEXT)
    # Her name is on the page between the sections too, and there is nothing to download.
    expect(report.locator("[data-watermark]")).not_to_have_count(0)
    expect(page.locator("a[download]")).to_have_count(0)

    # The section's name follows the link's words for screen readers only.
    follow(grandmother, re.compile(rf"^Comment on this part\s*: {SECTION}$"), f"Comment on “{SECTION}”")
    expect_watermark(grandmother)
    grandmother.type_into(page.get_by_label("Your comment"), COMMENT)
    send(grandmother, "Send your comment")
    expect_success(grandmother, "Your comment has been sent.")
    expect_heading(grandmother, "Your comments")
    expect(page.locator(".govuk-summary-card")).to_contain_text(COMMENT)

    follow(grandmother, "Back to the report", "The report about Child H")
    follow(grandmother, "Tell us what you think of the report", "What do you think of the report?")
    expect_watermark(grandmother)
    choose(grandmother, page.get_by_role("radio", name="I have concerns"))
    grandmother.type_into(page.get_by_label("Tell us more (you do not have to)"), "The weekend before matters.")
    send(grandmother, "Send your answer")
    expect_success(grandmother, "Thank you. Your answer has been sent.")
    expect(page.get_by_role("listitem").filter(has_text="(you said: I have concerns)")).to_be_visible()


# 4. The author answers; the coordinator sees who read it ---------------------------------------------------


def reply_and_resolve(author: Journey, review_id: int, version: Version) -> None:
    page = author.page
    number = version.number
    open_part(author, review_id, "pre-publication", "Pre-publication review")
    follow(author, f"Comments on version {number}", f"Comments on version {number}: {TITLE}")
    expect(page.locator("#responses")).to_contain_text(f"{GRANDMOTHER}: I have concerns")
    card = page.locator(".govuk-summary-card").filter(has_text=COMMENT)
    expect(card.get_by_role("heading")).to_have_text(SECTION)
    expect(card).to_contain_text("Not resolved")

    follow(author, f"Reply to {GRANDMOTHERS} comment", f"Reply to a comment on version {number}")
    author.type_into(page.get_by_label("Your reply"), REPLY)
    send(author, "Send the reply")
    expect_success(author, f"Your reply to {GRANDMOTHER} has been saved.")
    expect(card).to_contain_text(REPLY)

    follow(author, f"Resolve {GRANDMOTHERS} comment", f"Resolve a comment on version {number}")
    author.type_into(page.get_by_label("What changed in the report?"), CHANGE_MADE)
    send(author, "Resolve the comment")
    expect_success(author, f"The comment from {GRANDMOTHER} is resolved.")
    expect(card).to_contain_text("Resolved by Dr Ruth Adeyemi")
    expect(card).to_contain_text(f"What changed: {CHANGE_MADE}")


def see_the_reply_as_the_grandmother(grandmother: Journey) -> None:
    follow(grandmother, "See your comments and the replies", "Your comments")
    expect_watermark(grandmother)
    expect(grandmother.page.locator(".govuk-summary-card").filter(has_text=COMMENT)).to_contain_text(REPLY)


def see_who_has_read_it(coordinator: Journey, review_id: int, version: Version) -> None:
    number = version.number
    open_part(coordinator, review_id, "pre-publication", "Pre-publication review")
    follow(coordinator, f"Who has read it (version {number})", f"Who has read version {number}: {TITLE}")
    row = coordinator.page.locator("#readers").get_by_role("row").filter(has_text=GRANDMOTHER)
    cells = row.get_by_role("cell")
    # Shared window, first read, last read, times, response.
    expect(cells.nth(1)).not_to_have_text("Not read")
    expect(cells.nth(3)).not_to_have_text("0")
    expect(cells.nth(4)).to_have_text("I have concerns")


# 5. Final, briefing, publication ----------------------------------------------------------------------------


def mark_final(author: Journey, version: Version) -> None:
    number = version.number
    author.visit(f"{version.path}/anonymisation")
    expect_heading(author, f"Anonymisation check of version {number}")
    send(author, f"Mark version {number} as final")
    expect_success(author, f"Version {number} is now the final version.")


def write_and_publish_the_briefing(author: Journey, review_id: int) -> None:
    page = author.page
    open_part(author, review_id, "action-plan", "Action plan")
    follow(author, re.compile(r"^(Write the briefing for practitioners|Change the briefing)$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^(Write|Change) the briefing$"))
    replace_text(author, page.get_by_label("Title", exact=True), BRIEFING_TITLE)
    replace_text(author, page.get_by_label("Briefing", exact=True), BRIEFING)
    send(author, "Save briefing")
    expect_success(author, "The briefing has been saved.")
    expect_heading(author, BRIEFING_TITLE)
    send(author, "Publish to practitioners")
    expect_success(author, "The briefing is published. Every practitioner can now read it.")
    follow(author, "See who has read it, by agency", "Who has read the briefing")
    expect(page.get_by_role("table", name="Read rates by agency")).to_be_visible()


def publish_the_report(coordinator: Journey, review_id: int, version: Version) -> str:
    """Record the decision and the dates, and publish; answers the public page's path."""
    page = coordinator.page
    number = version.number
    today = london_today()
    coordinator.visit(f"/reviews/{review_id}")
    # The rules move a review to publication only from Pre-publication; the demo is still in progress.
    move_to(coordinator, REFERENCE, "Pre-publication (draft shared)", "The final version has been shared.")
    follow(coordinator, f"Publication of {REFERENCE}", "Publication")
    expect(page.locator("#final-version")).to_contain_text(f"Version {number}: {TITLE}")

    follow(coordinator, "Record the decision", "The publication decision")
    choose(coordinator, page.get_by_role("radio", name="Publish the report", exact=True))
    coordinator.type_into(page.get_by_label("Learning summary (optional)"), LEARNING_SUMMARY)
    send(coordinator, "Save the decision")
    expect_success(coordinator, "The decision has been saved.")
    expect(page.locator("#decision")).to_contain_text(f"Publish the report (version {number})")

    # Copies went out four weeks ago: well over the working days the rule asks before publishing today.
    sent_on = today - timedelta(days=28)
    follow(coordinator, "Record the dates", "Publication dates")
    enter_date(coordinator, "When did the final report go to the National Panel?", sent_on)
    enter_date(coordinator, "When did the final report go to the Secretary of State?", sent_on)
    enter_date(coordinator, "Planned publication date", today)
    send(coordinator, "Save the dates")
    expect_success(coordinator, "The dates have been saved.")
    expect(page.locator("#problems")).to_have_count(0)

    follow(coordinator, "Continue to publish", "Publish")
    expect(page.get_by_label(re.compile("^I understand the report went out later"))).to_have_count(0)
    send(coordinator, "Publish")
    expect_success(coordinator, "Published. The public learning page is online.")
    public_link = page.locator("#public-page").get_by_role("link")
    return public_link.get_attribute("href")


def read_the_public_page(public: Journey, path: str) -> None:
    page = public.page
    public.visit(path)
    expect_heading(public, "Learning from the review about Child H")
    expect(page.locator("#learning-summary")).to_have_text(LEARNING_SUMMARY)
    expect(page.locator("#briefing")).to_have_text(BRIEFING)
    expect(page.get_by_role("heading", name=f"The report: {TITLE}")).to_be_visible()
    report = page.locator("#report")
    expect(report.get_by_role("heading", name=SECTION)).to_be_visible()
    expect(report).to_contain_text(ANONYMISED_TEXT)
    main = page.get_by_role("main")
    for private in (CHILD_NAME, COMMENT, REPLY, CHANGE_MADE, GRANDMOTHER, HEALTH_ANSWER):
        expect(main).not_to_contain_text(private)


# The journey ------------------------------------------------------------------------------------------------


def test_the_author_gathers_writes_shares_and_the_anonymised_report_is_published(
    open_journey: Callable[..., Journey], live_portal: LivePortal
):
    review_id = lookup(live_portal, sa.select(Review.id).where(Review.reference == REFERENCE))
    author = open_journey()
    author.sign_in(live_portal.accounts[AUTHOR])

    # 1. A contribution from the agency lead, answered in the portal and taken in through the inbox.
    ask_the_health_visitor(author, review_id)
    health_visitor = open_journey()
    health_visitor.sign_in(live_portal.accounts[HEALTH_VISITOR])
    answer_as_the_health_visitor(health_visitor)
    take_in_the_answer(author, review_id)

    # 2. The gate holds a version that names the child until the name is taken out.
    protect_the_childs_name(author, review_id)
    version = write_a_version_naming_the_child(author, review_id)
    check_finds_the_name(author, version)
    take_the_name_out(author, version)

    # 3. Shared with the grandmother, who reads it without JavaScript, comments and answers.
    share_with_the_grandmother(author, version)
    coordinator = open_journey()
    coordinator.sign_in(live_portal.accounts[COORDINATOR])
    give_the_grandmother_her_letter(coordinator, review_id)
    grandmother = open_journey(java_script_enabled=False)
    grandmother.sign_in(live_portal.accounts[GRANDPARENT])
    read_and_comment_as_the_grandmother(grandmother)

    # 4. The author replies and resolves; the grandmother sees the reply; the coordinator sees she read it.
    reply_and_resolve(author, review_id, version)
    see_the_reply_as_the_grandmother(grandmother)
    see_who_has_read_it(coordinator, review_id, version)

    # 5. and 6. Final, the practitioners' briefing, then publication on the public learning page.
    mark_final(author, version)
    write_and_publish_the_briefing(author, review_id)
    public_path = publish_the_report(coordinator, review_id, version)
    read_the_public_page(open_journey(), public_path)
