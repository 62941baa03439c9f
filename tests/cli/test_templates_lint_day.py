"""`regua templates lint` renders the samples on the CLI clock's day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from regua.cli.templates_commands import register

runner = CliRunner()


def test_lint_uses_the_clock_s_today(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    register(app)
    today = date(2027, 3, 9)
    monkeypatch.setenv("REGUA_TODAY", today.isoformat())
    folder = tmp_path / "messages" / "dia"
    folder.mkdir(parents=True)
    # Threatens the debtor on every day but the CLI's today.
    (folder / "sms.j2").write_text(
        "{{ creditor.name }}, CNPJ {{ creditor.document }}: a fatura vence "
        f"{{{{ invoices[0].due_date|data }}}}.{{% if today|data != '{today:%d/%m/%Y}' %}} "
        "Sujeito a prisao.{% endif %} Para nao receber mais mensagens, responda SAIR.",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["templates", "lint", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "12 modelos e 1 roteiro conferidos: 0 erros, 0 avisos."
