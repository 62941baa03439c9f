"""Two creditors in one installation, on SQLite and PostgreSQL: both have a customer C1 with the
same CPF and an invoice T1; each command works on the creditor `--credor` names, and nothing of
one creditor is planned, settled or reported for the other. With several creditors and none
named, a command says which exist and exits 2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.context import hoist_creditor
from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.cnab import SettlementLine, cnab240
from regua.payments.webhooks import sign
from regua.store.tables import actions, customers, invoices, payments
from regua.web.app import create_app
from tests.builders import NOW, write_csv

runner = CliRunner()
TODAY = "2026-11-23"  # a Monday; the invoices are 10 days late
ALFA_CNPJ = "06990590000123"
BETA_CNPJ = "11444777000161"
ALFA_PIX = "pix@alfa.com.br"
BETA_PIX = "pix@beta.com.br"
CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email;celular;uf;cidade
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;(11) 98765-4321;SP;São Paulo
C2;Maria Souza;390.533.447-05;maria@exemplo.com.br;(21) 99876-5432;RJ;Niterói
"""
ALFA_INVOICES = """
id_titulo;numero;codigo_cliente;vencimento;valor;nosso_numero;txid
T1;NF-1;C1;2026-11-13;150,00;101;alfa000000000000000000000T1
"""
BETA_INVOICES = """
id_titulo;numero;codigo_cliente;vencimento;valor;nosso_numero;txid
T1;NF-1;C1;2026-11-13;999,00;101;beta000000000000000000000T1
T2;NF-2;C2;2026-11-13;80,00;102;beta000000000000000000000T2
"""
SECRET = "segredo-do-webhook"


def cli(url: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", url, "--today", TODAY, *args])
    assert result.exit_code == code, result.output
    return result


def _setup(url: str, tmp_path: Path) -> None:
    contact = ["--email", "atendimento@exemplo.com.br", "--email-envio", "cobranca@exemplo.com.br"]
    cli(url, "init", "--nome", "Loja Alfa Ltda", "--cnpj", ALFA_CNPJ, "--pix", ALFA_PIX, *contact)
    beta = ["--nome", "Comércio Beta S.A.", "--fantasia", "Beta", "--cnpj", BETA_CNPJ]
    cli(url, "credor", "criar", *beta, "--pix", BETA_PIX, *contact)
    people = write_csv(tmp_path / "clientes.csv", CUSTOMERS)
    for name, text in (("alfa", ALFA_INVOICES), ("beta", BETA_INVOICES)):
        invoices_file = write_csv(tmp_path / f"{name}.csv", text)
        cli(url, "import", "customers", str(people), "--credor", name)
        cli(url, "import", "invoices", str(invoices_file), "--credor", name)


def creditor_ids(engine: Engine) -> dict[str, int]:
    from regua.store.tables import creditors

    with engine.connect() as connection:
        rows = connection.execute(select(creditors.c.id, creditors.c.document)).all()
    by_document = {row.document: int(row.id) for row in rows}
    return {"alfa": by_document[ALFA_CNPJ], "beta": by_document[BETA_CNPJ]}


def balances(engine: Engine) -> dict[tuple[int, str], tuple[int, str]]:
    """(creditor id, invoice id) -> (balance, status)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                invoices.c.creditor_id,
                invoices.c.external_id,
                invoices.c.balance_cents,
                invoices.c.status,
            )
        ).all()
    return {(int(r.creditor_id), r.external_id): (r.balance_cents, r.status) for r in rows}


def test_without_credor_a_command_lists_the_creditors_and_exits_2(
    db_url: str, tmp_path: Path
) -> None:
    _setup(db_url, tmp_path)
    for command in (["run"], ["preview"], ["resumo"], ["cliente", "C1"], ["credor", "mostrar"]):
        result = cli(db_url, *command, code=2)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert "2 credores" in lines[0]
        assert "Loja Alfa Ltda" in lines[0] and "Beta" in lines[0]
        assert "--credor" in lines[0]
    # REGUA_CREDITOR names one for every command of the process.
    shown = runner.invoke(
        app, ["--db", db_url, "--today", TODAY, "resumo", "--json"], env={"REGUA_CREDITOR": "beta"}
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["open_cents"] == 99_900 + 8_000


def test_each_creditor_runs_and_reports_only_its_own_customers(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _setup(db_url, tmp_path)
    ids = creditor_ids(engine)

    cli(db_url, "run", "--credor", "beta")

    with engine.connect() as connection:
        planned = connection.execute(
            select(actions.c.creditor_id, customers.c.creditor_id.label("owner")).join(
                customers, customers.c.id == actions.c.customer_id
            )
        ).all()
    assert planned, "Beta's run plans its two late customers"
    assert {(r.creditor_id, r.owner) for r in planned} == {(ids["beta"], ids["beta"])}

    cli(db_url, "--credor", str(ids["alfa"]), "run")
    with engine.connect() as connection:
        rows = connection.execute(
            select(actions.c.creditor_id, customers.c.creditor_id.label("owner")).join(
                customers, customers.c.id == actions.c.customer_id
            )
        ).all()
    assert all(r.creditor_id == r.owner for r in rows)
    assert {r.creditor_id for r in rows} == {ids["alfa"], ids["beta"]}

    alfa = json.loads(cli(db_url, "resumo", "--json", "--credor", "alfa").output)
    beta = json.loads(cli(db_url, "resumo", "--json", "--credor", BETA_CNPJ).output)
    assert (alfa["customers"], alfa["open_cents"]) == (2, 15_000)
    assert (beta["customers"], beta["open_cents"]) == (2, 107_900)

    page = json.loads(cli(db_url, "cliente", "C1", "--json", "--credor", "beta").output)
    assert "999,00" in json.dumps(page, ensure_ascii=False) or 99_900 in _ints(page)
    assert 15_000 not in _ints(page)

    shown = cli(db_url, "acoes", "--status", "enviada", "--json", "--credor", "alfa").output
    acoes = json.loads(shown)["actions"]
    assert acoes and {a["customer"] for a in acoes} == {"C1"}


def test_one_creditors_run_sends_that_creditors_messages_only(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    _setup(db_url, tmp_path)
    ids = creditor_ids(engine)
    cli(db_url, "run", "--credor", "alfa", "--no-dispatch")

    cli(db_url, "run", "--credor", "beta")

    with engine.connect() as connection:
        rows = connection.execute(select(actions.c.creditor_id, actions.c.status)).all()
    statuses = {(r.creditor_id, r.status) for r in rows}
    assert statuses == {(ids["alfa"], "planned"), (ids["beta"], "sent")}
    sent = list((tmp_path / "caixa").rglob("*.eml"))
    assert len(sent) == 2
    assert all("Beta" in path.read_text(encoding="utf-8") for path in sent)

    # `regua dispatch` without --credor sends every creditor's due messages.
    cli(db_url, "dispatch")
    with engine.connect() as connection:
        assert set(connection.execute(select(actions.c.status)).scalars()) == {"sent"}


def _ints(value: Any) -> set[int]:
    if isinstance(value, dict):
        return set().union(*(_ints(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ints(v) for v in value)) if value else set()
    return {value} if isinstance(value, int) and not isinstance(value, bool) else set()


def test_a_payments_file_settles_only_the_named_creditors_invoice(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _setup(db_url, tmp_path)
    ids = creditor_ids(engine)
    paid = write_csv(
        tmp_path / "pagamentos.csv",
        "id_pagamento;titulo;data_pagamento;valor\nP1;T1;23/11/2026;1.022,31",
    )

    cli(db_url, "import", "payments", str(paid), "--credor", "beta")

    found = balances(engine)
    assert found[(ids["beta"], "T1")] == (0, "paid")
    assert found[(ids["alfa"], "T1")] == (15_000, "open")


def _return_file(path: Path, document: str, nosso: str, cents: int) -> Path:
    day = date.fromisoformat(TODAY)
    line = SettlementLine(
        nosso_numero=nosso,
        due_date=day,
        face_cents=cents,
        paid_cents=cents,
        paid_on=day,
        credited_on=day,
        occurrence="06",
    )
    path.write_bytes(
        cnab240.write_return(
            bank_code="748",
            company_document=document,
            company_name="Credor",
            generated_on=day,
            records=[line],
        )
    )
    return path


def test_a_return_file_settles_the_titles_of_the_creditor_its_header_names(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _setup(db_url, tmp_path)
    ids = creditor_ids(engine)
    alfa_file = _return_file(tmp_path / "alfa.ret", ALFA_CNPJ, "101", 15_350)

    refused = cli(db_url, "cnab", str(alfa_file), "--credor", "beta", code=2)
    assert "credor #" in refused.output and "nada foi importado" in refused.output
    assert balances(engine)[(ids["beta"], "T1")] == (99_900, "open")

    cli(db_url, "cnab", str(alfa_file))  # no --credor: the header's CNPJ is Alfa's

    found = balances(engine)
    assert found[(ids["alfa"], "T1")] == (0, "paid")
    assert found[(ids["beta"], "T1")] == (99_900, "open")

    stranger = _return_file(tmp_path / "outro.ret", "11222333000181", "102", 8_187)
    unknown = cli(db_url, "cnab", str(stranger), code=2)
    assert "--credor" in unknown.output
    cli(db_url, "cnab", str(stranger), "--credor", "beta")
    assert balances(engine)[(ids["beta"], "T2")] == (0, "paid")


def _pix(n: int, key: str | None, txid: str, valor: str) -> bytes:
    item = {
        "endToEndId": f"E18236120202611231015{n:011d}",
        "txid": txid,
        "valor": valor,
        "horario": "2026-11-23T10:15:30.000-03:00",
    }
    if key is not None:
        item["chave"] = key
    return json.dumps({"pix": [item]}).encode()


def test_a_pix_settles_the_invoice_of_the_creditor_whose_key_received_it(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _setup(db_url, tmp_path)
    ids = creditor_ids(engine)
    settings = Settings(database_url=db_url, pix_webhook_secret=SECRET)
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:

        def post(body: bytes) -> Any:
            headers = {"X-Regua-Signature": sign(body, SECRET)}
            return client.post("/api/v1/webhooks/pix", content=body, headers=headers)

        # Alfa's txid paid to Beta's key: Beta has no such txid, the money stays Beta's.
        crossed = post(_pix(1, BETA_PIX, "alfa000000000000000000000T1", "150.00"))
        assert crossed.status_code == 200, crossed.text
        assert len(crossed.json()["unmatched"]) == 1
        applied = post(_pix(2, "PIX@alfa.com.br", "alfa000000000000000000000T1", "153.50"))
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"][0]["invoice"] == "T1"
        for key in (None, "pix@desconhecido.com.br"):
            refused = post(_pix(3, key, "beta000000000000000000000T2", "80.00"))
            assert refused.status_code == 422, refused.text
            assert "pix[0].chave" in refused.text

    found = balances(engine)
    assert found[(ids["alfa"], "T1")] == (0, "paid")
    assert found[(ids["beta"], "T1")] == (99_900, "open")
    assert found[(ids["beta"], "T2")] == (8_000, "open")
    with engine.connect() as connection:
        owners = connection.execute(select(payments.c.creditor_id, payments.c.invoice_id)).all()
    assert sorted((r.creditor_id, r.invoice_id is None) for r in owners) == sorted(
        [(ids["beta"], True), (ids["alfa"], False)]
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--credor", "beta"], ["--credor", "beta", "run"]),
        (
            ["--db", "x", "run", "--creditor=2", "--json"],
            ["--creditor=2", "--db", "x", "run", "--json"],
        ),
        (["cnab", "a.ret", "--", "--credor", "x"], ["cnab", "a.ret", "--", "--credor", "x"]),
        (["run", "--credor"], ["--credor", "run"]),
    ],
)
def test_credor_is_taken_after_the_command_too(args: list[str], expected: list[str]) -> None:
    assert hoist_creditor(args) == expected
