"""The anonymisation gate: protected terms, the check of a version in context, waivers and the final mark."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from portal.authoring.models import Draft, DraftKind, DraftSection, HitWaiver, ProtectedTerm, TermCategory
from portal.reviews.models import MembershipKind, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import make_membership, make_review, make_user

NAME_SENTENCE = "The health visitor saw Ann Smith at home and noted the damp in the kitchen."
PLAIN_SENTENCE = "The health visitor saw the mother at home and noted the damp in the kitchen."


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)


@pytest.fixture
def author(db, review):
    person = make_user(db, role=Role.AUTHOR, name="Robin Author")
    make_membership(db, review, person, MembershipKind.AUTHOR)
    return person


def make_draft(db, review, by, sections, *, version=None, title="Report for the partnership") -> Draft:
    """A version written straight to the tables, as the drafts pages would leave it."""
    number = version or (db.scalar(sa.select(sa.func.count()).where(Draft.review_id == review.id)) or 0) + 1
    draft = Draft(review_id=review.id, version=number, title=title, kind=DraftKind.WRITTEN.value, created_by_id=by.id)
    draft.sections = [
        DraftSection(position=position, heading=heading, body=body)
        for position, (heading, body) in enumerate(sections, start=1)
    ]
    db.add(draft)
    db.commit()
    return draft


def protect(db, review, by, term, category=TermCategory.CHILD_NAME) -> ProtectedTerm:
    protected = ProtectedTerm(review_id=review.id, term=term, category=category.value, added_by_id=by.id)
    db.add(protected)
    db.commit()
    return protected


def check_url(draft: Draft) -> str:
    return f"/reviews/{draft.review_id}/drafts/{draft.id}/anonymisation"


def mark_final(client, draft: Draft):
    return submit(client, f"{check_url(draft)}/final", {}, page=check_url(draft), follow_redirects=True)


def waive_url(draft: Draft, fingerprint: str) -> str:
    return f"{check_url(draft)}/{fingerprint}/waive"


def fingerprints(client, draft: Draft) -> list[str]:
    """The waive links on the check page, as a coordinator sees them."""
    return re.findall(r"/anonymisation/([0-9a-f]{32})/waive", client.get(check_url(draft)).text)


def audit_events(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# The gate --------------------------------------------------------------------------------------------


def test_a_protected_name_blocks_the_final_mark_until_it_is_taken_out(client, db, review, author):
    protect(db, review, author, "Ann Smith")
    draft = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    sign_in(client, author)

    refused = mark_final(client, draft)
    assert "Version 1 cannot be marked final: 1 hit remains" in text_of(refused.text)
    db.refresh(draft)
    assert draft.final_at is None

    section = draft.sections[0]
    section.body = f"<p>{PLAIN_SENTENCE}</p>"
    db.commit()
    marked = mark_final(client, draft)
    assert "Version 1 is now the final version" in text_of(marked.text)
    db.refresh(draft)
    assert draft.final_at is not None and draft.final_by_id == author.id
    assert draft.shared_at is None
    event = audit_events(db, "report_draft.marked_final")[-1]
    assert event.object_id == str(draft.id) and event.actor_id == author.id


def test_a_hit_a_coordinator_waives_no_longer_blocks(client, db, review, author, coordinator, as_coordinator):
    protect(db, review, author, "Ann Smith")
    draft = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, draft)

    response = submit(
        as_coordinator,
        waive_url(draft, fingerprint),
        {"reason": "The family asked for her name to be used"},
        follow_redirects=True,
    )
    page = text_of(response.text)
    assert "has been waived" in page
    assert f"Waived by {coordinator.name}" in page and "The family asked for her name to be used" in page
    waiver = db.scalar(sa.select(HitWaiver))
    assert waiver.kind == "protected_term" and waiver.matched == "Ann Smith" and waiver.waived_by_id == coordinator.id

    event = audit_events(db, "anonymisation_hit.waived")[-1]
    details = json.loads(event.details)
    assert details["kind"] == "protected_term" and details["fingerprint"] == fingerprint
    assert "Ann" not in event.details and "family asked" not in event.details

    assert "Version 1 is now the final version" in text_of(mark_final(as_coordinator, draft).text)


def test_a_waiver_holds_in_a_later_version_while_the_words_around_the_hit_stay_the_same(
    client, db, review, author, as_coordinator
):
    protect(db, review, author, "Ann Smith")
    first = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, first)
    submit(as_coordinator, waive_url(first, fingerprint), {"reason": "Agreed with the family"})

    edited_elsewhere = make_draft(
        db,
        review,
        author,
        [("What happened", f"<p>{NAME_SENTENCE}</p><p>A new paragraph about the school.</p>"), ("Learning", "")],
    )
    later = text_of(as_coordinator.get(check_url(edited_elsewhere)).text)
    assert "Hits to fix or waive 0 Waived 1" in later

    edited_around = make_draft(
        db, review, author, [("What happened", "<p>The social worker visited Ann Smith twice in March.</p>")]
    )
    changed = text_of(as_coordinator.get(check_url(edited_around)).text)
    assert "Hits to fix or waive 1 Waived 0" in changed


def test_only_coordinators_waive(client, db, review, author, as_coordinator):
    protect(db, review, author, "Ann Smith")
    draft = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, draft)
    author_client = client.application.test_client()
    sign_in(author_client, author)

    assert "/waive" not in author_client.get(check_url(draft)).text
    assert author_client.get(waive_url(draft, fingerprint)).status_code == 403
    response = submit(
        author_client, waive_url(draft, fingerprint), {"reason": "I think it is fine"}, page="/account/password"
    )
    assert response.status_code == 403
    assert db.scalar(sa.select(sa.func.count()).select_from(HitWaiver)) == 0


def test_a_waiver_needs_a_reason_and_keeps_what_was_typed(db, review, author, as_coordinator):
    protect(db, review, author, "Ann Smith")
    draft = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, draft)

    empty = submit(as_coordinator, waive_url(draft, fingerprint), {"reason": "   "})
    assert empty.status_code == 200
    assert "There is a problem" in empty.text and "Enter why this can stay in the report" in empty.text

    too_long = "Agreed with the family. " * 100
    long = submit(as_coordinator, waive_url(draft, fingerprint), {"reason": too_long})
    assert "The reason must be 2,000 characters or fewer" in long.text
    assert too_long.strip() in text_of(long.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(HitWaiver)) == 0


def test_a_fingerprint_that_is_not_a_hit_of_this_version_is_refused(db, review, author, as_coordinator):
    protect(db, review, author, "Ann Smith")
    named = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    clean = make_draft(db, review, author, [("What happened", f"<p>{PLAIN_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, named)

    assert as_coordinator.get(waive_url(clean, fingerprint)).status_code == 404
    assert as_coordinator.get(waive_url(named, "0" * 32)).status_code == 404
    assert as_coordinator.get(waive_url(named, "not-a-fingerprint")).status_code == 404
    response = submit(as_coordinator, waive_url(clean, fingerprint), {"reason": "Fine"}, page=check_url(clean))
    assert response.status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(HitWaiver)) == 0


# The check page --------------------------------------------------------------------------------------


def test_the_check_shows_each_hit_in_context_by_section_and_escapes_the_text(db, review, author, client):
    protect(db, review, author, "Ann Smith", TermCategory.FAMILY_NAME)
    draft = make_draft(
        db,
        review,
        author,
        [
            ("Background", "<p>Nothing identifying here.</p>"),
            ("What happened", "<p>Ann Smith wrote &lt;script&gt;alert(1)&lt;/script&gt; on 12 March 2019.</p>"),
        ],
    )
    sign_in(client, author)
    response = client.get(check_url(draft))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<mark>Ann Smith</mark>" in response.text
    assert "<mark>12 March 2019</mark>" in response.text
    page = text_of(response.text)
    assert "Section 2: What happened" in page and "Section 1: Background" not in page
    assert "Protected term: family member's name" in page
    assert "Date" in page
    assert "Hits to fix or waive 2 Waived 0" in page
    assert "cannot be marked final while 2 hits remain" in page
    event = audit_events(db, "anonymisation_check.viewed")[-1]
    assert json.loads(event.details) == {"remaining": 2, "waived": 0}


def test_a_name_in_a_heading_is_found_and_renaming_a_section_keeps_the_waivers_of_its_words(
    db, review, author, as_coordinator
):
    protect(db, review, author, "Ann Smith")
    first = make_draft(db, review, author, [("What happened", f"<p>{NAME_SENTENCE}</p>")])
    (fingerprint,) = fingerprints(as_coordinator, first)
    submit(as_coordinator, waive_url(first, fingerprint), {"reason": "Agreed with the family"})

    renamed = make_draft(db, review, author, [("Ann Smith's visits", f"<p>{NAME_SENTENCE}</p>")])
    response = as_coordinator.get(check_url(renamed))
    assert "<mark>Ann Smith&#39;s</mark> visits" in response.text
    page = text_of(response.text)
    assert "Section 1: Ann Smith's visits" in page
    assert "Hits to fix or waive 1 Waived 1" in page


def test_a_version_with_nothing_found_says_so(db, review, author, client):
    draft = make_draft(db, review, author, [("Background", f"<p>{PLAIN_SENTENCE}</p>")])
    sign_in(client, author)
    page = text_of(client.get(check_url(draft)).text)
    assert "The check found no protected terms and no personal data in this version." in page
    assert "Mark version 1 as final" in page


def test_the_check_page_asks_the_same_number_of_queries_however_many_sections_and_terms(
    db, review, author, as_coordinator
):
    def queries(draft) -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(check_url(draft)).status_code == 200
        return len(statements)

    protect(db, review, author, "Ann Smith")
    small = make_draft(db, review, author, [("One", f"<p>{NAME_SENTENCE}</p>")])
    queries(small)  # the first request of a session also records when it was last seen
    few = queries(small)
    for number in range(30):
        protect(db, review, author, f"Person{number}")
    sections = [(f"Part {number}", f"<p>Person{number} said: {NAME_SENTENCE}</p>") for number in range(30)]
    large = make_draft(db, review, author, sections)
    (fingerprint, *_rest) = fingerprints(as_coordinator, large)
    submit(as_coordinator, waive_url(large, fingerprint), {"reason": "Agreed"})
    queries(large)  # shows, and so clears from the session, the message about the waiver
    assert queries(large) == few


def test_another_reviews_version_is_not_found_through_this_review(db, review, author, coordinator, as_coordinator):
    other = make_review(db, coordinator=coordinator)
    draft = make_draft(db, other, author, [("One", f"<p>{PLAIN_SENTENCE}</p>")])
    assert as_coordinator.get(f"/reviews/{review.id}/drafts/{draft.id}/anonymisation").status_code == 404


# Protected terms -------------------------------------------------------------------------------------


def terms_url(review) -> str:
    return f"/reviews/{review.id}/protected-terms"


def test_the_author_adds_terms_and_each_view_of_the_list_is_audited(db, review, author, client):
    sign_in(client, author)
    response = submit(
        client, terms_url(review), {"category": "child_name", "term": "  Ann   Smith "}, follow_redirects=True
    )
    page = text_of(response.text)
    assert "“Ann Smith” is now protected." in page
    assert "Child's name Ann Smith" in page
    added = db.scalar(sa.select(ProtectedTerm))
    assert added.term == "Ann Smith" and added.added_by_id == author.id

    adding = audit_events(db, "protected_term.added")
    assert len(adding) == 1 and json.loads(adding[0].details) == {"category": "child_name"}
    viewed = audit_events(db, "protected_terms.viewed")
    assert len(viewed) == 2  # the page the form was on, and the page after adding
    assert all(event.actor_id == author.id and event.review_id == review.id for event in viewed)
    assert all("Ann" not in event.details for event in [*viewed, *adding])


def test_the_same_term_in_another_case_is_refused_kindly(db, review, author, client):
    protect(db, review, author, "Ann Smith")
    sign_in(client, author)
    response = submit(client, terms_url(review), {"category": "family_name", "term": "ann  SMITH"})
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "“Ann Smith” is already protected, as child's name" in text_of(response.text)
    assert 'value="ann  SMITH"' in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(ProtectedTerm)) == 1


def test_a_term_needs_words_and_a_category(db, review, author, client):
    sign_in(client, author)
    response = submit(client, terms_url(review), {"term": "  "})
    page = text_of(response.text)
    assert "Select what the term is" in page and "Enter the name, address or other detail to protect" in page
    assert db.scalar(sa.select(sa.func.count()).select_from(ProtectedTerm)) == 0


def test_removing_a_term_is_audited_without_its_words(db, review, author, client):
    term = protect(db, review, author, "Ann Smith")
    sign_in(client, author)
    response = submit(
        client, f"{terms_url(review)}/{term.id}/remove", {}, page=terms_url(review), follow_redirects=True
    )
    assert "“Ann Smith” is no longer protected." in text_of(response.text)
    assert db.scalar(sa.select(sa.func.count()).select_from(ProtectedTerm)) == 0
    (event,) = audit_events(db, "protected_term.removed")
    assert event.object_id == str(term.id) and "Ann" not in event.details


def test_family_members_names_are_offered_with_one_button(db, review, author, client):
    make_membership(db, review, make_user(db, role=Role.FAMILY, name="Alex Doe"), MembershipKind.FAMILY)
    protect(db, review, author, "Doe", TermCategory.FAMILY_NAME)
    sign_in(client, author)
    page = text_of(client.get(terms_url(review)).text)
    assert "Protect “Alex Doe”" in page and "Protect “Alex”" in page
    assert "Protect “Doe”" not in page

    response = submit(client, terms_url(review), {"category": "family_name", "term": "Alex Doe"}, follow_redirects=True)
    assert "Protect “Alex Doe”" not in text_of(response.text)
    added = db.scalar(sa.select(ProtectedTerm).where(ProtectedTerm.term == "Alex Doe"))
    assert added.category == TermCategory.FAMILY_NAME.value


def test_the_terms_list_asks_the_same_number_of_queries_however_many_terms(db, review, author, as_coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(terms_url(review)).status_code == 200
        return len(statements)

    protect(db, review, author, "Ann Smith")
    queries()
    few = queries()
    for number in range(60):
        protect(db, review, author, f"Term {number}", TermCategory.OTHER)
    assert queries() == few
    assert "Page 1 of 2" in text_of(as_coordinator.get(terms_url(review)).text)


# One final version -----------------------------------------------------------------------------------


def test_only_one_version_is_final_until_a_coordinator_undoes_it(db, review, author, coordinator, as_coordinator):
    first = make_draft(db, review, author, [("One", f"<p>{PLAIN_SENTENCE}</p>")])
    second = make_draft(db, review, author, [("One", f"<p>{PLAIN_SENTENCE} More.</p>")])
    mark_final(as_coordinator, first)

    refused = text_of(mark_final(as_coordinator, second).text)
    assert "Version 1 is already the final version" in refused
    db.refresh(second)
    assert second.final_at is None

    undo_url = f"{check_url(first)}/undo-final"
    missing = submit(as_coordinator, undo_url, {"reason": ""})
    assert "Enter why this version is no longer final" in missing.text
    undone = submit(as_coordinator, undo_url, {"reason": "The panel asked for a change"}, follow_redirects=True)
    assert "Version 1 is no longer final." in text_of(undone.text)
    db.refresh(first)
    assert first.final_at is None and first.final_by_id is None
    (event,) = audit_events(db, "report_draft.final_undone")
    assert json.loads(event.details)["reason"] == "The panel asked for a change"

    assert "Version 2 is now the final version" in text_of(mark_final(as_coordinator, second).text)


def test_the_author_cannot_undo_final(db, review, author, client):
    draft = make_draft(db, review, author, [("One", f"<p>{PLAIN_SENTENCE}</p>")])
    sign_in(client, author)
    mark_final(client, draft)
    assert client.get(f"{check_url(draft)}/undo-final").status_code == 403
    assert "Undo final" not in text_of(client.get(check_url(draft)).text)
