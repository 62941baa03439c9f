"""The scheduler of `regua serve`: the day runs once at the configured time in the creditor's
time zone, however many schedulers (or a `regua run`) share the database, and a restart after
the day ran does not run it again; the periodic dispatch sends each message once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from regua.bootstrap import App, build_app
from regua.cli.dispatch_commands import dispatch_embedded
from regua.cli.main import app as cli_app
from regua.clock import FixedClock
from regua.services.day_scheduler import DayScheduler, Tick
from regua.store.tables import actions, day_runs, plan_runs
from tests.cli.analyst_portfolio import cli, portfolio

SP = ZoneInfo("America/Sao_Paulo")
DAY = datetime(2026, 11, 23).date()  # a Monday


def ready_portfolio(db_url: str, tmp_path: Path) -> None:
    """The analysts' four late customers, and a creditor whose messages can go out."""
    portfolio(db_url, tmp_path)
    cli(
        db_url,
        *("credor", "editar", "--pix", "06990590000123", "--telefone", "(11) 3333-4444"),
        *("--endereco", "Rua do Comércio 100, Centro", "--cidade", "Curitiba", "--uf", "PR"),
        *("--cep", "80010-000", "--email-envio", "cobranca@lojateste.com.br"),
    )


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=SP).astimezone(UTC)


def scheduler_process(db_url: str, outbox: Path, runner: str) -> tuple[App, DayScheduler]:
    """What one `regua serve` process holds: its own App (engine) and scheduler."""
    app = build_app(database_url=db_url, outbox_dir=outbox, clock=FixedClock(at(7)))
    scheduler = DayScheduler(
        app.uow, app.clock, time(7, 30), dispatch=lambda: dispatch_embedded(app), runner=runner
    )
    return app, scheduler


def race(schedulers: list[DayScheduler]) -> list[Tick]:
    """Every scheduler ticks at once, each in its own thread."""
    start = threading.Barrier(len(schedulers))
    ticks: list[Tick | BaseException] = [Tick()] * len(schedulers)

    def tick(index: int) -> None:
        start.wait()
        try:
            ticks[index] = schedulers[index].tick()
        except BaseException as exc:  # handed to the test thread
            ticks[index] = exc

    threads = [threading.Thread(target=tick, args=(i,)) for i in range(len(schedulers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in ticks:
        if isinstance(outcome, BaseException):
            raise outcome
    return [t for t in ticks if isinstance(t, Tick)]


def counts(engine: Engine) -> tuple[int, int, int]:
    """(plan runs of the day, actions planned, actions sent)."""
    with engine.connect() as connection:
        runs = connection.execute(
            select(func.count()).select_from(plan_runs).where(plan_runs.c.planned_for == DAY)
        ).scalar_one()
        planned = connection.execute(select(func.count()).select_from(actions)).scalar_one()
        sent = connection.execute(
            select(func.count()).select_from(actions).where(actions.c.status == "sent")
        ).scalar_one()
    return runs, planned, sent


def test_two_schedulers_run_the_day_once_and_send_each_message_once(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    outbox = tmp_path / "caixa"
    (app_a, first), (app_b, second) = (
        scheduler_process(db_url, outbox, "serve@a:1"),
        scheduler_process(db_url, outbox, "serve@b:2"),
    )
    try:
        # 07:00: before the configured time, nothing runs.
        assert [t.ran_day for t in race([first, second])] == [None, None]
        assert counts(engine) == (0, 0, 0)

        # 07:45: both wake up; one runs the day, the other finds it claimed.
        for app in (app_a, app_b):
            app.clock.instant = at(7, 45)  # type: ignore[attr-defined]
        ticks = race([first, second])
        assert sorted(str(t.ran_day) for t in ticks) == ["2026-11-23", "None"]
        runs, planned, sent = counts(engine)
        assert (runs, sent) == (1, 0)  # the contact window opens at 08:00: nothing sent yet
        assert planned > 0
        with engine.connect() as connection:
            claim = connection.execute(select(day_runs)).one()
        assert claim.day == DAY and claim.finished_at is not None

        # 09:00: the window is open; both dispatch, each message goes out once.
        for app in (app_a, app_b):
            app.clock.instant = at(9)  # type: ignore[attr-defined]
        ticks = race([first, second])
        assert [t.ran_day for t in ticks] == [None, None]
        runs, still_planned, sent = counts(engine)
        assert (runs, still_planned) == (1, planned)
        sent_by_both = sum(sum(t.dispatched.sent.values()) for t in ticks if t.dispatched)
        assert sent == sent_by_both > 0
        written = [p for p in outbox.rglob("*") if p.is_file() and not p.name.startswith(".")]
        assert len(written) == sent  # one file per message: nobody got one twice
    finally:
        app_a.close()
        app_b.close()

    # A restart at 10:00 the same day: the day already ran, it does not run again.
    app_c, restarted = scheduler_process(db_url, outbox, "serve@a:3")
    try:
        app_c.clock.instant = at(10)  # type: ignore[attr-defined]
        assert restarted.tick().ran_day is None
        assert counts(engine)[:2] == (1, planned)
    finally:
        app_c.close()


def test_a_day_run_by_hand_is_not_run_again_by_the_scheduler(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    result = CliRunner().invoke(
        cli_app, ["--db", db_url, "--today", "2026-11-23", "run", "--no-dispatch"]
    )
    assert result.exit_code == 0, result.output
    app, scheduler = scheduler_process(db_url, tmp_path / "caixa", "serve@a:1")
    try:
        app.clock.instant = at(7, 45)  # type: ignore[attr-defined]
        assert scheduler.tick().ran_day is None
    finally:
        app.close()
    assert counts(engine)[0] == 1


def test_run_by_hand_refuses_a_day_another_process_is_running(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    with engine.begin() as connection:
        connection.execute(
            day_runs.insert().values(
                creditor_id=1, day=DAY, runner="serve@outra:7", started_at=datetime.now(UTC)
            )
        )
    result = CliRunner().invoke(cli_app, ["--db", db_url, "--today", "2026-11-23", "run"])
    assert result.exit_code == 2
    assert "o dia 23/11/2026 já está sendo executado por serve@outra:7" in result.stderr
    assert counts(engine) == (0, 0, 0)


def test_a_scheduler_stopped_mid_run_gives_the_day_back(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    app, stopped = scheduler_process(db_url, tmp_path / "caixa", "serve@a:1")
    other_app, other = scheduler_process(db_url, tmp_path / "caixa", "serve@b:2")
    try:
        # Its claim, as a run cut short by the process's stop leaves it: started, unfinished.
        with engine.begin() as connection:
            connection.execute(
                day_runs.insert().values(
                    creditor_id=1, day=DAY, runner="serve@a:1", started_at=at(7, 31)
                )
            )
        other_app.clock.instant = at(7, 45)  # type: ignore[attr-defined]
        assert other.tick().ran_day is None  # held by a:1, inside its lease
        stopped.give_back()
        assert other.tick().ran_day == DAY
    finally:
        app.close()
        other_app.close()
    assert counts(engine)[0] == 1
