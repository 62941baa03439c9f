"""`regua run --inicio`: a first run on a portfolio with old overdue invoices starts from today by
default, or catches up when asked; the choice is kept for the next runs, and `regua preview`
shows both. On SQLite and PostgreSQL: the choice is stored with the plan's runs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from regua.store.tables import plan_runs
from tests.builders import write_csv
from tests.cli.analyst_portfolio import CUSTOMERS, cli

# Mon 23/11/2026. NF-1 and NF-2 are 41 days late: their latest step (aviso-negativacao, D+30)
# fell on 12/11. NF-3 is 10 days late: atraso-10 falls today. NF-4 is due next Monday: its
# preventive reminder (D-7) falls today.
INVOICES = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-10-13;150,00
T2;NF-2;C2;Mensalidade;2026-10-13;2.500,00
T3;NF-3;C3;Mensalidade;2026-11-13;80,00
T4;NF-4;C4;Mensalidade;2026-11-30;90,00
"""


def old_portfolio(url: str, tmp_path: Path) -> None:
    cli(url, "init", "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23")
    cli(url, "import", "customers", str(write_csv(tmp_path / "clientes.csv", CUSTOMERS)))
    cli(url, "import", "invoices", str(write_csv(tmp_path / "titulos.csv", INVOICES)))


def steps(output: str) -> dict[str, int]:
    data = json.loads(output)
    found: dict[str, int] = {}
    for action in data["actions"]:
        found[action["step"]] = found.get(action["step"], 0) + 1
    return found


def starts(engine: Engine) -> list[date | None]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(plan_runs.c.starts_on).order_by(plan_runs.c.id)).scalars()
        )


def test_preview_shows_both_starts_and_a_first_run_starts_from_today(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    old_portfolio(db_url, tmp_path)
    preview = json.loads(cli(db_url, "preview", "--json").output)
    assert preview["start"]["first_run"] is True
    assert preview["start"]["choice"] == "hoje"
    choices = preview["start"]["choices"]
    assert choices["recuperar"]["planned_by_step"] == {"aviso-negativacao": 2, "atraso-10": 1}
    assert choices["hoje"]["planned_by_step"] == {"atraso-10": 1}
    shown = cli(db_url, "preview").output
    assert "Como começar (--inicio)" in shown
    assert "recuperar (recuperando as etapas já passadas): 4 ações" in shown
    assert "hoje (a partir de hoje): 2 ações" in shown

    ran = cli(db_url, "run", "--no-dispatch")
    assert "Primeira execução desta régua: começando em 23/11/2026" in ran.output
    assert "A escolha fica gravada" in ran.output
    assert starts(engine) == [date(2026, 11, 23)]
    # The next days go on from the start: NF-1 and NF-2 are never caught up, NF-4 gets its
    # due-day message next Monday, with NF-3's call (D+15, on Saturday: no run that day).
    tuesday = json.loads(cli(db_url, "run", "--no-dispatch", "--json", today="2026-11-24").output)
    assert tuesday["start"] == {"first_run": False, "choice": "hoje", "starts_on": "2026-11-23"}
    assert tuesday["actions"] == []
    monday = cli(db_url, "run", "--no-dispatch", "--json", today="2026-11-30").output
    assert steps(monday) == {"vence-hoje": 1, "ligacao": 1}
    assert starts(engine) == [date(2026, 11, 23)] * 3
    later = json.loads(cli(db_url, "preview", "--json", today="2026-12-01").output)
    assert "choices" not in later["start"]


def test_catching_up_when_asked_and_kept(engine: Engine, db_url: str, tmp_path: Path) -> None:
    old_portfolio(db_url, tmp_path)
    ran = cli(db_url, "run", "--no-dispatch", "--inicio", "recuperar", "--json")
    assert steps(ran.output) == {"aviso-negativacao": 2, "atraso-10": 1, "lembrete": 1}
    assert starts(engine) == [None]
    cli(db_url, "run", "--no-dispatch", today="2026-11-24")
    assert starts(engine) == [None, None]


def test_catching_up_later_sends_the_steps_a_start_from_today_passed(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    old_portfolio(db_url, tmp_path)
    cli(db_url, "run", "--no-dispatch")
    later = cli(
        db_url, "run", "--no-dispatch", "--inicio", "recuperar", "--json", today="2026-11-24"
    )
    assert steps(later.output) == {"aviso-negativacao": 2}
