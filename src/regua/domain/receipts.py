"""What a receipt (comprovante) a debtor sends may be: a PDF, a JPEG or a PNG, told by its first
bytes, never by its name or the browser's word alone (a renamed executable says ".pdf" too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceiptType:
    media_type: str
    extension: str  # what the stored file is named with
    names: tuple[str, ...]  # the extensions a sender's file name may have


_TYPES = (
    (b"%PDF-", ReceiptType("application/pdf", ".pdf", (".pdf",))),
    (b"\xff\xd8\xff", ReceiptType("image/jpeg", ".jpg", (".jpg", ".jpeg"))),
    (b"\x89PNG\r\n\x1a\n", ReceiptType("image/png", ".png", (".png",))),
)
ACCEPTED_NAMES = tuple(name for _, kind in _TYPES for name in kind.names)
MAGIC_BYTES = max(len(magic) for magic, _ in _TYPES)


def receipt_type(head: bytes, file_name: str) -> ReceiptType | None:
    """The type of a receipt whose content starts with `head` and whose name ends with one of
    that type's extensions; None when either says it is something else."""
    name = file_name.lower()
    for magic, kind in _TYPES:
        if head.startswith(magic):
            return kind if name.endswith(kind.names) else None
    return None
