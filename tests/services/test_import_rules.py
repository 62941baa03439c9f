"""The import's rules one at a time: status words, field names in `--map` and in messages,
title rows, a file without rows, the reject file's values, contacts added by a re-import, and
a letter to an imported address carrying its CEP."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.channels.registry import ChannelRegistry
from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.errors import InputError
from regua.services.cells import parse_invoice_status
from regua.services.daily_cycle import plan
from regua.services.dispatching import Dispatcher
from regua.store.tables import contacts, customers
from tests.builders import CUSTOMERS_CSV, invoice_row, run_import, write_csv, write_xlsx
from tests.channels.test_file_outbox_and_letter import pdf_text

INVOICES_HEADER = "id_titulo;numero;codigo_cliente;vencimento;valor;situacao"


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Recebido", "paid"),
        ("QUITADO", "paid"),
        ("Liquidado", "paid"),
        ("baixado", "paid"),
        ("Em Aberto", "open"),
        ("A vencer", "open"),
        ("Atrasado", "open"),
        ("vencida", "open"),
        ("Protestado", "open"),
        ("Não pago", "open"),
        ("Estornado", "cancelled"),
        ("Renegociado", "in_agreement"),
    ],
)
def test_the_status_words_erps_export(word: str, status: str) -> None:
    assert parse_invoice_status(word) == status


def test_an_unknown_status_lists_the_words_accepted(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = f"{INVOICES_HEADER}\nT1;1;C1;10/12/2026;10,00;Recebido\nT2;2;C1;10/12/2026;10,00;Sumido"

    result = run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)

    assert result.inserted == 1
    (error,) = result.errors
    assert str(error).startswith(
        "t.csv:3: situacao: situação desconhecida: Sumido (aceitas: aberto, em aberto, aberta, "
    )
    for word in ("recebido", "quitado", "atrasado", "estornado", "renegociado", "protestado"):
        assert word in error.message


def test_map_takes_the_pt_br_names_the_messages_use(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    path = write_csv(tmp_path / "t.csv", "Doc;Cli;Data Venc.;Vlr Líquido\nD1;C1;05/12/2026;10,50")

    with pytest.raises(InputError) as missing:
        run_import(engine, "invoices", path, creditor_id)
    # the message names the field as --map takes it
    assert str(missing.value) == (
        "t.csv: falta a coluna vencimento (se ela tem outro nome: --map vencimento=<nome da "
        "coluna>)"
    )
    mapping = {
        "id_titulo": "Doc",
        "codigo_cliente": "Cli",
        "vencimento": "Data Venc.",
        "valor": "Vlr Líquido",
    }
    result = run_import(engine, "invoices", path, creditor_id, mapping=mapping)

    assert result.inserted == 1
    assert invoice_row(engine, "D1").amount_cents == 1050
    with pytest.raises(InputError, match=r"campo desconhecido no --map: venc \(campos: .*"):
        run_import(engine, "invoices", path, creditor_id, mapping={"venc": "Data Venc."})


def test_title_rows_above_the_header_are_skipped_and_the_row_is_said(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = f"""
    Relatório de contas a receber;;;;;
    Empresa Exemplo Ltda - emitido em 23/11/2026;;;;;
    ;;;;;
    {INVOICES_HEADER}
    T1;1;C1;10/12/2026;10,00;Em aberto
    """
    path = write_csv(tmp_path / "t.csv", text)

    found = run_import(engine, "invoices", path, creditor_id)
    told = run_import(engine, "invoices", path, creditor_id, header_row=4)

    assert (found.header_row, found.inserted) == (4, 1)
    assert (told.header_row, told.unchanged) == (4, 1)
    with pytest.raises(InputError, match="falta a coluna"):
        run_import(engine, "invoices", path, creditor_id, header_row=2)


def test_title_lines_without_a_separator_above_a_csv_header(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = f"""
    RELATÓRIO DE TÍTULOS A RECEBER

    Período: 01/11/2026 a 30/11/2026
    {INVOICES_HEADER}
    T1;1;C1;10/12/2026;10,00;Em aberto
    T2;2;C1;32/12/2026;10,00;Em aberto
    """
    path = write_csv(tmp_path / "t.csv", text, encoding="cp1252")

    result = run_import(engine, "invoices", path, creditor_id)

    assert (result.header_row, result.inserted) == (4, 1)
    # the lines are the file's, title lines counted
    assert [str(e) for e in result.errors] == [
        "t.csv:6: vencimento: data que não existe: 32/12/2026"
    ]


def test_a_file_with_only_a_header_says_it_has_no_rows(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "t.csv", INVOICES_HEADER)
    with pytest.raises(InputError) as raised:
        run_import(engine, "invoices", path, creditor_id)
    assert str(raised.value) == (
        "t.csv: o arquivo não tem linhas, só o cabeçalho (linha 1): nada a importar"
    )


def test_the_reject_file_writes_a_spreadsheets_values_the_pt_br_way(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    path = write_xlsx(
        tmp_path / "titulos.xlsx",
        [
            ["Título", "Código Cliente", "Emissão", "Vencimento", "Valor"],
            ["X1", "C9", date(2026, 10, 1), date(2026, 10, 15), 199.9],
            ["X2", "C1", date(2026, 10, 1), date(2026, 10, 15), Decimal("1234.5")],
        ],
    )

    result = run_import(engine, "invoices", path, creditor_id)

    assert result.rejected == 1
    with Path(result.reject_file or "").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[1] == [
        "2",
        "codigo_cliente",
        "cliente desconhecido: C9",
        "X1",
        "C9",
        "01/10/2026",
        "15/10/2026",
        "199,90",
    ]


def test_a_re_import_that_adds_contacts_counts_those_customers_as_changed(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    more = CUSTOMERS_CSV.replace("jose@exemplo.com.br", '"jose@exemplo.com.br; jose@outro.com"')

    again = run_import(engine, "customers", write_csv(tmp_path / "c2.csv", more), creditor_id)

    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 2)
    with engine.connect() as connection:
        emails = connection.execute(
            select(contacts.c.value)
            .join(customers, customers.c.id == contacts.c.customer_id)
            .where(customers.c.external_id == "C1", contacts.c.channel == "email")
            .order_by(contacts.c.id)
        ).scalars()
        assert list(emails) == ["jose@exemplo.com.br", "jose@outro.com"]


def test_a_letter_to_an_imported_address_carries_its_cep(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    text = """
    codigo;nome;cpf;logradouro;numero;complemento;bairro;cidade;uf;cep
    L1;Lúcia Prado;529.982.247-25;Rua das Flores;120;apto 31;Batel;Curitiba;PR;80420-090
    """
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", text), creditor_id)
    # D+34 on Monday 23/11/2026: the default régua's written notice, a letter
    bill = f"{INVOICES_HEADER}\nQ2;Q2;L1;20/10/2026;300,00;Em aberto"
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", bill), creditor_id)
    monday = date(2026, 11, 23)
    at_nine = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with engine.begin() as connection:
        planned = plan(connection, creditor_id, monday, at_nine, start="recuperar").actions
    assert [(a.channel, a.contact_value) for a in planned] == [
        ("letter", "Rua das Flores, 120, apto 31\nBatel\n80420-090 Curitiba - PR")
    ]
    clock = FixedClock(at_nine)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)

    result = Dispatcher(engine, registry, clock=clock, jitter=lambda: 0.0).dispatch_due(
        today=monday
    )

    assert result.sent == {"letter": 1}
    (letter,) = (tmp_path / "out").iterdir()
    printed = pdf_text(letter.read_bytes())
    for line in ("Lúcia Prado", "Rua das Flores, 120, apto 31", "Batel", "80420-090 Curitiba - PR"):
        assert line in printed


def test_the_cli_says_where_the_header_was_and_what_it_did_not_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regua.db'}"
    runner = CliRunner()
    init = ["--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    assert runner.invoke(app, ["init", "--db", url, *init]).exit_code == 0
    path = write_csv(
        tmp_path / "clientes.csv",
        """
        Cadastro de clientes;;;;
        codigo;nome;cpf;email;observacao
        C1;Ana;529.982.247-25;ines@;cliente antigo
        """,
    )

    result = runner.invoke(app, ["import", "customers", str(path), "--db", url])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:4] == [
        "clientes.csv: cabeçalho na linha 2",
        "clientes.csv: 1 novos, 0 atualizados, 0 sem mudança, 0 rejeitados, 1 avisos",
        "  Colunas não usadas: observacao",
        "  aviso: clientes.csv:3: email: e-mail inválido: ines@ (contato ignorado; o cliente foi "
        "importado)",
    ]
    empty = write_csv(tmp_path / "vazio.csv", "codigo;nome;cpf")
    refused = runner.invoke(app, ["import", "customers", str(empty), "--db", url])
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "erro: vazio.csv: o arquivo não tem linhas, só o cabeçalho (linha 1): nada a importar"
    )
    payments = write_csv(
        tmp_path / "pagos.csv", "id;titulo;data_pagamento;valor\nP1;NF-9;01/11/2026;55,00"
    )
    kept = runner.invoke(app, ["import", "payments", str(payments), "--db", url])
    assert kept.exit_code == 0, kept.output
    # asked on 07/12/2026 or later: the hint's --days reaches back to 01/11
    days = int(kept.output.split("--days ")[1].split(")")[0])
    assert days >= 37
    listed = runner.invoke(app, ["payments", "--unmatched", "--days", str(days), "--db", url])
    assert "│ 01/11/2026 │ importação │ NF-9" in listed.output
    assert "R$ 55,00" in listed.output
