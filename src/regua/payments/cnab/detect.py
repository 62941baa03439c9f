"""Reading a CNAB return file of either layout: bytes to lines, and the layout by its header.

``parse_return`` decodes the bytes (latin-1, as banks write them), splits lines (CRLF or LF,
trailing blank line and DOS end-of-file ``\\x1a`` tolerated), picks CNAB 240 or CNAB 400 by the
header and hands over to ``cnab240`` / ``cnab400``. Files as they arrive are accepted when
they can be read unambiguously, and what deviates is named once per file in the result's
``warnings``: lines whose trailing blanks were trimmed (completed with blanks), a line longer
than the layout by trailing blanks only. Any other malformed line refuses the whole file with a
``CnabError`` naming the file, the line and the reason, so the caller applies nothing from a
file it could only half read. Layouts: BRAZIL.md sections 3-4.
"""

from __future__ import annotations

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


def _width_of(first: str) -> int | None:
    """The layout's line width as the header says it, whatever the header's own length."""
    if len(first) == 240 or (len(first) >= 8 and first[3:8] == "00000" and first[:3].isdigit()):
        return 240
    if len(first) == 400 or first[:9] in ("02RETORNO", "01REMESSA") or first[:2] in ("02", "01"):
        return 400 if len(first) >= 100 or first[2:9] in ("RETORNO", "REMESSA") else None
    return None


def _fit(lines: list[str], width: int, filename: str) -> tuple[list[str], list[str]]:
    """Lines completed to ``width`` when only trailing blanks are missing or in excess."""
    if max(map(len, lines)) == width == min(map(len, lines)):  # the usual case, at C speed
        return lines, []
    short: list[int] = []
    long: list[int] = []
    out = lines
    for index, line in enumerate(lines):
        size = len(line)
        if size == width:
            continue
        if out is lines:
            out = list(lines)
        if size > width and not line[width:].strip():
            long.append(size)
            out[index] = line[:width]
        elif size < width and width == 240 and not line[-1:].isspace():
            # CNAB 240 records end in blanks (uso exclusivo FEBRABAN) that editors and some
            # transfers trim; a CNAB 400 record ends in its sequence number, never in blanks.
            short.append(size)
            out[index] = line.ljust(width)
        else:
            raise CnabError(
                f"linha com {size} caracteres; esperado {width}", file=filename, line=index + 1
            )
    notes = []
    if short:
        notes.append(
            f"{len(short)} linha(s) com os brancos finais cortados (larguras "
            f"{min(short)}–{max(short)}; esperado {width}): completadas com brancos"
        )
    if long:
        notes.append(
            f"{len(long)} linha(s) com brancos além da posição {width} "
            f"(larguras até {max(long)}): ignorados"
        )
    return out, notes


def parse_return(data: bytes, *, filename: str = "<arquivo>") -> ReturnFile:
    """Read a CNAB 240 or CNAB 400 return file.

    Raises:
        CnabError: the first problem found, naming the file and line; nothing is returned
        from a file that has one.
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise CnabError(
            "byte nulo (NUL) no arquivo: não é um arquivo de texto CNAB íntegro",
            file=filename,
            line=line,
        )
    lines = split_lines(data)
    if not lines:
        raise CnabError("arquivo vazio", file=filename, line=None)
    width = _width_of(lines[0])
    if width is None:
        raise CnabError(
            f"linha com {len(lines[0])} caracteres e sem header CNAB reconhecível; esperado "
            "240 (CNAB 240) ou 400 (CNAB 400)",
            file=filename,
            line=1,
        )
    lines, warnings = _fit(lines, width, filename)
    if width == 240:
        return cnab240.parse_lines(lines, filename, warnings)
    return cnab400.parse_lines(lines, filename, warnings)
