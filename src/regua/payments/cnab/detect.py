"""Reading a CNAB return file of either layout: bytes to lines, and the layout by line width.

``parse_return`` decodes the bytes (latin-1, as banks write them), splits lines (CRLF or LF,
trailing blank line and DOS end-of-file ``\\x1a`` tolerated), picks CNAB 240 or CNAB 400 by the
line length and hands over to ``cnab240`` / ``cnab400``. Any malformed line refuses the whole
file with a ``CnabError`` naming the file, the line and the reason, so the caller applies nothing
from a file it could only half read. Layouts: BRAZIL.md sections 3-4.
"""

from __future__ import annotations

from collections.abc import Callable

from regua.payments.cnab import cnab240, cnab400
from regua.payments.cnab.records import CnabError, ReturnFile


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
