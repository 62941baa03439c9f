"""Portfolio figures and lists for people: customers and money per segment (`regua segments`),
the portfolio summary and aging (`regua resumo`), the actions that were not sent and why
(`regua acoes`).

The figures are set-based aggregates (`store.portfolio`); a report reads in a unit of work of its
own and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from regua.domain.action_statuses import status_label
from regua.domain.channels import channel_label
from regua.domain.planning import NO_CHANNEL
from regua.store import action_report, portfolio
from regua.store.action_report import ActionRow
from regua.store.portfolio import UNCLASSIFIED, PortfolioSummary, SegmentTotal
from regua.store.uow import UnitOfWorkFactory

__all__ = [
    "NOT_SENT",
    "UNCLASSIFIED",
    "ActionLine",
    "PortfolioSummary",
    "SegmentTotal",
    "actions_by_status",
    "portfolio_summary",
    "reason_text",
    "segment_totals",
]

# What `regua acoes` lists without --status: the actions that went nowhere and need a look.
NOT_SENT = ("failed", "held", "skipped", "dropped")


def segment_totals(
    uow: UnitOfWorkFactory, creditor_id: int, today: date | None = None
) -> list[SegmentTotal]:
    """Customers and money per segment (as of the last segment refresh); overdue as of `today`
    (the database's date when not given)."""
    with uow() as work:  # read only: nothing to commit
        return portfolio.segment_totals(work.connection, creditor_id, today)


def portfolio_summary(uow: UnitOfWorkFactory, creditor_id: int, today: date) -> PortfolioSummary:
    """Customers, open and overdue money and the aging buckets of the creditor's portfolio."""
    with uow() as work:
        return portfolio.portfolio_summary(work.connection, creditor_id, today)


@dataclass(frozen=True)
class ActionLine:
    """One action as `regua acoes` lists it: the stored row and why, in pt-BR."""

    row: ActionRow
    why: str


def reason_text(status: str, reason: str | None, evidence: Mapping[str, Any] | None) -> str:
    """Why an action ended as it did, as a collections user reads it.

    The planner records a skipped action's channels in code ("email: sem contato"); here they
    get their pt-BR names ("sem canal disponível (e-mail: sem contato; SMS: descadastrado)").
    Every other reason is stored in pt-BR already (the dispatcher's, the creditor profile's).
    """
    tried = (evidence or {}).get("channels_tried")
    if reason and reason.startswith(NO_CHANNEL) and isinstance(tried, Mapping) and tried:
        listed = "; ".join(f"{channel_label(str(c))}: {why}" for c, why in tried.items())
        return f"{NO_CHANNEL} ({listed})"
    if reason:
        return reason
    return status_label(status)


def actions_by_status(
    uow: UnitOfWorkFactory, creditor_id: int, day: date, statuses: Sequence[str] = NOT_SENT
) -> list[ActionLine]:
    """The creditor's actions of `day` with one of `statuses`, each with why."""
    with uow() as work:
        rows = action_report.actions_on_day(work.connection, creditor_id, day, statuses)
    return [ActionLine(row, reason_text(row.status, row.reason, row.evidence)) for row in rows]
