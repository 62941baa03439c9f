"""How staff settle a dispute a debtor made on the portal, and what the debtor is told.

A dispute is "não reconheço" (``not_recognized``) or "já paguei" (``already_paid``). Staff
decide it "procede" (``accepted``) or "improcede" (``rejected``):

- rejected: the invoice goes back to collection (``reopen``) when it is still disputed;
- accepted "já paguei": the payment the debtor made is recorded on the day they paid (``pay``);
- accepted "não reconheço": the invoice is cancelled (``cancel``).

When the invoice is no longer disputed (the ERP cancelled it, a payment settled it meanwhile)
the dispute is settled and nothing is done to the invoice (``none``): a payment recorded on a
paid invoice would become credit nobody asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from regua.domain.fees import FeeTerms
from regua.domain.money import Cents
from regua.domain.settlement import InvoiceFacts, early_discount, fees_due

Reason = Literal["not_recognized", "already_paid"]
Decision = Literal["accepted", "rejected"]
Effect = Literal["reopen", "pay", "cancel", "none"]

# The words staff type (`--decisao`), and how a decision reads back to them.
DECISIONS: dict[str, Decision] = {"procede": "accepted", "improcede": "rejected"}
DECISION_LABELS: dict[str, str] = {"accepted": "procede", "rejected": "improcede"}
REASON_LABELS: dict[str, str] = {"not_recognized": "não reconhece", "already_paid": "já pagou"}
STATUS_LABELS: dict[str, str] = {
    "open": "em análise",
    "accepted": "procedente",
    "rejected": "improcedente",
}


def effect_of(reason: str, decision: Decision, invoice_status: str) -> Effect:
    """What settling a dispute with `decision` does to its invoice, now `invoice_status`."""
    if invoice_status != "disputed":
        return "none"
    if decision == "rejected":
        return "reopen"
    return "pay" if reason == "already_paid" else "cancel"


def needs_payment_day(reason: str, decision: Decision) -> bool:
    """Whether the decision records a payment, and so needs the day it was made."""
    return decision == "accepted" and reason == "already_paid"


def settling_amount(invoice: InvoiceFacts, paid_on: date, terms: FeeTerms) -> Cents:
    """What settles `invoice` paid on `paid_on`, as the payment path applies it: the balance
    (less an early-payment discount the day earns) plus the multa and juros due that day, none
    when paid by the due date."""
    balance = invoice.balance_cents
    principal = balance - early_discount(
        balance, paid_on, balance, invoice.early_discount_cents, invoice.early_discount_until
    )
    return principal + fees_due(principal, invoice.due_date, paid_on, terms, invoice.fee_state)


def payment_key(dispute_id: int) -> str:
    """The payment's external id: one per dispute, so settling it twice never pays twice."""
    return f"contestacao-{dispute_id}"


def portal_answer(number: str, reason: str, status: str) -> str:
    """What the debtor's page says of a settled dispute (pt-BR)."""
    head = f"Sua contestação do título {number} foi analisada: "
    if status == "rejected":
        return head + "não procede, e o título voltou a ser cobrado."
    if reason == "already_paid":
        return head + "procede. Seu pagamento foi confirmado e o título está quitado."
    return head + "procede. O título foi cancelado e não será mais cobrado."
