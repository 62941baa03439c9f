"""The staff's side of the disputes debtors make on the portal (`services.portal_requests`):
the list to settle, and each settled "procede" or "improcede" (`domain.disputes` says what that
does to the invoice). A settled dispute goes on the customer's timeline and, for 30 days, on the
debtor's page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from regua.domain.disputes import (
    DECISION_LABELS,
    DECISIONS,
    REASON_LABELS,
    STATUS_LABELS,
    Decision,
    Effect,
    effect_of,
    needs_payment_day,
    payment_key,
    settling_amount,
)
from regua.domain.money import Cents, format_brl
from regua.domain.settlement import IncomingPayment
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound, RuleViolation
from regua.services.reconciling import reconcile
from regua.store import actions as action_store
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store import portal_requests as store
from regua.store import timeline
from regua.store.uow import UnitOfWorkFactory

TIMELINE_KIND = "dispute"
# The payments a settled "já paguei" records (`regua payments` shows them as "contestação").
PAYMENT_SOURCE = "disputa"
NOTE_CHARS = 500


@dataclass(frozen=True)
class DisputeLine:
    """One dispute as staff read it."""

    dispute_id: int
    created_at: datetime
    customer: str  # the creditor's customer code
    name: str
    invoice_number: str
    invoice_status: str
    balance_cents: Cents
    reason: str  # not_recognized | already_paid
    reason_label: str
    comment: str | None
    receipt_path: str | None  # REGUA_RECEIPTS_DIR and the file's name
    receipt_type: str | None
    receipt_bytes: int | None
    receipt_found: bool  # the file is where the row says
    status: str  # open | accepted | rejected
    status_label: str
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


def list_disputes(
    uow: UnitOfWorkFactory, creditor_id: int, *, receipts_dir: Path, everything: bool = False
) -> list[DisputeLine]:
    """The creditor's open disputes (all of them with `everything`), newest first."""
    with uow() as work:  # read only: nothing to commit
        rows = store.creditor_disputes(work.connection, creditor_id, everything=everything)
    return [_line(row, receipts_dir) for row in rows]


def _line(row: Any, receipts_dir: Path) -> DisputeLine:
    path = (receipts_dir / row.receipt_file).absolute() if row.receipt_file else None
    return DisputeLine(
        dispute_id=int(row.id),
        created_at=row.created_at,
        customer=str(row.customer_external_id),
        name=str(row.customer_name),
        invoice_number=str(row.invoice_number),
        invoice_status=str(row.invoice_status),
        balance_cents=int(row.balance_cents),
        reason=str(row.reason),
        reason_label=REASON_LABELS.get(row.reason, row.reason),
        comment=row.comment,
        receipt_path=str(path) if path is not None else None,
        receipt_type=row.receipt_type,
        receipt_bytes=row.receipt_bytes,
        receipt_found=path is not None and path.is_file(),
        status=str(row.status),
        status_label=STATUS_LABELS.get(row.status, row.status),
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
    )


@dataclass(frozen=True)
class Resolution:
    """What settling a dispute did."""

    dispute_id: int
    customer: str
    invoice_number: str
    decision: Decision
    effect: Effect
    invoice_status: str  # after
    balance_cents: Cents  # after
    payment_cents: Cents | None = None  # the payment recorded ("já paguei" procede)
    fees_cents: Cents = 0  # the multa and juros in it (paid late)
    paid_on: date | None = None


def resolve_dispute(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    dispute_id: int,
    *,
    decision: str,
    note: str,
    paid_on: date | None,
    by: str,
    today: date,
    now: datetime,
) -> Resolution:
    """Settle an open dispute of the creditor: "procede" (`accepted`) or "improcede"
    (`rejected`), with a note. See `domain.disputes` for what each does to the invoice; a
    payment goes through `reconciling.reconcile` like any other money received, under one
    external id per dispute."""
    chosen = DECISIONS.get(decision.strip().lower())
    if chosen is None:
        raise InputError("use procede ou improcede", field="--decisao")
    text = note.strip()[:NOTE_CHARS]
    if not text:
        raise InputError("escreva a nota da decisão", field="--nota")
    if paid_on is not None and paid_on > today:
        raise InputError(f"a data {paid_on:%d/%m/%Y} ainda não chegou", field="--pago-em")
    with uow() as work:
        connection = work.connection
        row = store.dispute_of(connection, dispute_id)
        if row is None or int(row.creditor_id) != creditor_id:
            raise NotFound(
                f"contestação {dispute_id} não encontrada", code=ErrorCode.UNKNOWN_DISPUTE
            )
        if row.status != "open":
            raise RuleViolation(
                f"a contestação {dispute_id} já foi resolvida em {row.resolved_at:%d/%m/%Y} "
                f"({DECISION_LABELS.get(row.status, row.status)}, por {row.resolved_by})",
                code=ErrorCode.DISPUTE_SETTLED,
            )
        paying = needs_payment_day(row.reason, chosen)
        if paying and paid_on is None:
            raise InputError(
                "informe o dia em que o cliente pagou (AAAA-MM-DD): a contestação é de quem "
                "diz que já pagou",
                field="--pago-em",
            )
        if not paying and paid_on is not None:
            raise InputError(
                "só se informa o dia do pagamento quando procede a contestação de quem diz que "
                "já pagou",
                field="--pago-em",
            )
        effect = effect_of(row.reason, chosen, row.invoice_status)
        invoice_id = int(row.invoice_id)
        resolution = Resolution(
            dispute_id,
            str(row.customer_external_id),
            str(row.invoice_number),
            chosen,
            effect,
            str(row.invoice_status),
            int(row.balance_cents),
        )
        if effect == "reopen":
            store.reopen_disputed(connection, invoice_id, now)
            resolution = replace(resolution, invoice_status="open")
        elif effect == "cancel":
            store.cancel_disputed(connection, invoice_id, now)
            action_store.cancel_unbacked(connection, invoice_ids=[invoice_id])
            resolution = replace(resolution, invoice_status="cancelled", balance_cents=0)
        elif effect == "pay" and paid_on is not None:
            resolution = _pay(connection, creditor_id, row, text, paid_on, now, resolution)
        if not store.settle_dispute(
            connection, dispute_id, status=chosen, at=now, by=by, note=text
        ):  # settled by someone else since it was read
            raise RuleViolation(
                f"a contestação {dispute_id} já foi resolvida", code=ErrorCode.DISPUTE_SETTLED
            )
        timeline.add_entry(
            connection,
            customer_id=int(row.customer_id),
            invoice_id=invoice_id,
            at=now,
            kind=TIMELINE_KIND,
            detail=(
                f"contestação do título {row.invoice_number} "
                f"({REASON_LABELS.get(row.reason, row.reason)}) resolvida por {by}: "
                f"{DECISION_LABELS[chosen]}; {_what_happened(resolution, row.invoice_status)}; "
                f"nota: \u201c{text}\u201d"
            ),
            data={
                "event": "dispute_resolved",
                "dispute_id": dispute_id,
                "decision": chosen,
                "effect": effect,
                "by": by,
                "payment_cents": resolution.payment_cents,
            },
        )
        work.commit()
    return resolution


def _pay(
    connection: Connection,
    creditor_id: int,
    row: Any,
    note: str,
    paid_on: date,
    now: datetime,
    resolution: Resolution,
) -> Resolution:
    invoice_id = int(row.invoice_id)
    settings = payment_store.lock_for_payments(connection, creditor_id)
    facts = invoice_store.payment_facts(connection, creditor_id, [invoice_id])[invoice_id]
    consumer = payment_store.consumer_flags(connection, [facts.customer_id])[facts.customer_id]
    amount = settling_amount(facts, paid_on, replace(settings.terms, is_consumer=consumer))
    done = reconcile(
        connection,
        creditor_id,
        [
            IncomingPayment(
                external_id=payment_key(int(row.id)),
                amount_cents=amount,
                paid_on=paid_on,
                invoice_id=invoice_id,
                method="contestacao",
                note=f"contestação {row.id} procedente: {note}"[:400],
            )
        ],
        source=PAYMENT_SOURCE,
        now=now,
    )
    outcome = done.payments[0]
    return replace(
        resolution,
        invoice_status=outcome.invoice_status or resolution.invoice_status,
        balance_cents=outcome.balance_cents if outcome.balance_cents is not None else 0,
        payment_cents=amount,
        fees_cents=outcome.fees_cents,
        paid_on=paid_on,
    )


_STATUS_WORDS = {
    "paid": "pago",
    "cancelled": "cancelado",
    "written_off": "baixado",
    "open": "em aberto",
    "in_agreement": "em acordo",
}


def _what_happened(resolution: Resolution, status_before: str) -> str:
    if resolution.effect == "reopen":
        return "o título volta à cobrança na próxima execução da régua"
    if resolution.effect == "cancel":
        return "título cancelado, mensagens pendentes canceladas"
    if resolution.effect == "pay" and resolution.paid_on is not None:
        fees = (
            f" (com {format_brl(resolution.fees_cents)} de multa e juros)"
            if resolution.fees_cents
            else ""
        )
        return (
            f"pagamento de {format_brl(resolution.payment_cents or 0)}{fees} em "
            f"{resolution.paid_on:%d/%m/%Y} registrado, título quitado"
        )
    return f"o título já estava {_STATUS_WORDS.get(status_before, status_before)} e não mudou"
