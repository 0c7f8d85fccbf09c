"""Versions of the report: numbering, sections, uploads, freezing, reading and comparing, as the author sees them."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.authoring import drafts
from portal.authoring.models import Draft, DraftSection
from portal.db import utcnow
from portal.reviews.models import MembershipKind, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests import databases
from tests.conftest import counting_queries, csrf_token, make_test_app, sign_in, submit, text_of
from tests.factories import make_membership, make_review, make_user
from tests.families.test_uploads import SAMPLES

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(*paragraphs: tuple[str | None, str], prologue: str = "") -> bytes:
    """A tiny Word document: (style, text) paragraphs, style None for body text."""
    body = "".join(_word_paragraph(style, text) for style, text in paragraphs)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}'
        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return buffer.getvalue()


def _word_paragraph(style: str | None, text: str) -> str:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}<w:r><w:t>{text}</w:t></w:r></w:p>"


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS)


@pytest.fixture
def author(db, review):
    person = make_user(db, role=Role.AUTHOR, name="Robin Author")
    make_membership(db, review, person, MembershipKind.AUTHOR)
    return person


@pytest.fixture
def as_author(client, author):
    sign_in(client, author)
    return client


def audit_actions(db, review) -> list[str]:
    return list(
        db.scalars(sa.select(AuditEvent.action).where(AuditEvent.review_id == review.id).order_by(AuditEvent.id))
    )


def written(db, review, author, sections: list[tuple[str, str]] | None = None) -> Draft:
    draft = drafts.create_written_draft(db, review.id, by=author)
    if sections is not None:
        draft.sections.clear()
        db.flush()  # the suggested sections' places are free before the new ones take them
        draft.sections = [
            DraftSection(position=number, heading=heading, body=f"<p>{body}</p>")
            for number, (heading, body) in enumerate(sections, start=1)
        ]
    db.commit()
    return draft


# Numbering and copying -------------------------------------------------------------------------------


def test_the_first_version_starts_with_suggested_headings_and_the_next_copies_it(db, review, author):
    first = written(db, review, author)
    assert first.version == 1
    assert [section.heading for section in first.sections] == list(drafts.SUGGESTED_HEADINGS)
    drafts.change_section(db, first, first.sections[0], heading="Introduction", body="Why we reviewed.", by=author)
    db.commit()
    second = written(db, review, author)
    assert second.version == 2
    assert second.title == "Version 2"
    assert [section.heading for section in second.sections] == list(drafts.SUGGESTED_HEADINGS)
    assert second.sections[0].body == "<p>Why we reviewed.</p>"
    assert second.sections[0].id != first.sections[0].id


def test_versions_are_numbered_per_review(db, review, author, coordinator):
    other = make_review(db, coordinator=coordinator)
    written(db, review, author)
    assert drafts.create_written_draft(db, other.id, by=coordinator).version == 1


def test_two_authors_starting_a_version_at_once_get_the_next_two_numbers(tmp_path):
    # A database of its own: both requests commit for real, each on its own connection.
    url, drop = databases.create_database(tmp_path)
    live = make_test_app(url, UPLOAD_DIR=str(tmp_path / "uploads"))
    sessions = live.extensions["portal.db"]
    try:
        assert live.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        with live.app_context(), sessions() as db:
            person = make_user(db, role=Role.COORDINATOR)
            review = make_review(db, coordinator=person)
            drafts.create_written_draft(db, review.id, by=person)
            db.commit()
            review_id = review.id
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def start_a_version() -> None:
            try:
                with live.app_context(), sessions() as db:
                    start.wait(timeout=30)
                    # The lock is the transaction's first statement, as it is in a request's service call.
                    drafts.create_written_draft(db, review_id, by=person)
                    db.commit()
            except BaseException as failure:  # reported by the assertion below
                failures.append(failure)

        threads = [threading.Thread(target=start_a_version) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        with live.app_context(), sessions() as db:
            versions = db.scalars(sa.select(Draft.version).where(Draft.review_id == review_id).order_by(Draft.version))
            assert list(versions) == [1, 2, 3]
    finally:
        sessions.kw["bind"].dispose()
        drop()


# Frozen versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("frozen_by", ["shared_at", "final_at"])
def test_a_shared_or_final_version_refuses_every_change(db, review, author, frozen_by):
    draft = written(db, review, author)
    section = draft.sections[0]
    setattr(draft, frozen_by, utcnow())
    if frozen_by == "final_at":
        draft.final_by_id = author.id
    db.commit()
    changes = [
        lambda: drafts.change_title(db, draft, "Changed", by=author),
        lambda: drafts.add_section(db, draft, heading="New", body="x", by=author),
        lambda: drafts.change_section(db, draft, section, heading="New", body="x", by=author),
        lambda: drafts.remove_section(db, draft, section, by=author),
        lambda: drafts.move_section(db, draft, draft.sections[1], up=True, by=author),
        lambda: drafts.delete_draft(db, draft, by=author),
    ]
    for change in changes:
        with pytest.raises(drafts.DraftFrozen):
            change()
        db.rollback()
    db.expire_all()
    kept = db.get(Draft, draft.id)
    assert kept.title == "Version 1"
    assert [item.heading for item in kept.sections] == list(drafts.SUGGESTED_HEADINGS)


def test_a_version_shared_after_its_page_was_opened_is_still_refused(db, review, author):
    draft = written(db, review, author)
    # Another request shares it between this one loading it and changing it.
    db.execute(sa.update(Draft).where(Draft.id == draft.id).values(shared_at=utcnow()))
    with pytest.raises(drafts.DraftFrozen):
        drafts.change_title(db, draft, "Too late", by=author)


def test_the_pages_of_a_frozen_version_offer_no_changes_and_refuse_them(as_author, db, review, author):
    draft = written(db, review, author)
    draft.shared_at = utcnow()
    db.commit()
    page = as_author.get(f"/reviews/{review.id}/drafts/{draft.id}")
    assert "Change this version" not in page.text
    assert "This version can no longer be changed" in text_of(page.text)
    edit = as_author.get(f"/reviews/{review.id}/drafts/{draft.id}/edit", follow_redirects=True)
    assert "has been shared or marked final, so it can no longer be changed" in text_of(edit.text)
    token = csrf_token(page.text)
    section = draft.sections[0]
    for url in (
        f"/reviews/{review.id}/drafts/{draft.id}/delete",
        f"/reviews/{review.id}/drafts/{draft.id}/sections/{section.id}/remove",
    ):
        response = as_author.post(url, data={"csrf_token": token})
        assert response.status_code == 302
    db.expire_all()
    assert len(db.get(Draft, draft.id).sections) == len(drafts.SUGGESTED_HEADINGS)
    assert "report_draft.deleted" not in audit_actions(db, review)


# Writing sections ------------------------------------------------------------------------------------


def test_the_author_starts_a_version_and_writes_a_section(as_author, db, review):
    page = as_author.get(f"/reviews/{review.id}/drafts")
    response = as_author.post(f"/reviews/{review.id}/drafts/new", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    draft = db.scalar(sa.select(Draft).where(Draft.review_id == review.id))
    url = f"/reviews/{review.id}/drafts/{draft.id}/sections/new"
    response = submit(as_author, url, {"heading": "Findings", "body": "Records were not shared.\n\nNobody asked."})
    assert response.status_code == 302
    html = as_author.get(f"/reviews/{review.id}/drafts/{draft.id}").text
    headings = re.findall(r'<h2 class="govuk-heading-m">([^<]+)</h2>', html)
    assert headings == [*drafts.SUGGESTED_HEADINGS, "Findings"]
    assert "<p>Records were not shared.</p><p>Nobody asked.</p>" in html
    assert audit_actions(db, review) == ["report_draft.created", "report_draft.section_added", "report_draft.read"]


def test_what_was_typed_is_kept_when_a_section_has_no_heading(as_author, db, review, author):
    draft = written(db, review, author)
    url = f"/reviews/{review.id}/drafts/{draft.id}/sections/{draft.sections[0].id}"
    response = submit(as_author, url, {"heading": "  ", "body": "My careful paragraph."})
    assert response.status_code == 200
    assert "Enter a heading for the section" in response.text
    assert "My careful paragraph." in response.text
    assert "Error:" in response.text.split("</title>")[0]


def test_section_text_goes_through_the_sanitiser(as_author, db, review, author):
    draft = written(db, review, author)
    url = f"/reviews/{review.id}/drafts/{draft.id}/sections/{draft.sections[0].id}"
    submit(as_author, url, {"heading": "Introduction", "body": '<p onclick="x()">Hi <script>alert(1)</script></p>'})
    db.expire_all()
    body = db.get(Draft, draft.id).sections[0].body
    assert "<script" not in body and "onclick" not in body
    assert "Hi" in body


def test_sections_move_up_and_down_and_are_removed(as_author, db, review, author):
    draft = written(db, review, author, [("A", "a"), ("B", "b"), ("C", "c")])
    a, _b, c = draft.sections
    base = f"/reviews/{review.id}/drafts/{draft.id}"
    token = csrf_token(as_author.get(f"{base}/edit").text)
    assert (
        as_author.post(f"{base}/sections/{c.id}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    )
    assert (
        as_author.post(f"{base}/sections/{a.id}/move", data={"csrf_token": token, "direction": "down"}).status_code
        == 302
    )
    # Moving the first section up changes nothing.
    as_author.post(f"{base}/sections/{c.id}/move", data={"csrf_token": token, "direction": "up"})
    db.expire_all()
    assert [section.heading for section in db.get(Draft, draft.id).sections] == ["C", "A", "B"]
    assert as_author.post(f"{base}/sections/{c.id}/remove", data={"csrf_token": token}).status_code == 302
    html = as_author.get(base).text
    assert re.findall(r'<h2 class="govuk-heading-m">([^<]+)</h2>', html) == ["A", "B"]
    assert audit_actions(db, review).count("report_draft.section_moved") == 2
    assert "report_draft.section_removed" in audit_actions(db, review)


def test_the_title_is_changed_and_an_unshared_version_deleted(as_author, db, review, author):
    draft = written(db, review, author)
    base = f"/reviews/{review.id}/drafts/{draft.id}"
    assert submit(as_author, f"{base}/edit", {"title": "For the panel"}).status_code == 302
    assert "For the panel" in as_author.get(f"/reviews/{review.id}/drafts").text
    response = submit(as_author, f"{base}/delete", {})
    assert response.status_code == 302
    assert "Version 1 has been deleted" in text_of(as_author.get(response.headers["Location"]).text)
    assert db.scalar(sa.select(sa.func.count(Draft.id)).where(Draft.review_id == review.id)) == 0
    assert db.scalar(sa.select(sa.func.count(DraftSection.id))) == 0


# Uploads ---------------------------------------------------------------------------------------------


def test_a_word_document_becomes_sections_the_author_checks(as_author, db, review, upload_dir):
    document = docx(
        (None, "Prepared for the partnership."),
        ("Heading1", "Introduction"),
        (None, "We reviewed six months."),
        (None, "We met the family."),
        ("Heading2", "Findings"),
        (None, "Records were not shared &amp; nobody asked."),
    )
    url = f"/reviews/{review.id}/drafts/upload"
    response = submit(as_author, url, {"title": "Author's draft", "file": (io.BytesIO(document), "report.docx")})
    assert response.status_code == 302
    draft = db.scalar(sa.select(Draft).where(Draft.review_id == review.id))
    assert (draft.kind, draft.detected_type, draft.original_name) == ("uploaded", "docx", "report.docx")
    assert [(s.heading, s.body) for s in draft.sections] == [
        ("Opening", "<p>Prepared for the partnership.</p>"),
        ("Introduction", "<p>We reviewed six months.</p><p>We met the family.</p>"),
        ("Findings", "<p>Records were not shared &amp; nobody asked.</p>"),
    ]
    page = text_of(as_author.get(response.headers["Location"]).text)
    assert "We took 3 sections from the document" in page
    assert "Check each section against the document" in page
    download = as_author.get(f"/reviews/{review.id}/drafts/{draft.id}/file")
    assert download.data == document
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "report_draft.file_downloaded" in audit_actions(db, review)


def test_a_pdf_is_kept_and_the_author_is_asked_to_paste_its_text(as_author, db, review):
    url = f"/reviews/{review.id}/drafts/upload"
    response = submit(as_author, url, {"title": "Final layout", "file": (io.BytesIO(SAMPLES["pdf"]), "report.pdf")})
    assert response.status_code == 302
    draft = db.scalar(sa.select(Draft).where(Draft.review_id == review.id))
    assert draft.detected_type == "pdf" and draft.sections == []
    page = text_of(as_author.get(response.headers["Location"]).text)
    assert "Now paste its text: add a section for each heading" in page
    assert "Text cannot be taken from a PDF automatically" in page
    assert as_author.get(f"/reviews/{review.id}/drafts/{draft.id}/file").data == SAMPLES["pdf"]


@pytest.mark.parametrize("kind", ["png", "doc", "mp3"])
def test_other_files_are_refused_with_a_clear_message(as_author, db, review, kind):
    url = f"/reviews/{review.id}/drafts/upload"
    response = submit(as_author, url, {"title": "Mine", "file": (io.BytesIO(SAMPLES[kind]), "report.pdf")})
    assert response.status_code == 200
    assert "The file must be a PDF or a Word document (.docx)." in text_of(response.text)
    assert 'value="Mine"' in response.text
    assert db.scalar(sa.select(sa.func.count(Draft.id))) == 0


def test_a_page_of_text_pretending_to_be_a_pdf_is_refused(as_author, db, review):
    url = f"/reviews/{review.id}/drafts/upload"
    response = submit(as_author, url, {"title": "Mine", "file": (io.BytesIO(b"just words"), "report.pdf")})
    assert "The file must be a PDF or a Word document (.docx)." in text_of(response.text)


def test_a_word_document_that_declares_entities_is_refused_before_parsing(as_author, db, review, upload_dir):
    bomb = docx(
        (None, "&lol;"),
        prologue='<!DOCTYPE w:document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
    )
    url = f"/reviews/{review.id}/drafts/upload"
    response = submit(as_author, url, {"title": "Mine", "file": (io.BytesIO(bomb), "report.docx")})
    assert response.status_code == 200
    assert "The Word document could not be read" in text_of(response.text)
    assert db.scalar(sa.select(sa.func.count(Draft.id))) == 0
    assert not any(upload_dir.iterdir()) if upload_dir.exists() else True


def test_a_word_document_too_large_to_read_is_refused(monkeypatch):
    monkeypatch.setattr(drafts, "MAX_DOCUMENT_XML_BYTES", 200)
    with pytest.raises(drafts.DraftRefused, match="too large to read"):
        drafts.word_sections(docx(*[(None, "A long paragraph of the report.")] * 20))


def test_a_broken_word_document_is_refused():
    with pytest.raises(drafts.DraftRefused, match="could not be read"):
        drafts.word_sections(docx((None, "unclosed <w:t>")))


def test_text_runs_tabs_and_title_styles_are_read():
    document = docx(("Title", "Child H"), (None, "Part one"))
    assert drafts.word_sections(document) == [drafts.ExtractedSection("Child H", "Part one")]


def test_deleting_an_uploaded_version_deletes_its_file(as_author, db, review, upload_dir):
    url = f"/reviews/{review.id}/drafts/upload"
    submit(as_author, url, {"title": "Mine", "file": (io.BytesIO(SAMPLES["pdf"]), "report.pdf")})
    draft = db.scalar(sa.select(Draft).where(Draft.review_id == review.id))
    assert (upload_dir / draft.stored_name).is_file()
    submit(as_author, f"/reviews/{review.id}/drafts/{draft.id}/delete", {})
    assert not (upload_dir / draft.stored_name).exists()


# Reading, listing and comparing ----------------------------------------------------------------------


def test_the_list_shows_each_version_newest_first_with_its_state(as_author, db, review, author):
    first = written(db, review, author)
    first.shared_at = utcnow() - timedelta(days=1)
    second = written(db, review, author)
    second.final_at, second.final_by_id = utcnow(), author.id
    written(db, review, author)
    db.commit()
    page = text_of(as_author.get(f"/reviews/{review.id}/drafts").text)
    assert page.index("Version 3") < page.index("Version 2") < page.index("Version 1")
    rows = page.split("State")[1]
    assert "3 Version 3 Written in the portal Robin Author" in rows
    assert "Draft" in rows and "Final" in rows and "Shared" in rows


def test_the_list_asks_the_same_number_of_queries_however_many_versions(as_author, db, review, author, coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_author.get(f"/reviews/{review.id}/drafts").status_code == 200
        return len(statements)

    written(db, review, author)
    queries()  # the first request of a session also records when it was last seen
    few = queries()
    for number in range(25):
        drafts.create_written_draft(db, review.id, by=coordinator if number % 2 else author)
    db.commit()
    assert queries() == few
    assert "Page 1 of 2" in as_author.get(f"/reviews/{review.id}/drafts").text


def test_reading_a_version_is_audited_without_its_text(as_author, db, review, author):
    draft = written(db, review, author, [("Findings", "Secret words")])
    as_author.get(f"/reviews/{review.id}/drafts/{draft.id}")
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report_draft.read"))
    assert event.actor_id == author.id and event.object_id == str(draft.id)
    assert "Secret" not in event.details


def test_comparing_two_versions_shows_what_changed_escaped(as_author, db, review, author):
    older = written(db, review, author, [("Introduction", "We met."), ("Findings", "The school knew.")])
    newer = written(
        db,
        review,
        author,
        [("Findings", "The nursery knew. &lt;script&gt;alert(1)&lt;/script&gt;"), ("Introduction", "We met.")],
    )
    response = as_author.get(f"/reviews/{review.id}/drafts/compare?older={newer.id}&newer={older.id}")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    page = text_of(response.text)
    assert "From version 1 to version 2" in page
    assert "Removed: school" in page and "Added: nursery" in page
    assert "1 section changed" in page and "1 section moved" in page
    assert '<del><span class="govuk-visually-hidden">Removed: </span>school</del>' in response.text
    assert "Moved from section 2 to section 1." in page
    assert audit_actions(db, review)[-2:] == ["report_draft.compared", "report_draft.compared"]


def test_comparing_a_version_with_itself_is_refused(as_author, db, review, author):
    first = written(db, review, author)
    written(db, review, author)
    response = as_author.get(f"/reviews/{review.id}/drafts/compare?older={first.id}&newer={first.id}")
    assert response.status_code == 200
    assert "Select two different versions" in text_of(response.text)


def test_the_compare_page_suggests_the_latest_two_versions(as_author, db, review, author):
    first, second = written(db, review, author), written(db, review, author)
    html = as_author.get(f"/reviews/{review.id}/drafts/compare").text
    assert f'<option value="{second.id}" selected>' in html.split('name="newer"')[1]
    assert f'<option value="{first.id}" selected>' in html.split('name="older"')[1].split('name="newer"')[0]


def test_another_reviews_version_is_not_found_through_this_review(as_author, db, review, coordinator):
    other = make_review(db, coordinator=coordinator)
    foreign = drafts.create_written_draft(db, other.id, by=coordinator)
    db.commit()
    assert as_author.get(f"/reviews/{review.id}/drafts/{foreign.id}").status_code == 404
    mine = written(db, review, db.get(type(coordinator), coordinator.id))
    response = as_author.get(f"/reviews/{review.id}/drafts/compare?older={mine.id}&newer={foreign.id}")
    assert response.status_code == 200
    assert "From version" not in text_of(response.text)
    assert "Not a valid choice" in text_of(response.text)
