"""Versions of the report: written in the portal or uploaded, edited until shared, then part of the record.

A version is frozen once it has been shared for pre-publication review or marked final. Every change
here checks that under a lock on the version's row, so a change can never slip in after the version
was shared. Version numbers are taken under a lock on the review's row, so two authors pressing
"New version" at once get consecutive numbers instead of one of them an error.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portal.authoring.comparison import SectionText
from portal.authoring.models import Draft, DraftKind, DraftSection
from portal.db import utcnow
from portal.families import uploads
from portal.reviews.models import Review
from portal.richtext import editable_text, plain_text, rich_text_from_input
from portal.security import audit
from portal.security.models import User

DRAFTS_PER_PAGE = 20
SUGGESTED_HEADINGS = ("Introduction", "The child and family", "Practice episodes", "Findings", "Recommendations")
UPLOAD_TYPES = frozenset({"pdf", "docx"})
MAX_SECTIONS = 500
HEADING_LENGTH = 200
ONLY_PDF_OR_WORD = "The file must be a PDF or a Word document (.docx)."
OPENING_HEADING = "Opening"  # for text before a Word document's first heading


class DraftFrozen(Exception):
    """The version has been shared or marked final, so it can no longer change."""


class DraftRefused(ValueError):
    """The change cannot be made; the message says why, for the person making it."""


# Reading ------------------------------------------------------------------------------------------


def drafts_of(db: Session, review: Review, *, page: int = 1) -> tuple[list[Draft], int]:
    """The review's versions, newest first, with who made them, and how many there are."""
    total = db.scalar(sa.select(sa.func.count(Draft.id)).where(Draft.review_id == review.id)) or 0
    rows = db.scalars(
        sa.select(Draft)
        .options(selectinload(Draft.created_by))
        .where(Draft.review_id == review.id)
        .order_by(Draft.version.desc())
        .limit(DRAFTS_PER_PAGE)
        .offset((page - 1) * DRAFTS_PER_PAGE)
    )
    return list(rows), total


def versions_to_compare(db: Session, review: Review) -> list[tuple[int, int, str]]:
    """(id, version, title) of every version, newest first, for choosing two to compare."""
    return [
        tuple(row)
        for row in db.execute(
            sa.select(Draft.id, Draft.version, Draft.title)
            .where(Draft.review_id == review.id)
            .order_by(Draft.version.desc())
        )
    ]


def load_draft(db: Session, review: Review, draft_id: int) -> Draft | None:
    """One version of this review with its sections, or None (another review's is never found)."""
    return db.scalar(
        sa.select(Draft)
        .options(selectinload(Draft.sections), selectinload(Draft.created_by))
        .where(Draft.id == draft_id, Draft.review_id == review.id)
    )


def state_of(draft: Draft) -> str:
    """What a reader is told about the version: Draft, Shared or Final."""
    if draft.final_at is not None:
        return "Final"
    if draft.shared_at is not None:
        return "Shared"
    return "Draft"


def as_compared(draft: Draft) -> list[SectionText]:
    """The version's sections as plain text, for the comparison."""
    return [SectionText(section.heading, plain_text(section.body)) for section in draft.sections]


def editable_body(section: DraftSection) -> str:
    """The section's text as it goes back in the box: as typed when that loses nothing."""
    return editable_text(section.body)


def record_read(db: Session, draft: Draft, reader: User) -> None:
    _record(db, "report_draft.read", draft, reader)


def record_file_downloaded(db: Session, draft: Draft, reader: User) -> None:
    _record(db, "report_draft.file_downloaded", draft, reader)


def record_compared(db: Session, older: Draft, newer: Draft, reader: User) -> None:
    """Both versions' text was read: one entry for each, naming the other."""
    _record(db, "report_draft.compared", older, reader, with_version=newer.version)
    _record(db, "report_draft.compared", newer, reader, with_version=older.version)


# Creating -----------------------------------------------------------------------------------------


def lock_review(db: Session, review_id: int) -> Review:
    """The review, locked until the transaction ends: the queue new version numbers are taken in."""
    if db.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks; taking the database's write lock now serialises the same way.
        db.execute(sa.update(Review).where(Review.id == review_id).values(id=Review.id))
    return db.scalars(
        sa.select(Review).where(Review.id == review_id).with_for_update().execution_options(populate_existing=True)
    ).one()


def _next_version(db: Session, review: Review) -> int:
    latest = db.scalar(sa.select(sa.func.max(Draft.version)).where(Draft.review_id == review.id))
    return (latest or 0) + 1


def _latest(db: Session, review: Review) -> Draft | None:
    return db.scalar(
        sa.select(Draft)
        .options(selectinload(Draft.sections))
        .where(Draft.review_id == review.id)
        .order_by(Draft.version.desc())
        .limit(1)
    )


def create_written_draft(db: Session, review_id: int, *, by: User) -> Draft:
    """A new version written in the portal: a copy of the latest version's sections, or suggested headings."""
    review = lock_review(db, review_id)
    latest = _latest(db, review)
    version = _next_version(db, review)
    if latest is not None:
        sections = [(section.heading, section.body) for section in latest.sections]
    else:
        sections = [(heading, "") for heading in SUGGESTED_HEADINGS]
    now = utcnow()
    draft = Draft(
        review_id=review.id,
        version=version,
        title=f"Version {version}",
        kind=DraftKind.WRITTEN.value,
        created_by_id=by.id,
        created_at=now,
        updated_at=now,
        sections=[
            DraftSection(position=number, heading=heading, body=body)
            for number, (heading, body) in enumerate(sections, start=1)
        ],
    )
    db.add(draft)
    db.flush()
    _record(db, "report_draft.created", draft, by, copied_from=latest.version if latest else None)
    return draft


def create_uploaded_draft(
    db: Session, review_id: int, *, title: str, original_name: str, data: bytes, by: User
) -> Draft:
    """A new version from a PDF or Word document; a Word document's text becomes its sections.

    Raises UploadRefused for any other file, and DraftRefused for a Word document that cannot be read.
    """
    kind = _report_file_type(data)
    sections = word_sections(data) if kind.key == "docx" else []
    review = lock_review(db, review_id)
    version = _next_version(db, review)
    now = utcnow()
    draft = Draft(
        review_id=review.id,
        version=version,
        title=title,
        kind=DraftKind.UPLOADED.value,
        created_by_id=by.id,
        created_at=now,
        updated_at=now,
        original_name=_safe_name(original_name),
        stored_name=uploads.store(db, data),
        detected_type=kind.key,
        sections=[
            DraftSection(position=number, heading=section.heading, body=rich_text_from_input(section.text))
            for number, section in enumerate(sections, start=1)
        ],
    )
    db.add(draft)
    db.flush()
    _record(db, "report_draft.uploaded", draft, by, type=kind.key, sections=len(sections))
    return draft


def _report_file_type(data: bytes) -> uploads.FileType:
    """PDF or .docx, judged by content like every upload; any other type is refused in the report's words."""
    try:
        kind = uploads.check(data)
    except uploads.UploadRefused:
        if uploads.detect_type(data) is not None or not data or len(data) > uploads.MAX_FILE_BYTES:
            raise
        kind = None
    if kind is None or kind.key not in UPLOAD_TYPES:
        raise uploads.UploadRefused(ONLY_PDF_OR_WORD)
    return kind


def _safe_name(original_name: str | None) -> str:
    """The file's own name, without any folder, for showing and for the download; never used on disk."""
    return (original_name or "report").replace("\\", "/").rsplit("/", 1)[-1][:255] or "report"


# Changing -----------------------------------------------------------------------------------------


def lock_draft(db: Session, draft: Draft) -> Draft:
    """The version re-read under a row lock, refusing the change if it is frozen by then."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(sa.update(Draft).where(Draft.id == draft.id).values(id=Draft.id))
    locked = db.scalars(
        sa.select(Draft).where(Draft.id == draft.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if locked.frozen:
        raise DraftFrozen
    return locked


def change_title(db: Session, draft: Draft, title: str, *, by: User) -> None:
    lock_draft(db, draft)
    draft.title = title
    _touched(db, draft)
    _record(db, "report_draft.title_changed", draft, by)


def add_section(db: Session, draft: Draft, *, heading: str, body: str, by: User) -> DraftSection:
    """A new section at the end of the version; ``body`` is what was typed, cleaned here."""
    lock_draft(db, draft)
    if len(draft.sections) >= MAX_SECTIONS:
        raise DraftRefused(f"A version can have up to {MAX_SECTIONS} sections.")
    last = max((section.position for section in draft.sections), default=0)
    section = DraftSection(position=last + 1, heading=heading, body=rich_text_from_input(body))
    draft.sections.append(section)
    _touched(db, draft)
    _record(db, "report_draft.section_added", draft, by, section_id=section.id)
    return section


def change_section(db: Session, draft: Draft, section: DraftSection, *, heading: str, body: str, by: User) -> None:
    lock_draft(db, draft)
    section.heading = heading
    section.body = rich_text_from_input(body)
    _touched(db, draft)
    _record(db, "report_draft.section_changed", draft, by, section_id=section.id)


def remove_section(db: Session, draft: Draft, section: DraftSection, *, by: User) -> None:
    lock_draft(db, draft)
    draft.sections.remove(section)
    _touched(db, draft)
    _record(db, "report_draft.section_removed", draft, by, section_id=section.id)


def move_section(db: Session, draft: Draft, section: DraftSection, *, up: bool, by: User) -> bool:
    """Swap the section with the one before (or after) it; False when it is already first (or last)."""
    lock_draft(db, draft)
    ordered = sorted(draft.sections, key=lambda item: item.position)
    index = ordered.index(section)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(ordered):
        return False
    other = ordered[other_index]
    mine, theirs = section.position, other.position
    # Positions are unique in the database at every step, so the swap goes through a free position.
    section.position = -1
    db.flush()
    other.position = mine
    db.flush()
    section.position = theirs
    _touched(db, draft)
    db.expire(draft, ["sections"])
    _record(db, "report_draft.section_moved", draft, by, section_id=section.id, direction="up" if up else "down")
    return True


def delete_draft(db: Session, draft: Draft, *, by: User) -> None:
    """Delete a version that was never shared, and its uploaded file once the deletion is committed."""
    lock_draft(db, draft)
    _record(db, "report_draft.deleted", draft, by, version=draft.version)
    if draft.stored_name:
        uploads.remove(db, draft.stored_name)
    db.delete(draft)
    db.flush()


def _touched(db: Session, draft: Draft) -> None:
    draft.updated_at = utcnow()
    db.flush()


def _record(db: Session, action: str, draft: Draft, actor: User, **details) -> None:
    audit.record(
        db,
        action,
        object_type="report_draft",
        object_id=draft.id,
        review_id=draft.review_id,
        actor_id=actor.id,
        details={"version": draft.version, **details},
    )


# Word documents -----------------------------------------------------------------------------------

WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# The text of a 100-page report is well under a megabyte of XML; anything far beyond it is refused
# rather than parsed, so a small file cannot unpack into something that exhausts the server.
MAX_DOCUMENT_XML_BYTES = 25 * 1024 * 1024
_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^(heading\s*\d*|title)$", re.IGNORECASE)
UNREADABLE = "The Word document could not be read. Save it again as .docx, or upload it as a PDF."


@dataclass(frozen=True)
class ExtractedSection:
    heading: str
    text: str


def word_sections(data: bytes) -> list[ExtractedSection]:
    """A Word document's text as sections: each paragraph in a Heading (or Title) style starts one."""
    try:
        # A document that declares anything is refused before parsing, and xml.etree never fetches
        # external entities, so none of the attacks defusedxml guards against can reach the parser.
        root = ElementTree.fromstring(_document_xml(data))  # noqa: S314
    except ElementTree.ParseError as error:
        raise DraftRefused(UNREADABLE) from error
    body = root.find(f"{WORD_NS}body")
    if body is None:
        raise DraftRefused(UNREADABLE)
    sections: list[tuple[str, list[str]]] = []
    for paragraph in body.iter(f"{WORD_NS}p"):
        text = _paragraph_text(paragraph)
        if not text.strip():
            continue
        if _is_heading(paragraph):
            sections.append((" ".join(text.split())[:HEADING_LENGTH], []))
        elif sections:
            sections[-1][1].append(text)
        else:
            sections.append((OPENING_HEADING, [text]))
    if len(sections) > MAX_SECTIONS:
        raise DraftRefused(f"The document has more than {MAX_SECTIONS} headings. Upload it as a PDF instead.")
    return [ExtractedSection(heading, "\n\n".join(paragraphs)) for heading, paragraphs in sections]


def _document_xml(data: bytes) -> bytes:
    """word/document.xml, read no further than the size limit and refused if it declares anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as member:
            xml = member.read(MAX_DOCUMENT_XML_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, NotImplementedError) as error:
        raise DraftRefused(UNREADABLE) from error
    if len(xml) > MAX_DOCUMENT_XML_BYTES:
        raise DraftRefused("The Word document is too large to read. Upload it as a PDF instead.")
    # Word never writes a DOCTYPE; one here could define entities that expand into gigabytes.
    if _DECLARATIONS.search(xml):
        raise DraftRefused(UNREADABLE)
    return xml


def _is_heading(paragraph: ElementTree.Element) -> bool:
    properties = paragraph.find(f"{WORD_NS}pPr")
    if properties is None:
        return False
    style = properties.find(f"{WORD_NS}pStyle")
    if style is not None and _HEADING_STYLE.match(style.get(f"{WORD_NS}val", "")):
        return True
    return properties.find(f"{WORD_NS}outlineLvl") is not None


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    pieces: list[str] = []
    for element in paragraph.iter():
        if element.tag == f"{WORD_NS}t" and element.text:
            pieces.append(element.text)
        elif element.tag == f"{WORD_NS}tab":
            pieces.append("\t")
        elif element.tag in (f"{WORD_NS}br", f"{WORD_NS}cr"):
            pieces.append("\n")
    return "".join(pieces)
