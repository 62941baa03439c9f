"""The life of an agreement (acordo) after it is accepted, as pure rules.

- ``installment_txid``: each installment invoice gets its own PIX txid, so a Pix pays exactly it;
- ``breaking_installment``: the installment that breaks the agreement (late by the terms' days);
- ``restored_balances``: a broken or cancelled agreement gives the original invoices back less
  what was paid under it, the oldest invoice first (their due dates are unchanged, so multa and
  juros run again from the original dates);
- ``payoff_cents``: paying the rest early reduces the agreement's interest proportionally
  (CDC art. 52 §2): each remaining installment is brought to today at the agreement's rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import NamedTuple

from regua.domain.money import Cents, round_half_up

TXID_PREFIX = "ACD"


def installment_txid(agreement_id: int, number: int) -> str:
    """``ACD000000001P01``: letters and digits only, well under the 25 a static PIX allows."""
    return f"{TXID_PREFIX}{agreement_id:09d}P{number:02d}"


class InstallmentState(NamedTuple):
    """An installment invoice as the daily review sees it."""

    invoice_id: int
    number: int  # 0 = down payment
    effective_due_date: date
    amount_cents: Cents
    balance_cents: Cents
    status: str


def breaking_installment(
    installments: Sequence[InstallmentState], days_late: int, today: date
) -> InstallmentState | None:
    """The first unpaid installment ``days_late`` days or more past its (business) due date."""
    for item in sorted(installments, key=lambda i: i.effective_due_date):
        unpaid = item.status == "open" and item.balance_cents > 0
        if unpaid and (today - item.effective_due_date).days >= days_late:
            return item
    return None


def all_paid(installments: Sequence[InstallmentState]) -> bool:
    return bool(installments) and all(
        i.status == "paid" or (i.status == "open" and i.balance_cents == 0) for i in installments
    )


def paid_under(installments: Sequence[InstallmentState]) -> Cents:
    """The principal paid on the installments (their fees, if paid late, are not counted)."""
    return sum(i.amount_cents - i.balance_cents for i in installments if i.status != "cancelled")


@dataclass(frozen=True)
class HeldInvoice:
    invoice_id: int
    due_date: date
    held_cents: Cents  # its balance when the agreement was accepted


def restored_balances(held: Sequence[HeldInvoice], paid_cents: Cents) -> list[tuple[int, Cents]]:
    """(invoice id, balance) of each original invoice after ``paid_cents`` paid under the
    agreement is credited to them, oldest due date first."""
    left = paid_cents
    balances = []
    for invoice in sorted(held, key=lambda h: (h.due_date, h.invoice_id)):
        credit = min(left, invoice.held_cents)
        left -= credit
        balances.append((invoice.invoice_id, invoice.held_cents - credit))
    return balances


def payoff_cents(
    remaining: Sequence[tuple[date, Cents]], interest_kind: str, monthly_bp: int, today: date
) -> Cents:
    """What settles the remaining installments today: each one's balance discounted from its due
    date to ``today`` at the agreement's own rate (compound for Price, simple for simple; months
    of 365/12 days, so that calendar months count as the plan's periods): the interest not yet
    run is not charged (CDC art. 52 §2). An installment already due is owed whole."""
    if interest_kind == "none" or monthly_bp == 0:
        return sum(amount for _, amount in remaining)
    rate = Decimal(monthly_bp) / 10_000
    total = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 34
        for due, amount in remaining:
            months = Decimal(max((due - today).days, 0)) * 12 / 365
            if interest_kind == "price":
                total += Decimal(amount) / (1 + rate) ** months
            else:
                total += Decimal(amount) / (1 + rate * months)
    return round_half_up(total)


# --- telling the customer that an agreement broke ----------------------------------------------

BROKEN_PURPOSE = "agreement"  # an action purpose: one a customer and day, beside the régua's
BROKEN_STEP = "acordo_quebrado"
BROKEN_TEMPLATE = "acordo_quebrado"
# Without a thank-you in the régua (whose channels the creditor chose for a message that is not
# a collection), the notice goes by the first of these the customer can be reached on.
BROKEN_CHANNELS = ("email", "whatsapp", "sms")


class BrokenAgreement(NamedTuple):
    """What the customer and the operator are told of an agreement that broke: which one, why,
    what was paid under it and what came back (principal, and the total with multa and juros
    from the original due dates, today)."""

    agreement_id: int
    customer_id: int
    customer_code: str
    customer_name: str
    made_on: date
    reason: str
    paid_cents: Cents
    owed_principal_cents: Cents
    owed_total_cents: Cents
    invoice_ids: tuple[int, ...]  # the originals back in collection (balance above zero)


def broken_facts(broken: BrokenAgreement, on: date) -> dict[str, object]:
    """The facts a broken-agreement message states (the action keeps them in its evidence, the
    template reads them as ``agreement``), in JSON types."""
    return {
        "id": broken.agreement_id,
        "made_on": broken.made_on.isoformat(),
        "broken_on": on.isoformat(),
        "reason": broken.reason,
        "paid_cents": broken.paid_cents,
        "owed_principal_cents": broken.owed_principal_cents,
        "owed_total_cents": broken.owed_total_cents,
    }
