"""A family member answers the author's question in their own pages, with a family contribution."""

from __future__ import annotations

import sqlalchemy as sa

from portal.authoring import requests
from portal.authoring.models import RequestStatus
from portal.families.models import ContributionStatus, FamilyContribution, PreferredChannel
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.reviews.models import MembershipKind, Stage
from portal.security.models import Role
from portal.security.passwords import hash_password
from tests.authoring.test_requests import agree_to_be_asked
from tests.conftest import sign_in, submit, text_of
from tests.factories import DEFAULT_PASSWORD, make_membership, make_review, make_user
from tests.families.test_updates import add_member


def asked_family_member(app, db, coordinator, name="Fay"):
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Q")
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    member = add_member(db, review, coordinator, name, PreferredChannel.EMAIL)
    member.person.password_hash = hash_password(DEFAULT_PASSWORD)
    agree_to_be_asked(db, member)
    with app.app_context():
        [asked] = requests.ask(
            db,
            review,
            [member.membership.id],
            prompt="What did he love doing?",
            guidance=None,
            working_days=10,
            actor=author,
        )
    db.commit()
    return member, asked


def test_the_review_page_shows_the_question_in_plain_words(app, client, db, coordinator):
    member, asked = asked_family_member(app, db, coordinator)
    sign_in(client, member.person)
    page = text_of(client.get(f"/family/reviews/{asked.review_id}").text)
    assert "The author has asked you" in page
    assert "What did he love doing?" in page
    assert f"Please answer by {asked.due_on.day} {asked.due_on:%B %Y}" in page
    assert "You do not have to answer" in page


def test_answering_creates_a_contribution_for_the_request_and_sending_answers_it(app, client, db, coordinator):
    member, asked = asked_family_member(app, db, coordinator)
    sign_in(client, member.person)
    url = f"/family/reviews/{asked.review_id}/requests/{asked.id}"
    form = text_of(client.get(url).text)
    assert "The author asked you: What did he love doing?" in form
    saved = submit(client, url, {"title": "About him", "text": "Football.", "save": "Save as draft"})
    assert saved.status_code == 302
    contribution = db.scalar(sa.select(FamilyContribution))
    assert contribution.request_id == asked.id
    # Coming back to the question continues the same contribution, which still shows it.
    again = client.get(url)
    assert again.headers["Location"].endswith(f"/contributions/{contribution.id}")
    assert "What did he love doing?" in text_of(client.get(again.headers["Location"]).text)
    sent = submit(
        client,
        f"/family/reviews/{asked.review_id}/contributions/{contribution.id}",
        {"title": "About him", "text": "Football and drawing.", "send": "Send to the review"},
    )
    assert sent.status_code == 302
    db.refresh(asked)
    db.refresh(contribution)
    assert contribution.status == ContributionStatus.SUBMITTED.value
    assert asked.status == RequestStatus.ANSWERED.value
    reminder = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.idempotency_key.endswith(":reminder")))
    assert reminder.status == MessageStatus.WITHDRAWN.value
    # Answered: it is no longer on the review page as a question waiting.
    assert "The author has asked you" not in text_of(client.get(f"/family/reviews/{asked.review_id}").text)
    # Their list says which of their writings answers the author's question.
    listing = text_of(client.get(f"/family/reviews/{asked.review_id}/contributions").text)
    assert "About him Your answer to the author's question Sent" in listing


def test_a_family_member_who_stopped_contributing_gets_the_kind_page(app, client, db, coordinator):
    member, asked = asked_family_member(app, db, coordinator)
    agree_to_be_asked(db, member, given=False)
    sign_in(client, member.person)
    response = client.get(f"/family/reviews/{asked.review_id}/requests/{asked.id}")
    assert response.status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(FamilyContribution)) == 0


def test_a_withdrawn_question_cannot_be_answered(app, client, db, coordinator):
    member, asked = asked_family_member(app, db, coordinator)
    requests.withdraw_request(db, asked, asked.asked_by)
    db.commit()
    sign_in(client, member.person)
    assert "The author has asked you" not in text_of(client.get(f"/family/reviews/{asked.review_id}").text)
    assert client.get(f"/family/reviews/{asked.review_id}/requests/{asked.id}").status_code == 404
