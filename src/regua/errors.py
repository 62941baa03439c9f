"""The one error family: a stable English code, structured fields and a pt-BR message.

Entry points translate these once: the CLI to a one-line message and exit code 2, the web
layer to an HTTP status. Nothing below the entry points raises HTTP or Typer errors.
"""

from __future__ import annotations

from typing import Any

from regua.error_codes import ErrorCode


class ReguaError(Exception):
    """Base of every error regua raises on purpose.

    `message` is what a person reads (pt-BR); `code` is what a program matches on, one of
    `ErrorCode` (the registry of every code, in `error_codes.py`).
    """

    code: ErrorCode = ErrorCode.REGUA_ERROR
    http_status: int = 400

    def __init__(self, message: str, *, code: ErrorCode | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields: dict[str, Any] = fields

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}


class InputError(ReguaError):
    """Bad input that can be pinned to a place: a file, a row (line number) and a field."""

    code = ErrorCode.INVALID_INPUT
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        where = ":".join(str(part) for part in (file, row) if part is not None)
        prefix = f"{where}: " if where else ""
        if field:
            prefix += f"{field}: "
        super().__init__(prefix + message, code=code, file=file, row=row, field=field)
        self.reason = message
        self.file = file
        self.row = row
        self.field = field


class NotFound(ReguaError):
    code = ErrorCode.NOT_FOUND
    http_status = 404


class RuleViolation(ReguaError):
    """A request that is well formed but breaks a business or legal rule."""

    code = ErrorCode.RULE_VIOLATION
    http_status = 422


class WebhookNotConfigured(ReguaError):
    """No secret is configured: the endpoint refuses every call rather than trust anyone."""

    code = ErrorCode.WEBHOOK_NOT_CONFIGURED
    http_status = 503


class Unauthorized(ReguaError):
    code = ErrorCode.UNAUTHORIZED
    http_status = 401
