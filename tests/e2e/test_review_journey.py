"""A coordinator takes a serious incident through to a commissioned review, in a real browser.

The journey follows the statutory order: record the incident, record the Review Advisory Group's
recommendation to notify and the local authority's notification to the Panel, move the review on,
run the Rapid Review (an agency lead asked for a return, the meeting, the recommendation on a Child
Safeguarding Practice Review, the Executive's final decision, the outcome sent to the Panel), move
the review to "CSPR commissioned", and appoint its independent author and a panel member. The
author then declares their independence and only then sees the review.

Every page on the way is checked by the ``Journey`` helper: axe (WCAG 2.2 A and AA), reflow at 320
pixels and the Content-Security-Policy. The assertions below are about what the person sees.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
AUTHOR = "author@demo.example.org"
HEALTH = "Northshire NHS Foundation Trust"

# Every date is in the recent past: the pages refuse dates in the future, and each step may not come
# before the one it follows. Four weeks back leaves room for every step to fall on a later day.
AWARE = date.today() - timedelta(days=28)


def on_day(offset: int) -> date:
    return AWARE + timedelta(days=offset)


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# Filling in forms as a keyboard user would: Tab to each field, in the page's order, and type. ---------


def enter_date(journey: Journey, legend: str, day: date) -> None:
    """Type a date into a GOV.UK date input's three boxes, found by the legend of their fieldset."""
    group = journey.page.get_by_role("group", name=legend)
    journey.type_into(group.get_by_label("Day", exact=True), str(day.day))
    journey.type_into(group.get_by_label("Month", exact=True), str(day.month))
    journey.type_into(group.get_by_label("Year", exact=True), str(day.year))


def choose(journey: Journey, option: Locator) -> None:
    """Select a radio button or tick a checkbox with the space bar.

    Tab reaches each checkbox in turn, but only one radio button of a group (the arrow keys move
    between them), so a radio button is given focus directly.
    """
    if option.get_attribute("type") == "checkbox":
        journey.tab_to(option)
    else:
        option.focus()
    journey.page.keyboard.press("Space")
    expect(option).to_be_checked()


def pick(journey: Journey, select: Locator, label: str) -> None:
    journey.tab_to(select)
    select.select_option(label=label)


def send(journey: Journey, button: str) -> None:
    journey.press_enter_on(journey.page.get_by_role("button", name=button, exact=True))


def expect_heading(journey: Journey, text: str) -> None:
    expect(journey.page.get_by_role("heading", level=1)).to_have_text(text)


def expect_success(journey: Journey, text: str) -> None:
    expect(journey.page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def summary_value(journey: Journey, key: str) -> Locator:
    """The value beside ``key`` in the page's summary lists."""
    page = journey.page
    row = page.locator(".govuk-summary-list__row").filter(has=page.locator("dt").get_by_text(key, exact=True))
    return row.locator("dd").first


# The steps of the journey ----------------------------------------------------------------------------


def record_the_incident(journey: Journey) -> tuple[str, str]:
    """From the service navigation to a new review's page; answers the reference and the review's path."""
    page = journey.page
    journey.click(page.get_by_role("navigation", name="Menu").get_by_role("link", name="Reviews", exact=True))
    expect_heading(journey, "Reviews")

    journey.click(page.get_by_role("link", name="Record a serious incident"))
    expect_heading(journey, "Record a serious incident")
    # The next free reference is filled in; the demo already has LSCP-2026-004.
    reference = page.get_by_label("Reference", exact=True).input_value()
    assert re.fullmatch(r"LSCP-\d{4}-\d{3}", reference), reference
    assert reference != "LSCP-2026-004"
    journey.type_into(page.get_by_label("Anonymised name"), "Child K")
    enter_date(journey, "When did the local authority become aware of the incident?", AWARE)
    journey.type_into(page.get_by_label("What happened"), "A serious injury to a child known to two agencies.")
    send(journey, "Record the incident")

    expect_success(journey, f"Incident recorded as {reference} (Child K)")
    expect(page.locator(".govuk-caption-l")).to_have_text(reference)
    expect_heading(journey, "Child K")
    expect(summary_value(journey, "Stage")).to_have_text("Incident recorded")
    expect(summary_value(journey, "Local authority became aware")).to_have_text(long_date(AWARE))
    # The clocks table says what each clock is, when it is due and whether it is on track.
    clocks = page.get_by_role("table", name="Clocks")
    expect(clocks).to_be_visible()
    expect(clocks.get_by_role("columnheader")).to_have_text(
        ["Clock and the rule behind it", "Due", "Working days left", "Status"]
    )
    # Aware four weeks ago and not yet notified: the 5 working days to notify the Panel have run out.
    notify_clock = clocks.get_by_role("row", name="Notification to the National Panel")
    expect(notify_clock).to_contain_text("Overdue")
    path = page.url.removeprefix(journey.base_url)
    assert re.fullmatch(r"/reviews/\d+", path), path
    return reference, path


def open_rapid_review_step(journey: Journey, step: str) -> None:
    page = journey.page
    if not page.get_by_role("heading", level=1, name="Rapid Review").is_visible():
        journey.click(page.get_by_role("link", name="Record the Rapid Review's steps"))
        expect_heading(journey, "Rapid Review")
    journey.click(page.get_by_role("link", name=step, exact=True))


def record_the_notification(journey: Journey) -> None:
    page = journey.page
    open_rapid_review_step(journey, "Review Advisory Group recommendation to notify the Panel")
    expect_heading(journey, "Recommendation to notify the Panel")
    enter_date(journey, "Date of the recommendation", on_day(1))
    journey.type_into(page.get_by_label("Who made the recommendation"), "Chair of the Review Advisory Group")
    send(journey, "Save the recommendation")
    expect_heading(journey, "Rapid Review")
    expect_success(journey, "recommendation to notify the Panel has been saved")

    journey.click(page.get_by_role("link", name="Notification to the Panel", exact=True))
    expect_heading(journey, "Notification to the Panel")
    enter_date(journey, "Date the notification was sent to the Panel", on_day(2))
    journey.type_into(page.get_by_label("Who sent the notification"), "Head of Children's Services")
    send(journey, "Save the notification")
    expect_heading(journey, "Rapid Review")
    expect_success(journey, "The notification to the Panel has been saved")
    expect(page.get_by_text(f"Sent on {long_date(on_day(2))} by Head of Children's Services")).to_be_visible()


def move_to(journey: Journey, reference: str, stage: str, reason: str) -> None:
    """From the review page, move the review one stage on with a reason."""
    page = journey.page
    journey.click(page.get_by_role("link", name="Move to the next stage"))
    expect_heading(journey, "Move the review to its next stage")
    choose(journey, page.get_by_role("radio", name=stage, exact=True))
    journey.type_into(page.get_by_label("Why is it moving?"), reason)
    send(journey, "Move the review")
    expect_success(journey, f"{reference} moved to {stage}")
    expect(summary_value(journey, "Stage")).to_have_text(stage)


def back_to_the_review(journey: Journey, reference: str) -> None:
    journey.click(journey.page.get_by_role("link", name=f"Back to {reference}", exact=True))
    expect(journey.page.locator(".govuk-caption-l")).to_have_text(reference)


def appoint(journey: Journey, person: str, part: str) -> None:
    """On the members page: choose the person and their part, then appoint."""
    page = journey.page
    pick(journey, page.get_by_label("Person", exact=True), person)
    choose(journey, page.get_by_role("radio", name=part, exact=True))
    send(journey, "Appoint")
    expect_heading(journey, "Members of this review")
    name = person.split(" (")[0]
    expect_success(journey, f"{name} is now")


def ask_for_and_receive_the_agency_return(journey: Journey) -> None:
    page = journey.page
    open_rapid_review_step(journey, "Agency information returns")
    expect_heading(journey, "Agency information returns")
    pick(journey, page.get_by_label("Agency lead to ask"), f"{HEALTH}: Priya Shah")
    enter_date(journey, "Date of the request", on_day(3))
    send(journey, "Request the return")
    expect_success(journey, f"{HEALTH} has been asked for its return through Priya Shah")
    returns = page.get_by_role("table", name="Returns requested")
    expect(returns.get_by_role("row", name=HEALTH)).to_contain_text(long_date(on_day(3)))

    journey.click(page.get_by_role("link", name=f"Record received from {HEALTH}"))
    expect_heading(journey, f"Return received from {HEALTH}")
    enter_date(journey, "Date the return was received", on_day(8))
    send(journey, "Save the date received")
    expect_success(journey, f"The return from {HEALTH} has been recorded as received")
    expect(returns.get_by_role("row", name=HEALTH)).to_contain_text(long_date(on_day(8)))
    journey.click(page.get_by_role("link", name="Go to the Rapid Review's steps"))
    expect_heading(journey, "Rapid Review")


def run_the_rapid_review_to_its_decision(journey: Journey) -> None:
    page = journey.page
    journey.click(page.get_by_role("link", name="Review Advisory Group meeting", exact=True))
    expect_heading(journey, "Review Advisory Group meeting")
    enter_date(journey, "Date of the meeting", on_day(10))
    journey.type_into(page.get_by_label("Notes (optional)"), "Health, children's social care and police attended.")
    send(journey, "Save the meeting")
    expect_success(journey, "The Review Advisory Group meeting has been saved")

    journey.click(page.get_by_role("link", name="Recommendation on a Child Safeguarding Practice Review", exact=True))
    expect_heading(journey, "Recommendation on a Child Safeguarding Practice Review")
    recommend = page.get_by_role("group", name="Does the Review Advisory Group recommend")
    choose(journey, recommend.get_by_role("radio", name="Yes", exact=True))
    enter_date(journey, "Date of the recommendation", on_day(12))
    journey.type_into(
        page.get_by_label("Reasons for the recommendation"), "Two agencies held information that was not shared."
    )
    choose(journey, page.get_by_role("checkbox", name="Concerns about two or more agencies working together"))
    send(journey, "Save the recommendation")
    expect_success(journey, "recommendation on a CSPR has been saved")

    journey.click(page.get_by_role("link", name="The Executive's decision", exact=True))
    expect_heading(journey, "The Executive's decision")
    expect(page.get_by_text("The Executive's decision is final.")).to_be_visible()
    commission = page.get_by_role("group", name="Did the Executive decide to commission")
    choose(journey, commission.get_by_role("radio", name="Yes", exact=True))
    journey.type_into(page.get_by_label("Who made the decision"), "Chair of the LSCP Executive")
    enter_date(journey, "Date of the decision", on_day(14))
    journey.type_into(page.get_by_label("Reason for the decision"), "The Review Advisory Group's reasons are accepted.")
    send(journey, "Save the final decision")
    expect_success(journey, "The Executive's decision has been saved")
    expect(page.get_by_text(f"Commission a CSPR: decided on {long_date(on_day(14))}")).to_be_visible()

    journey.click(page.get_by_role("link", name="Outcome sent to the Panel", exact=True))
    expect_heading(journey, "Outcome sent to the Panel")
    enter_date(journey, "Date the outcome was sent to the Panel", on_day(15))
    send(journey, "Save the date sent")
    expect_success(journey, "The date the outcome was sent to the Panel has been saved")
    # Every step of the Rapid Review is now done.
    statuses = page.locator(".govuk-task-list__status")
    expect(statuses).to_have_count(7)
    expect(statuses).to_have_text(["Completed"] * 7)


def test_a_coordinator_takes_an_incident_to_a_commissioned_review_with_an_author_and_panel(
    open_journey, live_portal: LivePortal
):
    journey = open_journey()
    page = journey.page
    journey.sign_in(live_portal.accounts[COORDINATOR])

    # 1. The incident.
    reference, review_path = record_the_incident(journey)

    # 2. The notification, and the stages that follow it.
    record_the_notification(journey)
    back_to_the_review(journey, reference)
    rapid_review = page.get_by_role("region", name="Rapid Review", exact=True)
    expect(summary_value(journey, "Notification to the Panel")).to_have_text(
        f"{long_date(on_day(2))}, by Head of Children's Services"
    )
    move_to(journey, reference, "Notified to the Panel", "The local authority notified the Panel.")
    move_to(journey, reference, "Rapid Review", "The Rapid Review has started.")

    # The agency lead, through whom the agency's return is asked for.
    journey.click(page.get_by_role("link", name=f"Manage members of {reference}"))
    expect_heading(journey, "Members of this review")
    appoint(journey, f"Priya Shah ({HEALTH})", "Agency lead")
    back_to_the_review(journey, reference)
    ask_for_and_receive_the_agency_return(journey)
    run_the_rapid_review_to_its_decision(journey)

    back_to_the_review(journey, reference)
    expect(rapid_review).to_contain_text("Commission a Child Safeguarding Practice Review")
    expect(rapid_review).to_contain_text("Concerns about two or more agencies working together")
    expect(summary_value(journey, "Outcome sent to the Panel")).to_have_text(long_date(on_day(15)))
    returns = page.get_by_role("region", name="Agency information returns", exact=True)
    expect(returns.get_by_role("row", name=HEALTH)).to_contain_text(long_date(on_day(8)))
    move_to(journey, reference, "CSPR commissioned", "The Executive commissioned a CSPR.")
    # The Rapid Review's clocks are met, and the CSPR's own clock has started from the decision.
    clocks = page.get_by_role("table", name="Clocks")
    expect(clocks.get_by_role("row", name="Notification to the National Panel")).to_contain_text(
        f"Done {long_date(on_day(2))}"
    )
    expect(clocks.get_by_role("row", name="Rapid Review outcome sent to the Panel")).to_contain_text("Met")
    expect(clocks.get_by_role("row", name=f"Information return from {HEALTH}")).to_contain_text("Met")
    expect(clocks.get_by_role("row", name="CSPR completed and published")).to_contain_text("On track")
    decisions = page.get_by_role("region", name="Decisions", exact=True)
    # Only the move that records the Executive's decision is a decision.
    expect(decisions.get_by_role("listitem")).to_have_count(1)
    expect(decisions).to_contain_text("moved to CSPR commissioned by Carys Morgan. The Executive commissioned a CSPR.")

    # 3. The independent author and a panel member.
    journey.click(page.get_by_role("link", name=f"Manage members of {reference}"))
    appoint(journey, "Dr Ruth Adeyemi", "Independent author")
    appoint(journey, "Tom Okafor (Northshire Council Children's Services)", "Panel member")
    back_to_the_review(journey, reference)
    members = page.get_by_role("table", name=f"People taking part in {reference}")
    expect(members.get_by_role("row", name="Dr Ruth Adeyemi")).to_contain_text(
        "Independent author (awaiting independence declaration)"
    )
    expect(members.get_by_role("row", name="Tom Okafor")).to_contain_text("Panel member")
    expect(members.get_by_role("row", name="Tom Okafor")).to_contain_text("Northshire Council Children's Services")
    expect(members.get_by_role("row", name="Priya Shah")).to_contain_text("Agency lead")

    # 4. The author sees nothing of the review until they have declared their independence.
    journey.sign_out()
    author = open_journey()
    author.sign_in(live_portal.accounts[AUTHOR])
    author.visit(review_path, status=404)
    author.visit("/")
    author.click(author.page.get_by_role("navigation", name="Menu").get_by_role("link", name="My reviews"))
    expect_heading(author, "My reviews")
    author.click(author.page.get_by_role("link", name=f"Declare your independence for {reference}"))
    expect_heading(author, "Declare your independence")
    choose(author, author.page.get_by_role("checkbox", name="I have had no involvement in this case"))
    choose(author, author.page.get_by_role("checkbox", name="I have had no involvement with the agencies"))
    send(author, "Declare my independence")

    expect_success(author, "You have declared your independence. You can now see the review.")
    expect(author.page.locator(".govuk-caption-l")).to_have_text(reference)
    expect_heading(author, "Child K")
    assert author.page.url == f"{author.base_url}{review_path}"
