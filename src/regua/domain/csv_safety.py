"""Cells of the CSV files regua writes, kept from running as formulas in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@``
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(1)``), and drop a leading tab or carriage
return before looking (``\\t=1+1`` runs too). A customer's name or an ERP's cell copied into
a rejects file or a call list must arrive as the text it is. As OWASP's "CSV Injection" page
recommends, such a cell is prefixed with a single quote, which the spreadsheet shows as text
and hides. A plain number (``-12,50``, ``+5``, ``-1.234,56``) is no formula and stays as it
is, so negative amounts in an amount column still read as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number as pt-BR or en spreadsheets type it: sign, digits with optional thousands dots or
# commas, optional decimal part. Nothing else can follow the sign.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def safe_cell(value: Any) -> str:
    """`value` as a CSV cell a spreadsheet shows and never evaluates."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[str]:
    """Each cell of a row through `safe_cell`: what a CSV writer of regua writes."""
    return [safe_cell(value) for value in values]
