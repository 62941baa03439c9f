"""The invoices and totals of a render context (see ``regua.channels.rendering``), as templates
read them: one shape for the messages the dispatch service builds and for the sample context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any


def invoice_item(
    *,
    number: str,
    description: str,
    issue_date: date | None,
    due_date: date,
    days_late: int,
    amount_cents: int,
    balance_cents: int,
    principal_cents: int,
    late_fee_cents: int,
    interest_cents: int,
) -> dict[str, Any]:
    """One entry of the context's `invoices`; its total is the principal plus multa and juros."""
    return {
        "number": number,
        "description": description,
        "issue_date": issue_date,
        "due_date": due_date,
        "days_late": days_late,
        "amount_cents": amount_cents,
        "balance_cents": balance_cents,
        "principal_cents": principal_cents,
        "late_fee_cents": late_fee_cents,
        "interest_cents": interest_cents,
        "total_cents": principal_cents + late_fee_cents + interest_cents,
    }


def invoice_totals(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The context's `totals`: the sums of `items` and how many there are."""
    return {
        "balance_cents": sum(i["balance_cents"] for i in items),
        "late_fee_cents": sum(i["late_fee_cents"] for i in items),
        "interest_cents": sum(i["interest_cents"] for i in items),
        "total_cents": sum(i["total_cents"] for i in items),
        "count": len(items),
    }
