"""Every page of the author's work, the action plan, the public learning pages and the family letters, checked.

The journeys follow people through the portal; this test makes sure no page is left out of the checks
they run. It lists every GET address of those parts of the portal from the application itself, opens
each one as the person it is for, with real content on it, and fails if any address was not opened,
so a page added later without a visit here fails too. Each page goes through the ``Journey`` checks:
axe, reflow at 320 pixels and the Content-Security-Policy. Files offered for download are fetched
with the same person's cookies, since the browser does not show them as pages.

The demo review holds the author's work gathered so far; the journeys before this test may have
moved it on as far as publication, or not at all. What a page needs is found by its text and made
only when it is missing. The pages that exist only before a decision to publish (the decision, the
dates, undoing a final mark) are opened on a second review of this test's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app
from playwright.sync_api import expect

from portal.authoring import anonymisation, drafts, inbox
from portal.authoring import prepublication as sharing
from portal.authoring import publication as publishing
from portal.authoring import requests as contribution_requests
from portal.authoring.models import (
    ContributionRequest,
    Draft,
    DraftComment,
    InboxItem,
    PanelNote,
    PublicationDecision,
    RequestAnswer,
    TermCategory,
)
from portal.families import contributions as family_contributions
from portal.families import letters
from portal.families import services as family_services
from portal.families.models import FamilyContribution, FamilyMember, FamilyUpdate
from portal.learning import services as learning
from portal.learning.models import ActionStatus, ActionUpdate, LearningAction, LearningPoint
from portal.reviews import clocks
from portal.reviews import memberships as membership_services
from portal.reviews import services as review_services
from portal.reviews.models import Membership, MembershipKind, Review, Stage
from portal.security.models import User
from tests.e2e.conftest import LivePortal
from tests.e2e.journey import Journey
from tests.e2e.test_family_journey import ONE_PAGE_PDF
from tests.e2e.test_review_journey import expect_heading

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@demo.example.org"
AUTHOR = "author@demo.example.org"
HEALTH_VISITOR = "health.visitor@demo.example.org"
SOCIAL_WORKER = "social.worker@demo.example.org"
GRANDPARENT = "grandparent@demo.example.org"
REFERENCE = "LSCP-2026-004"
# A second review, only for the pages that exist before a publication decision.
UNDECIDED_REFERENCE = "LSCP-2026-090"
CHILD_NAME = "Harry"

# The parts of the portal this test answers for, and the family staff pages among its blueprint's.
BLUEPRINTS = (
    "requests",
    "inbox",
    "drafts",
    "anonymisation",
    "prepublication",
    "publication",
    "learning",
    "learning_public",
    "family_admin",
)

QUESTION = "Which visits did the social worker make in the month before the admission?"
ANSWER = "Two visits, both announced. The notes are attached."
PANEL_NOTE = "The chronology should show the weekend stays with the grandmother."
COMMENT = "The report should say the weekend stays were every week, not most weeks."
UPDATE_SUBJECT = "The report is nearly ready"
UPDATE_TEXT = "The author has written a version of the report. We will write again when it is shared."
FAMILY_TITLE = "Saturdays with Child H"
FAMILY_WORDS = "Child H stayed with me on Saturdays and was always hungry when he arrived."
PROGRESS = "Training delivered to the health visiting team; the audit starts next month."
NAMED_SECTION = "At the last home visit Harry had a small bruise on his ear."
BRIEFING_TITLE = "Share what you see"
BRIEFING = "A small bruise on a baby who is not yet mobile is a reason to tell the other agencies the same day."


@dataclass
class Pages:
    """The ids the addresses need, found or made before the browser opens anything."""

    review: int = 0
    undecided: int = 0
    request: int = 0
    inbox_item: int = 0
    answer_file: int = 0
    shared_draft: int = 0
    comment: int = 0
    changeable_draft: int = 0
    section: int = 0
    uploaded_draft: int = 0
    undecided_final: int = 0
    fingerprint: str = ""
    point: int = 0
    action: int = 0
    action_update: int = 0
    briefing: int = 0
    slug: str = ""
    member: int = 0
    update: int = 0
    letter: int = 0
    contribution: int = 0
    contribution_file: int = 0


@pytest.fixture
def uploads_kept_apart(live_portal: LivePortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files made here go to this test's own folder, never the instance folder."""
    monkeypatch.setitem(live_portal.app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


# Preparing the content -----------------------------------------------------------------------------------


def person(db, email: str) -> User:
    return db.scalar(sa.select(User).where(User.email == email))


def member_of(db, review: Review, user: User, kind: MembershipKind) -> Membership | None:
    return db.scalar(
        sa.select(Membership).where(
            Membership.review_id == review.id,
            Membership.user_id == user.id,
            Membership.kind == kind.value,
            Membership.ended_at.is_(None),
        )
    )


def prepare_requests(db, review: Review, pages: Pages) -> None:
    """The social worker was asked and answered with a file: both download addresses have a file to give."""
    author, social_worker = person(db, AUTHOR), person(db, SOCIAL_WORKER)
    request = db.scalar(
        sa.select(ContributionRequest).where(
            ContributionRequest.review_id == review.id, ContributionRequest.prompt == QUESTION
        )
    )
    if request is None:
        practitioner = member_of(db, review, social_worker, MembershipKind.PRACTITIONER)
        (request,) = contribution_requests.ask(
            db, review, [practitioner.id], prompt=QUESTION, guidance=None, working_days=10, actor=author
        )
        contribution_requests.save_answer(db, request, text=ANSWER, by=social_worker)
        contribution_requests.add_answer_file(
            db, request, original_name="visit-notes.pdf", data=ONE_PAGE_PDF, by=social_worker
        )
        contribution_requests.send_answer(db, request, by=social_worker)
    inbox.sync(db, review)
    answer = db.scalar(sa.select(RequestAnswer).where(RequestAnswer.request_id == request.id))
    pages.request = request.id
    pages.answer_file = answer.files[0].id
    pages.inbox_item = db.scalar(sa.select(InboxItem.id).where(InboxItem.request_answer_id == answer.id))


def prepare_panel_note(db, review: Review) -> None:
    """The health visitor sits on the panel too, and has written the author a note."""
    health_visitor, coordinator = person(db, HEALTH_VISITOR), person(db, COORDINATOR)
    panel = member_of(db, review, health_visitor, MembershipKind.PANEL_MEMBER)
    if panel is None:
        panel = membership_services.appoint(db, review, health_visitor, MembershipKind.PANEL_MEMBER, coordinator)
    if db.scalar(sa.select(PanelNote.id).where(PanelNote.membership_id == panel.id)) is None:
        inbox.write_panel_note(db, panel, PANEL_NOTE)


def prepare_sharing(db, review: Review, pages: Pages) -> None:
    """A version is open to the grandmother now, and she has left a comment that is not resolved yet."""
    grandmother, author = person(db, GRANDPARENT), person(db, AUTHOR)
    reading = next(iter(sharing.drafts_to_read(db, grandmother)[0]), None)
    if reading is None:
        draft = publishing.final_version(db, review) or db.scalar(
            sa.select(Draft).where(Draft.review_id == review.id).order_by(Draft.version.desc())
        )
        family = member_of(db, review, grandmother, MembershipKind.FAMILY)
        now = datetime.now(UTC)
        sharing.share_version(
            db, draft, [family.id], opens_at=now, closes_at=now + timedelta(days=14), message=None, actor=author
        )
        reading = sharing.drafts_to_read(db, grandmother)[0][0]
    pages.shared_draft = reading.draft.id
    comment = db.scalar(
        sa.select(DraftComment).where(
            DraftComment.draft_id == pages.shared_draft,
            DraftComment.text == COMMENT,
            DraftComment.resolved_at.is_(None),
        )
    )
    if comment is None:
        opened = sharing.reading_for(db, grandmother, pages.shared_draft)
        comment = sharing.add_comment(db, opened, section=None, text=COMMENT, by=grandmother)
    pages.comment = comment.id


def prepare_publication(db, review: Review, pages: Pages) -> None:
    """The demo review is published, as the author's journey leaves it; published here when run alone."""
    coordinator = person(db, COORDINATOR)
    publication = publishing.publication_of(db, review)
    if not publishing.is_settled(publication):
        final = publishing.final_version(db, review)
        if final is None:
            final = db.get(Draft, pages.shared_draft)
            anonymisation.mark_final(db, review, anonymisation.check_version(db, review, final), coordinator)
        if review.stage_enum == Stage.CSPR_IN_PROGRESS:
            review_services.move_review(db, review, Stage.PRE_PUBLICATION, "The final version is shared", coordinator)
        publication = publishing.record_decision(
            db,
            review,
            PublicationDecision.PUBLISH,
            reason=None,
            improvements=None,
            learning_summary=None,
            actor=coordinator,
        )
        sent_on = clocks.london_today() - timedelta(days=28)
        publishing.record_dates(
            db,
            publication,
            sent_to_panel_on=sent_on,
            sent_to_secretary_of_state_on=sent_on,
            publication_date=clocks.london_today(),
            actor=coordinator,
        )
        publishing.publish(
            db,
            review,
            publication,
            acknowledged=True,
            actor=coordinator,
            today=clocks.london_today(),
            closures=clocks.closure_days(db),
            config=current_app.config,
        )
    pages.slug = publication.public_slug


def prepare_learning(db, review: Review, pages: Pages) -> None:
    """An action with an update and evidence, an overdue action, and a published briefing."""
    author, health_visitor = person(db, AUTHOR), person(db, HEALTH_VISITOR)
    action = db.scalar(
        sa.select(LearningAction)
        .join(LearningPoint)
        .where(LearningPoint.review_id == review.id)
        .order_by(LearningAction.id)
    )
    pages.point, pages.action = action.learning_point_id, action.id
    update = db.scalar(
        sa.select(ActionUpdate).where(ActionUpdate.action_id == action.id, ActionUpdate.text == PROGRESS)
    )
    if update is None:
        update = learning.report_progress(
            db,
            action,
            text=PROGRESS,
            status=ActionStatus.IN_PROGRESS,
            by=health_visitor,
            evidence=("training-register.pdf", ONE_PAGE_PDF),
        )
    pages.action_update = update.id
    if not db.scalar(
        sa.select(sa.func.count())
        .select_from(LearningAction)
        .where(LearningAction.due_on < learning.today(), LearningAction.completed_on.is_(None))
    ):
        learning.add_action(
            db,
            action.learning_point,
            learning.ActionDetails(
                description="Audit the referrals made after the training.",
                agency_id=health_visitor.agency_id,
                lead_name="Named nurse for safeguarding children",
                due_on=learning.today() - timedelta(days=7),
            ),
            by=author,
        )
    briefing = learning.briefing_of(db, review)
    if briefing is None:
        briefing = learning.save_briefing(db, review, title=BRIEFING_TITLE, body=BRIEFING, by=author)
    if briefing.published_at is None:
        learning.publish_briefing(db, briefing, by=author)
    pages.briefing = briefing.id


def prepare_family(db, review: Review, pages: Pages) -> None:
    """An update that waits as a letter for the grandmother, and words she sent with a file."""
    grandmother, coordinator = person(db, GRANDPARENT), person(db, COORDINATOR)
    family = member_of(db, review, grandmother, MembershipKind.FAMILY)
    pages.member = db.scalar(sa.select(FamilyMember.id).where(FamilyMember.membership_id == family.id))
    update = db.scalar(
        sa.select(FamilyUpdate).where(FamilyUpdate.review_id == review.id, FamilyUpdate.subject == UPDATE_SUBJECT)
    )
    if update is None:
        update = family_services.send_update(db, review, UPDATE_SUBJECT, UPDATE_TEXT, coordinator).update
    pages.update = update.id
    waiting, _total = letters.waiting_letters(db, review)
    pages.letter = waiting[0].message.id
    contribution = db.scalar(
        sa.select(FamilyContribution).where(
            FamilyContribution.review_id == review.id, FamilyContribution.title == FAMILY_TITLE
        )
    )
    if contribution is None:
        contribution = family_contributions.save_contribution(db, family, None, title=FAMILY_TITLE, text=FAMILY_WORDS)
        family_contributions.add_file(
            db, contribution, original_name="saturdays.pdf", data=ONE_PAGE_PDF, by=grandmother
        )
        family_contributions.submit_contribution(db, family, contribution)
    pages.contribution = contribution.id
    pages.contribution_file = contribution.files[0].id


def prepare_undecided_review(db, pages: Pages) -> None:
    """A second review with three versions, one final, one naming the child, one uploaded; no publication yet."""
    coordinator = person(db, COORDINATOR)
    review = db.scalar(sa.select(Review).where(Review.reference == UNDECIDED_REFERENCE))
    if review is None:
        review = review_services.record_incident(
            db,
            coordinator,
            UNDECIDED_REFERENCE,
            "Child P",
            clocks.london_today() - timedelta(days=30),
            "Infant seen in hospital with a fracture (test data)",
        )
        anonymisation.add_term(db, review, CHILD_NAME, TermCategory.CHILD_NAME, coordinator)
        final = drafts.create_written_draft(db, review.id, by=coordinator)
        anonymisation.mark_final(db, review, anonymisation.check_version(db, review, final), coordinator)
        changing = drafts.create_written_draft(db, review.id, by=coordinator)
        drafts.add_section(db, changing, heading="What the health visitor saw", body=NAMED_SECTION, by=coordinator)
        drafts.create_uploaded_draft(
            db, review.id, title="The report as a PDF", original_name="report.pdf", data=ONE_PAGE_PDF, by=coordinator
        )
        publishing.record_decision(
            db,
            review,
            PublicationDecision.DO_NOT_PUBLISH,
            reason="The family would be identified.",
            improvements="The partnership has changed how agencies share a bruise on a baby.",
            learning_summary=None,
            actor=coordinator,
        )
    versions = {draft.version: draft for draft in db.scalars(sa.select(Draft).where(Draft.review_id == review.id))}
    pages.undecided = review.id
    pages.undecided_final, pages.changeable_draft, pages.uploaded_draft = (versions[n].id for n in (1, 2, 3))
    pages.section = versions[2].sections[-1].id
    check = anonymisation.check_version(db, review, versions[2])
    pages.fingerprint = next(found.fingerprint for found in check.hits if found.matched == CHILD_NAME)


def prepare(live_portal: LivePortal) -> Pages:
    pages = Pages()
    with live_portal.app.app_context():
        db = live_portal.app.extensions["portal.db"]()
        try:
            review = db.scalar(sa.select(Review).where(Review.reference == REFERENCE))
            pages.review = review.id
            prepare_requests(db, review, pages)
            prepare_panel_note(db, review)
            prepare_sharing(db, review, pages)
            prepare_publication(db, review, pages)
            prepare_learning(db, review, pages)
            prepare_family(db, review, pages)
            prepare_undecided_review(db, pages)
            db.commit()
        finally:
            db.close()
    return pages


# Visiting ------------------------------------------------------------------------------------------------


@dataclass
class Visits:
    """Which endpoints were opened, checked as pages or fetched as files."""

    live_portal: LivePortal
    opened: set[str] = field(default_factory=set)

    def page(self, journey: Journey, path: str, heading: str | None = None) -> None:
        journey.visit(path)
        self.opened.add(self.endpoint(path))
        if heading is not None:
            expect_heading(journey, heading)

    def file(self, journey: Journey, path: str) -> None:
        """A download: the person's own cookies fetch it, and the portal hands it over as an attachment."""
        response = journey.page.request.get(journey.base_url + path)
        assert response.status == 200, f"{path} answered {response.status}"
        assert response.headers["content-disposition"].startswith("attachment"), path
        assert response.body() == ONE_PAGE_PDF, path
        self.opened.add(self.endpoint(path))

    def endpoint(self, path: str) -> str:
        adapter = self.live_portal.app.url_map.bind("127.0.0.1")
        return adapter.match(path.split("?")[0], method="GET")[0]


def get_endpoints(live_portal: LivePortal) -> set[str]:
    return {
        rule.endpoint
        for rule in live_portal.app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in BLUEPRINTS and "GET" in rule.methods
    }


def signed_in(open_journey: Callable[..., Journey], live_portal: LivePortal, email: str, **kw) -> Journey:
    journey = open_journey(**kw)
    journey.sign_in(live_portal.accounts[email])
    return journey


def test_every_page_of_the_authors_work_learning_and_family_letters_is_checked(
    open_journey: Callable[..., Journey], live_portal: LivePortal, uploads_kept_apart: None
):
    pages = prepare(live_portal)
    p = pages
    visits = Visits(live_portal)
    r, u = f"/reviews/{p.review}", f"/reviews/{p.undecided}"

    coordinator = signed_in(open_journey, live_portal, COORDINATOR)
    for path, heading in (
        (f"{r}/requests", "Contribution requests"),
        (f"{r}/requests/new", "Ask for a contribution"),
        ("/requests/overdue", None),
        (f"{r}/inbox", "Inbox"),
        (f"{r}/inbox/{p.inbox_item}", f"Answer to: {QUESTION}"),
        (f"{r}/pre-publication", "Pre-publication review"),
        (f"{r}/drafts/{p.shared_draft}/readers", None),
        (f"{r}/drafts/{p.shared_draft}/comments", None),
        (f"{r}/drafts/{p.shared_draft}/comments/{p.comment}/reply", None),
        (f"{r}/drafts/{p.shared_draft}/comments/{p.comment}/resolve", None),
        (f"{r}/drafts/{p.shared_draft}/share", None),
        (f"{r}/publication", "Publication"),
        (f"{r}/publication/nspcc", None),
        (f"{u}/drafts", "Drafts of the report"),
        (f"{u}/drafts/upload", None),
        (f"{u}/drafts/compare?older={p.undecided_final}&newer={p.changeable_draft}", None),
        (f"{u}/drafts/{p.changeable_draft}", None),
        (f"{u}/drafts/{p.changeable_draft}/edit", None),
        (f"{u}/drafts/{p.changeable_draft}/sections/new", "Add a section"),
        (f"{u}/drafts/{p.changeable_draft}/sections/{p.section}", None),
        (f"{u}/drafts/{p.uploaded_draft}/delete", None),
        (f"{u}/protected-terms", "Protected terms"),
        (f"{u}/drafts/{p.changeable_draft}/anonymisation", None),
        (f"{u}/drafts/{p.changeable_draft}/anonymisation/{p.fingerprint}/waive", None),
        (f"{u}/drafts/{p.undecided_final}/anonymisation/undo-final", None),
        (f"{u}/publication/decision", "The publication decision"),
        (f"{u}/publication/dates", "Publication dates"),
        (f"{u}/publication/publish", "Publish"),
        (f"{r}/action-plan", "Action plan"),
        (f"{r}/action-plan/learning-points/new", None),
        (f"{r}/action-plan/learning-points/{p.point}/edit", None),
        (f"{r}/action-plan/learning-points/{p.point}/actions/new", None),
        (f"{r}/action-plan/learning-points/{p.point}/events", None),
        (f"{r}/action-plan/actions/{p.action}", None),
        (f"{r}/action-plan/actions/{p.action}/edit", None),
        (f"{r}/briefing", None),
        (f"{r}/briefing/read-rates", "Who has read the briefing"),
        ("/action-plans/overdue", None),
        (f"{r}/family", "Family members"),
        (f"{r}/family/new", "Add a family member"),
        (f"{r}/family/{p.member}", "Pat Bennett"),
        (f"{r}/family/{p.member}/edit", None),
        (f"{r}/family/{p.member}/consent", None),
        (f"{r}/family/updates", None),
        (f"{r}/family/updates/new", "Write an update for the family"),
        (f"{r}/family/updates/{p.update}", UPDATE_SUBJECT),
        (f"{r}/family/letters", "Letters to give"),
        (f"{r}/family/letters/{p.letter}", "Letter to Pat Bennett"),
        (f"{r}/family/contributions", "What the family has sent"),
        (f"{r}/family/contributions/{p.contribution}", FAMILY_TITLE),
    ):
        visits.page(coordinator, path, heading)
    visits.file(coordinator, f"{u}/drafts/{p.uploaded_draft}/file")
    visits.file(coordinator, f"{r}/inbox/{p.inbox_item}/files/{p.answer_file}")
    visits.file(coordinator, f"{r}/action-plan/actions/{p.action}/updates/{p.action_update}/evidence")
    visits.file(coordinator, f"{r}/family/contributions/{p.contribution}/files/{p.contribution_file}")

    social_worker = signed_in(open_journey, live_portal, SOCIAL_WORKER)
    visits.page(social_worker, "/requests", "Requests for you")
    visits.page(social_worker, f"/requests/{p.request}")
    visits.file(social_worker, f"/requests/{p.request}/files/{p.answer_file}")
    visits.page(social_worker, "/briefings")
    visits.page(social_worker, f"/briefings/{p.briefing}", BRIEFING_TITLE)

    health_visitor = signed_in(open_journey, live_portal, HEALTH_VISITOR)
    visits.page(health_visitor, f"{r}/panel-notes")
    expect(health_visitor.page.get_by_text(PANEL_NOTE)).to_be_visible()
    visits.page(health_visitor, f"{r}/panel-notes/new")

    grandmother = signed_in(open_journey, live_portal, GRANDPARENT, java_script_enabled=False)
    visits.page(grandmother, "/drafts-to-read")
    for part in ("", "/comment", "/your-comments", "/response"):
        visits.page(grandmother, f"/drafts-to-read/{p.shared_draft}{part}")

    public = open_journey()
    visits.page(public, "/learning")
    visits.page(public, f"/learning/{p.slug}", "Learning from the review about Child H")

    assert get_endpoints(live_portal) - visits.opened == set()
