"""`regua policy check|apply` refuse a template or call script the library does not have."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from regua.cli.main import app
from regua.domain.policy_checks import KnownNames, check_names
from regua.policies.loader import load_policy_text

runner = CliRunner()

POLICY = """\
name: teste
steps:
  - id: lembrete
    offset: -3
    channels: [email]
    template: lembrete_vencimento
  - id: cobranca
    offset: 10
    channels: [email, sms]
    template: {template}
  - id: ligacao
    offset: 15
    channels: [phone]
    script: {script}
"""


def _write(
    tmp_path: Path, template: str = "atraso_firme", script: str = "roteiro_negociacao"
) -> Path:
    path = tmp_path / "teste.yaml"
    path.write_text(POLICY.format(template=template, script=script), encoding="utf-8")
    return path


def test_check_refuses_a_misspelt_template_and_suggests_the_closest(tmp_path: Path) -> None:
    path = _write(tmp_path, template="atraso_firmee")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"erro: {path}:10: steps[1].template:")
    assert "modelo 'atraso_firmee' não existe (etapa 'cobranca')" in line
    assert line.endswith("você quis dizer atraso_firme?")


def test_check_refuses_an_unknown_script(tmp_path: Path) -> None:
    path = _write(tmp_path, script="roteiro_negociacoes")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith(f"erro: {path}:14: steps[2].script:")
    assert "roteiro 'roteiro_negociacoes' não existe (etapa 'ligacao')" in line
    assert "você quis dizer roteiro_negociacao?" in line


def test_check_accepts_packaged_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(_write(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["valid"] is True


def test_apply_refuses_an_unknown_template_and_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    path = _write(tmp_path, template="atraso_firmee")

    result = runner.invoke(app, ["policy", "apply", str(path), "--db", url])

    assert result.exit_code == 2
    assert result.stderr.strip().startswith("erro: teste.yaml:10: steps[1].template:")
    assert "você quis dizer atraso_firme?" in result.stderr
    listed = json.loads(runner.invoke(app, ["policy", "list", "--db", url, "--json"]).output)
    assert "teste" not in {row["name"] for row in listed}


def test_unknown_thank_you_template_lists_what_there_is() -> None:
    text = POLICY.format(template="atraso_firme", script="roteiro_negociacao") + (
        "thank_you:\n  template: xyz\n  channels: [email]\n"
    )
    policy = load_policy_text(text, "teste.yaml")  # without names: not looked at
    known = KnownNames(templates=["agradecimento", "atraso_firme"], scripts=[])

    problems = check_names(policy, known)

    assert [(p.path, p.message) for p in problems] == [
        (
            ("steps", 0, "template"),
            "modelo 'lembrete_vencimento' não existe (etapa 'lembrete'); "
            "disponíveis: agradecimento, atraso_firme",
        ),
        (("steps", 2, "script"), "roteiro 'roteiro_negociacao' não existe (etapa 'ligacao')"),
        (
            ("thank_you", "template"),
            "modelo 'xyz' não existe (agradecimento); disponíveis: agradecimento, atraso_firme",
        ),
    ]
