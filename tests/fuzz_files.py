"""Spreadsheets made by hypothesis to break the importer, and the check every one must pass.

Shared by the bounded property tests (tests/services/test_import_fuzz.py) and the long run for
the night (bench/fuzz_night.py). The check: importing the file either returns a result or raises
a `ReguaError` whose message is one line; a refused file (strict, or a file-level refusal)
leaves every table exactly as it was. Anything else (a traceback) fails.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine, select

from regua.errors import ReguaError
from regua.services.importing import ImportKind, StrictImportRefused, import_file
from regua.store.tables import metadata
from tests.builders import units

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

HEADERS: dict[ImportKind, list[str]] = {
    "customers": ["codigo_cliente", "nome", "cpf_cnpj", "email", "celular", "uf", "endereco"],
    "invoices": ["id", "codigo_cliente", "descricao", "emissao", "vencimento", "valor", "saldo"],
    "payments": ["id_pagamento", "id_titulo", "data_pagamento", "valor", "forma"],
}

# What the probe of the importer found, and what careless ERPs write.
HOSTILE_TEXTS = [
    "=?utf-8?q?x=0D=0AReply-To:_golpe@evil.example=0D=0A=0D=0APague?=",
    '=HYPERLINK("http://evil.example";"x")',
    "@SUM(1)",
    "\t=1+1",
    "Maria\r\nSouza",
    "Ana\x00Paula",
    "9" * 1000,
    "99999999999999999999,00",
    "92.000.000.000.000,00",
    "-12,50",
    "1e300",
    "NaN",
    "31/12/9999",
    "00/00/0000",
    "29/02/2025",
    "0001-01-01",
    "529.982.247-25",
    "11.444.777/0001-61",
    "(11) 98765-4321",
    "+5511987654321",
    "maria@exemplo.com.br",
    "sim",
    "pago",
    "SP",
    "",
    " ",
    "\u2028",
    "\ufeff",
    "\ud800",
]

_text = st.one_of(
    st.sampled_from(HOSTILE_TEXTS), st.text(max_size=40), st.from_regex(r"[0-9.,/-]{1,25}")
)


def _csv_cell(value: str, delimiter: str) -> str:
    if any(ch in value for ch in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[ImportKind, bytes]:
    """A CSV as an ERP might write it, its cells drawn from hostile texts and random ones, in
    UTF-8 (with or without BOM) or Windows-1252 (undefined bytes possible), or raw bytes."""
    kind: ImportKind = draw(st.sampled_from(list(HEADERS)))
    if draw(st.integers(0, 9)) == 0:
        return kind, draw(st.binary(max_size=600))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    header = HEADERS[kind]
    rows = draw(st.lists(st.lists(_text, min_size=0, max_size=len(header) + 2), max_size=8))
    lines = [delimiter.join(header)]
    lines += [delimiter.join(_csv_cell(cell, delimiter) for cell in row) for row in rows]
    text = "\r\n".join(lines) + "\r\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(encoding, errors="surrogatepass" if encoding != "cp1252" else "replace")
    if draw(st.booleans()):  # a stray byte somewhere, as a damaged export has
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at:]
    return kind, data


_xlsx_cell = st.one_of(
    st.none(),
    _text.map(lambda s: "".join(ch for ch in s if ch.isprintable() or ch == " ")),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 1e-300, 0.1, 92_000_000_000_000.0]),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.booleans(),
)


@st.composite
def xlsx_sheets(
    draw: st.DrawFn, far_cells: bool = True
) -> tuple[ImportKind, list[list[Any]], str | None]:
    """An XLSX sheet's rows (the header first), and maybe one far cell (`XFD1048576`)."""
    kind: ImportKind = draw(st.sampled_from(list(HEADERS)))
    header = HEADERS[kind]
    rows = draw(st.lists(st.lists(_xlsx_cell, max_size=len(header) + 2), max_size=6))
    # A far cell costs about a second (openpyxl walks the empty rows before it): one in ten.
    far = draw(st.sampled_from([None] * 9 + ["XFD1048576"]) if far_cells else st.none())
    return kind, [list(header), *rows], far


def write_sheet(path: Path, rows: list[list[Any]], far: str | None) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if far:
        sheet[far] = "x"
    workbook.save(path)
    return path


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def check_import(
    engine: Engine, creditor_id: int, kind: ImportKind, path: Path, strict: bool
) -> None:
    """Import `path`: a result, or a one-line `ReguaError` with the database untouched."""
    before = snapshot(engine)
    try:
        result = import_file(
            units(engine), kind, path, creditor_id=creditor_id, now=NOW, strict=strict
        )
    except StrictImportRefused as exc:
        assert "\n" not in exc.message
        assert snapshot(engine) == before, "a refused strict import changed the database"
        return
    except ReguaError as exc:
        assert "\n" not in exc.message, exc.message
        assert snapshot(engine) == before, "a refused file changed the database"
        return
    assert not (strict and result.errors)
    for error in result.errors:
        assert "\n" not in error.message
