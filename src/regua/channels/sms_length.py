"""SMS length: GSM-7 or UCS-2 encoding, character units and the number of billed segments.

Rules (3GPP TS 23.038 / 23.040): a message whose characters all belong to the GSM 03.38 default
alphabet is sent in GSM-7, where a basic character costs 1 unit and an extension-table character
(``^ { } \\ [ ~ ] | €`` and form feed) costs 2 (escape + character); one segment holds 160
units, a concatenated message 153 per segment. Any other character switches the whole message
to UCS-2: 70 UTF-16 units alone, 67 per segment when concatenated. A segment never splits an
escape pair or a surrogate pair.

Hand-written on purpose: the PyPI candidates are either codecs only (``gsm0338`` encodes but
does not count segments or split them the way carriers bill) or unmaintained counters; the
alphabet is a fixed 137-character table that has not changed since the standard was written,
so a runtime dependency would cost more than the table below.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

# GSM 03.38 default alphabet, in code-point order 0x00..0x7F, without 0x1B (the escape itself).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Typography that word processors and people paste into templates, mapped to GSM-7 look-alikes.
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2022": "-",
    "\u00b7": "-",
    "ª": "a",
    "º": "o",
    "°": "o",
    "\t": " ",
}

Encoding = Literal["gsm7", "ucs2"]


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one segment for this message (160/153 or 70/67)
    remaining: int  # units still free in the last segment


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in GSM-7 (basic or extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, encoding: Encoding) -> list[int]:
    if encoding == "gsm7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def sms_length(text: str) -> SmsLength:
    """Encoding, units and billed segments of `text` (an empty text is one segment)."""
    encoding: Encoding = "gsm7" if is_gsm7(text) else "ucs2"
    units = _units(text, encoding)
    total = sum(units)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == "gsm7" else (UCS2_SINGLE, UCS2_MULTI)
    if total <= single:
        return SmsLength(encoding, total, 1, single, single - total)
    # Pack characters greedily so that no escape or surrogate pair straddles two segments.
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return SmsLength(encoding, total, segments, multi, multi - used)


def sms_segments(text: str) -> int:
    """Number of segments the carrier bills for `text`."""
    return sms_length(text).segments


def to_gsm7(text: str) -> str:
    """Replace characters outside GSM-7 with their closest GSM-7 form.

    Accented letters that GSM-7 lacks lose the accent (``ã`` -> ``a``, ``ç`` -> ``c``); letters
    it has are kept (``é``, ``à``, ``ü``); typographic quotes and dashes become ASCII; symbols
    with no equivalent (emoji) are dropped.
    """
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _LOOKALIKES:
            out.append(_LOOKALIKES[ch])
        else:
            base = "".join(
                part
                for part in unicodedata.normalize("NFKD", ch)
                if not unicodedata.combining(part)
                and (part in GSM7_BASIC or part in GSM7_EXTENSION)
            )
            out.append(base)
    return "".join(out)
