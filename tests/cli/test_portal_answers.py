"""The staff's answers to the portal, on SQLite and PostgreSQL, through the command line: the
disputes debtors made (`regua contestacao listar|resolver`), each settled one of the three ways,
with what the next `regua run` does; and a call a debtor asked for marked made (`regua ligacao
feita`), gone from `regua calls`."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.domain.fees import FeeTerms, charges
from regua.services.portal_requests import Receipt, Visitor, ask_for_a_call, dispute_invoice
from regua.store.tables import actions, customers, disputes, interactions, invoices, payments
from tests.builders import NOW, run_import, units, write_csv

runner = CliRunner()
CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email;celular;uf
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;(11) 98765-4321;SP
C2;Maria Souza;390.533.447-05;maria@exemplo.com.br;(21) 99876-5432;RJ
C3;Ana Lima;111.444.777-35;ana@exemplo.com.br;(31) 99876-1234;MG
"""
# Ten days late on Monday 23/11/2026: the first run sends each its atraso-10.
INVOICES = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-11-13;150,00
T2;NF-2;C2;Mensalidade;2026-11-13;200,00
T3;NF-3;C3;Mensalidade;2026-11-13;80,00
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
VISITOR = Visitor("203.0.113.9", "Mozilla/5.0 teste")
BETA = ["--nome", "Comércio Beta S.A.", "--fantasia", "Beta", "--cnpj", "11444777000161"]


def cli(url: str, today: str, *args: str, code: int = 0, receipts: Path | None = None) -> Any:
    env = {"REGUA_RECEIPTS_DIR": str(receipts)} if receipts is not None else None
    result = runner.invoke(app, ["--db", url, "--today", today, *args], env=env)
    assert result.exit_code == code, result.output
    return result


def _ids(engine: Engine, creditor_id: int, external_id: str) -> tuple[int, int]:
    with engine.connect() as connection:
        row = connection.execute(
            select(customers.c.id, invoices.c.id)
            .join(invoices, invoices.c.customer_id == customers.c.id)
            .where(customers.c.creditor_id == creditor_id, customers.c.external_id == external_id)
        ).one()
    return int(row[0]), int(row[1])


def _dispute(
    engine: Engine,
    creditor_id: int,
    customer: str,
    reason: str,
    receipts: Path,
    *,
    comment: str = "",
    receipt: Receipt | None = None,
) -> int:
    customer_id, invoice_id = _ids(engine, creditor_id, customer)
    made = dispute_invoice(
        units(engine),
        customer_id,
        invoice_id,
        reason=reason,
        comment=comment,
        receipt=receipt,
        receipts_dir=receipts,
        max_bytes=10_000,
        now=NOW + timedelta(hours=1),
        visitor=VISITOR,
    )
    return made.dispute_id


def _portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)


def _invoice(engine: Engine, number: str) -> tuple[str, int, date | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(invoices.c.status, invoices.c.balance_cents, invoices.c.settled_on).where(
                invoices.c.number == number
            )
        ).one()
    return str(row.status), int(row.balance_cents), row.settled_on


def _planned_on(engine: Engine, day: date) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return sorted(
            (str(r.external_id), str(r.step_id))
            for r in connection.execute(
                select(customers.c.external_id, actions.c.step_id)
                .join(customers, customers.c.id == actions.c.customer_id)
                .where(actions.c.planned_for == day, actions.c.purpose == "collection")
            )
        )


def _timeline(engine: Engine, kind: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(interactions.c.detail)
                .where(interactions.c.kind == kind)
                .order_by(interactions.c.id)
            ).scalars()
        )


def test_each_decision_settles_the_dispute_and_the_next_run_collects_only_the_rejected_one(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    receipts = tmp_path / "comprovantes"
    _portfolio(engine, creditor_id, tmp_path)
    cli(db_url, "2026-11-23", "run", "--no-dispatch")
    assert _planned_on(engine, date(2026, 11, 23)) == [
        ("C1", "atraso-10"),
        ("C2", "atraso-10"),
        ("C3", "atraso-10"),
    ]
    rejected = _dispute(engine, creditor_id, "C1", "not_recognized", receipts, comment="não fui eu")
    paid = _dispute(
        engine,
        creditor_id,
        "C2",
        "already_paid",
        receipts,
        comment="paguei no dia 12",
        receipt=Receipt("pix.png", PNG),
    )
    unknown = _dispute(engine, creditor_id, "C3", "not_recognized", receipts)

    # The staff's list: newest first, the receipt where the portal stored it.
    listed = cli(db_url, "2026-11-30", "contestacao", "listar", "--json", receipts=receipts)
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [unknown, paid, rejected]
    with_receipt = rows[1]
    assert (with_receipt["customer"], with_receipt["invoice"]) == ("C2", "NF-2")
    assert (with_receipt["balance_cents"], with_receipt["reason"]) == (20_000, "already_paid")
    assert with_receipt["comment"] == "paguei no dia 12"
    assert Path(with_receipt["receipt"]).read_bytes() == PNG
    assert (with_receipt["receipt_type"], with_receipt["receipt_bytes"]) == ("image/png", 208)
    shown = cli(db_url, "2026-11-30", "contestacao", "listar", receipts=receipts).stdout
    line = next(text for text in shown.splitlines() if "NF-2" in text)
    for cell in ("Maria Souza", "R$ 200,00", "já pagou", "paguei no dia 12", "(PNG, < 1 KB)"):
        assert cell in line, cell
    assert str(receipts.absolute()) in line

    # Improcede: the invoice is open again.
    out = cli(
        db_url,
        "2026-11-30",
        "contestacao",
        "resolver",
        str(rejected),
        "--decisao",
        "improcede",
        "--nota",
        "contrato assinado em 10/01",
        "--por",
        "Ana",
    ).stdout
    assert out.strip() == (
        f"Contestação {rejected} (C1, título NF-1): improcede. O título volta à cobrança na "
        "próxima execução (regua run)."
    )
    assert _invoice(engine, "NF-1") == ("open", 15_000, None)

    # Procede, "já paguei", paid by the due date: that day's payment of the balance, no fees.
    out = cli(
        db_url,
        "2026-11-30",
        "contestacao",
        "resolver",
        str(paid),
        "--decisao",
        "procede",
        "--nota",
        "comprovante confere com o extrato",
        "--pago-em",
        "2026-11-12",
    ).stdout
    assert "Pagamento de R$ 200,00 em 12/11/2026 registrado; título quitado." in out
    assert _invoice(engine, "NF-2") == ("paid", 0, date(2026, 11, 12))
    with engine.connect() as connection:
        payment = connection.execute(
            select(
                payments.c.source,
                payments.c.external_id,
                payments.c.amount_cents,
                payments.c.fees_cents,
                payments.c.paid_on,
                payments.c.status,
            )
        ).one()
    assert tuple(payment) == (
        "disputa",
        f"contestacao-{paid}",
        20_000,
        0,
        date(2026, 11, 12),
        "applied",
    )
    assert "contestação" in cli(db_url, "2026-11-30", "payments", "--days", "30").stdout

    # Procede, "não reconheço": the invoice is cancelled.
    out = cli(
        db_url,
        "2026-11-30",
        "contestacao",
        "resolver",
        str(unknown),
        "--decisao",
        "procede",
        "--nota",
        "título emitido em duplicidade",
    ).stdout
    assert "Título cancelado; mensagens pendentes canceladas." in out
    assert _invoice(engine, "NF-3") == ("cancelled", 0, None)

    # The next run: the rejected one gets its next step (ligacao, D+15), not every step since
    # D+10; the other two get nothing.
    cli(db_url, "2026-11-30", "run", "--no-dispatch")
    assert _planned_on(engine, date(2026, 11, 30)) == [("C1", "ligacao")]

    assert _timeline(engine, "dispute") == [
        "contestação do título NF-1 (não reconhece) resolvida por Ana: improcede; o título volta "
        "à cobrança na próxima execução da régua; nota: \u201ccontrato assinado em 10/01\u201d",
        "contestação do título NF-2 (já pagou) resolvida por operador: procede; pagamento de "
        "R$ 200,00 em 12/11/2026 registrado, título quitado; nota: \u201ccomprovante confere com "
        "o extrato\u201d",
        "contestação do título NF-3 (não reconhece) resolvida por operador: procede; título "
        "cancelado, mensagens pendentes canceladas; nota: \u201ctítulo emitido em "
        "duplicidade\u201d",
    ]
    # Nothing open is left to settle; --todas shows the three with their decision.
    assert (
        "Nenhuma contestação em aberto."
        in cli(db_url, "2026-11-30", "contestacao", "listar").stdout
    )
    everything = json.loads(
        cli(db_url, "2026-11-30", "contestacao", "listar", "--todas", "--json").stdout
    )
    assert [(r["id"], r["status"], r["resolved_by"]) for r in everything] == [
        (unknown, "accepted", "operador"),
        (paid, "accepted", "operador"),
        (rejected, "rejected", "Ana"),
    ]


def test_a_late_payment_pays_its_fees_and_a_settled_dispute_is_refused(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    receipts = tmp_path / "comprovantes"
    _portfolio(engine, creditor_id, tmp_path)
    paid = _dispute(
        engine, creditor_id, "C2", "already_paid", receipts, receipt=Receipt("pix.png", PNG)
    )
    resolve = ["contestacao", "resolver", str(paid), "--decisao", "procede", "--nota", "ok"]

    missing = cli(db_url, "2026-11-30", *resolve, code=2)
    assert missing.stderr.startswith("erro: --pago-em: informe o dia em que o cliente pagou")
    future = cli(db_url, "2026-11-30", *resolve, "--pago-em", "2026-12-01", code=2)
    assert future.stderr.strip() == "erro: --pago-em: a data 01/12/2026 ainda não chegou"
    wrong = cli(db_url, "2026-11-30", *resolve[:4], "talvez", "--nota", "x", code=2)
    assert wrong.stderr.strip() == "erro: --decisao: use procede ou improcede"
    assert _invoice(engine, "NF-2") == ("disputed", 20_000, None)

    # Paid a week late: the payment the payment path takes to settle it that day.
    out = cli(db_url, "2026-11-30", *resolve, "--pago-em", "2026-11-20").stdout
    owed = charges(
        20_000,
        date(2026, 11, 13),
        date(2026, 11, 20),
        FeeTerms(late_fee_bp=200, interest_monthly_bp=100, is_consumer=True),
    )
    assert owed.fees_cents > 0
    assert _invoice(engine, "NF-2") == ("paid", 0, date(2026, 11, 20))
    with engine.connect() as connection:
        stored = connection.execute(select(payments.c.amount_cents, payments.c.fees_cents)).all()
    assert [tuple(row) for row in stored] == [(owed.total_cents, owed.fees_cents)]
    brl = f"{owed.total_cents / 100:.2f}".replace(".", ",")
    assert f"Pagamento de R$ {brl} em 20/11/2026 registrado" in out

    # Again: refused, and nothing is paid twice.
    again = cli(db_url, "2026-11-30", *resolve, "--pago-em", "2026-11-20", code=2)
    assert again.stderr.strip() == (
        f"erro: a contestação {paid} já foi resolvida em 30/11/2026 (procede, por operador)"
    )
    with engine.connect() as connection:
        assert len(connection.execute(select(payments.c.id)).all()) == 1
        status = connection.execute(select(disputes.c.status)).scalar_one()
    assert status == "accepted"
    unknown = cli(db_url, "2026-11-30", "contestacao", "resolver", "999", *resolve[3:], code=2)
    assert unknown.stderr.strip() == "erro: contestação 999 não encontrada"


def test_another_creditors_dispute_or_call_is_not_found(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    receipts = tmp_path / "comprovantes"
    _portfolio(engine, creditor_id, tmp_path)
    dispute = _dispute(engine, creditor_id, "C1", "not_recognized", receipts)
    customer_id, _ = _ids(engine, creditor_id, "C1")
    ask_for_a_call(
        units(engine),
        customer_id,
        day=date(2026, 11, 24),
        window="14:00-18:00",
        now=NOW,
        visitor=VISITOR,
    )
    cli(db_url, "2026-11-23", "credor", "criar", *BETA)
    beta = ["--credor", "beta"]
    other = cli(
        db_url,
        "2026-11-23",
        *beta,
        "contestacao",
        "resolver",
        str(dispute),
        "--decisao",
        "improcede",
        "--nota",
        "x",
        code=2,
    )
    assert other.stderr.strip() == f"erro: contestação {dispute} não encontrada"
    assert (
        cli(db_url, "2026-11-23", *beta, "contestacao", "listar", "--json").stdout.strip() == "[]"
    )
    call = cli(db_url, "2026-11-23", *beta, "ligacao", "feita", "1", code=2)
    assert call.stderr.strip() == "erro: ligação pedida 1 não encontrada"
    assert _invoice(engine, "NF-1") == ("disputed", 15_000, None)


def test_a_call_marked_made_leaves_the_call_list_once_and_goes_on_the_timeline(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    _portfolio(engine, creditor_id, tmp_path)
    customer_id, _ = _ids(engine, creditor_id, "C1")
    ask_for_a_call(
        units(engine),
        customer_id,
        day=date(2026, 11, 24),
        window="14:00-18:00",
        now=NOW,
        visitor=VISITOR,
    )
    listed = cli(db_url, "2026-11-23", "calls", "--date", "2026-11-24").stdout
    row = next(line for line in listed.splitlines() if "José da Conceição" in line)
    assert re.match(r"\W*1\W+C1\b", row), row  # the number `regua ligacao feita` takes
    entries = json.loads(
        cli(db_url, "2026-11-23", "calls", "--date", "2026-11-24", "--json").stdout
    )
    [asked] = [e for e in entries if e["request_id"] is not None]
    assert (asked["customer"], asked["hours"]) == ("C1", "14:00-18:00")
    # Operators who work from the spreadsheet find the number there too.
    sheet = tmp_path / "ligacoes.csv"
    cli(db_url, "2026-11-23", "calls", "--date", "2026-11-24", "--csv", str(sheet))
    rows = list(csv.DictReader(sheet.open(encoding="utf-8-sig"), delimiter=";"))
    assert [(r["cliente"], r["acao"], r["pedido"]) for r in rows if r["pedido"]] == [
        ("C1", "0", str(asked["request_id"]))
    ]
    assert all(r["acao"] != "0" for r in rows if not r["pedido"])

    done = cli(
        db_url,
        "2026-11-24",
        "ligacao",
        "feita",
        str(asked["request_id"]),
        "--resultado",
        "vai pagar sexta",
        "--por",
        "Bia",
    ).stdout
    assert done.strip() == (
        f"Ligação {asked['request_id']} para José da Conceição (C1), pedida para 24/11/2026 das "
        "14:00 às 18:00: feita."
    )
    after = json.loads(cli(db_url, "2026-11-24", "calls", "--date", "2026-11-24", "--json").stdout)
    assert [e for e in after if e["customer"] == "C1"] == []
    assert _timeline(engine, "callback") == [
        "ligação pedida pelo portal para 24/11/2026, das 14:00 às 18:00, feita por Bia: vai pagar "
        "sexta"
    ]
    again = cli(db_url, "2026-11-24", "ligacao", "feita", str(asked["request_id"]), code=2)
    assert again.stderr.strip() == (
        f"erro: a ligação pedida {asked['request_id']} já foi marcada como feita em 24/11/2026 "
        "por Bia"
    )
    unknown = cli(db_url, "2026-11-24", "ligacao", "feita", "77", code=2)
    assert unknown.stderr.strip() == "erro: ligação pedida 77 não encontrada"
