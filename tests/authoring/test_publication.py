"""Publication: the decision rules, the short-notice warning, publishing, stage moves, slugs, taking down.

The scene helpers at the top are shared with the public learning page tests in tests/learning/.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.authoring import publication as publishing
from portal.authoring.anonymisation import AnonymisationRefused, undo_final
from portal.authoring.models import (
    Draft,
    DraftKind,
    DraftSection,
    ProtectedTerm,
    Publication,
    PublicationDecision,
    TermCategory,
)
from portal.db import utcnow
from portal.reviews.clocks import london_today
from portal.reviews.models import MembershipKind, Review, Stage, StageChange
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from tests.conftest import sign_in, submit, text_of
from tests.factories import make_membership, make_review, make_user

FINAL_WORDS = "Agencies did not share what they knew about the family's moves."
DRAFT_WORDS = "An earlier draft that was never final."
REASON = "Publishing would let neighbours identify the brother."
IMPROVEMENTS = "Health visitors now check school records before every visit."
SUMMARY = "Share information early when a family moves between areas."


def add_draft(db, review: Review, by: User, version: int, words: str, *, final: bool = False) -> Draft:
    draft = Draft(
        review_id=review.id,
        version=version,
        title=f"Report on {review.anonymised_name}",
        kind=DraftKind.WRITTEN.value,
        created_by_id=by.id,
        final_at=utcnow() if final else None,
        final_by_id=by.id if final else None,
    )
    draft.sections = [DraftSection(position=1, heading="What happened", body=f"<p>{words}</p>")]
    db.add(draft)
    db.commit()
    return draft


def ready_review(db, coordinator: User, *, stage: Stage = Stage.AWAITING_PUBLICATION, **fields) -> Review:
    """A review with a non-final version 1 and a final version 2."""
    review = make_review(db, coordinator=coordinator, stage=stage, **fields)
    add_draft(db, review, coordinator, 1, DRAFT_WORDS)
    add_draft(db, review, coordinator, 2, FINAL_WORDS, final=True)
    return review


def decided(
    db,
    review: Review,
    coordinator: User,
    decision: PublicationDecision = PublicationDecision.PUBLISH,
    *,
    publication_date: date | None = None,
    sent_on: date | None = date(2026, 1, 5),
    published: bool = False,
    **fields,
) -> Publication:
    """A publication record written straight to the table, for tests where deciding is not the point."""
    final = db.query(Draft).filter(Draft.review_id == review.id, Draft.final_at.is_not(None)).one_or_none()
    values = {
        "review_id": review.id,
        "decision": decision.value,
        "draft_id": final.id if final else None,
        "reason": REASON if decision == PublicationDecision.DO_NOT_PUBLISH else None,
        "improvements": f"<p>{IMPROVEMENTS}</p>" if decision == PublicationDecision.DO_NOT_PUBLISH else None,
        "learning_summary": f"<p>{SUMMARY}</p>",
        "decided_by_id": coordinator.id,
        "sent_to_panel_on": sent_on,
        "sent_to_secretary_of_state_on": sent_on,
        "publication_date": publication_date or london_today(),
    }
    publication = Publication(**{**values, **fields})
    if published:
        publication.published_at = utcnow()
        publication.public_slug = f"{review.anonymised_name}-{review.reference}".lower().replace(" ", "-")
        publication.online_until = date(2099, 1, 1)
    db.add(publication)
    db.commit()
    return publication


def page_url(review: Review, part: str = "") -> str:
    return f"/reviews/{review.id}/publication{part}"


def date_fields(name: str, day: date | None) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)] if day else ["", "", ""]}


def dates_data(panel: date | None, secretary: date | None, publication_on: date | None) -> dict:
    return {
        **date_fields("sent_to_panel_on", panel),
        **date_fields("sent_to_secretary_of_state_on", secretary),
        **date_fields("publication_date", publication_on),
    }


def actions(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def stages_of(db, review: Review) -> list[str]:
    return list(
        db.scalars(sa.select(StageChange.to_stage).where(StageChange.review_id == review.id).order_by(StageChange.id))
    )


@pytest.fixture
def review(db, coordinator) -> Review:
    return ready_review(db, coordinator)


# The decision ----------------------------------------------------------------------------------------


def test_the_page_shows_the_final_version_and_says_when_there_is_none(as_coordinator, db, coordinator, review):
    page = text_of(as_coordinator.get(page_url(review)).text)
    assert "Version 2: Report on" in page
    assert "No decision has been recorded." in page

    bare = make_review(db, coordinator=coordinator, stage=Stage.AWAITING_PUBLICATION)
    assert "There is no final version yet" in text_of(as_coordinator.get(page_url(bare)).text)


def test_deciding_to_publish_records_the_final_version(as_coordinator, db, review):
    response = submit(
        as_coordinator, page_url(review, "/decision"), {"decision": "publish", "learning_summary": SUMMARY}
    )
    assert response.status_code == 302
    publication = db.scalar(sa.select(Publication).where(Publication.review_id == review.id))
    assert publication.draft.version == 2
    assert publication.learning_summary == f"<p>{SUMMARY}</p>"
    page = text_of(as_coordinator.get(page_url(review)).text)
    assert "Publish the report (version 2)" in page
    (entry,) = actions(db, "publication.decided")
    assert SUMMARY not in entry.details


def test_publishing_is_refused_without_a_final_version(as_coordinator, db, coordinator):
    bare = make_review(db, coordinator=coordinator, stage=Stage.AWAITING_PUBLICATION)
    response = submit(as_coordinator, page_url(bare, "/decision"), {"decision": "publish"})
    assert response.status_code == 200
    assert "There is no final version yet" in text_of(response.text)
    assert db.scalar(sa.select(Publication).where(Publication.review_id == bare.id)) is None


def test_not_publishing_needs_a_reason_and_the_improvements_but_no_final_version(as_coordinator, db, coordinator):
    bare = make_review(db, coordinator=coordinator, stage=Stage.AWAITING_PUBLICATION)
    response = submit(
        as_coordinator, page_url(bare, "/decision"), {"decision": "do_not_publish", "learning_summary": SUMMARY}
    )
    page = text_of(response.text)
    assert response.status_code == 200
    assert "Enter why the report will not be published" in page
    assert "Enter the information about improvements to publish instead" in page
    assert SUMMARY in page  # what was typed is kept

    response = submit(
        as_coordinator,
        page_url(bare, "/decision"),
        {"decision": "do_not_publish", "reason": REASON, "improvements": IMPROVEMENTS},
    )
    assert response.status_code == 302
    publication = db.scalar(sa.select(Publication).where(Publication.review_id == bare.id))
    assert (publication.reason, publication.improvements) == (REASON, f"<p>{IMPROVEMENTS}</p>")
    assert REASON not in actions(db, "publication.decided")[0].details


def test_the_author_sees_the_decision_but_cannot_change_it(client, db, coordinator, review):
    decided(db, review, coordinator, PublicationDecision.DO_NOT_PUBLISH)
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    sign_in(client, author)
    page = client.get(page_url(review))
    assert REASON in text_of(page.text)
    assert "Change the decision" not in page.text and "/publication/publish" not in page.text
    assert client.get(page_url(review, "/decision")).status_code == 403


# The dates and the short-notice warning ----------------------------------------------------------------


def test_short_notice_counts_working_days_across_the_easter_bank_holidays(db, coordinator, review, app):
    publication = decided(db, review, coordinator, publication_date=date(2027, 4, 1))
    # Good Friday (26 March) and Easter Monday (29 March) 2027 are not working days.
    publication.sent_to_panel_on = date(2027, 3, 19)
    publication.sent_to_secretary_of_state_on = date(2027, 3, 22)
    (notice,) = publishing.short_notices(publication, frozenset(), app.config)
    assert notice.recipient == "the Secretary of State"
    assert (notice.working_days, notice.latest_on) == (6, date(2027, 3, 19))
    # A partnership closure day counts against the notice as well.
    with_closure = publishing.short_notices(publication, frozenset({date(2027, 3, 23)}), app.config)
    assert [notice.recipient for notice in with_closure] == ["the National Panel", "the Secretary of State"]


def test_a_sent_date_after_the_publication_date_is_refused(as_coordinator, db, coordinator, review):
    publication = decided(db, review, coordinator, sent_on=None, publication_date=date(2026, 11, 2))
    response = submit(
        as_coordinator, page_url(review, "/dates"), dates_data(date(2026, 11, 3), date(2026, 10, 1), date(2026, 11, 2))
    )
    assert response.status_code == 200
    assert "The date the report went to the National Panel must be on or before the publication date" in text_of(
        response.text
    )
    db.refresh(publication)
    assert publication.sent_to_panel_on is None


def test_short_notice_is_warned_and_must_be_acknowledged_before_publishing(as_coordinator, db, coordinator, review):
    today = london_today()
    decided(db, review, coordinator, sent_on=None, publication_date=date(2026, 1, 5))
    response = submit(as_coordinator, page_url(review, "/dates"), dates_data(today, date(2026, 1, 5), today))
    assert response.status_code == 302
    overview = text_of(as_coordinator.get(page_url(review)).text)
    assert "The report went to the National Panel on" in overview
    assert "0 working days before publication" in overview
    assert "It should go at least 7 working days before publication" in overview

    response = submit(as_coordinator, page_url(review, "/publish"), {})
    assert response.status_code == 200
    assert "Confirm that you know the report went out later than the working-day rule asks" in text_of(response.text)
    publication = db.scalar(sa.select(Publication).where(Publication.review_id == review.id))
    db.refresh(publication)
    assert publication.published_at is None

    response = submit(as_coordinator, page_url(review, "/publish"), {"acknowledge": "y"})
    assert response.status_code == 302
    db.refresh(publication)
    assert publication.published_at is not None
    assert publication.short_notice_acknowledged_by_id == coordinator.id
    assert len(actions(db, "publication.short_notice_acknowledged")) == 1
    assert "The short notice was acknowledged" in text_of(as_coordinator.get(page_url(review)).text)


def test_changing_the_dates_asks_for_a_new_acknowledgement(db, coordinator, review):
    publication = decided(
        db,
        review,
        coordinator,
        short_notice_acknowledged_by_id=coordinator.id,
        short_notice_acknowledged_at=utcnow(),
    )
    publishing.record_dates(
        db,
        publication,
        sent_to_panel_on=publication.sent_to_panel_on,
        sent_to_secretary_of_state_on=publication.sent_to_secretary_of_state_on,
        publication_date=publication.publication_date + timedelta(days=1),
        actor=coordinator,
    )
    assert publication.short_notice_acknowledged_at is None


# Publishing -----------------------------------------------------------------------------------------


def test_publishing_is_refused_until_the_dates_are_recorded(as_coordinator, db, coordinator, review):
    decided(db, review, coordinator, sent_on=None)
    response = submit(as_coordinator, page_url(review, "/publish"), {})
    assert response.status_code == 200
    assert (
        "Record the date the report went to the National Panel and the date the report went to the Secretary of"
        " State before publishing" in text_of(response.text)
    )
    assert review.stage == Stage.AWAITING_PUBLICATION.value


def test_publishing_is_refused_before_the_publication_date(db, coordinator, review):
    later = london_today() + timedelta(days=30)
    publication = decided(db, review, coordinator, publication_date=later)
    problems = publishing.problems_before_publishing(db, review, publication, london_today())
    assert [problem.message for problem in problems] == [
        f"The publication date is {later.day} {later:%B %Y}. Publish on or after that day"
    ]


def test_publishing_is_refused_when_the_final_version_is_no_longer_final(as_coordinator, db, coordinator, review):
    publication = decided(db, review, coordinator)
    publication.draft.final_at = None
    publication.draft.final_by_id = None
    db.commit()
    page = text_of(as_coordinator.get(page_url(review)).text)
    assert "There is no final version. A version must pass the anonymisation check and be marked final." in page
    assert "Continue to publish" not in page


def test_a_protected_name_in_the_learning_summary_stops_publication(db, coordinator, review):
    publication = decided(db, review, coordinator, learning_summary="<p>Ann Smith was let down.</p>")
    db.add(
        ProtectedTerm(
            review_id=review.id, term="Ann Smith", category=TermCategory.CHILD_NAME.value, added_by_id=coordinator.id
        )
    )
    db.commit()
    problems = publishing.problems_before_publishing(db, review, publication, london_today())
    assert [problem.message for problem in problems] == [
        "The learning summary contains a protected term. Change it before publishing"
    ]


def test_publishing_moves_the_review_to_published_and_puts_the_page_online(as_coordinator, db, coordinator, review):
    publication = decided(db, review, coordinator, publication_date=date(2026, 11, 2))
    response = submit(as_coordinator, page_url(review, "/publish"), {})
    assert response.status_code == 302
    db.refresh(publication)
    db.refresh(review)
    assert review.stage == Stage.PUBLISHED.value
    assert stages_of(db, review)[-1] == Stage.PUBLISHED.value
    # Published later than planned: the page still stays up for the whole period from today.
    today = london_today()
    assert publication.online_until >= date(today.year + 1, today.month, min(today.day, 28))
    (entry,) = actions(db, "publication.published")
    assert entry.actor_id == coordinator.id
    page = as_coordinator.get(page_url(review))
    assert f"/learning/{publication.public_slug}" in page.text
    assert "Change the decision" not in page.text
    assert as_coordinator.get(page_url(review, "/decision")).status_code == 404


def test_once_published_the_final_version_stays_final(as_coordinator, db, coordinator, review):
    publication = decided(db, review, coordinator, publication_date=date(2026, 11, 2))
    submit(as_coordinator, page_url(review, "/publish"), {})
    db.refresh(publication)
    with pytest.raises(AnonymisationRefused, match="has been published"):
        undo_final(db, publication.draft, "A late change", coordinator)


def test_online_until_is_twelve_months_after_the_publication_date(db, coordinator, review):
    today = london_today()
    publication = decided(db, review, coordinator, publication_date=today)
    publishing.publish(
        db, review, publication, acknowledged=False, actor=coordinator, today=today, closures=frozenset(), config={}
    )
    assert publication.online_until == publishing.clocks.add_calendar_months(today, 12)


def test_publishing_from_pre_publication_passes_through_awaiting_publication(as_coordinator, db, coordinator):
    review = ready_review(db, coordinator, stage=Stage.PRE_PUBLICATION)
    decided(db, review, coordinator)
    assert submit(as_coordinator, page_url(review, "/publish"), {}).status_code == 302
    assert stages_of(db, review)[-2:] == [Stage.AWAITING_PUBLICATION.value, Stage.PUBLISHED.value]


def test_not_publishing_moves_the_review_to_not_published(as_coordinator, db, coordinator, review):
    decided(db, review, coordinator, PublicationDecision.DO_NOT_PUBLISH)
    assert submit(as_coordinator, page_url(review, "/publish"), {}).status_code == 302
    db.refresh(review)
    assert review.stage == Stage.NOT_PUBLISHED.value
    change = db.scalar(sa.select(StageChange).where(StageChange.review_id == review.id).order_by(StageChange.id.desc()))
    assert REASON not in change.reason


def test_a_review_still_in_progress_cannot_be_published(as_coordinator, db, coordinator):
    review = ready_review(db, coordinator, stage=Stage.CSPR_IN_PROGRESS)
    publication = decided(db, review, coordinator)
    response = submit(as_coordinator, page_url(review, "/publish"), {})
    assert response.status_code == 200
    assert (
        "The review is at the CSPR in progress stage. It must reach Awaiting publication before it can be published"
        in text_of(response.text)
    )
    db.refresh(publication)
    assert publication.published_at is None
    assert stages_of(db, review)[-1] == Stage.CSPR_IN_PROGRESS.value


# The public address ----------------------------------------------------------------------------------


SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def test_the_slug_is_the_anonymised_name_and_reference_in_plain_letters(db, coordinator):
    review = make_review(
        db, coordinator=coordinator, anonymised_name="Chloé\u2019s  family / «Z»", reference="LSCP-2026-901"
    )
    assert publishing.slug_base(review) == "chloes-family-z-lscp-2026-901"
    assert SLUG.fullmatch(publishing.slug_base(review))


def test_two_reviews_never_share_a_slug(db, coordinator):
    first = ready_review(db, coordinator, anonymised_name="Child H", reference="LSCP-2026-911")
    second = ready_review(db, coordinator, anonymised_name="Child H LSCP", reference="2026-911")
    slugs = []
    for review in (first, second):
        publication = decided(db, review, coordinator)
        publishing.publish(
            db,
            review,
            publication,
            acknowledged=False,
            actor=coordinator,
            today=london_today(),
            closures=frozenset(),
            config={},
        )
        slugs.append(publication.public_slug)
    assert slugs == ["child-h-lscp-2026-911", "child-h-lscp-2026-911-2"]


# After publication ----------------------------------------------------------------------------------


def test_the_page_cannot_be_taken_down_before_its_time(as_coordinator, db, coordinator, review):
    publication = decided(db, review, coordinator, published=True)
    page = as_coordinator.get(page_url(review))
    assert "Take the page down" not in page.text
    response = submit(as_coordinator, page_url(review, "/take-down"), {}, page=page_url(review))
    assert response.status_code == 302
    assert "The page must stay online until 1 January 2099" in text_of(as_coordinator.get(page_url(review)).text)
    db.refresh(publication)
    assert publication.published_at is not None


def test_the_page_can_be_taken_down_once_its_time_is_up(as_coordinator, client, db, coordinator, review):
    publication = decided(db, review, coordinator, published=True)
    publication.online_until = london_today() - timedelta(days=1)
    db.commit()
    response = submit(as_coordinator, page_url(review, "/take-down"), {}, page=page_url(review))
    assert response.status_code == 302
    db.refresh(publication)
    assert publication.taken_down_at is not None and publication.taken_down_by_id == coordinator.id
    assert publication.published_at is not None  # the record that it was published stays
    assert len(actions(db, "publication.taken_down")) == 1
    assert "The public learning page was taken down" in text_of(as_coordinator.get(page_url(review)).text)
    assert as_coordinator.get(f"/learning/{publication.public_slug}").status_code == 404


def test_the_date_sent_to_the_nspcc_is_recorded_and_shown(as_coordinator, db, coordinator, review):
    decided(db, review, coordinator, published=True)
    response = submit(as_coordinator, page_url(review, "/nspcc"), date_fields("sent_on", date(2026, 11, 20)))
    assert response.status_code == 302
    assert "Sent to the NSPCC repository 20 November 2026" in text_of(as_coordinator.get(page_url(review)).text)
    assert len(actions(db, "publication.nspcc_sent")) == 1


def test_the_nspcc_date_cannot_be_in_the_future(as_coordinator, db, coordinator, review):
    decided(db, review, coordinator)
    later = london_today() + timedelta(days=3)
    response = submit(as_coordinator, page_url(review, "/nspcc"), date_fields("sent_on", later))
    assert response.status_code == 200
    assert "The date it was sent to the NSPCC must be today or in the past" in text_of(response.text)
