"""The invoices written since a moment: how the daily stages find what moved since their last run.

Every writer of an invoice (import, payments, reversals, devoluções) sets `invoices.updated_at`,
which is indexed. The planner and the segment refresh each remember when their last run started
and read the invoices written since, instead of the whole portfolio.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A write committed after a run may carry an instant from before it (its transaction began
# earlier): the next run reads this far before the last one. Reading some invoices twice costs
# nothing, as both stages are idempotent.
LATE_COMMIT_MARGIN = timedelta(days=1)


def written_since(last_run_at: datetime | None, now: datetime) -> datetime | None:
    """The earliest `updated_at` the run starting `now` must read; None to read every invoice.

    None when there was no earlier run, or when the clock stands before it (a clock set back
    would otherwise hide the writes in between).
    """
    if last_run_at is None:
        return None
    if last_run_at.tzinfo is None:  # SQLite hands instants back naive; they are stored in UTC
        last_run_at = last_run_at.replace(tzinfo=UTC)
    if last_run_at > now:
        return None
    return last_run_at - LATE_COMMIT_MARGIN
