"""The Rapid Review: each step recorded and audited, steps out of order refused, agency-return due dates."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import holidays
import pytest
import sqlalchemy as sa
from flask import render_template

from portal.reviews import rapid_review as rr
from portal.reviews.access import access_to
from portal.reviews.models import AgencyReturnRequest, ClosureDay, MembershipKind, RapidReview, Reg11Criterion
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_review, make_user

AWARE = date(2026, 3, 23)  # a Monday
NOTIFIED = date(2026, 3, 27)


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, aware_on=AWARE)


@pytest.fixture
def police(db):
    return make_agency(db, "Northshire Police")


@pytest.fixture
def police_lead(db, review, police):
    lead = make_user(db, role=Role.PRACTITIONER, agency=police, name="Priya Lead")
    return make_membership(db, review, lead, MembershipKind.AGENCY_LEAD)


def audit_actions(db, review) -> list[str]:
    return list(
        db.scalars(sa.select(AuditEvent.action).where(AuditEvent.review_id == review.id).order_by(AuditEvent.id))
    )


def fresh(db, review) -> RapidReview | None:
    """The Rapid Review as stored, not as this session remembers it."""
    db.expire_all()
    return db.scalar(sa.select(RapidReview).where(RapidReview.review_id == review.id))


def notified(db, review, on=NOTIFIED):
    rr.record_notification(db, review, on, "Sam Social-Care")
    db.commit()


def up_to_recommendation(db, review):
    notified(db, review)
    rr.record_rag_meeting(db, review, date(2026, 4, 9), "All agencies attended")
    rr.record_cspr_recommendation(
        db, review, date(2026, 4, 10), True, "Agencies did not share concerns", [Reg11Criterion.RECURRENT_THEMES]
    )
    db.commit()


# Services ------------------------------------------------------------------------------------------


def test_each_step_is_recorded_and_audited(db, review, coordinator, police, police_lead):
    rr.record_rag_recommendation_to_notify(db, review, date(2026, 3, 24), "RAG chair")
    rr.record_notification(db, review, NOTIFIED, "Sam Social-Care")
    request = rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator)
    rr.record_return_received(db, request, date(2026, 4, 7), coordinator)
    rr.record_rag_meeting(db, review, date(2026, 4, 9), "All agencies attended")
    rr.record_cspr_recommendation(
        db,
        review,
        date(2026, 4, 10),
        True,
        "Agencies did not share concerns",
        [Reg11Criterion.RECURRENT_THEMES, Reg11Criterion.AGENCIES_WORKING_TOGETHER],
    )
    rr.record_executive_decision(db, review, date(2026, 4, 14), "Executive chair", True, "Learning for all agencies")
    rr.record_outcome_sent(db, review, date(2026, 4, 15))
    db.commit()

    record = fresh(db, review)
    assert (record.rag_notify_recommended_on, record.rag_notify_recommended_by) == (date(2026, 3, 24), "RAG chair")
    assert (record.notified_on, record.notified_by) == (NOTIFIED, "Sam Social-Care")
    assert record.rag_meeting_on == date(2026, 4, 9) and record.rag_meeting_notes == "All agencies attended"
    assert record.cspr_recommended is True
    assert record.criteria == [Reg11Criterion.RECURRENT_THEMES, Reg11Criterion.AGENCIES_WORKING_TOGETHER]
    assert (record.decided_on, record.decided_by, record.decision_commission_cspr) == (
        date(2026, 4, 14),
        "Executive chair",
        True,
    )
    assert record.outcome_sent_on == date(2026, 4, 15)
    stored = db.get(AgencyReturnRequest, request.id)
    assert stored.received_on == date(2026, 4, 7) and stored.requested_by_id == coordinator.id
    assert audit_actions(db, review) == [
        "rapid_review.notify_recommendation_recorded",
        "rapid_review.notification_recorded",
        "rapid_review.agency_return_requested",
        "rapid_review.agency_return_received",
        "rapid_review.meeting_recorded",
        "rapid_review.cspr_recommendation_recorded",
        "rapid_review.executive_decision_recorded",
        "rapid_review.outcome_sent_recorded",
    ]
    decision = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rapid_review.executive_decision_recorded"))
    assert json.loads(decision.details) == {"by": "Executive chair", "commission": True, "on": "2026-04-14"}


def test_the_recommendation_to_notify_is_separate_from_the_notification(db, review):
    rr.record_rag_recommendation_to_notify(db, review, date(2026, 3, 24), "RAG chair")
    db.commit()
    record = fresh(db, review)
    assert record.rag_notify_recommended_on == date(2026, 3, 24)
    assert record.notified_on is None and record.notified_by is None


def test_a_correction_before_the_decision_keeps_what_it_replaced(db, review):
    notified(db, review)
    rr.record_notification(db, review, date(2026, 3, 26), "Sam Social-Care")
    db.commit()
    assert fresh(db, review).notified_on == date(2026, 3, 26)
    correction = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "rapid_review.notification_recorded").order_by(AuditEvent.id)
    ).all()[-1]
    assert json.loads(correction.details)["replaces"] == {"on": "2026-03-27", "by": "Sam Social-Care"}


def _refused(db, review, step, message):
    audited_before = len(audit_actions(db, review))
    with pytest.raises(rr.StepRefused) as refused:
        step()
    assert message in refused.value.message
    db.commit()  # committing after a refusal writes nothing: the refusal came before any change
    assert len(audit_actions(db, review)) == audited_before
    return fresh(db, review)


def test_the_meeting_cannot_come_before_the_notification(db, review):
    record = _refused(
        db,
        review,
        lambda: rr.record_rag_meeting(db, review, date(2026, 4, 9), "notes"),
        "A Rapid Review cannot start before the notification has been submitted",
    )
    assert record is None


def test_an_agency_cannot_be_asked_before_the_notification(db, review, coordinator, police, police_lead):
    _refused(
        db,
        review,
        lambda: rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator),
        "A Rapid Review cannot start before the notification has been submitted",
    )
    assert db.scalar(sa.select(sa.func.count(AgencyReturnRequest.id))) == 0


def test_the_notification_cannot_be_before_the_local_authority_became_aware(db, review):
    record = _refused(
        db,
        review,
        lambda: rr.record_notification(db, review, date(2026, 3, 20), "Sam"),
        "must be on or after the date the local authority became aware (23 March 2026)",
    )
    assert record is None


def test_the_decision_cannot_come_before_the_recommendation(db, review):
    notified(db, review)
    rr.record_rag_meeting(db, review, date(2026, 4, 9), None)
    db.commit()
    record = _refused(
        db,
        review,
        lambda: rr.record_executive_decision(db, review, date(2026, 4, 14), "Chair", True, "Reason"),
        "Record the Review Advisory Group's recommendation on a CSPR before the Executive's decision",
    )
    assert record.decided_on is None


def test_the_recommendation_on_a_cspr_follows_the_meeting(db, review):
    notified(db, review)
    record = _refused(
        db,
        review,
        lambda: rr.record_cspr_recommendation(db, review, date(2026, 4, 10), False, "No new learning", []),
        "Record the Review Advisory Group meeting before its recommendation on a CSPR",
    )
    assert record.cspr_recommended_on is None


def test_recommending_a_cspr_needs_reasons_and_criteria(db, review):
    notified(db, review)
    rr.record_rag_meeting(db, review, date(2026, 4, 9), None)
    db.commit()
    for reasons, criteria, message in [
        ("Reasons", [], "Select the regulation 11 criteria that apply when recommending a CSPR"),
        ("   ", [Reg11Criterion.RECURRENT_THEMES], "Enter the reasons for the recommendation"),
    ]:
        record = _refused(
            db,
            review,
            lambda reasons=reasons, criteria=criteria: rr.record_cspr_recommendation(
                db, review, date(2026, 4, 10), True, reasons, criteria
            ),
            message,
        )
        assert record.cspr_recommended_on is None
    # Not recommending a CSPR needs reasons but no criteria.
    rr.record_cspr_recommendation(db, review, date(2026, 4, 10), False, "No new learning", [])
    db.commit()
    assert fresh(db, review).cspr_recommended is False


def test_the_executive_decision_is_final(db, review):
    up_to_recommendation(db, review)
    rr.record_executive_decision(db, review, date(2026, 4, 14), "Executive chair", False, "Single-agency learning")
    db.commit()
    record = _refused(
        db,
        review,
        lambda: rr.record_executive_decision(db, review, date(2026, 4, 15), "Someone else", True, "Changed mind"),
        "The Executive's decision was recorded on 14 April 2026 and is final",
    )
    assert (record.decided_on, record.decided_by, record.decision_commission_cspr) == (
        date(2026, 4, 14),
        "Executive chair",
        False,
    )
    # And what led to it can no longer be changed either.
    _refused(
        db,
        review,
        lambda: rr.record_rag_meeting(db, review, date(2026, 4, 8), None),
        "The Executive's decision has been recorded, so the Rapid Review record can no longer be changed",
    )


def test_the_outcome_cannot_be_sent_before_the_decision(db, review):
    up_to_recommendation(db, review)
    record = _refused(
        db,
        review,
        lambda: rr.record_outcome_sent(db, review, date(2026, 4, 15)),
        "Record the Executive's decision before the date the outcome was sent to the Panel",
    )
    assert record.outcome_sent_on is None


def test_dates_must_follow_the_steps_before_them(db, review):
    notified(db, review)
    _refused(
        db,
        review,
        lambda: rr.record_rag_meeting(db, review, date(2026, 3, 26), None),
        "The meeting must be on or after the notification (27 March 2026)",
    )
    rr.record_rag_meeting(db, review, date(2026, 4, 9), None)
    db.commit()
    # Correcting the notification may not move it after the meeting.
    record = _refused(
        db,
        review,
        lambda: rr.record_notification(db, review, date(2026, 4, 10), "Sam"),
        "on or before the date of the Review Advisory Group meeting (9 April 2026)",
    )
    assert record.notified_on == NOTIFIED


def test_an_agency_is_asked_once_through_its_own_lead(db, review, coordinator, police, police_lead):
    notified(db, review)
    health = make_agency(db, "Northshire Health")
    other_review = make_review(db, coordinator=coordinator)
    outsider = make_membership(
        db, other_review, make_user(db, agency=police), MembershipKind.AGENCY_LEAD, agency=police
    )
    for agency, lead in [(health, police_lead), (police, outsider)]:
        _refused(
            db,
            review,
            lambda agency=agency, lead=lead: rr.request_agency_return(
                db, review, agency, lead, date(2026, 3, 30), coordinator
            ),
            f"Select a current agency lead of this review for {agency.name}",
        )
    rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator)
    db.commit()
    _refused(
        db,
        review,
        lambda: rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 31), coordinator),
        "Northshire Police was already asked for its return on 30 March 2026",
    )
    assert db.scalar(sa.select(sa.func.count(AgencyReturnRequest.id))) == 1


def test_a_return_is_received_once_and_not_before_it_was_asked_for(db, review, coordinator, police, police_lead):
    notified(db, review)
    request = rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator)
    db.commit()
    _refused(
        db,
        review,
        lambda: rr.record_return_received(db, request, date(2026, 3, 27), coordinator),
        "on or after the date it was requested (30 March 2026)",
    )
    rr.record_return_received(db, request, date(2026, 4, 2), coordinator)
    db.commit()
    _refused(
        db,
        review,
        lambda: rr.record_return_received(db, request, date(2026, 4, 3), coordinator),
        "already recorded as received on 2 April 2026",
    )


def test_the_return_is_due_eight_working_days_after_the_request_across_christmas(
    db, review, coordinator, police, police_lead
):
    bank_holidays = holidays.UK(subdiv="ENG", years=2026)
    assert date(2026, 12, 25) in bank_holidays and date(2026, 12, 28) in bank_holidays  # Boxing Day substitute
    notified(db, review, on=date(2026, 12, 16))
    # Thursday 17 December: 18, 21, 22, 23, 24, (25, 28 bank holidays), 29, 30, 31.
    request = rr.request_agency_return(db, review, police, police_lead, date(2026, 12, 17), coordinator)
    db.commit()
    assert db.get(AgencyReturnRequest, request.id).due_on == date(2026, 12, 31)


def test_closure_days_also_move_the_due_date(db, review, coordinator, police, police_lead):
    db.add(ClosureDay(day=date(2026, 12, 30), description="Office closed", created_by_id=coordinator.id))
    notified(db, review, on=date(2026, 12, 16))
    request = rr.request_agency_return(db, review, police, police_lead, date(2026, 12, 17), coordinator)
    # 1 January 2027 is New Year's Day, so the eighth working day is Monday 4 January.
    assert request.due_on == date(2027, 1, 4)


# Pages ---------------------------------------------------------------------------------------------


def url(review, step: str = "") -> str:
    return f"/reviews/{review.id}/rapid-review" + (f"/{step}" if step else "")


def day_fields(name: str, value: date) -> dict:
    return {name: [str(value.day), str(value.month), str(value.year)]}


@pytest.fixture
def signed_in(client, coordinator):
    sign_in(client, coordinator)
    return client


def test_a_coordinator_records_every_step_through_the_pages(signed_in, db, review, coordinator, police_lead):
    client = signed_in
    overview = client.get(url(review))
    assert overview.status_code == 200
    assert "Cannot start yet" in overview.text
    assert f'href="{url(review, "meeting")}"' not in overview.text

    steps = [
        ("notify-recommendation", {**day_fields("on", date(2026, 3, 24)), "by": "  RAG chair  "}),
        ("notification", {**day_fields("on", NOTIFIED), "by": "Sam Social-Care"}),
        ("meeting", {**day_fields("on", date(2026, 4, 9)), "notes": "All agencies attended"}),
        (
            "cspr-recommendation",
            {
                "recommend": "yes",
                **day_fields("on", date(2026, 4, 10)),
                "reasons": "Agencies did not share concerns",
                "criteria": ["recurrent_themes", "panel_concluded_local"],
            },
        ),
        (
            "decision",
            {"commission": "no", "by": "Executive chair", **day_fields("on", date(2026, 4, 14)), "reason": "Reason"},
        ),
        ("outcome-sent", day_fields("on", date(2026, 4, 15))),
    ]
    for step, data in steps:
        response = submit(client, url(review, step), data)
        assert response.status_code == 302, (step, response.text)
        assert response.headers["Location"].endswith(url(review))

    page = client.get(url(review)).text
    assert "Recommended on 24 March 2026 by RAG chair" in page
    assert "Sent on 27 March 2026 by Sam Social-Care" in page
    assert "Recommended a CSPR on 10 April 2026" in page
    assert "No CSPR: decided on 14 April 2026 by Executive chair" in page
    assert "Sent on 15 April 2026" in page
    assert page.count("Completed") == 6  # all but the agency returns, none of which were asked for
    record = fresh(db, review)
    assert record.criteria == [Reg11Criterion.RECURRENT_THEMES, Reg11Criterion.PANEL_CONCLUDED_LOCAL]
    actors = db.scalars(
        sa.select(AuditEvent.actor_id).where(
            AuditEvent.review_id == review.id, AuditEvent.action.like("rapid_review.%")
        )
    ).all()
    assert len(actors) == 6 and set(actors) == {coordinator.id}
    # Once decided, nothing is offered for change and the decision page says why.
    assert f'href="{url(review, "decision")}"' not in page
    decision = client.get(url(review, "decision")).text
    assert "is final" in decision and "<form" not in decision.split("<main")[1]


def test_agency_returns_are_requested_through_the_lead_and_show_their_due_date(signed_in, db, review, police_lead):
    client = signed_in
    notified(db, review)
    page = client.get(url(review, "agency-returns"))
    assert "Northshire Police: Priya Lead" in page.text
    # Thursday 2 April 2026: Good Friday and Easter Monday are not working days.
    response = submit(
        client,
        url(review, "agency-returns"),
        {"lead": str(police_lead.id), **day_fields("requested_on", date(2026, 4, 2))},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Northshire Police has been asked for its return through Priya Lead. It is due on 16 April 2026." in (
        response.text
    )
    row = re.search(r"<th scope=\"row\"[^>]*>Northshire Police</th>(.*?)</tr>", response.text, re.S).group(1)
    assert "2 April 2026" in row and "16 April 2026" in row and "Not yet" in row
    request = db.scalar(sa.select(AgencyReturnRequest).where(AgencyReturnRequest.review_id == review.id))

    received = submit(
        client,
        url(review, f"agency-returns/{request.id}/received"),
        day_fields("on", date(2026, 4, 14)),
        follow_redirects=True,
    )
    assert "The return from Northshire Police has been recorded as received" in received.text
    assert "14 April 2026" in received.text
    assert "Every agency with a lead on this review has been asked" in received.text


def test_an_agency_return_of_another_review_is_not_found(signed_in, db, review, coordinator, police, police_lead):
    other = make_review(db, coordinator=coordinator)
    notified(db, review)
    request = rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator)
    db.commit()
    assert signed_in.get(url(other, f"agency-returns/{request.id}/received")).status_code == 404
    assert signed_in.get(url(review, "agency-returns/999999/received")).status_code == 404


def test_bad_input_is_shown_with_gov_uk_errors_and_what_was_typed_is_kept(signed_in, review):
    response = submit(signed_in, url(review, "notification"), {"on": ["31", "2", "2026"], "by": "   "})
    assert response.status_code == 200
    assert "<title>Error: " in response.text
    assert "There is a problem" in response.text
    assert "The date the notification was sent must be a real date" in response.text
    assert "Enter who sent the notification" in response.text
    assert 'value="31"' in response.text and 'value="2026"' in response.text


def test_a_refusal_from_the_rules_is_shown_on_the_field(signed_in, db, review):
    response = submit(signed_in, url(review, "notification"), {**day_fields("on", date(2026, 3, 2)), "by": "Sam"})
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "must be on or after the date the local authority became aware (23 March 2026)" in response.text
    assert 'value="Sam"' in response.text
    assert fresh(db, review) is None


def test_recommending_a_cspr_without_criteria_keeps_the_reasons(signed_in, db, review):
    notified(db, review)
    rr.record_rag_meeting(db, review, date(2026, 4, 9), None)
    db.commit()
    response = submit(
        signed_in,
        url(review, "cspr-recommendation"),
        {"recommend": "yes", **day_fields("on", date(2026, 4, 10)), "reasons": "Concerns about information sharing"},
    )
    assert response.status_code == 200
    assert "Select the regulation 11 criteria that apply when recommending a CSPR" in response.text
    assert "Concerns about information sharing" in response.text
    assert re.search(r'value="yes"\s+checked', response.text)
    missing = submit(signed_in, url(review, "cspr-recommendation"), {"reasons": "x"})
    assert "Select yes if the Review Advisory Group recommends a Child Safeguarding Practice Review" in missing.text
    assert fresh(db, review).cspr_recommended_on is None


def test_a_step_out_of_order_is_explained_not_offered(signed_in, db, review):
    page = signed_in.get(url(review, "meeting"))
    assert page.status_code == 200
    assert "A Rapid Review cannot start before the notification has been submitted" in page.text
    assert 'name="notes"' not in page.text
    # A post made anyway (an old tab) is refused and saves nothing.
    response = submit(
        signed_in, url(review, "meeting"), day_fields("on", date(2026, 4, 9)), page=url(review, "notification")
    )
    assert response.status_code == 200
    assert "A Rapid Review cannot start before the notification has been submitted" in response.text
    assert fresh(db, review) is None


def test_the_decision_page_warns_that_it_is_final(signed_in, db, review):
    up_to_recommendation(db, review)
    page = html.unescape(signed_in.get(url(review, "decision")).text)
    assert "The Executive's decision is final. Once saved, it cannot be changed." in page
    assert "govuk-warning-text" in page


STEPS = [
    "",
    "notify-recommendation",
    "notification",
    "agency-returns",
    "meeting",
    "cspr-recommendation",
    "decision",
    "outcome-sent",
]


@pytest.mark.parametrize("step", STEPS)
def test_only_coordinators_may_use_the_rapid_review_pages(app, client, db, review, step, police, police_lead):
    signed_out = client.get(url(review, step))
    assert signed_out.status_code == 302 and "/sign-in?next=" in signed_out.headers["Location"]
    members = {
        MembershipKind.AUTHOR: make_user(db, role=Role.AUTHOR),
        MembershipKind.PANEL_MEMBER: make_user(db, role=Role.PRACTITIONER, agency=police),
        MembershipKind.PRACTITIONER: make_user(db, role=Role.PRACTITIONER),
        MembershipKind.FAMILY: make_user(db, role=Role.FAMILY),
    }
    for kind, person in members.items():
        make_membership(db, review, person, kind)
    for person in [*members.values(), police_lead.user]:
        browser = app.test_client()
        sign_in(browser, person)
        assert browser.get(url(review, step)).status_code == 404


def test_a_coordinator_gets_not_found_for_a_review_that_does_not_exist(signed_in):
    assert signed_in.get("/reviews/999999/rapid-review/decision").status_code == 404


# The review page's partial ---------------------------------------------------------------------------


def render_partial(app, db, review, user):
    with app.test_request_context():
        access = access_to(db, user, review)
        return render_template(
            "reviews/_rapid_review.html",
            review=review,
            access=access,
            agency_requests=rr.agency_return_requests(db, review),
        )


def test_the_partial_shows_an_agency_lead_only_their_own_agencys_return(app, db, review, coordinator, police_lead):
    health = make_agency(db, "Northshire Health")
    health_lead = make_membership(
        db, review, make_user(db, agency=health, name="Hal Health"), MembershipKind.AGENCY_LEAD
    )
    notified(db, review)
    police = police_lead.agency
    rr.request_agency_return(db, review, police, police_lead, date(2026, 3, 30), coordinator)
    rr.request_agency_return(db, review, health, health_lead, date(2026, 3, 31), coordinator)
    db.commit()

    as_lead = render_partial(app, db, review, police_lead.user)
    assert "Northshire Police" in as_lead and "Northshire Health" not in as_lead
    assert "Sam Social-Care" not in as_lead  # the Rapid Review record is not an agency lead's part
    assert "rapid-review/agency-returns" not in as_lead  # they may look, not record

    as_coordinator = render_partial(app, db, review, coordinator)
    assert "Northshire Police" in as_coordinator and "Northshire Health" in as_coordinator
    assert "27 March 2026, by Sam Social-Care" in as_coordinator
    assert "Record the Rapid Review" in as_coordinator


def test_the_partial_shows_the_record_to_a_panel_member_but_no_agency_returns(app, db, review, coordinator):
    up_to_recommendation(db, review)
    member = make_user(db)
    make_membership(db, review, member, MembershipKind.PANEL_MEMBER)
    html = render_partial(app, db, review, member)
    assert "Recommended a Child Safeguarding Practice Review, 10 April 2026" in html
    assert "The case highlights recurrent themes" in html
    assert "Agency information returns" not in html
    assert "Record the Rapid Review" not in html


def test_the_partial_without_agency_requests_does_not_claim_there_are_none(app, db, review, police_lead):
    with app.test_request_context():
        html = render_template(
            "reviews/_rapid_review.html", review=review, access=access_to(db, police_lead.user, review)
        )
    assert "Agency information returns" not in html and "not been asked" not in html
