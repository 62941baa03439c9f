"""Reading spreadsheets as Brazilian businesses export them: CSV (`;` or `,`, UTF-8, UTF-8 with
BOM, Windows-1252) and XLSX, streamed row by row with the byte position for a progress bar.

Header names are matched loosely (case, accents, spaces and punctuation do not matter) against
the synonyms each importer declares, plus an explicit mapping given by the user.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from regua.errors import InputError, ReguaError

CHUNK = 1 << 20
CSV_DELIMITERS = (";", ",", "\t", "|")
# Python's csv module refuses a field longer than this (its default limit): no cell of an ERP
# export comes near it, so such a field is a damaged or hostile file, refused in one line.
CSV_FIELD_LIMIT = 131_072
# Columns read from an XLSX sheet: far more than any export regua reads (about 30 fields), far
# fewer than Excel's 16,384, which a 5 KB file can declare to make every row that wide.
XLSX_MAX_COLUMNS = 1_000

Progress = Callable[[int], None]


def header_key(text: str) -> str:
    """`Data de Vencimento ` -> `data_de_vencimento`: how headers are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = []
    for ch in plain.strip().lower():
        out.append(ch if ch.isalnum() else "_")
    return "_".join(part for part in "".join(out).split("_") if part)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else Windows-1252 when
    the whole file decodes as that; else the file is refused (`InputError`), before anything
    is read into the database: it holds bytes neither encoding defines (0x81, 0x8D, 0x8F,
    0x90, 0x9D are undefined in Windows-1252), so it is no spreadsheet export (a PDF, an
    image, random bytes).

    Checked over the whole file in chunks: an export can be plain ASCII for a million rows and
    carry its first "São Paulo" at the end.
    """
    with path.open("rb") as handle:
        bom = handle.read(3) == codecs.BOM_UTF8
    if _decodes(path, "utf-8"):
        return "utf-8-sig" if bom else "utf-8"
    if not bom and _decodes(path, "cp1252"):
        return "cp1252"
    raise InputError(
        "não é um arquivo de texto legível (CSV em UTF-8 ou Windows-1252, ou uma planilha XLSX)",
        file=str(path),
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_delimiter(header_line: str, file: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise InputError(
            "não encontrei o separador de colunas (; , tab ou |) no cabeçalho", file=file, row=1
        )
    return best


class _CountingReader(io.RawIOBase):
    """Counts the bytes the CSV reader has consumed, for the progress bar."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.position += n
        if self._progress is not None and n:
            self._progress(n)
        return n


@dataclass
class Table:
    """A header and an iterator of (line number, cells) pairs. Cells are str, or date/Decimal
    where the spreadsheet stored a typed value (XLSX)."""

    file: str
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    size_bytes: int
    header_line: int = 1  # after title lines without a separator


def open_table(path: Path, progress: Progress | None = None) -> Table:
    """Open a CSV or XLSX file for streaming."""
    if not path.exists():
        raise InputError("arquivo não encontrado", file=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path, progress)
    return _open_csv(path, progress)


def _open_csv(path: Path, progress: Progress | None) -> Table:
    encoding = detect_encoding(path)
    size = path.stat().st_size
    raw = path.open("rb")
    counting = _CountingReader(raw, progress)
    # The whole file decoded when the encoding was chosen; should it change on disk while it
    # is read, a byte that no longer decodes reads as U+FFFD rather than stopping the import.
    text = io.TextIOWrapper(
        io.BufferedReader(counting, CHUNK), encoding=encoding, errors="replace", newline=""
    )
    first = text.readline()
    # A report's title lines above the header (no separator in them) are skipped here; those
    # with separators are rows to `with_header_row`.
    original, skipped = first, 0
    while first and skipped < HEADER_SEARCH_ROWS and not any(d in first for d in CSV_DELIMITERS):
        first, skipped = text.readline(), skipped + 1
    if not first:  # no line with a separator: the error is about the first one
        first = original
    if not first.strip():
        raw.close()
        raise InputError("arquivo vazio: falta o cabeçalho", file=path.name, row=1)
    delimiter = detect_delimiter(first, path.name)
    header = next(csv.reader([first], delimiter=delimiter))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for cells in reader:
                if cells and any(cell.strip() for cell in cells):
                    # line_num counts lines read after the header, which readline() consumed
                    yield reader.line_num + 1 + skipped, cells
        except csv.Error as exc:
            raise InputError(
                _csv_problem(exc), file=path.name, row=reader.line_num + 1 + skipped
            ) from None
        finally:
            raw.close()

    return Table(path.name, header, rows(), size, header_line=1 + skipped)


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"um campo passa de {CSV_FIELD_LIMIT:_} caracteres".replace("_", ".")
    return f"CSV malformado ({exc})"


def _open_xlsx(path: Path, progress: Progress | None) -> Table:
    from openpyxl import load_workbook  # heavy; only when an XLSX arrives

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
        raise InputError(f"não consegui abrir a planilha: {exc}", file=path.name) from None
    sheet = workbook.worksheets[0]
    # The sheet's declared dimension (`<dimension ref="A1:XFD1048576"/>`) is what the writer
    # says, not what the sheet holds, and openpyxl pads every row to it: it serves only to
    # estimate progress. Rows are read as they are in the file, cut at the header's width.
    declared_rows = min(sheet.max_row or 1, 1_048_576) if hasattr(sheet, "max_row") else 1
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    try:
        # The width is that of the widest of the first rows, where the header is (a report's
        # title rows above it are narrower): never the far cell an attacker put at XFD1048576.
        head = list(sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True))
    except Exception as exc:  # a damaged sheet: openpyxl raises many unrelated types
        workbook.close()
        raise InputError(f"não consegui ler a planilha: {exc}", file=path.name) from None
    width = max((_filled_width(cells) for cells in head), default=0)
    if not width:
        workbook.close()
        raise InputError("planilha vazia: falta o cabeçalho", file=path.name, row=1)
    if width > XLSX_MAX_COLUMNS:
        workbook.close()
        raise InputError(
            f"o cabeçalho tem {width:_} colunas; o máximo é {XLSX_MAX_COLUMNS:_}".replace("_", "."),
            file=path.name,
            row=1,
        )
    header = ["" if cell is None else str(cell) for cell in head[0][:width]]
    while header and not header[-1].strip():
        header.pop()
    size = path.stat().st_size
    step = size // max(declared_rows, 1)
    iterator = sheet.iter_rows(min_row=2, max_col=width, values_only=True)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for line, cells in enumerate(iterator, start=2):
                if progress is not None and step:
                    progress(step)
                if not any(cell is not None and cell != "" for cell in cells):
                    continue  # an empty row, or a gap the file skipped
                yield line, [_xlsx_value(cell) for cell in cells]
        except ReguaError:
            raise
        except Exception as exc:  # a damaged sheet part found while reading rows
            raise InputError(f"não consegui ler a planilha: {exc}", file=path.name) from None
        finally:
            workbook.close()

    return Table(path.name, header, rows(), size)


def _filled_width(cells: tuple[Any, ...]) -> int:
    """How many cells of a row count, up to its last one holding something."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] is not None and str(cells[index]).strip():
            return index + 1
    return 0


def _xlsx_value(cell: Any) -> Any:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool):
        return "sim" if cell else "não"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        # Excel keeps 1234.56 as a binary float; its shortest repr is the number the user typed.
        return Decimal(repr(cell))
    return str(cell)


def resolve_columns(
    header: list[str],
    synonyms: Mapping[str, tuple[str, ...]],
    explicit: Mapping[str, str],
    file: str,
) -> dict[str, int]:
    """Map each known field to a column index.

    `explicit` maps field -> header text as written in the file (the user's `--map` option) and
    wins over the synonyms.
    """
    keys = [header_key(h) for h in header]
    found: dict[str, int] = {}
    for field, column in explicit.items():
        if field not in synonyms:
            known = ", ".join(sorted(synonyms))
            raise InputError(f"campo desconhecido no mapeamento: {field} (conhecidos: {known})")
        key = header_key(column)
        if key not in keys:
            raise InputError(f"coluna {column!r} do mapeamento não está no cabeçalho", file=file)
        found[field] = keys.index(key)
    for field, names in synonyms.items():
        if field in found:
            continue
        for name in (field, *names):
            key = header_key(name)
            if key in keys:
                found[field] = keys.index(key)
                break
    return found


# Title rows a report may put above its header ("Relatório de contas a receber", the company,
# the period): the header is looked for in the first rows only.
HEADER_SEARCH_ROWS = 30


def with_header_row(
    table: Table, fits: Callable[[list[str]], bool], header_row: int | None = None
) -> tuple[Table, int]:
    """`table` read from its real header: line `header_row` when given, else the first of the
    first `HEADER_SEARCH_ROWS` rows that `fits` (the first line when none does, so the caller
    says which column is missing). Returns the table and the header's line number."""
    if header_row == table.header_line or (header_row is None and fits(table.header)):
        return table, table.header_line
    seen: list[tuple[int, list[Any]]] = []
    found: tuple[int, list[Any]] | None = None
    for line, cells in table.rows:
        seen.append((line, cells))
        text = ["" if cell is None else str(cell) for cell in cells]
        if (header_row is None and fits(text)) or line == header_row:
            found = (line, text)
            break
        if header_row is None and len(seen) >= HEADER_SEARCH_ROWS:
            break
        if header_row is not None and line > header_row:
            break
    if found is None:
        if header_row is not None:
            raise InputError(
                f"a linha {header_row} do cabeçalho está vazia ou passa do fim do arquivo",
                file=table.file,
            )
        replay = iter(seen)

        def again() -> Iterator[tuple[int, list[Any]]]:
            yield from replay
            yield from table.rows

        return Table(table.file, table.header, again(), table.size_bytes), table.header_line
    line, header = found
    return Table(table.file, header, table.rows, table.size_bytes, header_line=line), line
