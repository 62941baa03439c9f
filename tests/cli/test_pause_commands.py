"""`regua pause`: an invoice by its number, a kept end date, a date in the past refused."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from regua.cli.main import app
from tests.builders import CUSTOMERS_CSV, write_csv

runner = CliRunner()
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor
9004;NF-9004;C1;Mensalidade internet;23/11/2026;99,90
"""


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    for kind, text in (("customers", CUSTOMERS_CSV), ("invoices", INVOICES)):
        done = runner.invoke(
            app, ["import", kind, str(write_csv(tmp_path / f"{kind}.csv", text)), "--db", url]
        )
        assert done.exit_code == 0, done.output
    return url


def test_pause_by_number_keeps_a_dated_pause_and_refuses_the_past(tmp_path: Path) -> None:
    url = _database(tmp_path)
    today = ["--today", "2026-11-23"]
    pause = [*today, "pause", "--db", url, "--reason", "negociando"]

    first = runner.invoke(app, [*pause, "--invoice", "NF-9004", "--until", "2026-12-20"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "Pausado: título NF-9004 (id 9004) até 20/12/2026"

    again = runner.invoke(app, [*pause, "--invoice", "9004"])
    assert again.exit_code == 0, again.output
    assert " ".join(again.output.split()) == (
        "Pausado: título 9004 até 20/12/2026 (data da pausa anterior mantida; use --sem-prazo "
        "para pausar sem data)"
    )

    open_ended = runner.invoke(app, [*pause, "--invoice", "9004", "--sem-prazo"])
    assert open_ended.output.strip() == "Pausado: título 9004"

    past = runner.invoke(app, [*pause, "--customer", "C1", "--until", "2026-11-22"])
    assert past.exit_code == 2
    assert past.stderr.strip() == (
        "erro: --until: a data já passou: 22/11/2026 (hoje é 23/11/2026)"
    )
