"""Whether a payment date someone reports is plausible, before money is applied with it.

A payment dated in the future or before the real existed is a misread file or a wrong field,
never a payment: applied, it would decide fees (due after the due date) and thank-yous on a
date that did not happen. One day ahead is tolerated: a bank or PSP writes its own date, in
its own time zone, a few hours ahead of the creditor's.
"""

from __future__ import annotations

from datetime import date, timedelta

FUTURE_TOLERANCE = timedelta(days=1)
# The real (and centavos of it) from 1 July 1994: no payment regua records is older.
EARLIEST = date(1994, 7, 1)


def check_payment_date(paid_on: date, today: date) -> str | None:
    """None when ``paid_on`` is plausible on ``today``; otherwise why not, in pt-BR."""
    if paid_on > today + FUTURE_TOLERANCE:
        return f"data de pagamento {paid_on:%d/%m/%Y} no futuro (hoje é {today:%d/%m/%Y})"
    if paid_on < EARLIEST:
        return f"data de pagamento {paid_on:%d/%m/%Y} anterior ao real (01/07/1994)"
    return None
