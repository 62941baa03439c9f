"""CNAB return files ("arquivo retorno de cobrança"): shared records, field readers, detection.

``parse_return`` is the entry point: it decodes the bytes (latin-1, as banks write them), splits
lines (CRLF or LF, trailing blank line and DOS end-of-file ``\\x1a`` tolerated), picks CNAB 240 or
CNAB 400 by the line length and hands over to ``cnab240`` / ``cnab400``. Any malformed line
refuses the whole file with a ``CnabError`` naming the file, the line and the reason, so the
caller applies nothing from a file it could only half read. Layouts: BRAZIL.md sections 3-4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal, NamedTuple

from regua.errors import InputError

Layout = Literal["cnab240", "cnab400"]
RecordKind = Literal[
    "settlement", "reversal", "entry_confirmed", "entry_rejected", "written_off", "protest", "other"
]


class CnabError(InputError):
    """A return file that cannot be read; ``file`` and ``row`` (1-based line) say where."""

    code = "invalid_cnab"

    def __init__(self, message: str, *, file: str, line: int | None) -> None:
        super().__init__(message, file=file, row=line, code=self.code)
        self.line = line


class ReturnRecord(NamedTuple):
    """One occurrence about one título, as the bank reported it.

    Amounts are centavos; ``paid_on`` is the data da ocorrência (the payment date for a
    liquidação), ``credited_on`` the date the money reaches the account. A named tuple: a
    return file holds 100,000 of them, built at a fraction of a frozen dataclass's cost.
    """

    line: int  # 1-based line of the first record of the title (segment T in CNAB 240)
    occurrence: str
    occurrence_text: str
    kind: RecordKind
    nosso_numero: str  # as the bank wrote it, spaces stripped (leading zeros kept)
    seu_numero: str
    company_ref: str  # uso da empresa / nº de controle do participante: the sender's own id
    due_date: date | None
    face_cents: int
    paid_cents: int
    interest_cents: int  # juros + multa paid
    discount_cents: int
    rebate_cents: int  # abatimento
    fee_cents: int  # tarifa / despesas de cobrança
    net_cents: int
    paid_on: date | None
    credited_on: date | None
    reasons: tuple[str, ...] = ()

    @property
    def nosso_numero_digits(self) -> str:
        """Nosso número without leading zeros, for matching against numbers stored as typed."""
        stripped = self.nosso_numero.lstrip("0")
        return stripped or ("0" if self.nosso_numero else "")

    @property
    def is_settlement(self) -> bool:
        return self.kind == "settlement"


@dataclass(frozen=True)
class ReturnFile:
    layout: Layout
    bank_code: str
    company_document: str
    generated_on: date | None
    records: list[ReturnRecord] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SettlementLine:
    """Writer input: one title in a return file built by ``cnab240.write_return`` or
    ``cnab400.write_return`` (tests, demo data, benchmarks)."""

    nosso_numero: str
    seu_numero: str = ""
    company_ref: str = ""
    due_date: date | None
    face_cents: int
    paid_cents: int
    interest_cents: int = 0
    discount_cents: int = 0
    rebate_cents: int = 0
    fee_cents: int = 0
    net_cents: int | None = None  # None: paid - fee (the tarifa is taken from the payment)
    paid_on: date | None
    credited_on: date | None
    occurrence: str = "06"
    reasons: tuple[str, ...] = ()

    @property
    def net(self) -> int:
        if self.net_cents is not None:
            return self.net_cents
        return self.paid_cents - self.fee_cents


# --------------------------------------------------------------------------- occurrences

Occurrences = dict[str, tuple[str, RecordKind]]


def describe(table: Occurrences, code: str, bank_code: str) -> tuple[str, RecordKind]:
    """Text and kind of an occurrence code.

    A code missing from the bank's table does not refuse the file: it is reported as "other",
    so it is never taken for a payment, and its text says it is not catalogued.
    """
    found = table.get(code)
    if found is not None:
        return found
    return (f"ocorrência {code} não catalogada para o banco {bank_code}", "other")


# --------------------------------------------------------------------------- field readers
#
# Positions below are the 1-based inclusive positions of the layout manuals; callers slice
# ``line[start - 1 : end]`` themselves (fast path) and call these only to convert.


class FieldReader:
    """Converts fixed-width fields of one file, raising ``CnabError`` with file and line."""

    __slots__ = ("file",)

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, line: int | None, message: str) -> CnabError:
        return CnabError(message, file=self.file, line=line)

    def amount(self, text: str, line: int, what: str) -> int:
        """``9(n)V99`` -> centavos; an all-blank field reads as zero."""
        if text.isdigit():
            try:
                return int(text)
            except ValueError:  # non-ASCII digits such as '²' (latin-1)
                pass
        elif not text.strip():
            return 0
        raise self.error(line, f"{what} não numérico: {text!r}")

    def number(self, text: str, line: int, what: str) -> int:
        """A numeric field that must be filled (counts, sequences)."""
        if text.isdigit():
            try:
                return int(text)
            except ValueError:
                pass
        raise self.error(line, f"{what} não numérico: {text!r}")

    def date8(self, text: str, line: int, what: str) -> date | None:
        """``DDMMAAAA``; zeros or blanks mean no date."""
        try:
            return _ddmmaaaa(text)
        except ValueError:
            raise self.error(line, f"{what} inválida: {text}") from None

    def date6(self, text: str, line: int, what: str) -> date | None:
        """``DDMMAA`` (CNAB 400); zeros or blanks mean no date."""
        try:
            return _ddmmaa(text)
        except ValueError:
            raise self.error(line, f"{what} inválida: {text}") from None


@lru_cache(maxsize=4096)
def _ddmmaaaa(text: str) -> date | None:
    # Dates repeat across a file (one payment day, a few due dates): caching keeps 200,000-line
    # files fast.
    if text == "00000000" or not text.strip():
        return None
    if len(text) != 8 or not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return date(int(text[4:8]), int(text[2:4]), int(text[0:2]))


@lru_cache(maxsize=4096)
def _ddmmaa(text: str) -> date | None:
    if text == "000000" or not text.strip():
        return None
    if len(text) != 6 or not text.isdigit() or not text.isascii():
        raise ValueError(text)
    year = int(text[4:6])
    # CNAB 400 keeps two-digit years; files predate 2070 and postdate 1970.
    year += 2000 if year < 70 else 1900
    return date(year, int(text[2:4]), int(text[0:2]))


def reasons_of(text: str) -> tuple[str, ...]:
    """Motivos: 2-character codes side by side; ``00`` and blanks mean none."""
    if not text.strip(" ") or not text.strip("0"):  # all blank or all zeros: the usual case
        return ()
    out = []
    for i in range(0, len(text) - 1, 2):
        code = text[i : i + 2]
        if code.strip() and code != "00":
            out.append(code.strip())
    return tuple(out)


def document_of(kind: str, number: str) -> str:
    """CPF (kind 1/01) or CNPJ from a zero-filled inscription field."""
    number = number.strip()
    if kind.strip().lstrip("0") == "1":
        return number[-11:]
    return number[-14:]


# --------------------------------------------------------------------------- detection


def split_lines(data: bytes) -> list[str]:
    """Bytes -> lines without terminators (latin-1; CRLF, LF or CR; trailing EOF/blank dropped)."""
    text = data.decode("latin-1").rstrip("\x1a")
    if "\n" in text:
        if text.count("\n") == text.count("\r\n"):  # CRLF throughout: one split does it
            lines = text.split("\r\n")
        else:
            lines = text.split("\n")
            lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    else:
        lines = text.split("\r")
    while lines and not lines[-1].strip(" \x1a"):
        lines.pop()
    return lines


def parse_return(data: bytes, *, filename: str = "<arquivo>") -> ReturnFile:
    """Read a CNAB 240 or CNAB 400 return file.

    Raises:
        CnabError: the first problem found, naming the file and line; nothing is returned
        from a file that has one.
    """
    from regua.payments import cnab240, cnab400  # the layouts import this module

    lines = split_lines(data)
    if not lines:
        raise CnabError("arquivo vazio", file=filename, line=None)
    width = len(lines[0])
    parser: Callable[[list[str], str], ReturnFile]
    if width == 240:
        parser = cnab240.parse_lines
    elif width == 400:
        parser = cnab400.parse_lines
    else:
        raise CnabError(
            f"linha com {width} caracteres; esperado 240 (CNAB 240) ou 400 (CNAB 400)",
            file=filename,
            line=1,
        )
    return parser(lines, filename)


# --------------------------------------------------------------------------- writing


class LineBuilder:
    """A fixed-width record filled field by field at 1-based inclusive positions (writers)."""

    __slots__ = ("chars", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.chars = [" "] * width

    def _put(self, start: int, end: int, text: str) -> None:
        size = end - start + 1
        if len(text) != size:
            raise ValueError(f"field {start}-{end} needs {size} characters, got {text!r}")
        self.chars[start - 1 : end] = text

    def num(self, start: int, end: int, value: int | str) -> LineBuilder:
        """Right-aligned, zero-filled; strings (e.g. a nosso número with DV 'P') kept as text."""
        text = str(value)
        size = end - start + 1
        if (isinstance(value, int) and value < 0) or len(text) > size:
            raise ValueError(f"value {value!r} does not fit positions {start}-{end}")
        self._put(start, end, text.rjust(size, "0"))
        return self

    def alpha(self, start: int, end: int, text: str, *, cut: bool = False) -> LineBuilder:
        """Left-aligned, space-filled; ``cut`` truncates (names), otherwise too long raises."""
        size = end - start + 1
        text.encode("latin-1")  # CNAB files are single-byte: refuse what cannot be written
        if len(text) > size:
            if not cut:
                raise ValueError(f"text {text!r} does not fit positions {start}-{end}")
            text = text[:size]
        self._put(start, end, text.ljust(size))
        return self

    def date8(self, start: int, value: date | None) -> LineBuilder:
        self._put(start, start + 7, "00000000" if value is None else value.strftime("%d%m%Y"))
        return self

    def date6(self, start: int, value: date | None) -> LineBuilder:
        self._put(start, start + 5, "000000" if value is None else value.strftime("%d%m%y"))
        return self

    def build(self) -> str:
        return "".join(self.chars)


def join_lines(lines: list[str]) -> bytes:
    """Records -> file bytes: CRLF after every record, latin-1, as bank systems expect."""
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")
