"""Incoming payment webhooks: HMAC-SHA256 signatures and the Banco Central Pix API payload.

The Pix payload is the one the PSPs post under the BCB *API Pix* specification
(``POST {webhookUrl}/pix`` with ``{"pix": [...]}``); amounts come as decimal strings
(``"110.00"``) and instants as RFC 3339 text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from regua.domain.amount_limits import AmountOutOfRange, check_amount
from regua.domain.payment_dates import implausible_payment_date
from regua.error_codes import ErrorCode
from regua.errors import InputError, Unauthorized

SIGNATURE_PREFIX = "sha256="

# BCB API Pix: valor "\d{1,10}\.\d{2}", txid "[a-zA-Z0-9]{1,35}"; the end-to-end id is
# 32 characters (E + ISPB + timestamp + sequence).
# [0-9], not \d: \d takes any script's digits ("١.00" would be read as 1,00).
_AMOUNT_RE = re.compile(r"^[0-9]{1,10}\.[0-9]{2}$")
_TXID_RE = re.compile(r"^[a-zA-Z0-9]{1,35}$")
_E2E_RE = re.compile(r"^[a-zA-Z0-9]{32}$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class PixRefund:
    """One devolução of a Pix, as the PSP reports it inside the Pix."""

    id: str  # the devolução id given when it was requested; unique per Pix
    amount_cents: int
    status: str  # EM_PROCESSAMENTO | DEVOLVIDO | NAO_REALIZADO
    settled_at: datetime | None = None  # horario.liquidacao, once DEVOLVIDO

    @property
    def settled(self) -> bool:
        return self.status == "DEVOLVIDO"


@dataclass(frozen=True)
class PixReceived:
    """One Pix credited to the receiver's account."""

    end_to_end_id: str
    txid: str | None
    amount_cents: int
    paid_at: datetime  # aware, UTC
    payer_info: str | None
    refunded_cents: int = 0  # sum of refunds (devoluções) already settled (status DEVOLVIDO)
    refunds: tuple[PixRefund, ...] = ()  # every devolução reported, settled or not
    key: str | None = None  # chave: the receiver's Pix key, which says whose money it is


# --------------------------------------------------------------------------- signatures


def sign(body: bytes, secret: str) -> str:
    """Header value ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    if not secret:
        raise ValueError("webhook secret is empty")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Check the signature header of a webhook against the raw body.

    Raises:
        Unauthorized: missing, malformed or wrong signature (compared in constant time).
        ValueError: empty secret, a configuration mistake that must not accept every request.
    """
    expected = sign(body, secret)
    if header is None or not header.strip():
        raise Unauthorized(
            "assinatura do webhook ausente", code=ErrorCode.WEBHOOK_SIGNATURE_MISSING
        )
    value = header.strip()
    if not value.lower().startswith(SIGNATURE_PREFIX) or not _HEX_RE.match(
        value[len(SIGNATURE_PREFIX) :]
    ):
        raise Unauthorized(
            "assinatura do webhook malformada (esperado sha256=<hex>)",
            code=ErrorCode.WEBHOOK_SIGNATURE_INVALID,
        )
    received = SIGNATURE_PREFIX + value[len(SIGNATURE_PREFIX) :].lower()
    if not hmac.compare_digest(received.encode("ascii"), expected.encode("ascii")):
        raise Unauthorized(
            "assinatura do webhook inválida", code=ErrorCode.WEBHOOK_SIGNATURE_INVALID
        )


# --------------------------------------------------------------------------- JSON bodies

# Deeper than any provider's payload (WhatsApp's is 7 levels): a body nested thousands of levels
# deep is refused before Python's recursion limit turns it into a crash.
MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} não é um número JSON")


def load_webhook_json(body: bytes) -> Any:
    """The JSON document of a webhook body, refused (InputError, HTTP 422) when it cannot be
    stored as it is: not JSON, NaN or Infinity, nested deeper than `MAX_JSON_DEPTH`, or text
    holding a NUL or a lone surrogate (PostgreSQL refuses both, UTF-8 cannot encode the latter).
    """
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError(
            "JSON inválido: aninhamento profundo demais", code=ErrorCode.INVALID_WEBHOOK
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"JSON inválido: {exc}", code=ErrorCode.INVALID_WEBHOOK) from None
    _check_tree(document)
    return document


def _check_tree(document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(
                f"JSON inválido: mais de {MAX_JSON_DEPTH} níveis", code=ErrorCode.INVALID_WEBHOOK
            )
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise InputError("texto com caractere NUL", code=ErrorCode.INVALID_WEBHOOK)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "texto com caractere inválido (surrogate isolado)", code=ErrorCode.INVALID_WEBHOOK
        ) from None


# --------------------------------------------------------------------------- Pix payload


def _fail(field: str, message: str) -> InputError:
    return InputError(message, field=field, code=ErrorCode.INVALID_WEBHOOK)


def _amount_cents(value: Any, field: str) -> int:
    if not isinstance(value, str) or not _AMOUNT_RE.match(value):
        raise _fail(field, f'valor inválido: {value!r} (esperado texto como "110.00")')
    whole, part = value.split(".")
    cents = int(whole) * 100 + int(part)
    try:
        check_amount(cents)
    except AmountOutOfRange as exc:
        raise _fail(field, str(exc)) from None
    return cents


def _instant(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(field, f"data e hora inválida: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(field, f"data e hora inválida: {value!r}") from None
    if parsed.tzinfo is None:
        raise _fail(field, f"data e hora sem fuso horário: {value!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00-03:00 has no UTC instant
        raise _fail(field, f"data e hora fora do intervalo: {value!r}") from None


def _optional_text(item: dict[str, Any], name: str, field: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(field, f"texto esperado, encontrado {type(value).__name__}")
    return value


def parse_pix_webhook(body: bytes, *, today: date | None = None) -> list[PixReceived]:
    """Read the ``{"pix": [...]}`` notification a PSP posts when Pix payments arrive.

    With `today` (UTC), a Pix or devolução dated where no payment can be
    (`domain.payment_dates.implausible_payment_date`: before 2000, after tomorrow) is refused.

    Raises:
        InputError: pt-BR message naming the field, e.g. ``pix[0].valor: valor inválido: ...``.
    """
    document = load_webhook_json(body)
    if not isinstance(document, dict) or "pix" not in document:
        raise _fail("pix", "campo ausente")
    items = document["pix"]
    if not isinstance(items, list):
        raise _fail("pix", "lista esperada")
    found = [_pix_item(item, f"pix[{index}]") for index, item in enumerate(items)]
    if today is not None:
        for index, pix in enumerate(found):
            why = implausible_payment_date(pix.paid_at.date(), today)
            if why is not None:
                raise _fail(f"pix[{index}].horario", why)
            for number, refund in enumerate(pix.refunds):
                when = refund.settled_at
                why = implausible_payment_date(when.date(), today) if when else None
                if why is not None:
                    raise _fail(f"pix[{index}].devolucoes[{number}].horario.liquidacao", why)
    return found


def _pix_item(item: Any, where: str) -> PixReceived:
    if not isinstance(item, dict):
        raise _fail(where, "objeto esperado")
    e2e = item.get("endToEndId")
    if not isinstance(e2e, str) or not _E2E_RE.match(e2e):
        raise _fail(f"{where}.endToEndId", f"identificador inválido: {e2e!r}")
    txid = _optional_text(item, "txid", f"{where}.txid")
    if txid is not None and not _TXID_RE.match(txid):
        raise _fail(f"{where}.txid", f"txid inválido: {txid!r}")
    if "valor" not in item:
        raise _fail(f"{where}.valor", "campo ausente")
    amount = _amount_cents(item["valor"], f"{where}.valor")
    if amount <= 0:
        raise _fail(f"{where}.valor", "valor deve ser maior que zero")
    if "horario" not in item:
        raise _fail(f"{where}.horario", "campo ausente")
    paid_at = _instant(item["horario"], f"{where}.horario")
    payer_info = _optional_text(item, "infoPagador", f"{where}.infoPagador")
    refunds = _refunds(item.get("devolucoes"), f"{where}.devolucoes")
    key = _optional_text(item, "chave", f"{where}.chave")
    return PixReceived(
        end_to_end_id=e2e,
        txid=txid,
        amount_cents=amount,
        paid_at=paid_at,
        payer_info=payer_info,
        # Only settled refunds reduce what was received; EM_PROCESSAMENTO may still fail.
        refunded_cents=sum(refund.amount_cents for refund in refunds if refund.settled),
        refunds=refunds,
        key=(key.strip() or None) if key else None,
    )


def _refunds(refunds: Any, where: str) -> tuple[PixRefund, ...]:
    if refunds is None:
        return ()
    if not isinstance(refunds, list):
        raise _fail(where, "lista esperada")
    found = []
    for index, refund in enumerate(refunds):
        field = f"{where}[{index}]"
        if not isinstance(refund, dict):
            raise _fail(field, "objeto esperado")
        amount = _amount_cents(refund.get("valor"), f"{field}.valor")
        # The id the receiver gave the devolução (BCB: [a-zA-Z0-9]{1,35}); the rtrId names
        # the same devolução in the SPI. One of them tells a replay from a second devolução.
        refund_id = _optional_text(refund, "id", f"{field}.id") or _optional_text(
            refund, "rtrId", f"{field}.rtrId"
        )
        if refund_id is not None and not _TXID_RE.match(refund_id):
            raise _fail(f"{field}.id", f"identificador inválido: {refund_id!r}")
        status = _optional_text(refund, "status", f"{field}.status") or ""
        settled_at = None
        when = refund.get("horario")
        if isinstance(when, dict) and when.get("liquidacao") is not None:
            settled_at = _instant(when["liquidacao"], f"{field}.horario.liquidacao")
        found.append(PixRefund(refund_id or str(index + 1), amount, status, settled_at))
    return tuple(found)
