"""`regua cnab` and `regua payments` from the terminal, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from regua.cli.main import app
from regua.payments.cnab import SettlementLine, cnab240
from tests.builders import CUSTOMERS_CSV, invoice_row, run_import, write_csv

# The commands run on a clock fixed on TODAY (REGUA_TODAY), whatever day the tests run.
TODAY = date(2026, 11, 23)
runner = CliRunner(env={"REGUA_TODAY": TODAY.isoformat()})


def title(nosso: str, cents: int, *, occurrence: str = "06") -> SettlementLine:
    return SettlementLine(
        nosso_numero=nosso,
        due_date=TODAY,
        face_cents=cents,
        paid_cents=cents,
        paid_on=TODAY,
        credited_on=TODAY,
        occurrence=occurrence,
    )


def return_file(path: Path, *titles: SettlementLine) -> Path:
    path.write_bytes(
        cnab240.write_return(
            bank_code="748",
            company_document="11444777000161",
            company_name="Loja Exemplo Ltda",
            generated_on=TODAY,
            records=titles,
        )
    )
    return path


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    due = TODAY.strftime("%d/%m/%Y")
    text = f"""
    id;numero;codigo_cliente;vencimento;valor;nosso_numero
    T1;1001;C1;{due};99,90;101
    T2;1002;C3;{due};450,00;102
    """
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)
    return creditor_id


def test_cnab_prints_counts_and_the_unmatched_lines(
    db_url: str, portfolio: int, engine: Engine, tmp_path: Path
) -> None:
    path = return_file(
        tmp_path / "retorno.ret",
        title("101", 9990),
        title("102", 20000),
        title("999", 1000),
        title("102", 0, occurrence="02"),
    )

    result = runner.invoke(app, ["cnab", str(path), "--db", db_url])

    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[:4] == [
        "retorno.ret (CNAB 240, banco 748): 4 ocorrências, 3 liquidações",
        "Pagamentos aplicados: 2 (R$ 299,90): 1 títulos quitados, 1 pagos em parte",
        "Sem título correspondente: 1 pagamentos (R$ 10,00), guardados em `regua payments "
        "--unmatched`",
        "Ocorrências registradas nos títulos: entrada confirmada 1",
    ]
    assert lines[-2:] == [
        "Linhas sem título correspondente (1):",
        "linha 7: ocorrência 06 liquidação, nosso número 999, R$ 10,00: título não encontrado",
    ]
    assert invoice_row(engine, "T1").status == "paid"
    assert invoice_row(engine, "T2").balance_cents == 25000

    again = runner.invoke(app, ["cnab", str(path), "--db", db_url, "--json"])

    assert again.exit_code == 0
    data = json.loads(again.stdout)
    assert (data["applied"], data["duplicates"], data["settled"]) == (0, 3, 0)
    assert [(u["line"], u["nosso_numero"]) for u in data["unmatched"]] == [(7, "999")]


def test_cnab_refuses_a_broken_file_in_one_line(
    db_url: str, portfolio: int, engine: Engine, tmp_path: Path
) -> None:
    path = return_file(tmp_path / "retorno.ret", title("101", 9990))
    lines = path.read_bytes().decode("latin-1").split("\r\n")
    lines[3] = lines[3][:137] + "31022026" + lines[3][145:]  # data da ocorrência that never was
    path.write_bytes("\r\n".join(lines).encode("latin-1"))

    result = runner.invoke(app, ["cnab", str(path), "--db", db_url])

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "erro: retorno.ret:4: data da ocorrência inválida: 31022026"
    ]
    assert invoice_row(engine, "T1").balance_cents == 9990


def test_cnab_missing_file_is_one_line(db_url: str, portfolio: int, tmp_path: Path) -> None:
    result = runner.invoke(app, ["cnab", str(tmp_path / "nada.ret"), "--db", db_url])

    assert result.exit_code == 2
    assert result.stderr.strip() == f"erro: {tmp_path / 'nada.ret'}: arquivo não encontrado"


def test_payments_lists_what_each_payment_settled_and_totals_unmatched_money(
    db_url: str, portfolio: int, tmp_path: Path
) -> None:
    path = return_file(
        tmp_path / "retorno.ret", title("101", 9990), title("102", 20000), title("999", 1000)
    )
    runner.invoke(app, ["cnab", str(path), "--db", db_url])

    result = runner.invoke(app, ["payments", "--db", db_url, "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["since"], data["until"]) == (
        (TODAY - timedelta(days=6)).isoformat(),
        TODAY.isoformat(),
    )
    assert (data["count"], data["received_cents"], data["applied_cents"]) == (3, 30990, 29990)
    assert data["settled_invoices"] == 1
    assert data["unmatched"] == {
        "count": 1,
        "amount_cents": 1000,
        "applied_cents": 0,
        "fees_cents": 0,
        "credit_cents": 0,
    }
    assert [
        (p["invoice_external_id"], p["customer_name"], p["amount_cents"], p["status"])
        for p in data["payments"]
    ] == [
        (None, None, 1000, "unmatched"),
        ("T2", "Maria Antônia", 20000, "applied"),
        ("T1", "José da Conceição", 9990, "applied"),
    ]

    only = runner.invoke(app, ["payments", "--unmatched", "--db", db_url])

    assert only.exit_code == 0, only.output
    assert "Sem título identificado no período: 1 pagamentos, R$ 10,00" in only.output
    assert "José" not in only.output
