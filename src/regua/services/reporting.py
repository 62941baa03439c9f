"""Portfolio figures for people: counts, open and overdue money, aging buckets, segments.

The figures are set-based aggregates (`store.portfolio`); this is where reports are asked for.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from regua.store import portfolio
from regua.store.portfolio import AGING_BUCKETS, Bucket, PortfolioSummary, SegmentTotal

__all__ = [
    "AGING_BUCKETS",
    "Bucket",
    "PortfolioSummary",
    "SegmentTotal",
    "portfolio_summary",
    "segment_totals",
]


def portfolio_summary(connection: Connection, creditor_id: int, today: date) -> PortfolioSummary:
    """The creditor's customers, open and overdue money, and aging buckets on `today`."""
    return portfolio.portfolio_summary(connection, creditor_id, today)


def segment_totals(connection: Connection, creditor_id: int) -> list[SegmentTotal]:
    """Customers and money per segment (as of the last segment refresh)."""
    return portfolio.segment_totals(connection, creditor_id)
