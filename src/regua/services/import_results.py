"""What one import did: counts, refused rows and warnings, the line its header was on, the
columns nobody read, and the reject file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from regua.errors import InputError
from regua.services.import_columns import ImportKind
from regua.services.import_row_errors import RowError


@dataclass
class ImportResult:
    kind: ImportKind
    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Rows imported with something left out (a bad e-mail) or flagged (a duplicate).
    warnings: list[RowError] = field(default_factory=list)
    reject_file: str | None = None
    strict: bool = False
    applied: bool = True  # False when strict mode refused the file
    header_row: int = 1  # the line the header was found on
    unused_columns: list[str] = field(default_factory=list)  # as the header writes them
    unmatched: int = 0  # payments kept without an invoice (`regua payments --unmatched`)
    unmatched_days: int = 0  # `regua payments --days` that lists the oldest of them
    history_payments: int = 0  # payments recorded from invoice rows' payment dates

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "customers_created": self.customers_created,
            "reject_file": self.reject_file,
            "applied": self.applied,
            "header_row": self.header_row,
            "unused_columns": self.unused_columns,
            "unmatched": self.unmatched,
            "history_payments": self.history_payments,
            "errors": [asdict(e) for e in self.errors[:100]],
            "warnings": [asdict(e) for e in self.warnings[:100]],
        }


class StrictImportRefused(InputError):
    """Strict mode: at least one bad row, so nothing was imported."""
