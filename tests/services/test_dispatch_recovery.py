"""The database goes away under a dispatch (its sessions killed by pg_terminate_backend while a
message is with the SMTP server on loopback): the message the provider accepted is recorded
sent, once, and the rest of the batch goes out without waiting for the claim lease."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from regua.channels.registry import ChannelRegistry
from regua.clock import SystemClock
from regua.config import Settings
from regua.services.dispatch_run import DispatchOptions
from regua.services.dispatching import Dispatcher
from regua.store.claims import release_claims
from regua.store.tables import actions, customers
from tests.servers import SmtpHandler, SmtpServer, start_smtp
from tests.worker.test_distributed import SENDER, pg, portfolio, received_ids, sent_entries

__all__ = ["pg"]  # fixture used below

LEASE = timedelta(minutes=5)


@dataclass
class KillingSmtp(SmtpHandler):
    """An SMTP server that, while it holds the n-th message of `kill_at` (before its 250),
    terminates every database session of the dispatcher."""

    kill_at: tuple[int, ...] = ()
    database_url: str = ""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if len(self.received) + 1 in self.kill_at:
            await asyncio.to_thread(terminate_sessions, self.database_url)
        return await super().handle_DATA(server, session, envelope)


def terminate_sessions(url: str) -> None:
    killer = create_engine(url, poolclass=NullPool)
    with killer.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        )
    killer.dispose()


@pytest.fixture
def killing_smtp(pg: Engine) -> Iterator[SmtpServer]:
    handler = KillingSmtp(database_url=pg.url.render_as_string(hide_password=False))
    server = start_smtp(handler)
    yield server
    server.controller.stop()


def dispatch(pg: Engine, server: SmtpServer, tmp_path: Path, **options: object) -> Dispatcher:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security="none",
        smtp_sender=SENDER,
        outbox_dir=tmp_path / "outbox",
    )
    registry = ChannelRegistry.from_settings(settings, clock=SystemClock())
    return Dispatcher(
        pg,
        registry,
        clock=SystemClock(),
        options=DispatchOptions(lease=LEASE, senders=1, **options),  # type: ignore[arg-type]
        sleep=lambda _seconds: None,  # the database is back at once: no need to wait
    )


def statuses(engine: Engine) -> dict[str, tuple[str, int]]:
    """Customer code -> (action status, attempts counted)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(customers.c.external_id, actions.c.status, actions.c.attempts)
            .join(customers, customers.c.id == actions.c.customer_id)
            .order_by(customers.c.external_id)
        ).all()
    return {code: (status, attempts) for code, status, attempts in rows}


def test_a_record_the_database_refused_is_tried_again_and_nothing_goes_out_twice(
    pg: Engine, killing_smtp: SmtpServer, tmp_path: Path
) -> None:
    ids = portfolio(pg, tmp_path, 6)
    assert isinstance(killing_smtp.handler, KillingSmtp)
    killing_smtp.handler.kill_at = (2, 4)
    dispatcher = dispatch(pg, killing_smtp, tmp_path)

    result = dispatcher.dispatch_due()
    dispatcher.registry.close()

    assert result.sent["email"] == 6
    assert received_ids(killing_smtp) == Counter(f"<regua-act-{i}@exemplo.com.br>" for i in ids)
    assert set(statuses(pg).values()) == {("sent", 1)}  # none left `sending`
    assert sent_entries(pg) == Counter(ids)


def test_when_the_database_stays_away_the_unsent_claims_are_given_back_at_once(
    pg: Engine, killing_smtp: SmtpServer, tmp_path: Path
) -> None:
    portfolio(pg, tmp_path, 6)
    assert isinstance(killing_smtp.handler, KillingSmtp)
    killing_smtp.handler.kill_at = (2,)
    # One try per record: the 2nd message's record fails for good.
    dispatcher = dispatch(pg, killing_smtp, tmp_path, record_attempts=1)

    with pytest.raises(OperationalError):
        dispatcher.dispatch_due()

    assert statuses(pg) == {
        "C000": ("sent", 1),
        "C001": ("sending", 1),  # accepted by the server, unrecorded: waits for the lease
        **{f"C00{n}": ("planned", 0) for n in range(2, 6)},  # given back, no attempt counted
    }
    # The next dispatch (well within the lease) sends the four given back, and only them.
    again = dispatcher.dispatch_due()
    dispatcher.registry.close()
    assert again.sent["email"] == 4
    received = Counter(str(m.message["To"]) for m in killing_smtp.handler.received)
    assert received == Counter(f"Cliente {n} <c{n:03d}@exemplo.com.br>" for n in range(6))
    assert statuses(pg)["C001"] == ("sending", 1)


def test_giving_claims_back_spares_other_claims_and_the_messages_handed_over(
    engine: Engine, tmp_path: Path
) -> None:
    ids = portfolio(engine, tmp_path, 4)
    now = SystemClock().now()
    with engine.begin() as connection:
        connection.execute(
            update(actions)
            .where(actions.c.id.in_(ids[:3]))
            .values(status="sending", claimed_by="maquina:42/abc", claimed_at=now, attempts=2)
        )
        connection.execute(
            update(actions)
            .where(actions.c.id == ids[3])
            .values(status="sending", claimed_by="maquina:43/def", claimed_at=now, attempts=1)
        )
    with engine.begin() as connection:
        released = release_claims(connection, "maquina:42/abc", keep=[ids[0]])

    assert released == ids[1:3]
    assert statuses(engine) == {
        "C000": ("sending", 2),  # handed to the provider: only its record may settle it
        "C001": ("planned", 1),
        "C002": ("planned", 1),
        "C003": ("sending", 1),  # another dispatcher's claim
    }
