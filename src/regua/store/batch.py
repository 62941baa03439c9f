"""One large batch of work on the store (a day's plan, a return file): the cyclic garbage
collector paused, the session's settings for large statements, and reads run beside the batch's
connection while it writes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

from regua.store.db import settings_for_batch_work

# Read-only work given to `beside`: called with a connection, then the arguments given.
Reader = Callable[..., Future[Any]]


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic collector for the length of one batch.

    A return file of 100,000 lines, or a first plan over 1,000,000 invoices, keeps hundreds of
    thousands to millions of records alive at once (rows read, outcomes, rows to write); the
    collector, started every few hundred allocations, walked them all again and again: a sixth
    of an import's time, and half of the planning rules' time on a first run (2.8 s of 5.9 s).
    Reference counting still frees what the batch drops; cycles wait until the collector is
    back.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def plan_each_execution(connection: Connection) -> None:
    """On PostgreSQL, plan every statement for its own values until the transaction ends.

    For a transaction that reads a table while filling it, batch after batch (an import). psycopg
    prepares a statement on the server from its fifth execution, and from then the server may
    run the statement's generic plan, costed once, when the transaction's table still looked
    empty (it has no statistics until the transaction commits and is analysed): a plan that
    walks all of the creditor's rows and compares each with every key of the batch. An import
    of 300,000 invoices spent 1,206 s instead of about 70, one lookup of 5,000 ids taking over a
    minute once the table held 200,000 rows. Planned for their values, the same lookups take a
    tenth of a second; planning them costs a millisecond.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


@contextmanager
def large_batch(connection: Connection) -> Iterator[None]:
    """One large batch transaction on `connection`: the collector paused, and on PostgreSQL
    more work memory and no JIT until the transaction ends (`settings_for_batch_work`)."""
    with without_cyclic_gc():
        settings_for_batch_work(connection)
        yield


@contextmanager
def beside(connection: Connection) -> Iterator[Reader]:
    """Run read-only work beside `connection`: in a thread with a connection of its own when
    that one sees the same data, on PostgreSQL before the transaction wrote anything (its own
    writes are invisible to others); otherwise, and on SQLite, right here.

    Yields `read(work, *args)`, which returns a future of ``work(a_connection, *args)``.
    """
    if (
        connection.dialect.name != "postgresql"
        or connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
    ):

        def inline(work: Callable[..., Any], *args: Any) -> Future[Any]:
            done: Future[Any] = Future()
            done.set_result(work(connection, *args))
            return done

        yield inline
        return

    def on_other(work: Callable[..., Any], *args: Any) -> Any:
        with connection.engine.connect() as other:
            return work(other, *args)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-read") as pool:
        yield lambda work, *args: pool.submit(on_other, work, *args)
