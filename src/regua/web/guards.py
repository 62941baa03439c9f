"""What every request passes through: a body size limit, database errors answered as a JSON 503,
and errors nobody expected answered as a plain 500 whose log line names where it happened, never
the data (phones, message texts, names a database error would quote)."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regua.error_codes import ErrorCode
from regua.logs import masked_path

log = logging.getLogger(__name__)


class _TooLarge(Exception):
    pass


class RequestGuard:
    """Pure ASGI middleware (so nothing re-raises the error to the server's own logger)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        upload_suffix: str | None = None,
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # The portal's receipt upload takes a larger body (its route checks the file's own size).
        self.upload_suffix = upload_suffix
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        path = str(scope.get("path", ""))
        if self.upload_suffix and path.startswith("/p/") and path.endswith(self.upload_suffix):
            limit = max(limit, self.max_upload_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse_large(send, path, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _refuse_large(send, path, limit)
        except DBAPIError as exc:
            # The database down or refusing: the caller may retry later (a provider's webhook
            # does), and the body says so in JSON, never a traceback.
            log.error(
                "database error on %s %s: %s",
                scope.get("method"),
                masked_path(scope.get("path", "")),
                type(exc.orig or exc).__name__,
            )
            if not started and path.startswith("/p/"):
                await _portal_page(send, 503)
            elif not started:
                await _answer(
                    send,
                    503,
                    ErrorCode.DATABASE_UNAVAILABLE,
                    "banco de dados indisponível; a chamada pode ser repetida",
                )
        except Exception as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:])
            log.error(
                "internal error on %s %s: %s at %s",
                scope.get("method"),
                masked_path(scope.get("path", "")),
                type(exc).__name__,
                where,
            )
            if not started and path.startswith("/p/"):
                await _portal_page(send, 500)
            elif not started:
                await _answer(
                    send, 500, ErrorCode.INTERNAL_ERROR, "erro interno; a chamada pode ser repetida"
                )


def _too_large(limit: int) -> str:
    return f"corpo da requisição maior que o limite de {limit} bytes"


# What a debtor on the portal reads instead of the API's JSON: a page in pt-BR, by status.
_PORTAL_PAGES = {
    413: (
        "Arquivo grande demais",
        "O envio passou do tamanho aceito. Volte, escolha um arquivo menor (PDF, JPEG ou PNG) "
        "e tente de novo.",
    ),
    503: (
        "Serviço indisponível no momento",
        "Não conseguimos abrir seus dados agora. Tente de novo em alguns minutos pelo mesmo link.",
    ),
    500: (
        "Algo deu errado",
        "Não conseguimos concluir o pedido. Tente de novo pelo mesmo link; se continuar, fale "
        "com a empresa pelos contatos da mensagem.",
    ),
}


async def _portal_page(send: Send, status: int) -> None:
    title, text = _PORTAL_PAGES[status]
    body = (
        '<!DOCTYPE html><html lang="pt-BR"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main>"
        "</body></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _refuse_large(send: Send, path: str, limit: int) -> None:
    """413: a debtor on the portal gets a page in pt-BR, an API caller JSON."""
    if path.startswith("/p/"):
        await _portal_page(send, 413)
    else:
        await _answer(send, 413, ErrorCode.REQUEST_TOO_LARGE, _too_large(limit))


async def _answer(send: Send, status: int, code: ErrorCode, message: str) -> None:
    body: Any = json.dumps({"code": code.value, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
