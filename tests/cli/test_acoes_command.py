"""`regua acoes`: after a run says "3 retidas" or "1 com falha", which actions, to whom, and why.

Run on SQLite and PostgreSQL: the listing is a store query over actions, customers and invoices.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from regua.cli.main import app
from regua.domain.action_statuses import status_named
from tests.cli.analyst_portfolio import TODAY, cli, portfolio, runner
from tests.servers import SmtpServer, smtp_server

__all__ = ["smtp_server"]


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("failed", "failed"),
        ("com falha", "failed"),
        ("Com-Falha", "failed"),
        ("falha", "failed"),
        ("retida", "held"),
        ("RETIDAS", "held"),
        ("pulada", "skipped"),
        ("skipped", "skipped"),
        ("adiada", "deferred"),
        ("enviadas", "sent"),
        ("xyz", None),
    ],
)
def test_status_names_in_ptbr_and_english(typed: str, status: str | None) -> None:
    assert status_named(typed) == status


def test_held_and_skipped_actions_name_the_customer_invoices_and_reason(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    portfolio(db_url, tmp_path)
    # NF-5 (D+11) gets its D+10 step on the first run only when it catches up.
    ran = cli(db_url, "run", "--inicio", "recuperar")
    assert "3 retidas: falta a chave Pix do credor" in ran.output
    assert "Quem ficou sem mensagem e por quê: regua acoes --date 2026-11-23" in ran.output

    shown = cli(db_url, "acoes")
    assert "C4" in shown.output
    assert "NF-5, NF-4" in shown.output  # oldest due first
    assert "3 retida: falta a chave Pix do credor" in shown.output
    assert "1 pulada: sem canal disponível" in shown.output

    data = json.loads(cli(db_url, "acoes", "--json").output)
    assert data["date"] == TODAY
    assert data["statuses"] == ["failed", "held", "skipped", "dropped"]
    by_customer = {a["customer"]: a for a in data["actions"]}
    assert sorted(by_customer) == ["C1", "C2", "C3", "C4"]
    assert by_customer["C1"]["status"] == "held"
    assert by_customer["C1"]["channel"] == "email"
    assert by_customer["C1"]["contact"] == "jose@exemplo.com.br"
    assert by_customer["C1"]["invoices"] == ["NF-1"]
    assert by_customer["C1"]["why"] == "falta a chave Pix do credor"
    skipped = by_customer["C4"]
    assert skipped["status"] == "skipped"
    assert skipped["channel"] is None
    assert skipped["invoices"] == ["NF-5", "NF-4"]
    assert skipped["why"].startswith("sem canal disponível (e-mail: sem contato;")
    assert "WhatsApp: sem contato" in skipped["why"]

    only_skipped = json.loads(cli(db_url, "acoes", "--status", "pulada", "--json").output)
    assert [a["customer"] for a in only_skipped["actions"]] == ["C4"]
    none_failed = cli(db_url, "acoes", "--status", "failed", "--date", TODAY)
    assert "Nenhuma ação com falha em 23/11/2026." in none_failed.output
    other_day = json.loads(cli(db_url, "acoes", "--date", "2026-11-22", "--json").output)
    assert other_day["actions"] == []


def test_a_failed_send_says_what_the_provider_answered(
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_server.handler.rcpt_replies["financeiro@paoquente.com.br"] = (
        "550 5.1.1 caixa postal inexistente"
    )
    monkeypatch.setenv("REGUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REGUA_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("REGUA_SMTP_SENDER", "cobranca@lojateste.com.br")
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    portfolio(db_url, tmp_path)
    cli(db_url, "credor", "editar", "--pix", "06990590000123", "--telefone", "(11) 3333-4444")
    ran = cli(db_url, "run")
    assert "1 com falha" in ran.output

    data = json.loads(cli(db_url, "acoes", "--status", "com falha", "--json").output)
    [failed] = data["actions"]
    assert (failed["customer"], failed["channel"], failed["invoices"]) == ("C2", "email", ["NF-2"])
    assert "550" in failed["why"]
    assert failed["attempts"] >= 1


def test_acoes_xlsx_has_typed_cells_and_text_never_becomes_a_formula(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    portfolio(db_url, tmp_path)
    cli(db_url, "run", "--inicio", "recuperar")
    sheet_path = tmp_path / "acoes.xlsx"
    shown = cli(db_url, "acoes", "--xlsx", str(sheet_path))
    assert f"Planilha gravada: {sheet_path} (4 ações)" in shown.output

    sheet = load_workbook(sheet_path).active
    assert sheet is not None
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    assert header[:3] == ["Data", "Cliente", "Nome"]
    by_customer = {row[1].value: row for row in rows[1:]}
    c3 = by_customer["C3"]
    assert c3[0].is_date and c3[0].value == datetime(2026, 11, 23)
    assert c3[0].number_format == "dd/mm/yyyy"
    # A customer named like a formula stays text: a string cell, never evaluated.
    assert c3[2].value == '=HYPERLINK("http://x")'
    assert c3[2].data_type == "s"
    assert c3[6].value == "retida"
    assert by_customer["C4"][7].value == "NF-5, NF-4"
    assert by_customer["C4"][8].data_type == "n" and by_customer["C4"][8].value == 0


def test_an_unknown_status_is_one_line_listing_the_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    cli(url, "init", "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23")
    result = runner.invoke(app, ["--db", url, "acoes", "--status", "perdida"])
    assert result.exit_code == 2
    assert "--status: situação desconhecida: perdida (use planejada (planned)" in result.stderr
