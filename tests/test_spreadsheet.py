"""CSV downloads: cells a spreadsheet would run as formulas are neutralised, and the file is an attachment."""

from __future__ import annotations

import csv
import io

import pytest

from portal.spreadsheet import csv_download, neutralise


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("https://evil.example","Click")', '\'=HYPERLINK("https://evil.example","Click")'),
        ("+44 1632 960000", "'+44 1632 960000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Ramp at the side door", "Ramp at the side door"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (3, "3"),
    ],
)
def test_cells_that_start_like_a_formula_get_a_leading_quote(cell, safe):
    assert neutralise(cell) == safe


def test_the_download_is_an_attachment_a_spreadsheet_reads_safely(app):
    with app.test_request_context():
        response = csv_download(
            "registrations for/../event 4.csv",
            ["Name", "=Notes"],
            [["Zoë Ng", '=HYPERLINK("https://evil.example")'], ["Sam, Jr.", "line one\nline two"]],
        )
    assert response.headers["Content-Disposition"] == 'attachment; filename="registrations-for-..-event-4.csv"'
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["Name", "'=Notes"],
        ["Zoë Ng", '\'=HYPERLINK("https://evil.example")'],
        ["Sam, Jr.", "line one\nline two"],
    ]
