"""`regua demo`: a demo folder with a SQLite database holding a synthetic portfolio.

The entry point builds an App on the folder's database (`demo_database_url`) and gives its
units of work to `build_demo`, which makes the database from nothing, imports the generated
files and simulates the days.

A demo folder is marked (`MARKER_FILE`) once its database is made, and the demo only ever
rebuilds a folder it marked: a folder holding anyone else's `regua.db`, outbox or spreadsheets
under the demo's file names is refused, naming the file, before anything is touched.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from regua.config import Settings
from regua.error_codes import ErrorCode
from regua.errors import RuleViolation
from regua.services import demo_data
from regua.services.customer_links import portal_links
from regua.services.importing import ImportKind, ImportResult, import_file
from regua.services.negotiation_demo import seed_negotiations
from regua.services.portal import DemoLink, demo_link
from regua.services.setup import init_database
from regua.services.simulation import SimulatedDay, simulate
from regua.store import contacts, portfolio
from regua.store import customers as customer_store
from regua.store.portfolio import PortfolioSummary
from regua.store.uow import UnitOfWorkFactory

DATABASE_FILE = "regua.db"
MARKER_FILE = ".regua-demo"
FOLDER_NAME = "regua-demo"
# What building a demo writes, replaces or deletes in its folder.
DEMO_FILES = (
    DATABASE_FILE,
    f"{DATABASE_FILE}-wal",
    f"{DATABASE_FILE}-shm",
    "outbox",
    "clientes.csv",
    "titulos.csv",
    "pagamentos.csv",
    "pagamentos_futuros.csv",
)


def default_folder() -> Path:
    """Where `regua demo` builds without ``--dir``: ``regua-demo`` in the user's home (never in
    the directory it is run from, which may be regua's own source tree), else in the temp dir."""
    try:
        return Path.home() / FOLDER_NAME
    except RuntimeError:  # no home directory can be determined
        return Path(tempfile.gettempdir()) / FOLDER_NAME


def check_folder(folder: Path) -> None:
    """Refuse a folder the demo did not make if building there would replace or delete a file."""
    if (folder / MARKER_FILE).is_file():
        return
    for name in DEMO_FILES:
        path = folder / name
        if path.exists() and not (path.is_file() and path.stat().st_size == 0):
            raise RuleViolation(
                f"{path.resolve()} já existe e não é de uma demonstração: "
                "a demonstração não o substitui (use outra pasta com --dir)",
                code=ErrorCode.NOT_A_DEMO_FOLDER,
                path=str(path),
            )


def demo_database_url(folder: Path) -> str:
    """The demo's own SQLite database, in its folder: the App the demo runs with uses this."""
    return f"sqlite:///{folder / DATABASE_FILE}"


@dataclass(frozen=True)
class DemoResult:
    folder: Path
    database_url: str
    imports: tuple[ImportResult, ...]
    summary: PortfolioSummary
    days: list[SimulatedDay]
    outbox: Path  # the simulated days' messages: .eml, .json (SMS, WhatsApp), .pdf (letters)
    portal: DemoLink | None = None  # a working debtor portal link (`regua serve` opens it)

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
    uow: UnitOfWorkFactory,
    settings: Settings,
    customers: int,
    seed: int,
    today: date,
    now: datetime,
    days: int = 30,
) -> DemoResult:
    """The demo in `folder`, on the database of `uow` (the folder's, `demo_database_url`),
    which must not have been opened yet: it is made again from nothing. The simulated days'
    messages go through the channels of `settings`, with the folder's own outbox.

    Refused (`check_folder`) when the folder holds files the demo did not make."""
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / DATABASE_FILE
    outbox = folder / "outbox"
    # A demo is rebuilt from its seed, never merged with an old one: the database with its
    # write-ahead log, and the old messages, go.
    for stale in (database, folder / f"{DATABASE_FILE}-wal", folder / f"{DATABASE_FILE}-shm"):
        stale.unlink(missing_ok=True)
    if outbox.exists():
        shutil.rmtree(outbox)
    # The example company's full profile lives here, in the demo, and nowhere else.
    creditor_id = init_database(uow, demo_data.EXAMPLE_CREDITOR, now).creditor_id
    (folder / MARKER_FILE).write_text(
        "Pasta criada por `regua demo`: a demonstração pode refazê-la do zero.\n", encoding="utf-8"
    )
    files = demo_data.generate(folder, customers=customers, seed=seed, today=today)
    sources: tuple[tuple[ImportKind, Path], ...] = (
        ("customers", files.customers),
        ("invoices", files.invoices),
        ("payments", files.payments),
    )
    results = tuple(
        import_file(uow, kind, path, creditor_id=creditor_id, now=now) for kind, path in sources
    )
    with uow() as work:
        for external_id, channel in files.opted_out:
            customer_id = customer_store.id_by_external(work.connection, creditor_id, external_id)
            if customer_id is not None:
                contacts.opt_out(
                    work.connection,
                    customer_id=customer_id,
                    channel=channel,
                    reason="respondeu SAIR",
                    at=now,
                )
        summary = portfolio.portfolio_summary(work.connection, creditor_id, today)
        work.commit()
    seed_negotiations(uow, creditor_id, today)  # agreements and promises, kept and broken
    channels = settings.model_copy(update={"outbox_dir": outbox})
    simulated = simulate(uow, creditor_id, today, days, files.future_payments, channels=channels)
    link = demo_link(uow, portal_links(uow, settings), creditor_id, today=today, now=now)
    return DemoResult(folder, settings.database_url, results, summary, simulated, outbox, link)
