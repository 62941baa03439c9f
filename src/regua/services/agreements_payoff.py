"""Paying an agreement off early (CDC art. 52 §2): what settles the rest today, with the
interest not yet run taken off; the quote a finance team hands the customer; and the agreement
completed when that amount arrives.

The quote (``issue_payoff``) is on the customer's timeline with its amount, the day it was made
and the last day it holds (the next bank business day: a PIX made after hours or on a weekend
still counts), and comes with a PIX copia e cola for the amount under the txid of the first
open installment, so the payment arrives as any payment does and is matched to the agreement.
The daily review (``paid_off``) then completes the agreement when the payments on its
installments from the quote's day to its last add up to the amount: the remaining installments
and the original invoices are settled, the interest not run forgiven. A payment after the last
day is an ordinary payment of installments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from regua.domain.agreements import InstallmentState, installment_txid, payoff_cents
from regua.domain.calendar import next_bank_business_day
from regua.domain.money import Cents, format_brl
from regua.error_codes import ErrorCode
from regua.errors import NotFound
from regua.services.message_context import pix_code_for
from regua.store import agreements as store
from regua.store import timeline
from regua.store.message_context import load_creditors
from regua.store.uow import UnitOfWorkFactory

TIMELINE_KIND = "agreement"
QUOTED = "payoff_quoted"


@dataclass(frozen=True)
class PayoffQuote:
    agreement_id: int
    remaining_cents: Cents  # the installments still due, as agreed
    payoff_cents: Cents  # what settles them today, with the interest not yet run taken off
    valid_until: date | None = None  # an issued quote: the last day a payment counts
    txid: str | None = None
    pix_code: str | None = None  # None without the creditor's PIX key


def _active(connection: Connection, creditor_id: int, agreement_id: int) -> Any:
    row = store.agreement_row(connection, creditor_id, agreement_id)
    if row is None or row.status != "active":
        raise NotFound(
            f"acordo {agreement_id} não existe ou não está ativo",
            code=ErrorCode.UNKNOWN_AGREEMENT,
        )
    return row


def _open(items: Sequence[InstallmentState]) -> list[InstallmentState]:
    return sorted(
        (i for i in items if i.status == "open" and i.balance_cents > 0),
        key=lambda i: (i.effective_due_date, i.number),
    )


def _quote(row: Any, items: Sequence[InstallmentState], today: date) -> PayoffQuote:
    remaining = [(i.effective_due_date, i.balance_cents) for i in _open(items)]
    return PayoffQuote(
        int(row.id),
        sum(amount for _, amount in remaining),
        payoff_cents(remaining, row.interest_kind, row.interest_monthly_bp, today),
    )


def payoff_quote(
    uow: UnitOfWorkFactory, creditor_id: int, agreement_id: int, *, today: date
) -> PayoffQuote:
    """What pays the rest of an agreement off today (CDC art. 52 §2); nothing recorded."""
    with uow() as work:
        row = _active(work.connection, creditor_id, agreement_id)
        items = store.installments_of(work.connection, [agreement_id]).get(agreement_id, [])
    return _quote(row, items, today)


def issue_payoff(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    agreement_id: int,
    *,
    today: date,
    now: datetime,
    by: str,
) -> PayoffQuote:
    """The payoff quote handed to the customer (see the module docstring), recorded."""
    with uow() as work:
        connection = work.connection
        row = _active(connection, creditor_id, agreement_id)
        items = store.installments_of(connection, [agreement_id]).get(agreement_id, [])
        quote = _quote(row, items, today)
        first = _open(items)
        if not first:
            return quote
        txid = installment_txid(agreement_id, first[0].number)
        until = next_bank_business_day(today + timedelta(days=1))
        creditor = load_creditors(connection, {creditor_id})[creditor_id]
        quote = PayoffQuote(
            quote.agreement_id,
            quote.remaining_cents,
            quote.payoff_cents,
            until,
            txid,
            pix_code_for(creditor, quote.payoff_cents, txid),
        )
        timeline.add_entry(
            connection,
            customer_id=int(row.customer_id),
            invoice_id=None,
            at=now,
            kind=TIMELINE_KIND,
            detail=(
                f"quitação do acordo {agreement_id} cotada por {by}: "
                f"{format_brl(quote.payoff_cents)} (parcelas a vencer somam "
                f"{format_brl(quote.remaining_cents)}), válida até {until:%d/%m/%Y}"
            ),
            data={
                "agreement_id": agreement_id,
                "event": QUOTED,
                "payoff_cents": quote.payoff_cents,
                "remaining_cents": quote.remaining_cents,
                "quoted_on": today.isoformat(),
                "valid_until": until.isoformat(),
                "txid": txid,
            },
        )
        work.commit()
    return quote


@dataclass(frozen=True)
class PaidOff:
    """An agreement whose payoff quote was paid: what was quoted and what arrived."""

    agreement_id: int
    payoff_cents: Cents
    remaining_cents: Cents
    paid_cents: Cents
    quoted_on: date


def paid_off(connection: Connection, active: Sequence[Any], today: date) -> dict[int, PaidOff]:
    """The active agreements whose latest payoff quote was paid within its days: the payments
    on their installments from the quote's day to its last (and to ``today``) reach it."""
    pairs = [(int(r.id), int(r.customer_id)) for r in active]
    quotes = store.latest_events(connection, pairs, QUOTED)
    done: dict[int, PaidOff] = {}
    for agreement_id, data in quotes.items():
        quoted_on = date.fromisoformat(str(data["quoted_on"]))
        until = min(date.fromisoformat(str(data["valid_until"])), today)
        paid = store.paid_on_installments(connection, agreement_id, quoted_on, until)
        if paid >= int(data["payoff_cents"]):
            done[agreement_id] = PaidOff(
                agreement_id,
                int(data["payoff_cents"]),
                int(data["remaining_cents"]),
                paid,
                quoted_on,
            )
    return done


def complete(
    connection: Connection,
    row: Any,
    paid: PaidOff,
    items: Sequence[InstallmentState],
    today: date,
    now: datetime,
) -> None:
    """The payoff quote was paid: the installments left and the originals settled."""
    held = store.held_of(connection, [row.id]).get(row.id, [])
    left = [i.invoice_id for i in items if i.status == "open" and i.balance_cents > 0]
    store.settle(connection, left + [h.invoice_id for h in held], today, now)
    forgiven = paid.remaining_cents - paid.payoff_cents
    reason = (
        f"quitado antecipadamente: {format_brl(paid.paid_cents)} pagos para a quitação de "
        f"{format_brl(paid.payoff_cents)} cotada em {paid.quoted_on:%d/%m/%Y}; juros futuros de "
        f"{format_brl(forgiven)} descontados (CDC art. 52 §2)"
    )
    store.close(connection, row.id, "completed", today, reason)
    timeline.add_entry(
        connection,
        customer_id=row.customer_id,
        invoice_id=None,
        at=now,
        kind=TIMELINE_KIND,
        detail=f"acordo {row.id} {reason}; títulos quitados",
        data={
            "agreement_id": row.id,
            "event": "completed",
            "early": True,
            "paid_cents": paid.paid_cents,
            "payoff_cents": paid.payoff_cents,
            "forgiven_cents": forgiven,
        },
    )
