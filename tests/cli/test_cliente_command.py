"""`regua cliente`: one customer's page: identity, contacts and their state, what they owe today
with multa and juros, and everything that happened, each contact with why.

Run on SQLite and PostgreSQL: the page reads customers, contacts, invoices, actions and the
timeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from regua.cli.main import app
from tests.builders import write_csv
from tests.cli.analyst_portfolio import cli, portfolio, runner


def test_a_customers_page_shows_debt_today_and_the_whole_story(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    portfolio(db_url, tmp_path)
    cli(db_url, "run")  # 23/11: C1's e-mail held (no PIX key), C4 skipped
    cli(db_url, "credor", "editar", "--pix", "06990590000123", "--telefone", "(11) 3333-4444")
    payments = write_csv(
        tmp_path / "pagamentos.csv",
        "id_pagamento;titulo;data_pagamento;valor\nP1;T1;24/11/2026;153,55\n",
    )
    cli(db_url, "import", "payments", str(payments), today="2026-11-24")
    cli(
        db_url,
        "pause",
        "--customer",
        "C1",
        "--reason",
        "pediu prazo",
        "--until",
        "2026-12-20",
        today="2026-11-24",
    )

    data = json.loads(cli(db_url, "cliente", "C1", "--json", today="2026-12-23").output)
    assert data["customer"]["code"] == "C1"
    assert data["customer"]["document"] == "52998224725"
    assert data["customer"]["is_consumer"] is True
    assert data["customer"]["paused_until"] == "2026-12-20"
    assert {c["channel"] for c in data["contacts"]} == {"email", "sms", "whatsapp", "phone"}
    # NF-1 was paid; NF-6 (R$ 150,00 due 13/12) is 10 days late on 23/12:
    # multa 2% = 3,00, juros 1% a month for 10 days = 0,50.
    [nf6] = data["open_invoices"]
    assert nf6["number"] == "NF-6"
    assert (nf6["principal_cents"], nf6["late_fee_cents"], nf6["interest_cents"]) == (
        15000,
        300,
        50,
    )
    assert data["totals"]["total_cents"] == 15350
    kinds = [(e["kind"], e["status"]) for e in data["timeline"]]
    assert kinds[0] == ("collection", "held")
    assert ("paid", None) in kinds
    [paid] = [e for e in data["timeline"] if e["kind"] == "paid"]
    assert paid["at"] == "2026-11-24"  # the day it was paid
    assert ("paused", None) in kinds
    assert ("thank_you", "planned") in kinds or ("thank_you", "sent") in kinds
    held = data["timeline"][0]
    assert held["why"] == "falta a chave Pix do credor"
    assert held["invoices"] == ["NF-1"]

    # Found by CPF as well, with punctuation; the page in pt-BR.
    shown = cli(db_url, "cliente", "529.982.247-25", today="2026-12-23")
    text = shown.output
    assert "José da Conceição (cliente C1)" in text
    assert "CPF 529.982.247-25, consumidor" in text
    assert "Cobrança pausada até 20/12/2026: pediu prazo" in text
    assert "e-mail: jose@exemplo.com.br (ativo)" in text
    assert "R$ 153,50" in text
    assert "cobrança [retida]: etapa atraso-10, e-mail (jose@exemplo.com.br) títulos NF-1" in text
    assert "falta a chave Pix do credor" in text
    assert "pagamento:" in text
    assert "agradecimento [" in text


def test_a_planned_contact_says_why_it_was_allowed_and_an_opt_out_shows(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    portfolio(db_url, tmp_path)
    cli(db_url, "credor", "editar", "--pix", "06990590000123", "--telefone", "(11) 3333-4444")
    cli(db_url, "run", "--no-dispatch")
    data = json.loads(cli(db_url, "cliente", "C2", "--json").output)
    [action] = data["timeline"]
    assert action["status"] == "planned"
    assert action["why"].startswith("permitida: dia de contato aberto em RJ (")
    assert "0 de " in action["why"] and "contatos na semana" in action["why"]
    assert "e-mail: usado" in action["why"]
    skipped = json.loads(cli(db_url, "cliente", "C4", "--json").output)
    assert skipped["contacts"] == []
    assert skipped["timeline"][0]["why"].startswith("sem canal disponível (e-mail: sem contato")
    shown = cli(db_url, "cliente", "C4").output
    assert "nenhum: as ações deste cliente são puladas" in shown


def test_an_unknown_customer_is_one_line(engine: Engine, db_url: str, tmp_path: Path) -> None:
    portfolio(db_url, tmp_path)
    result = runner.invoke(app, ["--db", db_url, "cliente", "C99", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "no_customer"
    assert "erro: cliente 'C99' não encontrado" in result.stderr
