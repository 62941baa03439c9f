"""The sheets `--xlsx` writes for the listing commands (`regua segments`, `payments`, `calls`):
their columns and typed cells, beside each other so the spreadsheets read alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from regua.cli.xlsx_output import Column, Sheet
from regua.domain.segments import default_label

if TYPE_CHECKING:
    from regua.services.call_list import CallEntry
    from regua.services.payments_report import PaymentsReport
    from regua.services.reporting import SegmentTotal

SEGMENT_COLUMNS = (
    Column("Segmento"),
    Column("Clientes", "int"),
    Column("Em aberto", "money"),
    Column("Vencido", "money"),
    Column("Código do segmento"),
)


def segments_sheet(rows: Sequence[SegmentTotal]) -> Sheet:
    return Sheet(
        "Segmentos",
        SEGMENT_COLUMNS,
        [
            (default_label(r.segment), r.customers, r.open_cents, r.overdue_cents, r.segment)
            for r in rows
        ],
    )


PAYMENT_STATUS_LABELS = {
    "applied": "aplicado",
    "unmatched": "sem título",
    "reversed": "estornado",
    "reversal": "estorno",
}
PAYMENT_SOURCE_LABELS = {
    "cnab": "boleto",
    "pix": "PIX",
    "import": "importação",
    "manual": "manual",
    "disputa": "contestação",
}
PAYMENT_COLUMNS = (
    Column("Data", "date"),
    Column("Origem", width=12),
    Column("Título"),
    Column("Situação do título", width=12),
    Column("Saldo do título", "money"),
    Column("Cliente"),
    Column("Nome", width=36),
    Column("Valor", "money"),
    Column("Aplicado", "money"),
    Column("Multa e juros", "money"),
    Column("Crédito", "money"),
    Column("Situação", width=12),
    Column("Identificação", width=30),
    Column("Referência", width=30),
    Column("Observação", width=40),
    Column("Tarifa do banco", "money"),
    Column("Creditado na conta", "money"),
)
INVOICE_STATUS_LABELS = {"open": "em aberto", "paid": "quitado", "cancelled": "cancelado"}


def payments_sheet(report: PaymentsReport) -> Sheet:
    def cells(line: Any) -> tuple[Any, ...]:
        return (
            line.paid_on,
            PAYMENT_SOURCE_LABELS.get(line.source, line.source),
            line.invoice_number,
            INVOICE_STATUS_LABELS.get(line.invoice_status, line.invoice_status)
            if line.invoice_status
            else None,
            line.invoice_balance_cents,
            line.customer_external_id,
            line.customer_name,
            line.amount_cents,
            line.applied_cents,
            line.fees_cents,
            line.credit_cents,
            PAYMENT_STATUS_LABELS.get(line.status, line.status),
            line.external_id,
            line.reference,
            line.note,
            line.bank_fee_cents,
            line.credited_cents,
        )

    title = "Pagamentos sem título" if report.unmatched_only else "Pagamentos"
    return Sheet(title, PAYMENT_COLUMNS, [cells(line) for line in report.lines])


CALL_COLUMNS = (
    Column("Data", "date"),
    Column("Cliente"),
    Column("Nome", width=36),
    Column("Telefone", width=16),
    Column("UF", width=5),
    Column("Títulos", width=30),
    Column("Valor original", "money"),
    Column("Multa e juros", "money"),
    Column("Total", "money"),
    Column("Roteiro"),
    Column("Etapa"),
    Column("Horário", width=14),
    Column("Fuso", width=20),
    Column("Ação", "int"),
    # A call the debtor asked for (its action is 0): the number `regua ligacao feita` takes.
    Column("Pedido"),
)


def calls_sheet(entries: Sequence[CallEntry]) -> Sheet:
    return Sheet(
        "Ligações",
        CALL_COLUMNS,
        [
            (
                e.planned_for,
                e.customer,
                e.name,
                e.phone,
                e.uf,
                ", ".join(e.invoices),
                e.principal_cents,
                e.fees_cents,
                e.total_cents,
                e.script,
                e.step,
                e.hours or "fechado",
                e.timezone,
                e.action_id,
                "" if e.request_id is None else e.request_id,
            )
            for e in entries
        ],
    )
