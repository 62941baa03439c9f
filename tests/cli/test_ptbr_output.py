"""What a collections user reads is in pt-BR; what a program reads (--json) keeps raw values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regua.cli.main import app
from regua.payments import pix
from tests.builders import CUSTOMERS_CSV, write_csv

runner = CliRunner()

INVOICES_CSV = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-11-13;150,00
T2;NF-2;C2;Mensalidade;2026-11-13;2.500,00
T3;NF-3;C3;Mensalidade;2026-11-13;80,00
T4;NF-4;C4;Mensalidade;2026-11-13;90,00
"""


def _portfolio(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    # C4 has no way to be reached: its action is skipped.
    customers = write_csv(
        tmp_path / "clientes.csv",
        CUSTOMERS_CSV.rstrip() + "\nC4;Sem Contato;52998224725;;;SP;Santos\n",
    )
    invoices = write_csv(tmp_path / "titulos.csv", INVOICES_CSV)
    for kind, path in (("customers", customers), ("invoices", invoices)):
        imported = runner.invoke(app, ["import", kind, str(path), "--db", url])
        assert imported.exit_code == 0, imported.output
    return url


def test_preview_and_run_show_statuses_in_ptbr_and_json_keeps_raw(tmp_path: Path) -> None:
    url = _portfolio(tmp_path)
    raw = runner.invoke(app, ["preview", "--db", url, "--date", "2026-11-23", "--json"])
    data = json.loads(raw.output)
    assert data["by_status"] == {"planned": 3, "skipped": 1}
    assert {a["status"] for a in data["actions"]} == {"planned", "skipped"}
    for command in (["preview"], ["run", "--no-dispatch"]):
        shown = runner.invoke(app, [*command, "--db", url, "--date", "2026-11-23"])
        assert shown.exit_code == 0, shown.output
        assert "planejada" in shown.output
        assert "pulada" in shown.output
        assert "planned" not in shown.output
        assert "skipped" not in shown.output


def test_policy_check_names_channels_and_segments_in_ptbr() -> None:
    policy = Path(__file__).parents[2] / "src/regua/policies/defaults/padrao.yaml"
    result = runner.invoke(app, ["policy", "check", str(policy)])
    assert result.exit_code == 0, result.output
    steps = result.stdout.split("Segmentos (")[0]
    assert "carta" in steps
    assert "ligação" in steps
    assert "Atrasador habitual" in steps
    assert "Risco" in steps
    for raw in ("letter", "phone", "atrasador_habitual", "risco"):
        assert raw not in steps, raw
    assert "Preços: e-mail R$ 0,00, SMS R$ 0,09, WhatsApp R$ 0,35, carta R$ 2,50" in result.stdout
    raw_json = json.loads(runner.invoke(app, ["policy", "check", str(policy), "--json"]).stdout)
    assert "letter" in raw_json["policy"]["steps"][-1]["channels"]


def test_segments_table_shows_labels(tmp_path: Path) -> None:
    url = _portfolio(tmp_path)
    runner.invoke(app, ["run", "--no-dispatch", "--db", url, "--date", "2026-11-23"])
    shown = runner.invoke(app, ["segments", "--db", url])
    assert shown.exit_code == 0, shown.output
    assert "Novo" in shown.output
    raw = json.loads(runner.invoke(app, ["segments", "--db", url, "--json"]).output)
    assert {row["segment"] for row in raw} == {"novo"}


def test_fees_writes_a_m_with_its_dots() -> None:
    result = runner.invoke(
        app,
        [
            "fees",
            "--amount",
            "1500,00",
            "--due",
            "2026-10-01",
            "--on",
            "2026-11-23",
            "--juros",
            "1.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Juros (1,50% a.m. pro rata die)" in result.output
    assert "a,m," not in result.output
    assert "Multa (2,00%)" in result.output


def test_json_error_is_json_on_stdout_with_its_code(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nada.db'}"
    result = runner.invoke(app, ["segments", "--db", missing, "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "database_not_found"
    assert "nada.db" in error["message"]
    assert result.stderr.startswith("erro: ")  # the person still reads one pt-BR line
    plain = runner.invoke(app, ["segments", "--db", missing])
    assert plain.exit_code == 2
    assert plain.stdout == ""


def test_json_errors_of_files_and_templates(tmp_path: Path) -> None:
    url = _portfolio(tmp_path)
    missing = tmp_path / "não_existe.csv"
    result = runner.invoke(app, ["import", "customers", str(missing), "--db", url, "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": {"code": "invalid_input", "message": f"{missing}: arquivo não encontrado"}
    }
    assert "não_existe" in result.stdout  # UTF-8, accents not escaped
    assert "\\u00e3" not in result.stdout
    unknown = runner.invoke(app, ["templates", "show", "atraso_firmee", "--json"])
    assert unknown.exit_code == 2
    assert json.loads(unknown.stdout)["error"]["code"] == "template_not_found"


def test_json_keeps_raw_values(tmp_path: Path) -> None:
    url = _portfolio(tmp_path)
    ran = json.loads(
        runner.invoke(
            app, ["run", "--no-dispatch", "--db", url, "--date", "2026-11-23", "--json"]
        ).stdout
    )
    assert ran["load"]["cost_cents"] == 35
    assert ran["date"] == "2026-11-23"
    assert ran["actions"][0]["channel"] == "email"
    segments = json.loads(runner.invoke(app, ["segments", "--db", url, "--json"]).stdout)
    assert segments[0]["open_cents"] == 15000 + 250000 + 8000 + 9000
    assert "R$" not in json.dumps(ran) + json.dumps(segments)
    credor = runner.invoke(app, ["credor", "mostrar", "--db", url, "--json"])
    assert "Loja Teste Ltda" in credor.stdout


def test_pix_code_stays_whole_when_output_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # a pipe: no width given
    url = _portfolio(tmp_path)
    edited = runner.invoke(
        app,
        [
            *("credor", "editar", "--db", url, "--pix", "financeiro@lojateste.com.br"),
            *("--cidade", "São Paulo", "--email", "cobranca@lojateste.com.br"),
        ],
    )
    assert edited.exit_code == 0, edited.output
    result = runner.invoke(
        app,
        [
            "templates",
            "render",
            "atraso-10",
            "--customer",
            "C2",
            "--db",
            url,
            "--date",
            "2026-11-23",
        ],
    )
    assert result.exit_code == 0, result.output
    codes = re.findall(r"^000201.*$", result.stdout, flags=re.MULTILINE)
    assert len(codes) == 1, result.stdout
    decoded = pix.decode(codes[0])  # the CRC checks the code is whole
    assert decoded.amount_cents == 255833
    assert decoded.key == "financeiro@lojateste.com.br"


def test_call_list_rows_stay_on_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # a pipe: no width given
    url = _portfolio(tmp_path)
    runner.invoke(app, ["run", "--no-dispatch", "--db", url, "--date", "2026-11-28"])
    result = runner.invoke(app, ["calls", "--db", url, "--date", "2026-11-28"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "José da Conceição" in line]
    assert len(rows) == 1
    for cell in ("+5511987654321", "NF-1", "R$ 153,75", "roteiro_negociacao", "America/Sao_Paulo"):
        assert cell in rows[0], cell
