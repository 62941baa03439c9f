"""Fixed-width fields of CNAB records: readers that convert them and a builder that writes them.

Positions are the 1-based inclusive positions of the layout manuals; parsers slice
``line[start - 1 : end]`` themselves (fast path) and call the readers only to convert.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from regua.payments.cnab.records import CnabError


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

    def date_in(self, form: str, text: str, line: int, what: str) -> date | None:
        """A date in one of the forms bank layouts use (``layouts.DateForm``)."""
        try:
            if form == "ddmmyy":
                return _ddmmaa(text)
            if form == "ddmmyyyy":
                return _ddmmaaaa(text)
            return _aaaammdd(text)
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
def _aaaammdd(text: str) -> date | None:
    if text == "00000000" or not text.strip():
        return None
    if len(text) != 8 or not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


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


def reasons_of(text: str, width: int = 2) -> tuple[str, ...]:
    """Motivos: ``width``-character codes side by side; zeros and blanks mean none."""
    if not text.strip(" ") or not text.strip("0"):  # all blank or all zeros: the usual case
        return ()
    out = []
    for i in range(0, len(text) - width + 1, width):
        code = text[i : i + width]
        if code.strip() and code.strip("0"):
            out.append(code.strip())
    return tuple(out)


def document_of(kind: str, number: str) -> str:
    """CPF (kind 1/01) or CNPJ from a zero-filled inscription field."""
    number = number.strip()
    if kind.strip().lstrip("0") == "1":
        return number[-11:]
    return number[-14:]


# --- writing ----------------------------------------------------------------------------------


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
