"""Whether a payment date can be true: the same rule on every entrance (Pix webhook, CNAB
return files, spreadsheets), so a typo or a forged body never settles an invoice in 2099.

A payment is not dated after today (plus a day: a Pix made at 23:30 in Manaus is already
tomorrow in UTC, and a bank's file may be dated in another zone) nor before 2000 (before the
Pix, the CNAB 240 and every invoice regua can hold).
"""

from __future__ import annotations

from datetime import date, timedelta

EARLIEST_PAYMENT_DATE = date(2000, 1, 1)
FUTURE_TOLERANCE = timedelta(days=1)


def implausible_payment_date(paid_on: date, today: date) -> str | None:
    """Why `paid_on` cannot be a payment's date seen on `today` (pt-BR), or None if it can."""
    if paid_on < EARLIEST_PAYMENT_DATE:
        return f"data de pagamento anterior a {EARLIEST_PAYMENT_DATE:%d/%m/%Y}: {paid_on:%d/%m/%Y}"
    if paid_on > today + FUTURE_TOLERANCE:
        return f"data de pagamento no futuro: {paid_on:%d/%m/%Y}"
    return None
