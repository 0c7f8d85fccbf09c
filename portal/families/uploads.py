"""Files families add to their contributions: what they are, judged by their bytes, and where they are kept.

The name someone gives a file and the type their browser claims are both easy to fake, so neither
is trusted: the first bytes decide. Files are kept outside ``static/`` under a random name, so the
web server never serves them itself and nothing a person types ever becomes part of a path.
"""

from __future__ import annotations

import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Response, abort, current_app, send_file
from sqlalchemy.orm import Session

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    mimetype: str
    extension: str


FILE_TYPES: dict[str, FileType] = {
    kind.key: kind
    for kind in (
        FileType("pdf", "PDF document", "application/pdf", ".pdf"),
        FileType("png", "Picture (PNG)", "image/png", ".png"),
        FileType("jpeg", "Picture (JPEG)", "image/jpeg", ".jpg"),
        FileType("gif", "Picture (GIF)", "image/gif", ".gif"),
        FileType("webp", "Picture (WebP)", "image/webp", ".webp"),
        FileType(
            "docx",
            "Word document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        ),
        FileType("doc", "Word document (older)", "application/msword", ".doc"),
        FileType("mp3", "Sound recording (MP3)", "audio/mpeg", ".mp3"),
        FileType("m4a", "Sound recording (M4A)", "audio/mp4", ".m4a"),
        FileType("wav", "Sound recording (WAV)", "audio/wav", ".wav"),
        FileType("ogg", "Sound recording (OGG)", "audio/ogg", ".ogg"),
    )
}

_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")


class UploadRefused(ValueError):
    """The file cannot be kept; the message says why, in words a family member understands."""


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _is_mp3(data: bytes) -> bool:
    if data.startswith(b"ID3"):
        return True
    # An MPEG audio frame starts with eleven set bits; layer bits 00 are reserved, so not audio.
    return len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0 and (data[1] & 0x06) != 0


def detect_type(data: bytes) -> FileType | None:
    """The file's type judged by its content alone, or None when it is not one we accept."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head.startswith((b"GIF87a", b"GIF89a")):
        kind = "gif"
    elif head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        kind = "webp"
    elif head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        kind = "wav"
    elif head.startswith(b"PK\x03\x04") and _is_docx(data):
        kind = "docx"
    elif head.startswith(_OLE2):
        kind = "doc"
    elif head.startswith(b"OggS"):
        kind = "ogg"
    elif head[4:8] == b"ftyp":
        kind = "m4a"
    elif _is_mp3(head):
        kind = "mp3"
    else:
        return None
    return FILE_TYPES[kind]


def upload_dir() -> Path:
    """The folder files are kept in (``PORTAL_UPLOAD_DIR``), created when first needed."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check(data: bytes) -> FileType:
    """The file's type, or UploadRefused when it is empty, too big or not a type we accept."""
    if not data:
        raise UploadRefused("The file is empty. Choose another file.")
    if len(data) > MAX_FILE_BYTES:
        raise UploadRefused("The file must be smaller than 20 MB.")
    kind = detect_type(data)
    if kind is None:
        raise UploadRefused("The file must be a PDF, a picture, a Word document or a sound recording.")
    return kind


def store(db: Session, data: bytes) -> str:
    """Write the bytes under a new random name in the upload folder and return that name.

    The file belongs to the session's transaction: if it is rolled back, the file is deleted too, so
    a failed save never leaves a file on disk that no row points to.
    """
    db.connection()  # the transaction the file belongs to has begun, so its rollback is seen
    name = secrets.token_hex(16)
    path = upload_dir() / name
    # "x" refuses to overwrite, so a repeated name could never replace someone else's file.
    with path.open("xb") as handle:
        handle.write(data)
    db.info.setdefault(WRITTEN, []).append(path)
    return name


def remove(db: Session, stored_name: str) -> None:
    """Delete a stored file once the session's transaction commits; kept if it is rolled back."""
    db.info.setdefault(TO_DELETE, []).append(path_of(stored_name))


def download(stored_name: str, detected_type: str, original_name: str) -> Response:
    """A stored file as a download, never shown inline: the browser must not decide to run or render it.

    404 when the file is not on disk. Callers check who may have it, and audit the read, first.
    """
    path = path_of(stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=FILE_TYPES[detected_type].mimetype,
        as_attachment=True,
        download_name=original_name,
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def path_of(stored_name: str) -> Path:
    """Where a stored file lives; the name is always one this module made, never a person's."""
    return Path(current_app.config["UPLOAD_DIR"]) / stored_name


# Files on disk follow the database: written files are kept and removed ones deleted only on commit.
WRITTEN = "portal.uploads.written"
TO_DELETE = "portal.uploads.to_delete"


@sa.event.listens_for(Session, "after_commit")
def _settle_files_after_commit(db: Session) -> None:
    db.info.pop(WRITTEN, None)
    for path in db.info.pop(TO_DELETE, []):
        path.unlink(missing_ok=True)


@sa.event.listens_for(Session, "after_soft_rollback")
def _settle_files_after_rollback(db: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint inside the transaction: the files' fate is decided by the whole
    db.info.pop(TO_DELETE, None)
    for path in db.info.pop(WRITTEN, []):
        path.unlink(missing_ok=True)
