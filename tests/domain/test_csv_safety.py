"""Cells that a spreadsheet would run are written as text; plain numbers stay numbers."""

from __future__ import annotations

from datetime import date

import pytest

from regua.domain.csv_safety import safe_cell, safe_row


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","clique")',
            '\'=HYPERLINK("http://evil.example","clique")',
        ),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        # plain numbers: a negative amount, a signed phone, a thousands separator
        ("-12,50", "-12,50"),
        ("-1.234,56", "-1.234,56"),
        ("+5511987654321", "+5511987654321"),
        ("12,50", "12,50"),
        # ordinary text
        ("Maria da Conceição", "Maria da Conceição"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formulas_are_text_and_numbers_stay(cell: str, written: str) -> None:
    assert safe_cell(cell) == written


def test_a_row_of_mixed_values() -> None:
    assert safe_row([3, None, date(2026, 11, 23), "=1", -5]) == ["3", "", "2026-11-23", "'=1", "-5"]
