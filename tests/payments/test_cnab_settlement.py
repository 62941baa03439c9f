"""Return files of Itaú, Caixa and Banco do Brasil settle invoices for what the payer paid, with
the bank's fee and the credited amount stored apart; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.payments.cnab import CnabError, SettlementLine, cnab240, cnab400
from regua.services.cnab_returns import CnabImportResult, import_return_file
from regua.store.tables import interactions, invoices, payments
from tests.builders import CUSTOMERS_CSV, NOW, invoice_row, run_import, units, write_csv

MONDAY = NOW.date()  # 23/11/2026
PAID_ON = date(2026, 11, 20)
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;nosso_numero
IT1;2001;C1;Mensalidade;25/11/2026;40,00;12345678
IT2;2002;C2;Serviço;25/11/2026;150,00;876543217
CX1;2003;C3;Parcela;25/11/2026;80,00;14000000000000123
BB1;2004;C1;Material;25/11/2026;250,00;42
BB2;2005;C2;Material;25/11/2026;300,00;32948600000000236
BB3;2006;C3;Material;25/11/2026;90,64;0000000196
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def title(nosso: str, cents: int, fee: int, *, occurrence: str = "06") -> SettlementLine:
    return SettlementLine(
        nosso_numero=nosso,
        due_date=date(2026, 11, 25),
        face_cents=cents,
        paid_cents=cents,
        fee_cents=fee,
        paid_on=PAID_ON,
        credited_on=PAID_ON + timedelta(days=1),
        occurrence=occurrence,
    )


def file_400(path: Path, bank: str, *titles: SettlementLine) -> Path:
    path.write_bytes(
        cnab400.write_return(
            company_code="4321000",
            company_document="11444777000161",
            company_name="Loja Exemplo Ltda",
            generated_on=MONDAY,
            records=titles,
            bank_code=bank,
        )
    )
    return path


def import_file(engine: Engine, path: Path, creditor_id: int) -> CnabImportResult:
    return import_return_file(units(engine), path, creditor_id, NOW)


def bank_figures(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """Invoice -> (amount the payer paid, bank fee, credited, status) of its payments."""
    with engine.connect() as connection:
        return {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                select(
                    invoices.c.external_id,
                    payments.c.amount_cents,
                    payments.c.bank_fee_cents,
                    payments.c.credited_cents,
                    payments.c.status,
                ).select_from(payments.join(invoices, invoices.c.id == payments.c.invoice_id))
            )
        }


def test_itau_title_paid_in_full_is_paid_with_the_fee_apart(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # Itaú writes the credit (37,90) at 254-266 and the fee (2,10) at 176-188: the payer paid
    # 40,00, the whole face value. IT2's ERP number carries the DAC the file keeps at 94.
    path = file_400(
        tmp_path / "itau.ret", "341", title("12345678", 4000, 210), title("87654321", 15000, 250)
    )
    raw = path.read_bytes().decode("latin-1").split("\r\n")[1]
    assert raw[253:266] == "0000000003790"

    result = import_file(engine, path, portfolio)

    assert (result.settled, result.fee_cents, result.credited_cents) == (1, 460, 18540)
    assert invoice_row(engine, "IT1").status == "paid"
    assert invoice_row(engine, "IT1").balance_cents == 0
    assert bank_figures(engine)["IT1"] == (4000, 210, 3790, "applied")
    # 87654321 + DAC 0 (written by the test writer) is not IT2's 876543217: unmatched, not
    # matched to another invoice by a guess.
    assert invoice_row(engine, "IT2").status == "open"


def test_caixa_liquidacao_21_settles_and_its_02_is_a_baixa(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    baixa = file_400(tmp_path / "cx1.ret", "104", title("14000000000000123", 0, 0, occurrence="02"))
    first = import_file(engine, baixa, portfolio)
    assert (first.settlements, first.occurrences["written_off"]) == (0, 1)
    assert invoice_row(engine, "CX1").status == "open"

    paid = file_400(
        tmp_path / "cx2.ret", "104", title("14000000000000123", 8000, 125, occurrence="21")
    )
    result = import_file(engine, paid, portfolio)

    assert result.settled == 1
    assert invoice_row(engine, "CX1").status == "paid"
    assert bank_figures(engine)["CX1"] == (8000, 125, 7875, "applied")


def test_banco_do_brasil_cbr643_and_240_find_the_invoice_by_either_nosso_numero(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # CBR643: 17 digits, convênio 1234567 + sequence 0000000042; the ERP keeps "42".
    path = file_400(tmp_path / "bb.ret", "001", title("12345670000000042", 25000, 500))
    detail = path.read_bytes().decode("latin-1").split("\r\n")[1]
    detail = detail[:31] + "1234567" + detail[38:]  # the convênio at 32-38
    lines = path.read_bytes().decode("latin-1").split("\r\n")
    lines[1] = detail
    path.write_bytes("\r\n".join(lines).encode("latin-1"))

    result = import_file(engine, path, portfolio)

    assert result.settled == 1
    assert invoice_row(engine, "BB1").status == "paid"
    assert bank_figures(engine)["BB1"] == (25000, 500, 24500, "applied")

    # CNAB 240: the ERP keeps the full 17 digits for BB2 and the sequence for BB3.
    data = cnab240.write_return(
        bank_code="001",
        company_document="11444777000161",
        company_name="Loja Exemplo Ltda",
        generated_on=MONDAY,
        records=[
            title("32948600000000236", 30000, 500),
            title("32948600000000196", 9064, 500),
        ],
    )
    (tmp_path / "bb240.ret").write_bytes(data)
    result = import_file(engine, tmp_path / "bb240.ret", portfolio)
    assert result.settled == 2
    assert invoice_row(engine, "BB2").status == invoice_row(engine, "BB3").status == "paid"


def test_a_settlement_followed_by_a_baixa_por_liquidacao_counts_once(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    both = file_400(
        tmp_path / "a.ret",
        "341",
        title("12345678", 4000, 210, occurrence="06"),
        title("12345678", 4000, 210, occurrence="10"),
    )
    result = import_file(engine, both, portfolio)
    assert (result.applied, result.settled, result.credit_cents) == (1, 1, 0)

    # The baixa alone, in the next day's file: the invoice is already paid, no new money.
    later = file_400(tmp_path / "b.ret", "341", title("12345678", 4000, 210, occurrence="10"))
    again = import_file(engine, later, portfolio)
    assert (again.applied, again.credit_cents) == (0, 0)
    with engine.connect() as connection:
        assert connection.execute(select(payments.c.id)).all().__len__() == 1
        texts = (
            connection.execute(select(interactions.c.detail).where(interactions.c.kind == "bank"))
            .scalars()
            .all()
        )
    assert any("baixa por ter sido liquidado" in text for text in texts)


def test_a_baixa_por_liquidacao_alone_pays_an_open_invoice(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = file_400(tmp_path / "a.ret", "341", title("12345678", 4000, 210, occurrence="10"))
    result = import_file(engine, path, portfolio)
    assert result.settled == 1
    assert bank_figures(engine)["IT1"] == (4000, 210, 3790, "applied")


def test_unknown_codes_are_listed_and_never_settle(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = file_400(tmp_path / "a.ret", "341", title("12345678", 4000, 210, occurrence="99"))
    result = import_file(engine, path, portfolio)
    assert (result.settlements, result.applied) == (0, 0)
    assert [(u.line, u.occurrence) for u in result.unknown] == [(2, "99")]
    assert invoice_row(engine, "IT1").status == "open"


def test_a_payment_dated_in_the_future_refuses_the_file(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    future = SettlementLine(
        nosso_numero="12345678",
        due_date=None,
        face_cents=4000,
        paid_cents=4000,
        paid_on=MONDAY + timedelta(days=30),
        credited_on=None,
    )
    path = file_400(tmp_path / "a.ret", "341", future)
    with pytest.raises(CnabError, match=r"a\.ret:2: data de pagamento no futuro: 23/12/2026"):
        import_file(engine, path, portfolio)
    assert bank_figures(engine) == {}


def test_a_payment_beyond_any_accepted_amount_refuses_the_file(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    absurd = SettlementLine(
        nosso_numero="12345678",
        due_date=None,
        face_cents=4000,
        paid_cents=99_999_999_999,  # R$ 999.999.999,99: a misread field, over R$ 100 milhões
        paid_on=MONDAY,
        credited_on=None,
    )
    path = file_400(tmp_path / "a.ret", "341", absurd)
    with pytest.raises(CnabError, match=r"a\.ret:2: valor acima do limite de R\$"):
        import_file(engine, path, portfolio)
    assert bank_figures(engine) == {}


runner = CliRunner(env={"REGUA_TODAY": MONDAY.isoformat()})


def test_a_nul_byte_is_refused_in_one_line_and_changes_nothing(
    db_url: str, engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = file_400(tmp_path / "a.ret", "341", title("12345678", 4000, 210))
    data = bytearray(path.read_bytes())
    data[400 + 2 + 40] = 0  # inside the detail's company reference
    path.write_bytes(bytes(data))

    result = runner.invoke(app, ["cnab", str(path), "--db", db_url])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "a.ret:2: byte nulo (NUL)" in result.output
    assert bank_figures(engine) == {}


def test_payments_shows_the_bank_fee_and_the_credited_amount(
    db_url: str, engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = file_400(tmp_path / "itau.ret", "341", title("12345678", 4000, 210))
    assert runner.invoke(app, ["cnab", str(path), "--db", db_url]).exit_code == 0

    shown = runner.invoke(app, ["payments", "--db", db_url, "--days", "30", "--json"])
    [line] = json.loads(shown.stdout)["payments"]
    assert (line["amount_cents"], line["bank_fee_cents"], line["credited_cents"]) == (
        4000,
        210,
        3790,
    )
    text = runner.invoke(app, ["payments", "--db", db_url, "--days", "30"]).output
    assert "Tarifa" in text and "Creditado" in text
    assert "R$ 2,10" in text and "R$ 37,90" in text


def test_inspect_says_what_the_file_holds_without_a_database(tmp_path: Path) -> None:
    path = file_400(tmp_path / "itau.ret", "341", title("12345678", 4000, 210))

    text = runner.invoke(app, ["cnab", "inspect", str(path), "--db", "sqlite:///nada/x.db"])
    assert text.exit_code == 0, text.output
    assert "CNAB 400, banco 341 Itaú" in text.output
    assert "06 liquidação normal" in text.output

    shown = runner.invoke(app, ["cnab", "inspect", str(path), "--json"])
    data = json.loads(shown.stdout)
    [one] = data["titles"]
    assert (data["bank_code"], one["nosso_numero"], one["paid_cents"], one["fee_cents"]) == (
        "341",
        "12345678",
        4000,
        210,
    )
    assert one["credited_cents"] == 3790 and one["settles"] is True


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"01REMESSA01COBRANCA" + b" " * 381 + b"\r\n", "é um arquivo de remessa"),
        (b"isto nao e um retorno\n", "sem header CNAB reconhecível"),
    ],
)
def test_inspect_refuses_in_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "x.ret"
    path.write_bytes(content)
    result = runner.invoke(app, ["cnab", "inspect", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], lines


def test_a_baixa_por_liquidacao_after_a_partial_liquidation_adds_no_money(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # Itaú 07: liquidação parcial of 20,00; the next file's 10 (baixa por ter sido liquidado)
    # reports the same money, not a second payment.
    partial = file_400(tmp_path / "a.ret", "341", title("12345678", 2000, 0, occurrence="07"))
    assert import_file(engine, partial, portfolio).applied == 1
    baixa = file_400(tmp_path / "b.ret", "341", title("12345678", 2000, 0, occurrence="10"))
    assert import_file(engine, baixa, portfolio).applied == 0
    assert invoice_row(engine, "IT1").balance_cents == 2000
