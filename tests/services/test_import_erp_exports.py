"""Files shaped like what Conta Azul, Omie, Bling and TOTVS Protheus export (column names,
status words, number and date formats, title rows above the header, several contacts in one
cell), each imported and compared field by field with what was stored, the payment history
included, and the segments the first `regua run` makes of it.

The files are written here, by the tests; none is copied from a real company.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.store.tables import contacts, customers, invoices, payments
from tests.builders import run_import, write_xlsx

runner = CliRunner()


def cpf(base: str) -> str:
    """A valid CPF from its first nine digits (the two check digits computed)."""
    digits = [int(c) for c in base]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def cnpj(base: str) -> str:
    """A valid CNPJ from its first twelve digits."""
    digits = [int(c) for c in base]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        total = sum(d * w for d, w in zip(digits, weights, strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def fmt_cpf(number: str) -> str:
    return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"


def fmt_cnpj(number: str) -> str:
    return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"


def write_semicolon_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str) -> Path:
    """A `;` CSV as a Brazilian ERP writes it (cells with `;` quoted), CRLF line ends."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def stored_invoices(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """ERP id -> (number, customer's ERP id, due, amount, balance, status, settled_on)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                invoices.c.external_id,
                invoices.c.number,
                customers.c.external_id,
                invoices.c.due_date,
                invoices.c.amount_cents,
                invoices.c.balance_cents,
                invoices.c.status,
                invoices.c.settled_on,
            ).join(customers, customers.c.id == invoices.c.customer_id)
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def stored_payments(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """Invoice ERP id -> (amount, applied, fees, paid_on, status) of the payments recorded."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                invoices.c.external_id,
                payments.c.amount_cents,
                payments.c.applied_cents,
                payments.c.fees_cents,
                payments.c.paid_on,
                payments.c.status,
            ).join(invoices, invoices.c.id == payments.c.invoice_id)
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def stored_contacts(engine: Engine, external_id: str) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(contacts.c.channel, contacts.c.value)
            .join(customers, customers.c.id == contacts.c.customer_id)
            .where(customers.c.external_id == external_id)
        )
        return {(channel, value) for channel, value in rows}


def segments_after_a_run(engine: Engine, db_url: str) -> dict[str, str | None]:
    result = runner.invoke(app, ["run", "--db", db_url, "--date", "2026-11-23", "--no-dispatch"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        return dict(connection.execute(select(customers.c.external_id, customers.c.segment)).all())


def mobile(e164: str) -> set[tuple[str, str]]:
    return {("whatsapp", e164), ("sms", e164), ("phone", e164)}


# --- Conta Azul: an XLSX of "contas a receber" with the customer on each row ------------------

ANA, BRUNO, CARLA = cpf("123456789"), cnpj("452617380001"), cpf("987654321")


def conta_azul_receivables(path: Path) -> Path:
    header = [
        "Nº Documento",
        "Data de competência",
        "Data de vencimento",
        "Descrição",
        "Cliente",
        "CPF/CNPJ",
        "E-mail",
        "Celular",
        "Categoria",
        "Valor (R$)",
        "Situação",
        "Data do último pagamento",
        "Valor pago (R$)",
    ]
    ana = ["Ana Paula Souza", fmt_cpf(ANA), "ana@exemplo.com.br; ana.fin@exemplo.com.br"]
    ana.append("(11) 98765-4321")
    bruno = ["Bruno Materiais Ltda", fmt_cnpj(BRUNO), "bruno@", "(21) 99876-5432"]
    carla = ["Carla Dias", fmt_cpf(CARLA), "carla@exemplo.com.br", ""]
    mensalidade = ("Mensalidade", "Serviços")
    rows: list[list[Any]] = [header]
    for number, due, paid_on, status in [
        ("CA-101", date(2026, 7, 15), date(2026, 7, 14), "Quitado"),
        ("CA-102", date(2026, 8, 14), date(2026, 8, 10), "Quitado"),
        ("CA-103", date(2026, 9, 15), date(2026, 9, 15), "Recebido"),
        ("CA-104", date(2026, 10, 15), date(2026, 10, 1), "Quitado"),
    ]:
        rows.append(
            [
                number,
                due.replace(day=1),
                due,
                mensalidade[0],
                *ana,
                mensalidade[1],
                150.0,
                status,
                paid_on,
                150.0,
            ]
        )
    rows.append(
        [
            "CA-105",
            date(2026, 12, 1),
            date(2026, 12, 15),
            "Mensalidade",
            *ana,
            "Serviços",
            150.0,
            "Em aberto",
            None,
            None,
        ]
    )
    for number, due, paid_on, paid, status in [
        ("CA-201", date(2026, 7, 10), date(2026, 7, 30), 1224.51, "Quitado"),
        ("CA-202", date(2026, 8, 10), date(2026, 8, 25), 1200.5, "Quitado"),
        ("CA-203", date(2026, 9, 10), date(2026, 9, 28), 1200.5, "Recebido"),
        ("CA-204", date(2026, 11, 10), date(2026, 11, 12), 500.0, "Recebido parcialmente"),
    ]:
        rows.append([number, due, due, "Cimento", *bruno, "Vendas", 1200.5, status, paid_on, paid])
    rows.append(
        [
            "CA-301",
            date(2026, 9, 1),
            date(2026, 9, 1),
            "Consulta",
            *carla,
            "Serviços",
            89.9,
            "Atrasado",
            None,
            None,
        ]
    )
    return write_xlsx(path, rows)


def test_conta_azul_receivables_with_their_payment_history(
    engine: Engine, creditor_id: int, db_url: str, tmp_path: Path
) -> None:
    result = run_import(
        engine, "invoices", conta_azul_receivables(tmp_path / "contas_a_receber.xlsx"), creditor_id
    )

    assert (result.inserted, result.customers_created, result.rejected) == (10, 3, 0)
    assert result.history_payments == 8
    assert result.unused_columns == ["Categoria"]
    # the bad e-mail is left out with a warning; Bruno and his invoices are imported
    assert [str(w) for w in result.warnings] == [
        "contas_a_receber.xlsx:7: email: e-mail inválido: bruno@ "
        "(contato ignorado; o cliente foi importado)"
    ]
    paid, opened = "paid", "open"
    assert stored_invoices(engine) == {
        "CA-101": ("CA-101", ANA, date(2026, 7, 15), 15000, 0, paid, date(2026, 7, 14)),
        "CA-102": ("CA-102", ANA, date(2026, 8, 14), 15000, 0, paid, date(2026, 8, 10)),
        "CA-103": ("CA-103", ANA, date(2026, 9, 15), 15000, 0, paid, date(2026, 9, 15)),
        "CA-104": ("CA-104", ANA, date(2026, 10, 15), 15000, 0, paid, date(2026, 10, 1)),
        "CA-105": ("CA-105", ANA, date(2026, 12, 15), 15000, 15000, opened, None),
        "CA-201": ("CA-201", BRUNO, date(2026, 7, 10), 120050, 0, paid, date(2026, 7, 30)),
        "CA-202": ("CA-202", BRUNO, date(2026, 8, 10), 120050, 0, paid, date(2026, 8, 25)),
        "CA-203": ("CA-203", BRUNO, date(2026, 9, 10), 120050, 0, paid, date(2026, 9, 28)),
        "CA-204": ("CA-204", BRUNO, date(2026, 11, 10), 120050, 70050, opened, None),
        "CA-301": ("CA-301", CARLA, date(2026, 9, 1), 8990, 8990, opened, None),
    }
    applied = "applied"
    assert stored_payments(engine) == {
        "CA-101": (15000, 15000, 0, date(2026, 7, 14), applied),
        "CA-102": (15000, 15000, 0, date(2026, 8, 10), applied),
        "CA-103": (15000, 15000, 0, date(2026, 9, 15), applied),
        "CA-104": (15000, 15000, 0, date(2026, 10, 1), applied),
        # 24,01 over the amount: the juros the ERP charged
        "CA-201": (122451, 122451, 2401, date(2026, 7, 30), applied),
        "CA-202": (120050, 120050, 0, date(2026, 8, 25), applied),
        "CA-203": (120050, 120050, 0, date(2026, 9, 28), applied),
        "CA-204": (50000, 50000, 0, date(2026, 11, 12), applied),
    }
    assert stored_contacts(engine, ANA) == {
        ("email", "ana@exemplo.com.br"),
        ("email", "ana.fin@exemplo.com.br"),
        *mobile("+5511987654321"),
    }
    assert stored_contacts(engine, BRUNO) == mobile("+5521998765432")

    assert segments_after_a_run(engine, db_url) == {
        ANA: "bom_pagador",  # four paid on or before the due date
        BRUNO: "atrasador_habitual",  # three paid late
        CARLA: "risco",  # 83 days overdue
    }

    again = run_import(
        engine, "invoices", conta_azul_receivables(tmp_path / "contas_a_receber.xlsx"), creditor_id
    )
    assert (again.inserted, again.updated, again.unchanged, again.history_payments) == (
        0,
        0,
        10,
        0,
    )
    assert len(stored_payments(engine)) == 8


# --- Omie: customers as a Windows-1252 CSV, receivables as an XLSX report with title rows ------

MERCADO, INES = cnpj("114447770001"), cpf("390533447")


def omie_customers(path: Path) -> Path:
    header = "Código;Razão Social;CNPJ/CPF;Telefone;Celular;E-mail;Endereço;Número;Complemento"
    header += ";Bairro;Cidade;Estado;CEP;Observações"
    rows = [
        header.split(";"),
        [
            "OM1",
            "Mercado São João Ltda",
            fmt_cnpj(MERCADO),
            "(41) 3222-1111",
            "(41) 99876-5432 / 99123-4567",
            "compras@mercadosj.com.br; financeiro@mercadosj.com.br",
            "Rua XV de Novembro",
            "1200",
            "Loja 3",
            "Centro",
            "Curitiba",
            "PR",
            "80020-310",
            "cliente desde 2019",
        ],
        [
            "OM2",
            "Inês Alves",
            fmt_cpf(INES),
            "3222-1111",
            "",
            "ines@",
            "Av. Brasil",
            "55",
            "",
            "Jardim América",
            "Maringá",
            "PR",
            "87045000",
            "",
        ],
        # the same CNPJ under a second code: one customer registered twice
        ["OM3", "Mercado S. João", fmt_cnpj(MERCADO), "", "", "", "", "", "", "", "", "PR", "", ""],
    ]
    return write_semicolon_csv(path, rows, "cp1252")


def omie_receivables(path: Path) -> Path:
    header = [
        "Código do Cliente",
        "Cliente",
        "Nº Documento",
        "Parcela",
        "Data de Emissão",
        "Data de Vencimento",
        "Valor da Conta",
        "Situação",
        "Data de Recebimento",
        "Valor Recebido",
    ]
    emitted = date(2026, 7, 20)
    rows: list[list[Any]] = [
        ["Omie - Contas a Receber"],
        ["Período: 01/07/2026 a 30/11/2026"],
        [],
        header,
        [
            "OM1",
            "Mercado",
            "5501",
            "1",
            emitted,
            date(2026, 8, 5),
            1500.0,
            "Recebido",
            date(2026, 8, 5),
            1500.0,
        ],
        [
            "OM1",
            "Mercado",
            "5501",
            "2",
            emitted,
            date(2026, 9, 4),
            1500.0,
            "Recebido",
            date(2026, 9, 3),
            1500.0,
        ],
        [
            "OM1",
            "Mercado",
            "5501",
            "3",
            emitted,
            date(2026, 10, 5),
            1500.0,
            "Recebido",
            date(2026, 10, 2),
            1500.0,
        ],
        ["OM1", "Mercado", "5501", "4", emitted, date(2026, 11, 5), 1500.0, "Atrasado", None, None],
        [
            "OM2",
            "Inês",
            "7001",
            "1",
            date(2026, 11, 1),
            date(2026, 12, 1),
            320.0,
            "A Vencer",
            None,
            None,
        ],
        [
            "OM2",
            "Inês",
            "7002",
            "1",
            date(2026, 9, 1),
            date(2026, 10, 1),
            320.0,
            "Cancelado",
            None,
            None,
        ],
    ]
    return write_xlsx(path, rows)


def test_omie_customers_and_a_receivables_report_with_title_rows(
    engine: Engine, creditor_id: int, db_url: str, tmp_path: Path
) -> None:
    imported = run_import(
        engine, "customers", omie_customers(tmp_path / "clientes.csv"), creditor_id
    )

    assert (imported.inserted, imported.rejected) == (3, 0)
    assert imported.unused_columns == ["Observações"]
    assert [(w.row, w.field, w.message) for w in imported.warnings] == [
        (3, "email", "e-mail inválido: ines@ (contato ignorado; o cliente foi importado)"),
        (3, "telefone", "telefone sem DDD: 3222-1111 (contato ignorado; o cliente foi importado)"),
        (
            4,
            "cpf_cnpj",
            f"CPF/CNPJ {fmt_cnpj(MERCADO)} já é do cliente OM1: o mesmo cliente com dois códigos?",
        ),
    ]
    with engine.connect() as connection:
        stored = {row.external_id: row for row in connection.execute(select(customers)).all()}
    mercado = stored["OM1"]
    assert (mercado.name, mercado.document, mercado.document_kind, mercado.is_consumer) == (
        "Mercado São João Ltda",
        MERCADO,
        "cnpj",
        False,
    )
    assert (mercado.address, mercado.district, mercado.city, mercado.uf, mercado.postal_code) == (
        "Rua XV de Novembro, 1200, Loja 3",
        "Centro",
        "Curitiba",
        "PR",
        "80020310",
    )
    assert stored["OM2"].postal_code == "87045000"
    assert stored["OM2"].name == "Inês Alves"
    # both phone columns, both numbers of the Celular cell (the second in the first one's DDD),
    # both e-mails, and the letter's recipient block with the CEP
    assert stored_contacts(engine, "OM1") == {
        ("phone", "+554132221111"),
        *mobile("+5541998765432"),
        *mobile("+5541991234567"),
        ("email", "compras@mercadosj.com.br"),
        ("email", "financeiro@mercadosj.com.br"),
        ("letter", "Rua XV de Novembro, 1200, Loja 3\nCentro\n80020-310 Curitiba - PR"),
    }
    assert stored_contacts(engine, "OM2") == {
        ("letter", "Av. Brasil, 55\nJardim América\n87045-000 Maringá - PR")
    }

    result = run_import(
        engine, "invoices", omie_receivables(tmp_path / "receber.xlsx"), creditor_id
    )

    assert result.header_row == 4
    assert (result.inserted, result.rejected, result.history_payments) == (6, 0, 3)
    assert result.unused_columns == []
    assert stored_invoices(engine) == {
        "5501/1": ("5501/1", "OM1", date(2026, 8, 5), 150000, 0, "paid", date(2026, 8, 5)),
        "5501/2": ("5501/2", "OM1", date(2026, 9, 4), 150000, 0, "paid", date(2026, 9, 3)),
        "5501/3": ("5501/3", "OM1", date(2026, 10, 5), 150000, 0, "paid", date(2026, 10, 2)),
        "5501/4": ("5501/4", "OM1", date(2026, 11, 5), 150000, 150000, "open", None),
        "7001/1": ("7001/1", "OM2", date(2026, 12, 1), 32000, 32000, "open", None),
        "7002/1": ("7002/1", "OM2", date(2026, 10, 1), 32000, 0, "cancelled", None),
    }
    assert set(stored_payments(engine)) == {"5501/1", "5501/2", "5501/3"}
    segments = segments_after_a_run(engine, db_url)
    # paid three on time; the one 18 days late now is not yet a risk
    assert segments["OM1"] == "bom_pagador"
    assert segments["OM2"] == "novo"


# --- Bling: a Latin-1 CSV of "contas a receber", contacts inline, two e-mails in one cell ------

JOSE, LUCIA = cpf("111444777"), cpf("529982247")


def bling_receivables(path: Path) -> Path:
    header = "Id;Situação;Vencimento;Valor;Nº documento;Histórico;Contato;CPF/CNPJ;E-mail;Fone"
    header += ";Celular;Data pagamento;Valor pago;Categoria"
    jose = ["José Antônio", fmt_cpf(JOSE), "jose@a.com.br, jose@b.com.br", "(21) 2222-3333"]
    jose.append("(21) 98888-7777")
    lucia = ["Lúcia Prado", fmt_cpf(LUCIA), "lucia@exemplo.com", "8888-7777", ""]
    rows = [
        header.split(";"),
        [
            "1001",
            "Recebido",
            "05/08/2026",
            "250,00",
            "NF-41",
            "Plano mensal",
            *jose,
            "05/08/2026",
            "250,00",
            "Vendas",
        ],
        [
            "1002",
            "Recebido",
            "04/09/2026",
            "250,00",
            "NF-42",
            "Plano mensal",
            *jose,
            "01/09/2026",
            "250,00",
            "Vendas",
        ],
        [
            "1003",
            "Recebido",
            "05/10/2026",
            "250,00",
            "NF-43",
            "Plano mensal",
            *jose,
            "05/10/2026",
            "250,00",
            "Vendas",
        ],
        ["1004", "Em aberto", "04/12/2026", "250,00", "NF-44", "Plano mensal", *jose, "", "", ""],
        # the same document number again under another id: billed twice
        ["1005", "Em aberto", "04/12/2026", "250,00", "NF-44", "Plano mensal", *jose, "", "", ""],
        ["1006", "Atrasado", "10/11/2026", "1.234,56", "NF-45", "Projeto", *lucia, "", "", ""],
        ["1007", "Estornado", "10/10/2026", "99,90", "NF-46", "Projeto", *lucia, "", "", ""],
    ]
    return write_semicolon_csv(path, rows, "latin-1")


@pytest.mark.parametrize("rule", ["avisar", "rejeitar"])
def test_bling_receivables_in_latin_1_with_a_number_billed_twice(
    engine: Engine, creditor_id: int, db_url: str, tmp_path: Path, rule: str
) -> None:
    path = bling_receivables(tmp_path / "contas.csv")

    result = run_import(engine, "invoices", path, creditor_id, duplicates=rule)

    twice = "número NF-44 já cobrado deste cliente no título 1004: cobrança em dobro?"
    no_area = "telefone sem DDD: 8888-7777 (contato ignorado; o cliente foi importado)"
    flagged = [(6, "numero", twice)]
    if rule == "avisar":
        assert (result.inserted, result.rejected) == (7, 0)
        assert [(w.row, w.field, w.message) for w in result.warnings] == [
            *flagged,
            (7, "fone", no_area),
        ]
    else:
        assert (result.inserted, result.rejected) == (6, 1)
        assert [(e.row, e.field, e.message) for e in result.errors] == flagged
        assert [(w.row, w.field, w.message) for w in result.warnings] == [(7, "fone", no_area)]
    assert result.unused_columns == ["Categoria"]
    assert result.history_payments == 3
    invoices_stored = stored_invoices(engine)
    assert invoices_stored["1001"] == (
        "NF-41",
        JOSE,
        date(2026, 8, 5),
        25000,
        0,
        "paid",
        date(2026, 8, 5),
    )
    assert invoices_stored["1006"] == (
        "NF-45",
        LUCIA,
        date(2026, 11, 10),
        123456,
        123456,
        "open",
        None,
    )
    assert invoices_stored["1007"][4:6] == (0, "cancelled")
    assert ("1005" in invoices_stored) is (rule == "avisar")
    assert stored_contacts(engine, JOSE) == {
        ("email", "jose@a.com.br"),
        ("email", "jose@b.com.br"),
        ("phone", "+552122223333"),
        *mobile("+5521988887777"),
    }
    assert stored_contacts(engine, LUCIA) == {("email", "lucia@exemplo.com")}
    # the reject file holds the flagged rows as they were typed
    with Path(result.reject_file or "").open(encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.reader(handle, delimiter=";"))
    assert listed[0][:4] == ["linha", "campo", "motivo", "Id"]
    assert listed[1][:3] == ["6", "numero", twice]
    assert listed[1][3:8] == ["1005", "Em aberto", "04/12/2026", "250,00", "NF-44"]
    assert segments_after_a_run(engine, db_url) == {JOSE: "bom_pagador", LUCIA: "novo"}

    # imported again: the same row is flagged against the same first one, nothing changes
    again = run_import(engine, "invoices", path, creditor_id, duplicates=rule)
    assert [(e.row, e.message) for e in again.errors + again.warnings if e.row == 6] == [(6, twice)]
    assert (again.inserted, again.updated, again.history_payments) == (0, 0, 0)


# --- TOTVS Protheus: a report CSV with title rows, two-digit years, installments by letter -----

ALFA = cnpj("334455660001")


def totvs_titles(path: Path) -> Path:
    header = "Prefixo;No. Titulo;Parcela;Tipo;Cliente;Loja;Nome Cliente;CNPJ/CPF;Emissao"
    header += ";Vencto Real;Valor Original;Saldo;Baixa;Situacao"
    pad = [""] * 13
    alfa = ["000045", "01", "Construtora Alfa Ltda", fmt_cnpj(ALFA)]
    rows = [
        ["TOTVS Protheus - Relação de Títulos a Receber", *pad],
        ["Filial: 01 - Matriz   Emissão: 23/11/2026", *pad],
        ["", *pad],
        header.split(";"),
        [
            "NF",
            "000123",
            "A",
            "NF",
            *alfa,
            "01/07/26",
            "31/07/26",
            "2.500,00",
            "0,00",
            "29/07/26",
            "Baixado",
        ],
        [
            "NF",
            "000123",
            "B",
            "NF",
            *alfa,
            "01/07/26",
            "31/08/26",
            "2.500,00",
            "0,00",
            "31/08/26",
            "Baixado",
        ],
        [
            "NF",
            "000123",
            "C",
            "NF",
            *alfa,
            "01/07/26",
            "30/09/26",
            "2.500,00",
            "0,00",
            "25/09/26",
            "Liquidado",
        ],
        [
            "NF",
            "000150",
            "A",
            "NF",
            *alfa,
            "01/08/26",
            "14/08/26",
            "780,00",
            "780,00",
            "",
            "Protestado",
        ],
    ]
    return write_semicolon_csv(path, rows, "cp1252")


def test_totvs_titles_report_with_title_rows_and_the_client_code_mapped_by_its_pt_br_name(
    engine: Engine, creditor_id: int, db_url: str, tmp_path: Path
) -> None:
    path = totvs_titles(tmp_path / "titulos.csv")

    result = run_import(
        engine, "invoices", path, creditor_id, mapping={"codigo_cliente": "Cliente"}
    )

    assert result.header_row == 4
    assert (result.inserted, result.customers_created, result.rejected) == (4, 1, 0)
    assert result.history_payments == 3
    assert result.unused_columns == ["Prefixo", "Tipo", "Loja"]
    assert stored_invoices(engine) == {
        "000123/A": ("000123/A", "000045", date(2026, 7, 31), 250000, 0, "paid", date(2026, 7, 29)),
        "000123/B": ("000123/B", "000045", date(2026, 8, 31), 250000, 0, "paid", date(2026, 8, 31)),
        "000123/C": ("000123/C", "000045", date(2026, 9, 30), 250000, 0, "paid", date(2026, 9, 25)),
        # protested: still owed, so still open
        "000150/A": ("000150/A", "000045", date(2026, 8, 14), 78000, 78000, "open", None),
    }
    assert stored_payments(engine)["000123/B"] == (250000, 250000, 0, date(2026, 8, 31), "applied")
    # 101 days overdue outweighs a history of paying on time
    assert segments_after_a_run(engine, db_url) == {"000045": "risco"}
