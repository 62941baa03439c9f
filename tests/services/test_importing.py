"""Importing customers, invoices and payments from the files ERPs really export."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from regua.errors import InputError
from regua.services.importing import StrictImportRefused, import_file
from regua.store.tables import contacts, customers, payments
from tests.builders import CUSTOMERS_CSV, invoice_row, run_import, units, write_csv, write_xlsx

INVOICES_CSV = """
id_titulo;numero;codigo_cliente;descricao;emissao;vencimento;valor
T1;1001;C1;Mensalidade internet fibra - out/2026;01/10/2026;10/10/2026;99,90
T2;1002;C1;Mensalidade internet fibra - nov/2026;01/11/2026;10/11/2026;99,90
T3;1003;C2;Material de escritório;05/10/2026;05/11/2026;1.234,56
"""


def _customers(engine: Engine) -> dict[str, object]:
    with engine.connect() as connection:
        return {row.external_id: row for row in connection.execute(select(customers))}


def _contacts(engine: Engine, external_id: str) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(contacts.c.channel, contacts.c.value)
            .join(customers, customers.c.id == contacts.c.customer_id)
            .where(customers.c.external_id == external_id)
        )
        return {(channel, value) for channel, value in rows}


def test_windows_1252_semicolon_file_keeps_accents_and_normalises_documents(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "clientes.csv", CUSTOMERS_CSV, encoding="cp1252")

    result = run_import(engine, "customers", path, creditor_id)

    assert (result.inserted, result.updated, result.rejected) == (3, 0, 0)
    stored = _customers(engine)
    assert stored["C1"].name == "José da Conceição"
    assert stored["C1"].document == "52998224725"
    assert stored["C1"].is_consumer is True
    assert stored["C2"].document == "11444777000161"
    assert stored["C2"].is_consumer is False
    assert stored["C2"].city == "Niterói"
    # a mobile can be reached by WhatsApp, SMS and a call; a landline only by a call
    assert _contacts(engine, "C1") == {
        ("email", "jose@exemplo.com.br"),
        ("whatsapp", "+5511987654321"),
        ("sms", "+5511987654321"),
        ("phone", "+5511987654321"),
    }
    assert _contacts(engine, "C2") == {
        ("email", "financeiro@paoquente.com.br"),
        ("phone", "+552132221111"),
    }
    assert ("whatsapp", "+5511998765432") in _contacts(engine, "C3")


def test_utf8_bom_with_commas_and_dot_decimals(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = """
    invoice_id,number,customer_id,description,issue_date,due_date,amount
    T9,9,C2,"Serviço de manutenção, parcela 1",2026-10-01,2026-10-31,1234.56
    """
    path = write_csv(tmp_path / "titulos.csv", text, encoding="utf-8-sig")

    result = run_import(engine, "invoices", path, creditor_id)

    assert result.inserted == 1
    row = invoice_row(engine, "T9")
    assert row.amount_cents == 123456
    assert row.balance_cents == 123456
    assert row.due_date == date(2026, 10, 31)
    assert row.description == "Serviço de manutenção, parcela 1"


def test_xlsx_with_typed_dates_and_numbers(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    path = write_xlsx(
        tmp_path / "titulos.xlsx",
        [
            ["Título", "Número", "Código Cliente", "Descrição", "Vencimento", "Valor"],
            ["X1", 501, "C3", "Parcela de móveis planejados", date(2026, 12, 15), 450.1],
            ["X2", 502, "C3", "Parcela de móveis planejados", "15/01/2027", "450,10"],
        ],
    )

    result = run_import(engine, "invoices", path, creditor_id)

    assert (result.inserted, result.rejected) == (2, 0)
    assert invoice_row(engine, "X1").amount_cents == 45010
    assert invoice_row(engine, "X1").number == "501"
    assert invoice_row(engine, "X2").due_date == date(2027, 1, 15)


def test_bad_rows_go_to_a_reject_file_with_line_and_reason(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = """
    id_titulo;numero;codigo_cliente;descricao;vencimento;valor
    T1;1;C1;Ok;10/10/2026;10,00
    T2;2;C1;Data impossível;31/02/2026;10,00
    T3;3;C1;Negativo;10/10/2026;-5,00
    T4;4;C999;Cliente que não existe;10/10/2026;10,00
    T5;5;C2;Ok também;10/10/2026;1.000,00
    """
    path = write_csv(tmp_path / "titulos.csv", text)

    result = run_import(engine, "invoices", path, creditor_id)

    assert (result.inserted, result.rejected) == (2, 3)
    assert [str(e) for e in result.errors] == [
        "titulos.csv:3: vencimento: data que não existe: 31/02/2026",
        "titulos.csv:4: valor: valor negativo: -5,00",
        "titulos.csv:5: codigo_cliente: cliente desconhecido: C999",
    ]
    reject = tmp_path / "titulos.rejeitados.csv"
    assert result.reject_file == str(reject)
    with reject.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0][:4] == ["linha", "campo", "motivo", "id_titulo"]
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("3", "vencimento", "T2"),
        ("4", "valor", "T3"),
        ("5", "codigo_cliente", "T4"),
    ]


def test_invalid_cpf_is_rejected_with_the_number(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    text = """
    codigo;nome;cpf
    A;Fulano de Tal;123.456.789-00
    B;Beltrano;529.982.247-25
    """
    result = run_import(engine, "customers", write_csv(tmp_path / "c.csv", text), creditor_id)

    assert [str(e) for e in result.errors] == ["c.csv:2: cpf_cnpj: CPF inválido: 123.456.789-00"]
    assert set(_customers(engine)) == {"B"}


def test_strict_mode_leaves_the_database_exactly_as_it_was(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES_CSV), creditor_id)
    before = _snapshot(engine)
    changed = """
    id_titulo;numero;codigo_cliente;descricao;vencimento;valor
    T1;1001;C1;Nova descrição;20/10/2026;99,90
    T7;1007;C1;Novo título;10/12/2026;50,00
    T8;1008;C1;Vencimento errado;32/12/2026;50,00
    """
    path = write_csv(tmp_path / "t2.csv", changed)

    with pytest.raises(StrictImportRefused, match=r"t2.csv: arquivo recusado.*linha 4"):
        run_import(engine, "invoices", path, creditor_id, strict=True)

    assert _snapshot(engine) == before
    if engine.dialect.name == "sqlite":
        assert Path(engine.url.database or "").read_bytes() == before["__file__"]


def _snapshot(engine: Engine) -> dict[str, object]:
    from regua.store.tables import metadata

    with engine.connect() as connection:
        snap: dict[str, object] = {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }
    if engine.dialect.name == "sqlite":
        snap["__file__"] = Path(engine.url.database or "").read_bytes()
    return snap


def test_importing_the_same_file_twice_changes_nothing(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    path = write_csv(tmp_path / "t.csv", INVOICES_CSV)
    first = run_import(engine, "invoices", path, creditor_id)
    snapshot = _snapshot(engine)

    again = run_import(engine, "invoices", path, creditor_id)
    customers_again = run_import(
        engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id
    )

    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert (customers_again.inserted, customers_again.updated, customers_again.unchanged) == (
        0,
        0,
        3,
    )
    after = _snapshot(engine)
    snapshot.pop("__file__", None)
    after.pop("__file__", None)
    assert after == snapshot


def test_an_updated_file_updates_what_changed(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES_CSV), creditor_id)
    updated = """
    id_titulo;numero;codigo_cliente;descricao;emissao;vencimento;valor;situacao
    T1;1001;C1;Mensalidade internet fibra - out/2026;01/10/2026;10/10/2026;99,90;aberto
    T2;1002;C1;Mensalidade internet fibra - nov/2026;01/11/2026;17/11/2026;99,90;aberto
    T3;1003;C2;Material de escritório;05/10/2026;05/11/2026;1.234,56;cancelado
    """

    result = run_import(engine, "invoices", write_csv(tmp_path / "t2.csv", updated), creditor_id)

    assert (result.inserted, result.updated, result.unchanged) == (0, 2, 1)
    assert invoice_row(engine, "T2").due_date == date(2026, 11, 17)
    cancelled = invoice_row(engine, "T3")
    assert (cancelled.status, cancelled.balance_cents) == ("cancelled", 0)


def test_customer_is_created_from_the_invoice_file(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    text = """
    Título;Vencimento;Valor;Cliente;CPF/CNPJ;Celular;E-mail;UF
    A-1;15/12/2026;R$ 300,00;Ana Lúcia Ferreira;529.982.247-25;+55 11 98888-7777;ana@ex.com;SP
    A-2;15/01/2027;R$ 300,00;Ana Lúcia Ferreira;52998224725;+55 11 98888-7777;ana@ex.com;SP
    """
    result = run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)

    assert (result.inserted, result.customers_created, result.rejected) == (2, 1, 0)
    stored = _customers(engine)
    assert list(stored) == ["52998224725"]
    assert stored["52998224725"].name == "Ana Lúcia Ferreira"
    assert ("whatsapp", "+5511988887777") in _contacts(engine, "52998224725")
    assert invoice_row(engine, "A-2").customer_id == stored["52998224725"].id


def test_explicit_column_mapping(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = """
    Doc;Cli;Data Venc.;Vlr Líquido
    D1;C1;05/12/2026;10,50
    """
    path = write_csv(tmp_path / "t.csv", text)
    mapping = {
        "external_id": "Doc",
        "customer_external_id": "Cli",
        "due_date": "Data Venc.",
        "amount": "Vlr Líquido",
    }

    result = run_import(engine, "invoices", path, creditor_id, mapping=mapping)

    assert result.inserted == 1
    assert invoice_row(engine, "D1").amount_cents == 1050


def test_missing_required_column_is_one_clear_error(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "t.csv", "id;cliente;valor\nT1;C1;10,00")
    with pytest.raises(InputError, match=r"^t.csv: falta a coluna vencimento"):
        run_import(engine, "invoices", path, creditor_id)


def test_boleto_line_that_disagrees_with_the_invoice_is_rejected(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    from regua.payments.boleto import barcode_to_line, make_barcode

    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    line = barcode_to_line(
        make_barcode(
            bank_code="237",
            due_date=date(2026, 12, 10),
            amount_cents=15000,
            free_field="1234" * 6 + "5",
        )
    )
    text = f"""
    id;codigo_cliente;vencimento;valor;linha_digitavel
    B1;C1;10/12/2026;150,00;{line}
    B2;C1;10/12/2026;151,00;{line}
    """
    result = run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)

    assert result.inserted == 1
    assert invoice_row(engine, "B1").boleto_line == line
    assert [str(e) for e in result.errors] == [
        "t.csv:3: linha_digitavel: valor do boleto (150,00) difere do valor do título (151,00)"
    ]


def test_payments_settle_partially_pay_and_credit_overpayments(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES_CSV), creditor_id)
    # T1: R$ 99,90 due Sat 10/10/2026 -> paid on time on Mon 12/10? 12/10 is a holiday
    # (Nossa Senhora Aparecida), so the deadline is Tue 13/10 and paying then costs no fees.
    # T2: R$ 99,90 due 10/11/2026, paid 30 days late: multa 2,00 + juros 1,00 = 102,90 owed;
    # 50,00 paid covers the fees first (CC art. 354), leaving 52,90 of principal open.
    # T3: R$ 1.234,56 due 05/11, paid on time with 1.300,00: 65,44 of credit.
    text = """
    id_pagamento;titulo;data_pagamento;valor
    P1;T1;13/10/2026;99,90
    P2;T2;10/12/2026;50,00
    P3;T3;05/11/2026;1.300,00
    """
    path = write_csv(tmp_path / "p.csv", text)

    with pytest.raises(InputError):  # 10/12/2026 is after "now" (23/11/2026)
        run_import(engine, "payments", path, creditor_id, strict=True)
    text = text.replace("10/12/2026", "10/11/2026").replace("P2;T2;10/11/2026", "P2;T2;23/11/2026")
    # 13 days late: multa 2,00 (2% of 99,90 = 1,998) + juros 0,43 (99,90 * 1% * 13/30 = 0,4329)
    result = run_import(engine, "payments", write_csv(path, text), creditor_id)

    assert (result.inserted, result.rejected) == (3, 0)
    t1, t2, t3 = (invoice_row(engine, x) for x in ("T1", "T2", "T3"))
    assert (t1.status, t1.balance_cents, t1.settled_on) == ("paid", 0, date(2026, 10, 13))
    assert (t2.status, t2.balance_cents) == ("open", 9990 - (5000 - 200 - 43))
    assert (t3.status, t3.balance_cents) == ("paid", 0)
    with engine.connect() as connection:
        credit = connection.execute(
            select(payments.c.credit_cents).where(payments.c.external_id == "P3")
        ).scalar_one()
    assert credit == 6544

    again = run_import(engine, "payments", path, creditor_id)
    assert (again.inserted, again.unchanged) == (0, 3)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(payments)).scalar_one() == 3


def test_payment_for_an_unknown_invoice_is_kept_unmatched_and_applied_once_it_comes(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", "id;titulo;data_pagamento;valor\nP1;T1;01/10/2026;5,00")

    result = run_import(engine, "payments", path, creditor_id)

    assert (result.inserted, result.unmatched, result.rejected) == (1, 1, 0)
    with engine.connect() as connection:
        stored = connection.execute(select(payments)).one()
    assert (stored.status, stored.invoice_id, stored.amount_cents) == ("unmatched", None, 500)
    assert (stored.reference, stored.paid_on) == ("T1", date(2026, 10, 1))
    # the same file again: still one payment, still unmatched
    again = run_import(engine, "payments", path, creditor_id)
    assert (again.inserted, again.unchanged) == (0, 1)

    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES_CSV), creditor_id)
    matched = run_import(engine, "payments", path, creditor_id)

    assert (matched.inserted, matched.unmatched) == (1, 0)
    with engine.connect() as connection:
        stored = connection.execute(select(payments)).one()
    assert (stored.status, stored.invoice_id) == ("applied", invoice_row(engine, "T1").id)
    assert invoice_row(engine, "T1").balance_cents == 9990 - 500


def test_decimal_cells_round_half_up_to_the_centavo() -> None:
    from regua.services.cells import parse_amount

    assert parse_amount(Decimal("10.005")) == 1001
    assert parse_amount("1.234.567,89") == 123456789
    assert parse_amount("R$ 0,01") == 1


def test_a_payment_dated_tomorrow_in_sao_paulo_is_refused_at_half_past_ten_at_night(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES_CSV), creditor_id)
    # 22:30 on Monday 23/11/2026 in São Paulo is already Tuesday 24/11 in UTC.
    late_evening = datetime(2026, 11, 23, 22, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
    text = """
    id_pagamento;titulo;data_pagamento;valor
    P1;T1;24/11/2026;10,00
    P2;T2;23/11/2026;10,00
    """
    path = write_csv(tmp_path / "p.csv", text)

    result = import_file(
        units(engine), "payments", path, creditor_id=creditor_id, now=late_evening.astimezone(UTC)
    )

    assert result.inserted == 1
    assert [str(e) for e in result.errors] == [
        "p.csv:2: data_pagamento: data de pagamento no futuro: 24/11/2026"
    ]
    with engine.connect() as connection:
        assert connection.execute(select(payments.c.external_id)).scalars().all() == ["P2"]


def test_a_birth_date_column_is_read_and_a_bad_one_rejects_its_row(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    text = """
    codigo;nome;cpf;data_nascimento
    A;Fulano de Tal;529.982.247-25;07/03/1961
    B;Beltrano;390.533.447-05;31/02/1980
    C;Sicrano;111.444.777-35;
    D;Futuro;123.456.789-09;07/03/2061
    """
    result = run_import(engine, "customers", write_csv(tmp_path / "c.csv", text), creditor_id)

    # A year mistyped would lock the customer out of the portal, which asks this date.
    assert [str(e) for e in result.errors] == [
        "c.csv:3: data_nascimento: data que não existe: 31/02/1980",
        "c.csv:5: data_nascimento: data de nascimento impossível: 07/03/2061",
    ]
    with engine.connect() as connection:
        rows = connection.execute(select(customers.c.external_id, customers.c.birth_date))
        born = {row.external_id: row.birth_date for row in rows}
    assert born == {"A": date(1961, 3, 7), "C": None}
