"""The command line as a user types it: exit codes, one-line errors, --json for programs."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.store import migrate
from regua.store.tables import creditors, invoices
from tests.builders import CUSTOMERS_CSV, write_csv

runner = CliRunner()


def test_init_creates_schema_and_default_creditor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    result = runner.invoke(
        app,
        [
            "init",
            "--db",
            url,
            "--nome",
            "Loja Teste Ltda",
            "--cnpj",
            "06.990.590/0001-23",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["creditor_id"] == 1
    assert data["schema_revision"] == migrate.head_revision()
    again = runner.invoke(
        app,
        [
            "init",
            "--db",
            url,
            "--nome",
            "Loja Teste Ltda",
            "--cnpj",
            "06.990.590/0001-23",
            "--json",
        ],
    )
    assert json.loads(again.output)["creditor_id"] == 1  # idempotent


def test_init_on_postgresql(engine: Engine, db_url: str) -> None:
    result = runner.invoke(
        app, ["init", "--db", db_url, "--nome", "Loja X Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        assert connection.execute(select(creditors.c.name)).scalar_one() == "Loja X Ltda"


def test_db_upgrade_reports_current_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    result = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0
    assert "já está na versão atual" in result.output


def test_import_json_counts_and_reject_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    customers = write_csv(tmp_path / "clientes.csv", CUSTOMERS_CSV, encoding="cp1252")
    result = runner.invoke(app, ["import", "customers", str(customers), "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["inserted"], counts["rejected"]) == (3, 0)

    bad = write_csv(tmp_path / "t.csv", "id;codigo_cliente;vencimento;valor\nT1;C1;31/04/2026;1,00")
    result = runner.invoke(app, ["import", "invoices", str(bad), "--db", url])
    assert result.exit_code == 0
    assert "t.csv:2: vencimento: data que não existe: 31/04/2026" in result.output
    assert (tmp_path / "t.rejeitados.csv").exists()


def test_strict_import_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    bad = write_csv(tmp_path / "t.csv", "id;codigo_cliente;vencimento;valor\nT1;C1;01/04/2026;x")
    result = runner.invoke(app, ["import", "invoices", str(bad), "--db", url, "--strict"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("erro: t.csv: arquivo recusado, nada foi importado: 1 linha(s)")


def test_import_without_init_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vazio.db'}"
    customers = write_csv(tmp_path / "clientes.csv", CUSTOMERS_CSV)
    result = runner.invoke(app, ["import", "customers", str(customers), "--db", url])
    assert result.exit_code == 2
    assert "regua init" in result.stderr


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    result = runner.invoke(app, ["import", "invoices", str(tmp_path / "nada.csv"), "--db", url])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"erro: {tmp_path / 'nada.csv'}: arquivo não encontrado"


def test_fees_shows_parts_apart() -> None:
    result = runner.invoke(
        app, ["fees", "--amount", "1500,00", "--due", "2026-10-05", "--on", "2026-11-23"]
    )
    assert result.exit_code == 0, result.output
    assert "R$ 1.500,00" in result.output
    assert "R$ 30,00" in result.output  # multa 2 %
    assert "R$ 24,50" in result.output  # juros 1 % a.m. x 49 dias
    assert "R$ 1.554,50" in result.output


def test_fees_json_and_consumer_cap() -> None:
    result = runner.invoke(
        app,
        [
            "fees",
            "--amount",
            "1.000,00",
            "--due",
            "05/10/2026",
            "--on",
            "06/10/2026",
            "--multa",
            "10",
            "--json",
        ],
    )
    data = json.loads(result.output)
    assert (data["late_fee_cents"], data["interest_cents"], data["total_cents"]) == (
        2000,
        33,
        102033,
    )


def test_today_runs_every_command_as_if_it_were_that_date() -> None:
    args = ["fees", "--amount", "1500,00", "--due", "2026-10-05", "--json"]

    by_option = runner.invoke(app, ["--today", "2026-11-23", *args])
    by_variable = runner.invoke(app, args, env={"REGUA_TODAY": "2026-11-23"})

    assert by_option.exit_code == 0, by_option.output
    assert json.loads(by_option.output)["on"] == "2026-11-23"
    assert json.loads(by_option.output)["total_cents"] == 155450
    assert json.loads(by_variable.output) == json.loads(by_option.output)


def test_bad_today_is_one_line() -> None:
    result = runner.invoke(
        app, ["--today", "amanhã", "fees", "--amount", "1,00", "--due", "1/1/26"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "erro: --today: data inválida: amanhã (use AAAA-MM-DD)"


def test_db_before_the_command_is_the_commands_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'raiz.db'}"
    result = runner.invoke(
        app,
        [
            "--db",
            url,
            "init",
            "--nome",
            "Loja Teste Ltda",
            "--cnpj",
            "06.990.590/0001-23",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["database_url"] == url

    other = f"sqlite:///{tmp_path / 'outro.db'}"
    result = runner.invoke(
        app,
        [
            "--db",
            url,
            "init",
            "--db",
            other,
            "--nome",
            "Loja Teste Ltda",
            "--cnpj",
            "06.990.590/0001-23",
            "--json",
        ],
    )
    assert json.loads(result.output)["database_url"] == other


def test_fees_bad_amount_is_one_line() -> None:
    result = runner.invoke(app, ["fees", "--amount", "mil", "--due", "2026-10-05"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "erro: --amount: valor inválido: 'mil'"


def test_demo_is_reproducible_and_summarised(tmp_path: Path) -> None:
    args = [
        "demo",
        "--customers",
        "60",
        "--seed",
        "7",
        "--today",
        "2026-11-25",
        "--days",
        "10",
        "--json",
    ]
    first = runner.invoke(app, [*args, "--dir", str(tmp_path / "a")])
    second = runner.invoke(app, [*args, "--dir", str(tmp_path / "b")])
    assert first.exit_code == 0, first.output
    a, b = json.loads(first.output), json.loads(second.output)
    assert a["summary"] == b["summary"]
    for name in ("clientes.csv", "titulos.csv", "pagamentos.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summary = a["summary"]
    assert summary["customers"] == 60
    assert [bucket["bucket"] for bucket in summary["aging"]] == [
        "a vencer",
        "1-30",
        "31-60",
        "61-90",
        "90+",
    ]
    assert summary["overdue_cents"] > 0
    assert summary["open_cents"] == sum(bucket["balance_cents"] for bucket in summary["aging"])
    assert all(r["rejected"] == 0 for r in a["imports"])
    assert a["days"] == b["days"]
    outbox = Path(a["outbox"])
    written = sorted(p.name for p in outbox.iterdir())
    assert a["outbox_files"] == len(written) > 0
    assert sum(sum(d["sent"].values()) for d in a["days"]) == len(written)
    assert [d["date"] for d in a["days"]] == [
        f"2026-{m}"
        for m in (
            "11-25",
            "11-26",
            "11-27",
            "11-28",
            "11-29",
            "11-30",
            "12-01",
            "12-02",
            "12-03",
            "12-04",
        )
    ]
    sunday = a["days"][4]
    assert sunday["planned"] == []  # 29/11/2026 is a Sunday: nothing goes out
    assert sum(sum(p["actions"] for p in d["planned"]) for d in a["days"]) > 0

    from regua.store.db import make_engine

    engine = make_engine(a["database_url"])
    with engine.connect() as connection:
        # the imported invoices (the demo's agreements add their installments)
        count = connection.execute(
            select(func.count()).select_from(invoices).where(invoices.c.agreement_id.is_(None))
        ).scalar_one()
    engine.dispose()
    assert count == a["imports"][1]["inserted"]
