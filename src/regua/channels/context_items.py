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


def due_summary(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The context's `due`: the due dates of `items` in words true for every one of them.

    ``text`` is "em 09/11/2026" when they share a date and "entre 09/11/2026 e 22/11/2026"
    otherwise; ``days_late`` counts from the oldest; ``em_aberto`` says it ("em aberto há 20
    dias", or "em aberto, a mais antiga há 20 dias" when the dates differ).
    """
    if not items:
        return {"text": "", "first": None, "last": None, "one_date": True, "days_late": 0}
    first = min(i["due_date"] for i in items)
    last = max(i["due_date"] for i in items)
    days = max(int(i["days_late"]) for i in items)
    one_date = first == last
    text = f"em {first:%d/%m/%Y}" if one_date else f"entre {first:%d/%m/%Y} e {last:%d/%m/%Y}"
    count = f"{days} dia" if days == 1 else f"{days} dias"
    return {
        "text": text,
        "first": first,
        "last": last,
        "one_date": one_date,
        "days_late": days,
        "em_aberto": f"em aberto há {count}"
        if one_date
        else f"em aberto, a mais antiga há {count}",
    }


def split_invoices(
    items: Sequence[Mapping[str, Any]], step_offset: int
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The invoices a message speaks of first and those it mentions apart, as not yet due.

    A step after the due date (offset > 0) speaks of the overdue invoices only (an invoice not
    yet due is never announced as late, nor counted in a debt that may be registered); a step
    before or on the due date speaks of those due by its offset, and of later ones apart.
    """
    least = 1 if step_offset > 0 else step_offset
    lead = [i for i in items if int(i["days_late"]) >= least]
    later = [i for i in items if int(i["days_late"]) < least]
    return (lead, later) if lead else (list(items), [])


def invoice_sections(items: Sequence[Mapping[str, Any]], step_offset: int | None) -> dict[str, Any]:
    """The context's `invoices`, `totals`, `due`, `upcoming` and `upcoming_totals`, and
    `all_totals` (what the message's PIX code pays: every invoice of the action). Without a
    `step_offset` (a thank-you) every invoice is spoken of alike."""
    lead, later = (list(items), []) if step_offset is None else split_invoices(items, step_offset)
    return {
        "invoices": lead,
        "totals": invoice_totals(lead),
        "due": due_summary(lead),
        "upcoming": later,
        "upcoming_totals": invoice_totals(later),
        "all_totals": invoice_totals(items),
    }
