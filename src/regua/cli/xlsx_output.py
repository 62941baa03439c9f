"""`--xlsx FILE` of the listing commands: one writer of typed spreadsheets, for every command.

A collections user sorts, sums and filters these sheets, so each cell carries its type: dates
are dates shown dd/mm/aaaa, money is a number of reais shown with the R$ format (never text
such as "R$ 1.234,56", which a spreadsheet cannot add), counts are integers, the rest is text.

Text is always written as text, whatever its first character: a customer named "=HYPERLINK(...)"
or "+55 11..." in an ERP export must not become a formula in the analyst's spreadsheet (the
"formula injection" of CSV and XLSX files). openpyxl takes a string starting with "=" for a
formula, so the cell's type is set to string explicitly after its value.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

XlsxOption = Annotated[
    Path | None,
    typer.Option(
        "--xlsx",
        help="Grava também uma planilha XLSX (datas e valores como números).",
        dir_okay=False,
    ),
]
ColumnKind = Literal["text", "date", "money", "int", "percent"]

DATE_FORMAT = "dd/mm/yyyy"
# The literal "R$ " quoted: Excel and LibreOffice read unquoted letters as format codes. The
# separators follow the reader's locale (1.234,56 in pt-BR).
MONEY_FORMAT = '"R$ "#,##0.00'
PERCENT_FORMAT = "0.0%"
INT_FORMAT = "0"
WIDTHS = {"text": 24, "date": 12, "money": 15, "int": 10, "percent": 9}


@dataclass(frozen=True)
class Column:
    title: str
    kind: ColumnKind = "text"
    width: int | None = None


@dataclass(frozen=True)
class Sheet:
    """One tab: its title, columns and rows (one value per column; money in centavos, a
    percentage as a fraction: 0.25 for 25 %)."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def money(cents: int | None) -> Decimal | None:
    """Centavos as reais, exactly: 123456 -> Decimal("1234.56")."""
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def _text(value: Any) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Control characters (a stray byte in an imported name) cannot be stored in XLSX at all.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _cell(sheet: Any, value: Any, kind: ColumnKind) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return WriteOnlyCell(sheet, value=None)
    if kind == "date":
        day = value.date() if isinstance(value, datetime) else value
        if not isinstance(day, date):
            day = date.fromisoformat(str(day))
        cell = WriteOnlyCell(sheet, value=day)
        cell.number_format = DATE_FORMAT
        return cell
    if kind == "money":
        cell = WriteOnlyCell(sheet, value=money(int(value)))
        cell.number_format = MONEY_FORMAT
        return cell
    if kind == "int":
        cell = WriteOnlyCell(sheet, value=int(value))
        cell.number_format = INT_FORMAT
        return cell
    if kind == "percent":
        cell = WriteOnlyCell(sheet, value=Decimal(str(value)))
        cell.number_format = PERCENT_FORMAT
        return cell
    cell = WriteOnlyCell(sheet, value=_text(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> int:
    """Write `sheets` to `path` (replaced if it exists); the number of data rows written."""
    from openpyxl import Workbook  # heavy: only for the commands given --xlsx

    # Checked before writing: a write-only workbook that fails to save leaves its sheets'
    # temporary files behind.
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(path))
    workbook = Workbook(write_only=True)
    written = 0
    for given in sheets:
        # A sheet title has at most 31 characters and none of []:*?/\ (the XLSX rules).
        title = "".join(c for c in given.title if c not in "[]:*?/\\")[:31] or "Planilha"
        sheet = workbook.create_sheet(title)
        for index, column in enumerate(given.columns, start=1):
            width = column.width or max(WIDTHS[column.kind], len(column.title) + 2)
            sheet.column_dimensions[_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for column in given.columns:
            cell = _cell(sheet, column.title, "text")
            cell.font = _bold()
            header.append(cell)
        sheet.append(header)
        for row in given.rows:
            sheet.append(
                [
                    _cell(sheet, value, column.kind)
                    for value, column in zip(row, given.columns, strict=True)
                ]
            )
            written += 1
    workbook.save(path)
    return written


def _bold() -> Any:
    from openpyxl.styles import Font

    return Font(bold=True)
