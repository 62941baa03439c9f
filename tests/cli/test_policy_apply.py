"""Changing a creditor's régua keeps the old version for the history of what was sent."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from regua.cli.main import app
from regua.policies.loader import packaged_policy_text

runner = CliRunner()


def test_apply_new_version_keeps_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    runner.invoke(app, ["run", "--db", url, "--date", "2026-11-23"])  # activates the defaults
    changed = packaged_policy_text("padrao").replace("offset: 10\n", "offset: 12\n", 1)
    path = tmp_path / "padrao.yaml"
    path.write_text(changed, encoding="utf-8")

    result = runner.invoke(app, ["policy", "apply", str(path), "--db", url])

    assert result.exit_code == 0, result.output
    assert "movida de D+10 para D+12" in result.output
    listed = json.loads(runner.invoke(app, ["policy", "list", "--db", url, "--json"]).output)
    padrao = [(row["active"], row["version"]) for row in listed if row["name"] == "padrao"]
    assert len(padrao) == 2
    assert sorted(active for active, _v in padrao) == [False, True]
    again = runner.invoke(app, ["policy", "apply", str(path), "--db", url])
    assert "já estava ativa" in again.output


def test_apply_bad_policy_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    path = tmp_path / "ruim.yaml"
    path.write_text("name: ruim\nsteps:\n  - {id: a, offset: dez, channels: [email]}\n")
    result = runner.invoke(app, ["policy", "apply", str(path), "--db", url])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("erro: ruim.yaml:3: steps[0].offset:")
