"""`regua templates lint|show` through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from regua.cli.templates_commands import register

runner = CliRunner()
PACKAGED = Path(__file__).resolve().parents[2] / "src" / "regua" / "templates"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_lint_of_the_default_library_is_clean(app: typer.Typer) -> None:
    result = runner.invoke(app, ["templates", "lint"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "11 modelos e 1 roteiro conferidos: 0 erros, 0 avisos."


def test_lint_flags_a_threatening_user_template_and_exits_1(
    app: typer.Typer, tmp_path: Path
) -> None:
    folder = tmp_path / "messages" / "vence_hoje"
    folder.mkdir(parents=True)
    (folder / "sms.j2").write_text(
        "{{ customer.first_name }}, pague hoje ou vamos acionar a justiça!! "
        "Responda SAIR. {{ creditor.name }} CNPJ {{ creditor.document }}",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["templates", "lint", "--dir", str(tmp_path), "--json"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    found = {(i["template"], i["channel"], i["code"], i["severity"]) for i in report["issues"]}
    assert found == {
        ("vence_hoje", "sms", "ameaca", "error"),
        ("vence_hoje", "sms", "pontuacao", "warning"),
    }
    assert report["errors"] == 1 and report["warnings"] == 1


def test_lint_reports_a_broken_template_instead_of_crashing(
    app: typer.Typer, tmp_path: Path
) -> None:
    shutil.copytree(PACKAGED / "messages" / "agradecimento", tmp_path / "messages" / "novo")
    (tmp_path / "messages" / "novo" / "sms.j2").write_text("Olá {{ cliente.nome }", "utf-8")

    result = runner.invoke(app, ["templates", "lint", "--dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "erro_de_modelo" in result.output
    assert "12 modelos e 1 roteiro conferidos: 1 erro, 0 avisos." in result.output


def test_show_renders_the_sms_with_its_segment_count(app: typer.Typer) -> None:
    result = runner.invoke(app, ["templates", "show", "vence_hoje", "--channel", "sms", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["text"].startswith("Conecta Fibra Ltda (CNPJ 11.222.333/0001-81): Ola, Maria!")
    assert shown["sms_segments"] == 2


def test_show_email_prints_subject_and_text(app: typer.Typer) -> None:
    result = runner.invoke(app, ["templates", "show", "aviso_negativacao", "--offset", "30"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Assunto: Comunicação prévia sobre débito em aberto com")
    assert "artigo 43, parágrafo 2º, do Código de Defesa do Consumidor" in result.output


def test_show_phone_prints_the_call_script(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["templates", "show", "roteiro_negociacao", "--channel", "phone", "--json"]
    )
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)["steps"]
    assert steps[0]["id"] == "apresentacao"
    assert steps[0]["say"].startswith("Olá! Meu nome é Ana e falo em nome da Conecta Fibra.")


def test_show_unknown_template_is_a_one_line_error(app: typer.Typer) -> None:
    result = runner.invoke(app, ["templates", "show", "nao_existe"])
    assert result.exit_code == 2
    assert "modelo não encontrado: nao_existe" in result.output
