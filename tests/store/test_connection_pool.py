"""The connections a process keeps (REGUA_DB_POOL_SIZE): as many transactions at once as the
pool holds reuse the connections of the last time, instead of opening new ones each time (on
PostgreSQL a new connection is a new server process and a login: the portal's slowest pages)."""

from __future__ import annotations

import threading

from sqlalchemy import event

from regua.bootstrap import build_app
from regua.config import Settings

AT_ONCE = 12  # visitors at the same moment: more than SQLAlchemy's default pool of 5


def _opened_in_a_burst(app, burst: int) -> int:  # type: ignore[no-untyped-def]
    """Connections opened while `burst` threads each hold a transaction at the same time."""
    opened = 0

    def count(*_args: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(app.engine, "connect", count)
    together = threading.Barrier(burst)

    def visit() -> None:
        with app.uow() as work:
            work.connection.exec_driver_sql("SELECT 1")
            together.wait(10)

    threads = [threading.Thread(target=visit) for _ in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    event.remove(app.engine, "connect", count)
    return opened


def test_a_second_burst_of_visitors_opens_no_connection(db_url: str) -> None:
    app = build_app(Settings(database_url=db_url))
    try:
        assert _opened_in_a_burst(app, AT_ONCE) == AT_ONCE
        assert _opened_in_a_burst(app, AT_ONCE) == 0
    finally:
        app.close()


def test_a_pool_smaller_than_the_burst_opens_connections_again(db_url: str) -> None:
    app = build_app(Settings(database_url=db_url, db_pool_size=4))
    try:
        _opened_in_a_burst(app, AT_ONCE)
        # The 8 beyond the 4 kept were closed when given back, and are opened again.
        assert _opened_in_a_burst(app, AT_ONCE) == AT_ONCE - 4
    finally:
        app.close()
