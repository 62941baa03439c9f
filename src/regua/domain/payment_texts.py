"""The pt-BR texts a customer's timeline shows for money: payments, reversals, refunds, bank
occurrences. Pure functions of the figures; the store writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from regua.domain.money import Cents, format_brl
from regua.domain.settlement import PaymentOutcome

METHOD_LABELS = {
    "pix": "PIX",
    "cnab": "boleto",
    "import": "importação",
    "manual": "manual",
    # a payment the debtor proved on the portal, recorded when staff accepted the dispute
    "contestacao": "comprovante da contestação",
    "disputa": "comprovante da contestação",
}


def method_label(method: str) -> str:
    """How a payment method (or, without one, its source) reads in a timeline text."""
    return METHOD_LABELS.get(method, method)


def paid_detail(
    amount_cents: Cents, outcome: PaymentOutcome, number: str, how: str, paid_on: str
) -> str:
    """The timeline text of an applied payment (`paid_on` as DD/MM/AAAA)."""
    detail = f"Pagamento de {format_brl(amount_cents)} ({how}) em {paid_on}, título {number}: "
    if outcome.settled:
        detail += "quitado"
    elif outcome.applied_cents == 0:
        detail += "já estava quitado"
    else:
        detail += f"restam {format_brl(outcome.balance_cents or 0)} em aberto"
    if outcome.fees_cents:
        detail += f"; multa e juros pagos: {format_brl(outcome.fees_cents)}"
    if outcome.credit_cents:
        detail += f"; crédito de {format_brl(outcome.credit_cents)} para o cliente"
    return detail


def reversal_detail(
    amount_cents: Cents, paid_on: date, reason: str, balance_cents: Cents, reopened: bool
) -> str:
    """The timeline text of a payment the bank reversed."""
    return (
        f"Pagamento de {format_brl(amount_cents)} de "
        f"{paid_on:%d/%m/%Y} estornado pelo banco ({reason}): "
        + (
            f"título reaberto, {format_brl(balance_cents)} em aberto"
            if reopened
            else f"{format_brl(balance_cents)} em aberto"
        )
    )


def refund_detail(
    given_cents: Cents,
    payment_cents: Cents,
    how: str,
    paid_on: date,
    number: str,
    reason: str,
    *,
    balance_cents: Cents,
    reopened: bool,
    principal_cents: Cents,
    credit_cents: Cents,
) -> str:
    """The timeline text of money given back out of a payment (a Pix devolução)."""
    if reopened:
        effect = f"título reaberto, {format_brl(balance_cents)} em aberto"
    elif principal_cents:
        effect = f"{format_brl(balance_cents)} em aberto"
    else:
        effect = "saldo do título inalterado"
    if credit_cents:
        effect += f"; crédito do cliente reduzido em {format_brl(credit_cents)}"
    return (
        f"Devolução de {format_brl(given_cents)} do pagamento de "
        f"{format_brl(payment_cents)} "
        f"({how}) de {paid_on:%d/%m/%Y}, título {number} "
        f"({reason}): {effect}"
    )


def bank_occurrence_detail(
    bank_code: str,
    occurrence: str,
    occurrence_text: str,
    when: date | None,
    reasons: Sequence[str],
) -> str:
    """The timeline text of a return file line that is no payment (entry confirmed, protest...).

    It names the occurrence and its date, so the same line imported again reads the same.
    """
    detail = f"Banco {bank_code}, ocorrência {occurrence}: {occurrence_text}"
    if when:
        detail += f" em {when:%d/%m/%Y}"
    if reasons:
        detail += f" (motivos: {', '.join(reasons)})"
    return detail
