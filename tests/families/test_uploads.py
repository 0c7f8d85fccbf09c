"""Files families add: the type is decided by the bytes, never the name, and files are kept safely."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from portal.families import uploads


def docx_bytes(*, with_document: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        if with_document:
            archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
        else:
            archive.writestr("notes.txt", "just a zip")
    return buffer.getvalue()


# Minimal real starts of each kind of file.
SAMPLES: dict[str, bytes] = {
    "pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00",
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00;",
    "webp": b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
    "docx": docx_bytes(),
    "doc": bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504),
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(100),
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(8),
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88X\x01\x00\x02\x00\x10\x00",
    "ogg": b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00" + bytes(8),
}

REFUSED: dict[str, bytes] = {
    "a web page named report.pdf": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "a Windows program named photo.jpg": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64),
    "a Linux program named song.mp3": b"\x7fELF\x02\x01\x01\x00" + bytes(56),
    "a zip that is not a Word document, named letter.docx": docx_bytes(with_document=False),
    "plain text named notes.doc": b"Dear review team, this is plain text.",
    "a script named clip.wav": b"#!/bin/sh\nrm -rf /\n",
    "an SVG picture (it can carry scripts)": b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
}


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_each_accepted_type_is_recognised_by_its_bytes(kind):
    assert uploads.detect_type(SAMPLES[kind]).key == kind


def test_every_accepted_type_has_a_sample():
    assert set(SAMPLES) == set(uploads.FILE_TYPES)


def test_mp3_without_a_tag_is_recognised_by_its_frame_sync():
    assert uploads.detect_type(b"\xff\xfb\x90\x64" + bytes(400)).key == "mp3"


@pytest.mark.parametrize("description", list(REFUSED))
def test_other_files_are_refused_whatever_their_name(description):
    assert uploads.detect_type(REFUSED[description]) is None
    with pytest.raises(uploads.UploadRefused, match="must be a PDF, a picture, a Word document or a sound recording"):
        uploads.check(REFUSED[description])


def test_a_file_over_20_mb_is_refused_and_one_of_exactly_20_mb_is_not():
    at_limit = SAMPLES["pdf"] + bytes(uploads.MAX_FILE_BYTES - len(SAMPLES["pdf"]))
    assert uploads.check(at_limit).key == "pdf"
    with pytest.raises(uploads.UploadRefused, match="smaller than 20 MB"):
        uploads.check(at_limit + b"x")


def test_an_empty_file_is_refused():
    with pytest.raises(uploads.UploadRefused, match="empty"):
        uploads.check(b"")


def test_stored_files_get_random_names_outside_static(app, db, upload_dir):
    with app.app_context():
        first = uploads.store(db, SAMPLES["png"])
        second = uploads.store(db, SAMPLES["png"])
        db.commit()
        assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
        path = uploads.path_of(first)
        assert path.read_bytes() == SAMPLES["png"]
        assert path.parent == upload_dir
        static = Path(app.static_folder).resolve()
        assert static not in path.resolve().parents


def test_files_on_disk_follow_the_transaction(app, db, upload_dir):
    with app.app_context():
        kept = uploads.store(db, SAMPLES["png"])
        db.commit()
        abandoned = uploads.store(db, SAMPLES["png"])
        db.rollback()  # the save failed: its file must not stay behind, reachable by no one
        assert uploads.path_of(kept).exists() and not uploads.path_of(abandoned).exists()

        uploads.remove(db, kept)
        db.rollback()  # the removal failed: the file stays with its row
        assert uploads.path_of(kept).exists()
        uploads.remove(db, kept)
        db.commit()
        assert not uploads.path_of(kept).exists()
        uploads.remove(db, kept)  # already gone: not an error
        db.commit()


def test_the_default_upload_folder_is_not_under_static(app):
    folder = Path(app.config["UPLOAD_DIR"]).resolve()
    assert Path(app.static_folder).resolve() not in [folder, *folder.parents]
