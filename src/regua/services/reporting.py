"""Portfolio figures for people: customers and money per segment (`regua segments`).

The figures are set-based aggregates (`store.portfolio`); a report reads in a unit of work of its
own and writes nothing.
"""

from __future__ import annotations

from regua.store import portfolio
from regua.store.portfolio import UNCLASSIFIED, SegmentTotal
from regua.store.uow import UnitOfWorkFactory

__all__ = ["UNCLASSIFIED", "SegmentTotal", "segment_totals"]


def segment_totals(uow: UnitOfWorkFactory, creditor_id: int) -> list[SegmentTotal]:
    """Customers and money per segment (as of the last segment refresh)."""
    with uow() as work:  # read only: nothing to commit
        return portfolio.segment_totals(work.connection, creditor_id)
