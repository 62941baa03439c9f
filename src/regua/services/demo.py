"""`regua demo`: a demo folder with a SQLite database holding a synthetic portfolio."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from regua.config import Settings
from regua.services import demo_data
from regua.services.contacts import customer_id_by_external, opt_out
from regua.services.importing import ImportKind, ImportResult, import_file
from regua.services.reporting import PortfolioSummary, portfolio_summary
from regua.services.setup import CreditorIn, init_database
from regua.services.simulation import SimulatedDay, simulate
from regua.store.db import make_engine


@dataclass(frozen=True)
class DemoResult:
    folder: Path
    database_url: str
    imports: tuple[ImportResult, ...]
    summary: PortfolioSummary
    days: list[SimulatedDay]
    outbox: Path  # the simulated days' messages: .eml, .json (SMS, WhatsApp), .pdf (letters)

    @property
    def outbox_files(self) -> int:
        return (
            sum(1 for path in self.outbox.iterdir() if path.is_file())
            if self.outbox.exists()
            else 0
        )


def build_demo(
    folder: Path,
    *,
    settings: Settings,
    customers: int,
    seed: int,
    today: date,
    now: datetime,
    days: int = 30,
) -> DemoResult:
    """The demo in `folder`; the simulated days' messages go through the channels of
    `settings`, with the folder's own outbox."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "regua.db"
    outbox = folder / "outbox"
    # A demo is rebuilt from its seed, never merged with an old one: the database with its
    # write-ahead log, and the old messages, go.
    for stale in (database, folder / "regua.db-wal", folder / "regua.db-shm"):
        stale.unlink(missing_ok=True)
    if outbox.exists():
        shutil.rmtree(outbox)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    try:
        creditor_id = init_database(engine, CreditorIn(), now)
        files = demo_data.generate(folder, customers=customers, seed=seed, today=today)
        sources: tuple[tuple[ImportKind, Path], ...] = (
            ("customers", files.customers),
            ("invoices", files.invoices),
            ("payments", files.payments),
        )
        results = tuple(
            import_file(engine, kind, path, creditor_id=creditor_id, now=now)
            for kind, path in sources
        )
        with engine.begin() as connection:
            for external_id, channel in files.opted_out:
                customer_id = customer_id_by_external(connection, creditor_id, external_id)
                if customer_id is not None:
                    opt_out(
                        connection,
                        customer_id=customer_id,
                        channel=channel,
                        reason="respondeu SAIR",
                        at=now,
                    )
            summary = portfolio_summary(connection, creditor_id, today)
        channels = settings.model_copy(update={"outbox_dir": outbox})
        simulated = simulate(
            engine, creditor_id, today, days, files.future_payments, channels=channels
        )
    finally:
        engine.dispose()
    return DemoResult(folder, url, results, summary, simulated, outbox)
