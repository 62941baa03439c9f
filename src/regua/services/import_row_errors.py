"""A spreadsheet row refused, or imported with a warning: the file, the line, the field (its
pt-BR name) and the reason, in pt-BR."""

from __future__ import annotations

from dataclasses import dataclass

from regua.error_codes import ErrorCode


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    field: str | None
    code: ErrorCode
    message: str
    # True: the row was imported and only this part of it was left out (a bad e-mail), or the
    # row is flagged for a person to look at (an invoice number billed twice).
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}: "
        return where + (f"{self.field}: " if self.field else "") + self.message


class RowInvalid(Exception):
    """A row refused (or, as a warning, part of it): the field (None for the row) and the
    reason, in pt-BR."""

    def __init__(
        self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
