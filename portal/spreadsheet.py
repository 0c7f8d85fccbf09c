"""CSV downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response

# A spreadsheet treats a cell starting with one of these as a formula, which can run commands or send
# the sheet's contents elsewhere (=HYPERLINK, =WEBSERVICE, DDE). Tab and carriage return can hide one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell's text, with a leading quote if a spreadsheet would otherwise read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A CSV file as an attachment, never shown in the browser or kept in a shared cache."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "download.csv"
    # The byte order mark tells spreadsheet programs the file is UTF-8, so names with accents survive.
    response = Response("\ufeff" + csv_text(header, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
