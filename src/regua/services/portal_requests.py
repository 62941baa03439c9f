"""What a debtor asks on the portal besides accepting an offer: a promise to pay, a new due date
(prorrogação), a dispute of an invoice (with a receipt), a call at a chosen time, and the one
question after paying.

Each goes through the service that owns it (``services.promises``, ``services.agreements``) or
is stored here, and each goes on the customer's timeline with the client's address and user
agent. A refusal is a ``ReguaError`` whose message the page shows as it is (pt-BR).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from regua.domain.calendar import customer_timezone
from regua.domain.money import Cents, format_brl
from regua.domain.receipts import ACCEPTED_NAMES, MAGIC_BYTES, ReceiptType, receipt_type
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound, RuleViolation
from regua.services.agreements import AgreementMade, AgreementRequest, create_agreement
from regua.services.negotiation import negotiable
from regua.services.promises import PromiseMade, latest_promise_day, record_promise
from regua.store import actions as action_store
from regua.store import agreements as agreement_store
from regua.store import portal_attempts, timeline
from regua.store import portal_requests as store
from regua.store.uow import UnitOfWorkFactory

TIMELINE_KIND = "portal"
DisputeReason = Literal["not_recognized", "already_paid"]
DISPUTE_REASONS: dict[str, str] = {
    "not_recognized": "não reconhece o título",
    "already_paid": "diz que já pagou",
}
# The hours a debtor may ask to be called in (local time), inside every state's calling hours.
CALL_WINDOWS: tuple[tuple[str, str], ...] = (
    ("08:00", "12:00"),
    ("12:00", "14:00"),
    ("14:00", "18:00"),
    ("18:00", "20:00"),
)
_WINDOWS = {f"{starts}-{ends}": (starts, ends) for starts, ends in CALL_WINDOWS}
CALL_DAYS_AHEAD = 14
COMMENT_CHARS = 500


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the client's address and user agent, for the timeline."""

    address: str
    user_agent: str

    @property
    def label(self) -> str:
        return f"cliente pelo portal ({self.address})"[:80]


def _customer(connection: Connection, customer_id: int) -> Any:
    found = portal_attempts.portal_customer(connection, customer_id)
    if found is None:
        raise NotFound("cliente não encontrado", code=ErrorCode.NO_CUSTOMER)
    return found


def _note(
    connection: Connection,
    customer_id: int,
    *,
    at: datetime,
    detail: str,
    event: str,
    visitor: Visitor,
    invoice_id: int | None = None,
    **data: Any,
) -> None:
    timeline.add_entry(
        connection,
        customer_id=customer_id,
        invoice_id=invoice_id,
        at=at,
        kind=TIMELINE_KIND,
        detail=detail,
        data={"event": event, "address": visitor.address, "ua": visitor.user_agent, **data},
    )


# --- promise and new due date ------------------------------------------------------------------


@dataclass(frozen=True)
class DateLimits:
    """The furthest day a promise may name, and the prorrogação the terms allow (None: none)."""

    promise_until: date
    extension_until: date | None
    extension_with_fees: bool


def date_limits(
    uow: UnitOfWorkFactory, customer_id: int, *, today: date, now: datetime
) -> DateLimits:
    """What the customer's régua allows for a promise and a new due date, from today."""
    with uow() as work:
        connection = work.connection
        customer = _customer(connection, customer_id)
        creditor_id = int(customer.creditor_id)
        found = agreement_store.customer_for_negotiation(
            connection, creditor_id, str(customer.external_id)
        )
        promise_until = latest_promise_day(connection, creditor_id, found, today, now)
        try:
            terms = negotiable(
                connection, creditor_id, str(customer.external_id), today=today, now=now
            ).terms
        except (NotFound, RuleViolation):
            return DateLimits(promise_until, None, False)
    days = terms.extension.max_days
    until = today + timedelta(days=days) if days else None
    return DateLimits(promise_until, until, terms.extension.with_fees)


def promise_to_pay(
    uow: UnitOfWorkFactory,
    customer_id: int,
    *,
    amount_cents: Cents,
    promised_for: date,
    today: date,
    now: datetime,
    visitor: Visitor,
) -> PromiseMade:
    """A promise the customer makes on the portal, under the régua's rules (``record_promise``
    refuses a day gone by or beyond ``negotiation.promise_max_days``)."""
    with uow() as work:
        customer = _customer(work.connection, customer_id)
    made = record_promise(
        uow,
        int(customer.creditor_id),
        str(customer.external_id),
        amount_cents=amount_cents,
        promised_for=promised_for,
        channel="portal",
        recorded_by=visitor.label,
        today=today,
        now=now,
    )
    with uow() as work:
        _note(
            work.connection,
            customer_id,
            at=now,
            detail=(
                f"prometeu pelo portal pagar {format_brl(amount_cents)} até {promised_for:%d/%m/%Y}"
            ),
            event="promise",
            visitor=visitor,
            promise_id=made.promise_id,
        )
        work.commit()
    return made


def ask_new_due_date(
    uow: UnitOfWorkFactory,
    customer_id: int,
    *,
    pay_on: date,
    today: date,
    now: datetime,
    visitor: Visitor,
) -> AgreementMade:
    """A prorrogação the customer asks for: the overdue debt due on `pay_on` (the next business
    day when it is not one), as ``services.agreements`` makes it within the terms."""
    with uow() as work:
        customer = _customer(work.connection, customer_id)
    made = create_agreement(
        uow,
        int(customer.creditor_id),
        AgreementRequest(customer=str(customer.external_id), pay_on=pay_on),
        today=today,
        now=now,
        accepted_by=visitor.label,
        channel="portal",
    )
    new_day = made.installments[0].due_date
    with uow() as work:
        _note(
            work.connection,
            customer_id,
            at=now,
            detail=(
                f"pediu pelo portal nova data de pagamento: {new_day:%d/%m/%Y}, "
                f"{format_brl(made.offer.total_cents)} (acordo {made.agreement_id})"
            ),
            event="extension",
            visitor=visitor,
            agreement_id=made.agreement_id,
        )
        work.commit()
    return made


# --- disputes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A file the customer sent: its name as given and its content."""

    file_name: str
    content: bytes


@dataclass(frozen=True)
class Disputed:
    dispute_id: int
    invoice_number: str
    reason: DisputeReason
    receipt_file: str | None


def size_pt(size: int) -> str:
    """``5 MB``, ``2,5 MB``, ``10 KB``: a file size as a person reads it."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f}".replace(".", ",").removesuffix(",0") + " MB"
    return f"{size // 1000} KB"


def _check_receipt(receipt: Receipt, max_bytes: int) -> ReceiptType:
    if not receipt.content:
        raise InputError("o arquivo do comprovante está vazio", field="comprovante")
    if len(receipt.content) > max_bytes:
        raise InputError(
            f"o comprovante passa do limite de {size_pt(max_bytes)}; envie um arquivo menor",
            field="comprovante",
        )
    kind = receipt_type(receipt.content[:MAGIC_BYTES], receipt.file_name)
    if kind is None:
        raise InputError(
            f"o comprovante deve ser um arquivo PDF, JPEG ou PNG ({', '.join(ACCEPTED_NAMES)})",
            field="comprovante",
        )
    return kind


def _save_receipt(folder: Path, content: bytes, extension: str) -> str:
    """The receipt written under a random name only this process's user may read."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{secrets.token_hex(16)}{extension}"
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)
    return name


def dispute_invoice(
    uow: UnitOfWorkFactory,
    customer_id: int,
    invoice_id: int,
    *,
    reason: str,
    comment: str,
    receipt: Receipt | None,
    receipts_dir: Path,
    max_bytes: int,
    now: datetime,
    visitor: Visitor,
) -> Disputed:
    """The customer disputes one of its open invoices: it becomes disputed (the régua stops
    for it and its pending messages are cancelled) until staff settle it. "Já paguei" needs a
    receipt (PDF, JPEG or PNG by its content, at most `max_bytes`), kept in `receipts_dir`."""
    chosen: DisputeReason
    if reason == "already_paid":
        chosen = "already_paid"
    elif reason == "not_recognized":
        chosen = "not_recognized"
    else:
        raise InputError("escolha o motivo da contestação", field="motivo")
    kind = _check_receipt(receipt, max_bytes) if receipt is not None else None
    if reason == "already_paid" and receipt is None:
        raise InputError("envie o comprovante do pagamento (PDF, JPEG ou PNG)", field="comprovante")
    with uow() as work:
        connection = work.connection
        invoice = store.customer_invoice(connection, customer_id, invoice_id)
        if invoice is None or invoice.status != "open" or invoice.balance_cents <= 0:
            raise NotFound(
                "este título não está em aberto para contestação", code=ErrorCode.UNKNOWN_INVOICE
            )
        if invoice.agreement_id is not None:
            raise RuleViolation(
                "parcelas de acordo não são contestadas por aqui: fale com a empresa pelos "
                "contatos da mensagem",
                code=ErrorCode.ALREADY_IN_AGREEMENT,
            )
        saved = (
            _save_receipt(receipts_dir, receipt.content, kind.extension)
            if receipt is not None and kind is not None
            else None
        )
        try:
            store.mark_disputed(connection, invoice_id, now)
            action_store.cancel_unbacked(connection, invoice_ids=[invoice_id])
            dispute_id = store.insert_dispute(
                connection,
                {
                    "customer_id": customer_id,
                    "invoice_id": invoice_id,
                    "reason": reason,
                    "comment": comment[:COMMENT_CHARS] or None,
                    "receipt_file": saved,
                    "receipt_type": kind.media_type if kind is not None else None,
                    "receipt_bytes": len(receipt.content) if receipt is not None else None,
                    "status": "open",
                    "created_at": now,
                },
            )
            with_receipt = f"; comprovante {saved}" if saved else ""
            _note(
                connection,
                customer_id,
                at=now,
                detail=(
                    f"contestou pelo portal o título {invoice.number}: "
                    f"{DISPUTE_REASONS[reason]}{with_receipt}; a régua para para este título "
                    "até a contestação ser resolvida"
                ),
                event="dispute",
                visitor=visitor,
                invoice_id=invoice_id,
                dispute_id=dispute_id,
                reason=reason,
            )
            work.commit()
        except BaseException:
            if saved is not None:  # no row points at it: nothing would ever find it again
                with contextlib.suppress(OSError):
                    (receipts_dir / saved).unlink()
            raise
    return Disputed(dispute_id, str(invoice.number), chosen, saved)


# --- a call at a chosen time --------------------------------------------------------------------


@dataclass(frozen=True)
class CallAsked:
    day: date
    starts: str
    ends: str


def ask_for_a_call(
    uow: UnitOfWorkFactory,
    customer_id: int,
    *,
    day: date,
    window: str,
    now: datetime,
    visitor: Visitor,
) -> CallAsked:
    """A call the customer asks for on `day` within one of `CALL_WINDOWS` (its local time):
    on the operators' call list that day. Refused on Sundays, for a day gone by or more than
    `CALL_DAYS_AHEAD` days ahead, and for hours already past today."""
    hours = _WINDOWS.get(window)
    if hours is None:
        raise InputError("escolha um dos horários da lista", field="horario")
    with uow() as work:
        connection = work.connection
        customer = _customer(connection, customer_id)
        local = now.astimezone(ZoneInfo(customer_timezone(customer.uf)))
        today = local.date()
        if day < today:
            raise RuleViolation(f"a data {day:%d/%m/%Y} já passou", code=ErrorCode.DATE_IN_PAST)
        if day > today + timedelta(days=CALL_DAYS_AHEAD):
            raise RuleViolation(
                f"escolha uma data até {today + timedelta(days=CALL_DAYS_AHEAD):%d/%m/%Y}",
                code=ErrorCode.DATE_TOO_FAR,
            )
        if day.weekday() == 6:
            raise InputError("não ligamos aos domingos: escolha outro dia", field="data")
        if day == today and local.time() >= time.fromisoformat(hours[1]):
            raise RuleViolation(
                f"o horário {window.replace('-', ' às ')} de hoje já passou: escolha outro",
                code=ErrorCode.DATE_IN_PAST,
            )
        store.insert_callback(
            connection,
            {
                "creditor_id": int(customer.creditor_id),
                "customer_id": customer_id,
                "requested_for": day,
                "starts": hours[0],
                "ends": hours[1],
                "status": "open",
                "created_at": now,
            },
        )
        _note(
            connection,
            customer_id,
            at=now,
            detail=f"pediu pelo portal uma ligação em {day:%d/%m/%Y}, das {hours[0]} às {hours[1]}",
            event="callback",
            visitor=visitor,
            day=day.isoformat(),
            hours=window,
        )
        work.commit()
    return CallAsked(day, hours[0], hours[1])


# --- after paying -------------------------------------------------------------------------------


def give_feedback(
    uow: UnitOfWorkFactory,
    customer_id: int,
    *,
    score: int,
    comment: str,
    now: datetime,
    visitor: Visitor,
) -> None:
    """The customer's answer (1 to 5, and a comment) to "como foi resolver sua pendência?"."""
    if not 1 <= score <= 5:
        raise InputError("escolha uma nota de 1 a 5", field="nota")
    text = comment.strip()[:COMMENT_CHARS]
    with uow() as work:
        connection = work.connection
        _customer(connection, customer_id)
        store.insert_feedback(
            connection,
            {
                "customer_id": customer_id,
                "score": score,
                "comment": text or None,
                "created_at": now,
            },
        )
        _note(
            connection,
            customer_id,
            at=now,
            detail=f"avaliou o atendimento no portal: nota {score} de 5"
            + (f" (\u201c{text}\u201d)" if text else ""),
            event="feedback",
            visitor=visitor,
            score=score,
        )
        work.commit()
