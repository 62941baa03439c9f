"""The daily cycle for one date: the stages `regua run`, the demo's simulated days and any
scheduler run, each reading and writing the store, none calling the next.

1. sweep: pending collection actions none of whose invoices is still open are cancelled
   (`store.actions.cancel_unbacked`; payments themselves are applied as they arrive);
2. segments: every customer's segment refreshed (`services.segmenting`);
3. plan: the day's actions written (`services.planning`);
4. dispatch: what is due is sent, after the plan's transaction committed.

Stages 1 to 3 run in one transaction (`plan`), overlapped on PostgreSQL: the plan's candidates
are read on a second connection while this one sweeps and refreshes the segments. Running a
date twice does nothing twice (unique keys, not luck).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from regua.domain.calendar import next_opening
from regua.domain.planning import START_CHOICES, StartChoice
from regua.services import planning
from regua.services.agreements_review import AgreementReview, review_agreements
from regua.services.planning import PlanResult
from regua.services.policies import active_policies, segmentation_policy
from regua.services.promises import review_promises
from regua.services.segmenting import refresh_segments
from regua.store import actions
from regua.store.batch import large_batch
from regua.store.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from regua.services.dispatching import DispatchResult

# The dispatch stage as the entry point builds it (its channels, clock and limits).
Dispatch = Callable[[], "DispatchResult"]


@dataclass(frozen=True)
class DayRun:
    plan: PlanResult
    dispatched: DispatchResult | None  # None: dispatch was not asked for
    agreements: AgreementReview | None = None  # completed and broken today (the operator's)


def plan(
    connection: Connection,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    refresh: bool = True,
    start: StartChoice | None = None,
) -> PlanResult:
    """Sweep, refresh the segments (unless `refresh` is false) and plan `day`, in the caller's
    transaction on `connection`. `start`: how a régua starts on old overdue invoices at its
    first run (`domain.planning.start_of`); None: as the last run did, or the default."""
    with large_batch(connection):
        policies = active_policies(connection, creditor_id, now)
        # The candidates, then their contacts, are read beside this connection while it
        # sweeps and refreshes the segments: neither changes what the plan reads.
        with planning.reading_candidates(
            connection, creditor_id, day, now, policies, start
        ) as started:
            cancelled = actions.cancel_unbacked(connection, creditor_id=creditor_id)
            segments = None
            if refresh:
                rules = segmentation_policy(policies).segment_rules
                segments = refresh_segments(connection, creditor_id, rules, day, now)
            result = planning.plan(connection, started)
    result.cancelled = cancelled
    result.segments = segments
    return result


def run_day(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    dispatch: Dispatch | None = None,
    start: StartChoice | None = None,
) -> DayRun:
    """The whole cycle for `day`: stages 1 to 3 committed, then `dispatch` if given."""
    # On first use the packaged régua becomes active in a transaction of its own: the plan's
    # then starts without a write, so on PostgreSQL it reads its candidates beside itself.
    with uow() as work:
        active_policies(work.connection, creditor_id, now)
        # Agreements completed or broken and promises kept or broken before planning: a broken
        # one gives its invoices back to the régua today.
        reviewed = review_agreements(work.connection, creditor_id, day, now)
        review_promises(work.connection, creditor_id, day, now)
        work.commit()
    with uow() as work:
        result = plan(work.connection, creditor_id, day, now, start=start)
        work.commit()
    return DayRun(result, dispatch() if dispatch is not None else None, reviewed)


def preview_day(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    start: StartChoice | None = None,
) -> PlanResult:
    """Stages 1 to 3 for `day` in a unit of work never committed: a preview writes nothing."""
    with uow() as work:
        return plan(work.connection, creditor_id, day, now, start=start)


def window_opens(uow: UnitOfWorkFactory, creditor_id: int, now: datetime) -> datetime | None:
    """When the contact window of the creditor's active régua next opens (`now` when it is
    open), in the régua's time zone; the earliest of several régua. None: closed for two
    weeks. A state's own law may open it later for its customers."""
    with uow() as work:
        policies = active_policies(work.connection, creditor_id, now)
    openings = [
        opening
        for policy in policies
        if (opening := next_opening(policy.contact_window, policy.timezone, now)) is not None
    ]
    return min(openings, default=None)


def preview_starts(
    uow: UnitOfWorkFactory, creditor_id: int, day: date, now: datetime
) -> dict[StartChoice, PlanResult]:
    """The day's plan under each way a régua can start (`START_CHOICES`), written nowhere: what
    a first run would do if it caught up, and if it started from today."""
    return {
        choice: preview_day(uow, creditor_id, day, now, start=choice) for choice in START_CHOICES
    }
