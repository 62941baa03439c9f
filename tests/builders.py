"""Readable test data: spreadsheet files as Brazilian businesses export them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from regua.services.importing import ImportKind, ImportResult, import_file
from regua.store.tables import (
    action_invoices,
    actions,
    creditors,
    customers,
    interactions,
    invoice_steps,
    invoices,
    payments,
)
from regua.store.uow import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` (one row per line, as typed in the test) with CRLF line ends."""
    lines = [line.strip() for line in text.strip().splitlines()]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def units(engine: Engine) -> UnitOfWorkFactory:
    """Units of work on `engine`, as an entry point gives `App.uow` to a service."""
    return partial(UnitOfWork, engine)


def run_import(
    engine: Engine, kind: ImportKind, path: Path, creditor_id: int, **kwargs: Any
) -> ImportResult:
    return import_file(units(engine), kind, path, creditor_id=creditor_id, now=NOW, **kwargs)


def invoice_row(engine: Engine, external_id: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(invoices).where(invoices.c.external_id == external_id)
        ).one()


def stored_payments(engine: Engine) -> list[tuple[Any, ...]]:
    """(external id, invoice, amount, applied, fees, credit, status) of each payment row."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(
                    payments.c.external_id,
                    invoices.c.external_id,
                    payments.c.amount_cents,
                    payments.c.applied_cents,
                    payments.c.fees_cents,
                    payments.c.credit_cents,
                    payments.c.status,
                )
                .select_from(payments.outerjoin(invoices, invoices.c.id == payments.c.invoice_id))
                .order_by(payments.c.id)
            )
        ]


CUSTOMERS_CSV = """
codigo_cliente;nome;cpf_cnpj;email;celular;uf;cidade
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;(11) 98765-4321;SP;São Paulo
C2;Padaria Pão Quente Ltda;11.444.777/0001-61;financeiro@paoquente.com.br;(21) 3222-1111;RJ;Niterói
C3;Maria Antônia;39053344705;;011 99876-5432;MG;Belo Horizonte
"""


def pointing_at_nothing(engine: Engine) -> list[tuple[str, int]]:
    """Rows whose creditor, customer, invoice or action does not exist, and payments whose
    customer is not their invoice's: no foreign key guards these columns (migrations 0004 and
    0006), so no writer may leave one. (what, the id that names nothing) for each, and (what,
    payment id) for a payment of another customer."""
    checks = [
        ("link's action", action_invoices.c.action_id, actions.c.id),
        ("link's invoice", action_invoices.c.invoice_id, invoices.c.id),
        ("step memory", invoice_steps.c.invoice_id, invoices.c.id),
        ("action's creditor", actions.c.creditor_id, creditors.c.id),
        ("action's customer", actions.c.customer_id, customers.c.id),
        ("payment's creditor", payments.c.creditor_id, creditors.c.id),
        ("payment's customer", payments.c.customer_id, customers.c.id),
        ("timeline's customer", interactions.c.customer_id, customers.c.id),
        ("timeline's invoice", interactions.c.invoice_id, invoices.c.id),
    ]
    found: list[tuple[str, int]] = []
    with engine.connect() as connection:
        for label, column, key in checks:
            found += [
                (label, value)
                for value in connection.execute(
                    select(column)
                    .outerjoin(key.table, key == column)
                    .where(column.is_not(None), key.is_(None))
                ).scalars()
            ]
        found += [
            ("payment of another customer", row_id)
            for row_id in connection.execute(
                select(payments.c.id)
                .join(invoices, invoices.c.id == payments.c.invoice_id)
                .where(payments.c.customer_id != invoices.c.customer_id)
            ).scalars()
        ]
    return found
