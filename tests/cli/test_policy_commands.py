"""`regua policy check|diff` through the command line: output, JSON and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from regua.cli.policy_commands import register
from regua.policies.loader import packaged_policy_text

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def padrao(tmp_path: Path) -> Path:
    path = tmp_path / "padrao.yaml"
    path.write_text(packaged_policy_text("padrao"), encoding="utf-8")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_lists_steps_segments_and_window(app: typer.Typer, padrao: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(padrao)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Régua padrao (versão " in out
    assert "): válida" in out
    for cell in (
        "lembrete ",
        "D-3",
        "lembrete_vencimento",
        "atrasador_habitual",
        "vence-hoje",
        "D0",
        "ligacao",
        "D+15",
        "roteiro_negociacao",
        "aviso-negativacao",
        "D+30",
        "Bom pagador",
        "oldest_overdue_days > 30",
        "todos os demais",
    ):
        assert cell in out, cell
    assert "Aviso prévio de negativação (CDC art. 43 §2): aviso-negativacao em D+30" in out
    assert "segunda a sexta: 08:00 às 20:00" in out
    assert "sábado: 08:00 às 14:00" in out
    assert "domingo: fechado" in out
    assert "Limites por cliente: 1 por dia, 3 por semana; acima do limite: adiar" in out


def test_check_json(app: typer.Typer, padrao: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(padrao), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert len(data["version"]) == 12
    assert [s["id"] for s in data["policy"]["steps"]] == [
        "lembrete",
        "vence-hoje",
        "atraso-3",
        "atraso-10",
        "ligacao",
        "atraso-20",
        "aviso-negativacao",
    ]
    assert data["policy"]["steps"][0]["day"] == "D-7"
    assert data["policy"]["prices"]["whatsapp"] == 35


def test_check_a_broken_file_exits_2_with_one_line(
    app: typer.Typer, padrao: Path, tmp_path: Path
) -> None:
    text = padrao.read_text(encoding="utf-8")
    row = text.splitlines().index("    script: roteiro_negociacao") + 1
    broken = write(
        tmp_path, "quebrada.yaml", text.replace("    script: roteiro_negociacao", "    roteiro: x")
    )
    result = runner.invoke(app, ["policy", "check", str(broken)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"erro: {broken}:{row}: steps[4].roteiro: campo desconhecido; campos aceitos: id, "
        "offset, channels, template, script, segments, kind, min_amount_cents\n"
    )


def test_check_a_missing_file(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "nada.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"erro: {tmp_path / 'nada.yaml'}: arquivo não encontrado\n"


def test_diff_shows_added_moved_removed_and_settings(
    app: typer.Typer, padrao: Path, tmp_path: Path
) -> None:
    text = padrao.read_text(encoding="utf-8")
    new_text = (
        text.replace("    offset: 15\n", "    offset: 12\n")
        .replace("per_customer_per_week: 3", "per_customer_per_week: 2")
        .replace(
            "  - id: atraso-20\n    offset: 20\n    channels: [whatsapp, email, sms]\n"
            "    template: atraso_firme\n",
            "",
        )
        .replace(
            "  - id: atraso-10\n",
            "  - id: atraso-7\n    offset: 7\n    channels: [sms]\n    template: atraso_lembrete\n"
            "  - id: atraso-10\n",
        )
    )
    new = write(tmp_path, "nova.yaml", new_text)

    result = runner.invoke(app, ["policy", "diff", str(padrao), str(new), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(s["kind"], s["step_id"], s["old_offset"], s["new_offset"]) for s in data["steps"]] == [
        ("added", "atraso-7", None, 7),
        ("moved", "ligacao", 15, 12),
        ("removed", "atraso-20", 20, None),
    ]
    assert data["settings"] == ["limite por semana: 3 → 2"]

    result = runner.invoke(app, ["policy", "diff", str(padrao), str(new)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "movida de D+15 para D+12" in out
    assert "nova" in out and "atraso-7" in out
    assert "removida" in out and "atraso-20" in out
    assert "limite por semana: 3 → 2" in out


def test_diff_of_identical_policies(app: typer.Typer, padrao: Path) -> None:
    result = runner.invoke(app, ["policy", "diff", str(padrao), str(padrao)])
    assert result.exit_code == 0
    assert "Nenhuma mudança." in result.stdout


def test_diff_with_a_broken_file_exits_2(app: typer.Typer, padrao: Path, tmp_path: Path) -> None:
    broken = write(tmp_path, "nova.yaml", "name: x\nsteps: 3\n")
    result = runner.invoke(app, ["policy", "diff", str(padrao), str(broken)])
    assert result.exit_code == 2
    assert result.stderr == (f"erro: {broken}:2: steps: esperada uma lista (ex.: [email, sms])\n")
