"""Text from a customer's spreadsheet made safe to show on one line: a name, a city, a number.

Excel writes a line break into a cell with Alt+Enter, ERPs leave tabs and NULs behind, and a
hostile file can carry any control character. A field that reaches a message header (the name
in ``To:``, the subject) or a one-line list must hold none of them: each run of control
characters, line or paragraph separators and whitespace becomes one space. Nothing is decoded:
an RFC 2047 encoded word (``=?utf-8?q?...?=``) stays the literal text it is; the e-mail writer
is the one that keeps it from being read as a header (`channels.smtp`).
"""

from __future__ import annotations

import re
import unicodedata

# Categories whose characters never belong inside a one-line field: Cc (C0/C1 controls, NUL,
# CR, LF, tab, U+0085), Zl/Zp (U+2028, U+2029), Cs (lone surrogates a decoder let through).
_BREAKING = frozenset({"Cc", "Zl", "Zp", "Cs"})
_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """`text` with every control character and line break turned into a single space, runs of
    spaces collapsed and the ends stripped."""
    if text.isprintable():  # the common case, about ten times cheaper than the loop below
        return _SPACES.sub(" ", text).strip() if "  " in text else text.strip()
    cleaned = "".join(
        " " if unicodedata.category(ch) in _BREAKING or ch.isspace() else ch for ch in text
    )
    return _SPACES.sub(" ", cleaned).strip()
