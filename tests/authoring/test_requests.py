"""Contribution requests: asking, the due date in working days, reminders, answering, withdrawing, overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.authoring import requests
from portal.authoring.models import AnswerFile, AnswerStatus, ContributionRequest, RequestAnswer, RequestStatus
from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.families.models import PreferredChannel
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.reviews.models import Membership, MembershipKind, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from portal.working_days import is_working_day, working_days_between
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_agency, make_membership, make_review, make_user
from tests.families.test_updates import add_member
from tests.families.test_uploads import SAMPLES

# A Wednesday in term time; the first Monday in May 2030 (the 6th) is a bank holiday.
WEDNESDAY = date(2030, 5, 1)


@dataclass
class Scene:
    app: object
    review: object
    author: User
    lead: Membership
    practitioner: Membership
    panel: Membership
    family: object  # FamilyMember who agreed to be contacted and to contribute
    letter_family: object  # FamilyMember who agreed, and hears by letter
    silent_family: object  # FamilyMember who has not agreed


def agree_to_be_asked(db, member, given: bool = True) -> None:
    for scope in requests.FAMILY_CONSENT:
        ledger.record_choice(
            db, person=member.person, review_id=member.membership.review_id, scope=scope, given=given, text_version="t"
        )
    db.commit()


@pytest.fixture
def scene(app, db, coordinator) -> Scene:
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)
    author = make_user(db, role=Role.AUTHOR, name="Ada Author")
    make_membership(db, review, author, MembershipKind.AUTHOR)
    lead = make_membership(
        db, review, make_user(db, name="Lee Lead", agency=make_agency(db)), MembershipKind.AGENCY_LEAD
    )
    practitioner = make_membership(db, review, make_user(db, name="Pat Practitioner"), MembershipKind.PRACTITIONER)
    panel = make_membership(db, review, make_user(db, name="Pam Panel"), MembershipKind.PANEL_MEMBER)
    family = add_member(db, review, coordinator, "Fay", PreferredChannel.EMAIL)
    agree_to_be_asked(db, family)
    letter_family = add_member(
        db, review, coordinator, "Len", PreferredChannel.LETTER, postal_address="1 Lane", letter_worker="Jo Smith"
    )
    agree_to_be_asked(db, letter_family)
    silent_family = add_member(db, review, coordinator, "Sid", PreferredChannel.EMAIL)
    return Scene(app, review, author, lead, practitioner, panel, family, letter_family, silent_family)


def ask(db, scene, memberships, *, working_days=10, prompt="What did your agency know?"):
    # Messages are written from templates, with links to the portal: the app's context is needed.
    with scene.app.app_context():
        made = requests.ask(
            db,
            scene.review,
            [m.id for m in memberships],
            prompt=prompt,
            guidance="<p>Include <strong>dates</strong></p><script>alert(1)</script>",
            working_days=working_days,
            actor=scene.author,
        )
    db.commit()
    return made


def messages(db, request) -> dict[str, OutboxMessage]:
    rows = db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith(f"contribution_request:{request.id}:"))
    )
    return {row.idempotency_key.rsplit(":", 1)[-1]: row for row in rows}


def actions(db) -> list[str]:
    return list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# The due date ----------------------------------------------------------------------------------------


def test_the_due_date_counts_working_days_and_skips_a_bank_holiday(db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    [made] = ask(db, scene, [scene.lead], working_days=3)
    # Thursday 2, Friday 3, (Monday 6 is the Early May bank holiday), Tuesday 7.
    assert made.due_on == date(2030, 5, 7)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(date(2024, 1, 1), date(2035, 12, 31)), days=st.integers(1, requests.MOST_WORKING_DAYS))
def test_the_due_date_is_always_a_working_day_that_many_working_days_on(db, start, days):
    due = requests.due_date(db, days, start=start)
    assert is_working_day(due)
    assert working_days_between(start, due) == days


# Asking ----------------------------------------------------------------------------------------------


def test_each_person_asked_gets_their_own_request_and_email(db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    made = ask(db, scene, [scene.lead, scene.practitioner, scene.panel])
    assert [(r.recipient.name, r.recipient_kind) for r in made] == [
        ("Lee Lead", "agency_lead"),
        ("Pat Practitioner", "practitioner"),
        ("Pam Panel", "panel_member"),
    ]
    assert {r.due_on for r in made} == {date(2030, 5, 16)}
    asked = messages(db, made[0])["asked"]
    assert asked.to_address == made[0].recipient.email
    assert scene.review.reference in asked.subject
    assert "What did your agency know?" in asked.body
    assert "Include dates" in asked.body and "<" not in asked.body
    assert f"/requests/{made[0].id}" in asked.body
    assert made[0].guidance == "<p>Include <strong>dates</strong></p>alert(1)"
    assert actions(db).count("contribution_request.created") == 3


def test_the_reminder_goes_at_9am_london_two_working_days_before_the_due_date(db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    [made] = ask(db, scene, [scene.lead])
    reminder = messages(db, made)["reminder"]
    # Due Thursday 16 May 2030; two working days before is Tuesday 14 May, 9am British Summer Time.
    assert reminder.send_after == datetime(2030, 5, 14, 8, 0, tzinfo=UTC)
    assert reminder.status == MessageStatus.PENDING.value
    assert "Reminder" in reminder.subject


def test_the_reminder_setting_is_followed(app, db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    monkeypatch.setitem(app.config, "REQUEST_REMINDER_WORKING_DAYS", 5)
    [made] = ask(db, scene, [scene.lead])
    assert messages(db, made)["reminder"].send_after == datetime(2030, 5, 9, 8, 0, tzinfo=UTC)


def test_a_family_member_who_has_not_agreed_cannot_be_asked(db, scene):
    people = requests.candidates(db, scene.review)
    assert scene.silent_family.membership in people.not_asked
    assert scene.family.membership in people.askable
    with pytest.raises(requests.RequestRefused):
        ask(db, scene, [scene.silent_family.membership])
    assert db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest)) == 0


def test_a_family_member_who_agreed_to_only_one_of_the_two_is_not_asked(db, scene):
    ledger.record_choice(
        db,
        person=scene.family.person,
        review_id=scene.review.id,
        scope=ConsentScope.CONTRIBUTE,
        given=False,
        text_version="t",
    )
    db.commit()
    assert scene.family.membership in requests.candidates(db, scene.review).not_asked


def test_family_members_hear_in_plain_words_on_their_own_channel_with_consent_checked(db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    by_email, by_letter = ask(
        db, scene, [scene.family.membership, scene.letter_family.membership], prompt="What was he like?"
    )
    email = messages(db, by_email)
    assert email["asked"].channel == "email"
    assert email["asked"].consent_scope == ConsentScope.AUTHOR_CONTACT.value
    assert email["asked"].review_id == scene.review.id
    assert scene.review.reference not in email["asked"].subject + email["asked"].body
    assert "What was he like?" in email["asked"].body
    assert email["reminder"].consent_scope == ConsentScope.AUTHOR_CONTACT.value
    letter = messages(db, by_letter)
    assert letter["asked"].channel == "letter"
    assert letter["asked"].to_address == "Jo Smith"
    assert "reminder" not in letter  # a letter is given by hand, once


def test_a_member_who_has_left_the_review_is_not_asked(db, scene, coordinator):
    scene.lead.ended_at = scene.lead.started_at + timedelta(days=1)
    scene.lead.ended_by_id = coordinator.id
    db.commit()
    with pytest.raises(requests.RequestRefused):
        ask(db, scene, [scene.lead])


# The author's pages --------------------------------------------------------------------------------------


def test_the_author_asks_through_the_page_and_sees_the_due_date(client, db, scene, monkeypatch):
    monkeypatch.setattr(requests, "today", lambda: WEDNESDAY)
    sign_in(client, scene.author)
    url = f"/reviews/{scene.review.id}/requests/new"
    page = text_of(client.get(url).text)
    assert "Answers will be due by 16 May 2030" in page
    assert "Not asked: has not agreed to be contacted" in page
    assert "Sid" in page and "Fay" in page
    checked = submit(
        client, url, {"recipients": [str(scene.lead.id)], "prompt": "Q", "working_days": "3", "check": "x"}
    )
    assert "Answers will be due by 7 May 2030" in text_of(checked.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest)) == 0
    response = submit(
        client,
        url,
        {
            "recipients": [str(scene.lead.id), str(scene.family.membership.id)],
            "prompt": "Tell me",
            "working_days": "10",
            "send": "x",
        },
    )
    assert response.status_code == 302
    assert "Request sent to 2 people" in text_of(client.get(response.headers["Location"]).text)


def test_the_ask_form_says_what_is_missing_and_keeps_what_was_typed(client, db, scene):
    sign_in(client, scene.author)
    url = f"/reviews/{scene.review.id}/requests/new"
    response = submit(client, url, {"prompt": "Kept words", "working_days": "abc", "send": "x"})
    page = text_of(response.text)
    assert "Select who to ask" in page
    assert "The number of working days must be a whole number" in page
    assert "Kept words" in response.text
    # A family member without consent cannot be slipped in by editing the form.
    response = submit(client, url, {"recipients": [str(scene.silent_family.membership.id)], "prompt": "Q", "send": "x"})
    assert response.status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(ContributionRequest)) == 0


def test_overdue_requests_are_tagged_and_filtered(client, db, scene):
    late, answered, _waiting = ask(db, scene, [scene.lead, scene.practitioner, scene.panel])
    late.due_on = requests.today() - timedelta(days=3)
    answered.due_on = requests.today() - timedelta(days=3)
    requests.mark_answered(db, answered, answered.recipient)
    db.commit()
    sign_in(client, scene.author)
    base = f"/reviews/{scene.review.id}/requests"
    page = text_of(client.get(base).text)
    assert page.count("Overdue") == 2  # the filter link and Lee's tag; the answered one is not overdue
    assert "Lee Lead" in page and "Answered" in page
    overdue = text_of(client.get(base + "?status=overdue").text)
    assert "Lee Lead" in overdue and "Pat Practitioner" not in overdue and "Pam Panel" not in overdue
    done = text_of(client.get(base + "?status=answered").text)
    assert "Pat Practitioner" in done and "Lee Lead" not in done


def test_the_coordinator_home_page_counts_overdue_requests_across_reviews(as_coordinator, db, scene):
    [late] = ask(db, scene, [scene.lead])
    late.due_on = requests.today() - timedelta(days=1)
    db.commit()
    home = text_of(as_coordinator.get("/").text)
    assert "1 contribution request is overdue" in home
    listed = text_of(as_coordinator.get("/requests/overdue").text)
    assert scene.review.reference in listed and "Lee Lead" in listed


def test_withdrawing_a_request_stops_its_messages_and_is_audited(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    sign_in(client, scene.author)
    url = f"/reviews/{scene.review.id}/requests/{made.id}/withdraw"
    response = submit(client, url, {}, page=f"/reviews/{scene.review.id}/requests")
    assert response.status_code == 302
    db.refresh(made)
    assert made.status == RequestStatus.WITHDRAWN.value
    assert {key: m.status for key, m in messages(db, made).items()} == {"asked": "withdrawn", "reminder": "withdrawn"}
    assert "contribution_request.withdrawn" in actions(db)
    page = text_of(client.get(f"/reviews/{scene.review.id}/requests?status=withdrawn").text)
    assert "Lee Lead" in page and "Withdrawn" in page


# The person asked -----------------------------------------------------------------------------------------


def test_a_practitioner_sees_their_open_requests_on_their_home_page(client, db, scene):
    [made] = ask(db, scene, [scene.practitioner], prompt="What happened at the visit?")
    made.due_on = requests.today() - timedelta(days=1)
    db.commit()
    sign_in(client, scene.practitioner.user)
    home = text_of(client.get("/").text)
    assert "Requests for you" in home
    assert f"{scene.review.reference}: What happened at the visit?" in home
    assert "Overdue" in home


def test_answering_saves_a_draft_then_sends_it_and_the_reminder_is_withdrawn(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    sign_in(client, scene.lead.user)
    url = f"/requests/{made.id}"
    assert "What did your agency know?" in text_of(client.get(url).text)
    saved = submit(client, url, {"text": "We knew a little.", "save": "x"})
    assert saved.status_code == 302
    db.refresh(made)
    assert made.status == RequestStatus.OPEN.value
    assert made.answer.status == AnswerStatus.DRAFT.value
    assert messages(db, made)["reminder"].status == MessageStatus.PENDING.value
    sent = submit(client, url, {"text": "We knew a lot.", "send": "x"})
    assert sent.status_code == 302
    db.refresh(made)
    db.refresh(made.answer)
    assert made.status == RequestStatus.ANSWERED.value
    assert made.answer.status == AnswerStatus.SUBMITTED.value
    assert made.answer.text == "<p>We knew a lot.</p>"
    assert messages(db, made)["reminder"].status == MessageStatus.WITHDRAWN.value
    assert [a for a in actions(db) if a.startswith("request_answer") or a.endswith("answered")] == [
        "request_answer.saved",
        "request_answer.saved",
        "request_answer.sent",
        "contribution_request.answered",
    ]
    # Still editable until acknowledged.
    assert "Send my changes" in client.get(url).text


def test_an_empty_answer_cannot_be_sent(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    sign_in(client, scene.lead.user)
    response = submit(client, f"/requests/{made.id}", {"text": "", "send": "x"})
    assert "Write an answer or add a file before you send it" in text_of(response.text)
    db.refresh(made)
    assert made.status == RequestStatus.OPEN.value


def test_files_are_typed_by_content_and_can_be_downloaded_and_removed(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    sign_in(client, scene.lead.user)
    url = f"/requests/{made.id}"
    refused = submit(
        client, url, {"text": "See file", "save": "x", "file": (BytesIO(b"MZ\x90\x00 not a pdf"), "notes.pdf")}
    )
    assert "The file must be a PDF, a picture, a Word document or a sound recording" in text_of(refused.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(AnswerFile)) == 0
    added = submit(client, url, {"text": "See file", "save": "x", "file": (BytesIO(SAMPLES["pdf"]), "notes.pdf")})
    assert added.status_code == 302
    stored = db.scalar(sa.select(AnswerFile))
    assert stored.detected_type == "pdf" and stored.stored_name != "notes.pdf"
    download = client.get(f"{url}/files/{stored.id}")
    assert download.status_code == 200 and download.data == SAMPLES["pdf"]
    assert "attachment" in download.headers["Content-Disposition"]
    removed = submit(client, f"{url}/files/{stored.id}/remove", {}, page=url)
    assert removed.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(AnswerFile)) == 0
    assert {"request_answer.file_added", "request_answer.file_removed"} <= set(actions(db))


def test_an_acknowledged_answer_is_locked(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    requests.save_answer(db, made, text="Final words", by=scene.lead.user)
    requests.send_answer(db, made, by=scene.lead.user)
    made.answer.status = AnswerStatus.ACKNOWLEDGED.value
    made.answer.acknowledged_at = made.answer.submitted_at
    made.answer.acknowledged_by_id = scene.author.id
    db.commit()
    sign_in(client, scene.lead.user)
    url = f"/requests/{made.id}"
    page = client.get(url)
    assert "can no longer be changed" in text_of(page.text)
    assert "Final words" in text_of(page.text)
    assert 'name="text"' not in page.text
    client.post(url, data={"csrf_token": "x", "text": "Changed", "send": "x"})
    with pytest.raises(requests.AnswerLocked):
        requests.save_answer(db, made, text="Changed", by=scene.lead.user)
    db.rollback()
    assert db.scalar(sa.select(RequestAnswer.text)) == "<p>Final words</p>"


def test_a_withdrawn_request_is_shown_but_cannot_be_answered(client, db, scene):
    [made] = ask(db, scene, [scene.lead])
    requests.withdraw_request(db, made, scene.author)
    db.commit()
    sign_in(client, scene.lead.user)
    assert "You do not need to answer it" in text_of(client.get(f"/requests/{made.id}").text)
    with pytest.raises(requests.RequestRefused):
        requests.save_answer(db, made, text="Late", by=scene.lead.user)


# Constant queries ----------------------------------------------------------------------------------------


def _more_requests(db, scene, how_many: int) -> None:
    for number in range(how_many):
        person = make_membership(db, scene.review, make_user(db, name=f"Extra {number}"), MembershipKind.PRACTITIONER)
        ask(db, scene, [person])


def test_the_requests_page_asks_the_same_number_of_queries_however_many_requests(client, db, scene):
    sign_in(client, scene.author)

    def queries() -> int:
        with counting_queries(db) as statements:
            assert client.get(f"/reviews/{scene.review.id}/requests").status_code == 200
        return len(statements)

    ask(db, scene, [scene.lead])
    queries()
    few = queries()
    _more_requests(db, scene, 30)
    assert queries() == few


def test_the_home_page_asks_the_same_number_of_queries_however_many_requests(client, db, scene):
    person = scene.practitioner.user
    sign_in(client, person)

    def queries() -> int:
        with counting_queries(db) as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    ask(db, scene, [scene.practitioner])
    queries()
    few = queries()
    for number in range(15):
        other = make_review(db, stage=Stage.CSPR_IN_PROGRESS)
        membership = make_membership(db, other, person, MembershipKind.PANEL_MEMBER)
        author = make_user(db, role=Role.AUTHOR)
        with scene.app.app_context():
            requests.ask(db, other, [membership.id], prompt=f"Q{number}", guidance=None, working_days=5, actor=author)
    db.commit()
    assert queries() == few
    assert "See all 16 requests waiting for your answer" in text_of(client.get("/").text)
