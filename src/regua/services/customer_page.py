"""One customer's page for an analyst (`regua cliente`): who they are, how they can be reached,
what they owe today with multa and juros, and everything that happened: every contact planned,
sent or not (with why it was allowed, held or skipped), payments, pauses, opt-outs, thank-yous.

The charges are the messages' own (`services.message_context.invoice_items` over
`domain.fees.charges`, the creditor's terms, the CDC cap for consumers): the page shows what a
message sent today would say. Reads only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from regua.channels.context_items import invoice_totals
from regua.domain.action_statuses import status_label
from regua.domain.channels import channel_label
from regua.domain.documents import DocumentError, parse_tax_id
from regua.domain.fees import FeeTerms
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound
from regua.services.message_context import invoice_items
from regua.services.reporting import reason_text
from regua.store import action_report, timeline
from regua.store import customer_page as customer_rows
from regua.store.message_context import load_creditors, open_invoices
from regua.store.uow import UnitOfWorkFactory

# Timeline entries that only repeat what their action's own line says (its status and reason).
_SAID_BY_THE_ACTION = frozenset({"sent", "failed", "held", "cancelled"})
ENTRY_LABELS: Mapping[str, str] = {
    "paid": "pagamento",
    "discount": "desconto por antecipação",
    "payment_reversed": "estorno",
    "paused": "pausa",
    "resumed": "retomada",
    "opted_out": "descadastro",
    "contact_invalid": "contato inválido",
    "replied": "resposta",
    "delivered": "entregue",
    "read": "lida",
    "bank": "banco",
    "promised": "promessa",
    "note": "anotação",
    "dispute": "contestação",
    "callback": "ligação pedida",
}
PURPOSE_LABELS: Mapping[str, str] = {"collection": "cobrança", "thank_you": "agradecimento"}


@dataclass(frozen=True)
class ContactLine:
    channel: str
    value: str
    state: str  # "ativo", "descadastrado", "inválido"
    opted_out_at: datetime | None
    opt_out_reason: str | None
    invalid_at: datetime | None


@dataclass(frozen=True)
class TimelineLine:
    """One thing that happened: an action (`action_id` set) or an entry of the timeline."""

    at: datetime
    kind: str  # an action's purpose ("collection", "thank_you") or the entry's kind ("paid")
    label: str  # pt-BR
    channel: str | None
    status: str | None  # an action's status; None for an entry
    what: str  # pt-BR
    why: str  # pt-BR: why an action was allowed, held, skipped...; empty for an entry
    action_id: int | None = None
    invoices: tuple[str, ...] = ()
    date_only: bool = False  # `at` is a day (a payment's date), not an instant


@dataclass(frozen=True)
class CustomerPage:
    today: date
    customer: Any  # the customers row
    document: str  # formatted CPF/CNPJ
    contacts: list[ContactLine]
    invoices: list[dict[str, Any]]  # open ones, with charges at `today` (`invoice_item`)
    totals: dict[str, int]
    timeline: list[TimelineLine] = field(default_factory=list)


def _document_key(text: str) -> str | None:
    try:
        return parse_tax_id(text).number
    except DocumentError:
        return None


def _formatted(number: str) -> str:
    try:
        return parse_tax_id(number).formatted
    except DocumentError:
        return number


def allowed_text(evidence: Mapping[str, Any] | None) -> str:
    """Why a contact was allowed, from the evidence the planner recorded with it."""
    if not evidence:
        return ""
    parts = []
    window = evidence.get("window")
    if isinstance(window, Mapping) and window.get("open"):
        where = f" em {window['uf']}" if window.get("uf") else ""
        hours = f" ({window['hours']})" if window.get("hours") else ""
        parts.append(f"dia de contato aberto{where}{hours}")
    if "weekly_cap" in evidence:
        parts.append(
            f"{evidence.get('weekly_count', 0)} de {evidence['weekly_cap']} contatos na semana"
        )
    tried = evidence.get("channels_tried")
    if isinstance(tried, Mapping) and tried:
        parts.append("; ".join(f"{channel_label(str(c))}: {why}" for c, why in tried.items()))
    if evidence.get("policy"):
        parts.append(f"régua {evidence['policy']}, segmento {evidence.get('segment', '-')}")
    return "; ".join(parts)


def _paid_on(data: Any) -> date | None:
    if isinstance(data, str):  # a JSON column read back as text by some drivers
        data = json.loads(data)
    value = data.get("paid_on") if isinstance(data, Mapping) else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    # SQLite hands instants back naive; they are stored in UTC.
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(zone)


def _action_line(row: action_report.ActionRow, zone: ZoneInfo) -> TimelineLine:
    purpose = PURPOSE_LABELS.get(row.purpose, row.purpose)
    channel = channel_label(row.channel) if row.channel else "sem canal"
    what = f"etapa {row.step_id}, {channel}"
    if row.contact_value:
        what += f" ({row.contact_value})"
    if row.status in ("planned", "sending", "sent"):
        why = "permitida: " + allowed_text(row.evidence) if row.evidence else ""
    else:
        why = reason_text(row.status, row.reason, row.evidence)
    # An action happened when it was sent; until then, when it was planned.
    at = _local(row.sent_at or row.created_at, zone)
    return TimelineLine(
        at=at,
        kind=row.purpose,
        label=purpose,
        channel=row.channel,
        status=row.status,
        what=what,
        why=why,
        action_id=row.id,
        invoices=row.invoice_numbers,
    )


def customer_page(
    uow: UnitOfWorkFactory, creditor_id: int, key: str, *, today: date, timezone: str
) -> CustomerPage:
    """The page of the customer whose ERP code or CPF/CNPJ is `key`, as of `today`."""
    zone = ZoneInfo(timezone)
    with uow() as work:  # reads only
        connection = work.connection
        found = customer_rows.find_customers(
            connection, creditor_id, key.strip(), _document_key(key)
        )
        if not found:
            raise NotFound(
                f"cliente {key!r} não encontrado (informe o código do ERP ou o CPF/CNPJ)",
                code=ErrorCode.NO_CUSTOMER,
            )
        customer = found[0]
        if customer.external_id != key.strip() and len(found) > 1:
            codes = ", ".join(row.external_id for row in found)
            raise InputError(
                f"o CPF/CNPJ {key} é de {len(found)} clientes ({codes}): informe o código",
                field="CLIENTE",
            )
        creditor = load_creditors(connection, {creditor_id})[creditor_id]
        terms = FeeTerms(
            late_fee_bp=creditor.late_fee_bp,
            interest_monthly_bp=creditor.interest_monthly_bp,
            is_consumer=bool(customer.is_consumer),
        )
        rows = open_invoices(connection, int(customer.id), today)
        items = invoice_items(rows, today=today, terms=terms, with_charges=True)
        by_number = {row.number: row for row in rows}
        for item in items:
            row = by_number[item["number"]]
            item["status"] = row.status
            item["paused"] = bool(row.paused)
            item["paused_until"] = row.paused_until
        contact_lines = [
            ContactLine(
                channel=c.channel,
                value=c.value,
                state="descadastrado"
                if c.opted_out_at is not None
                else "inválido"
                if c.invalid_at is not None
                else "ativo",
                opted_out_at=c.opted_out_at,
                opt_out_reason=c.opt_out_reason,
                invalid_at=c.invalid_at,
            )
            for c in customer_rows.contacts_of(connection, int(customer.id))
        ]
        lines = [
            _action_line(row, zone)
            for row in action_report.actions_of_customer(connection, int(customer.id))
        ]
        for entry in timeline.entries_of(connection, int(customer.id)):
            if entry.action_id is not None and entry.kind in _SAID_BY_THE_ACTION:
                continue
            # A payment happened on the day it was paid, whenever its file was imported.
            paid_on = _paid_on(entry.data) if entry.kind == "paid" else None
            lines.append(
                TimelineLine(
                    at=datetime.combine(paid_on, time(0, 0), zone)
                    if paid_on is not None
                    else _local(entry.at, zone),
                    date_only=paid_on is not None,
                    kind=entry.kind,
                    label=ENTRY_LABELS.get(entry.kind, status_label(entry.kind)),
                    channel=entry.channel,
                    status=None,
                    what=entry.detail,
                    why="",
                    action_id=entry.action_id,
                )
            )
    lines.sort(key=lambda line: line.at)
    return CustomerPage(
        today=today,
        customer=customer,
        document=_formatted(customer.document),
        contacts=contact_lines,
        invoices=items,
        totals=invoice_totals(items),
        timeline=lines,
    )


def page_dict(page: CustomerPage) -> dict[str, Any]:
    """The page as plain data for `--json`: raw values, centavos, ISO dates."""
    c = page.customer
    return {
        "today": page.today,
        "customer": {
            "code": c.external_id,
            "name": c.name,
            "document": c.document,
            "document_kind": c.document_kind,
            "is_consumer": bool(c.is_consumer),
            "uf": c.uf,
            "city": c.city,
            "address": c.address,
            "tags": [t for t in (c.tags or "").split(",") if t],
            "segment": c.segment,
            "segment_since": c.segment_since,
            "paused": bool(c.paused),
            "paused_until": c.paused_until,
            "pause_reason": c.pause_reason,
        },
        "contacts": [
            {
                "channel": x.channel,
                "value": x.value,
                "opted_out_at": x.opted_out_at,
                "opt_out_reason": x.opt_out_reason,
                "invalid_at": x.invalid_at,
                "reachable": x.opted_out_at is None and x.invalid_at is None,
            }
            for x in page.contacts
        ],
        "open_invoices": page.invoices,
        "totals": page.totals,
        "timeline": [
            {
                "at": line.at.date() if line.date_only else line.at,
                "kind": line.kind,
                "channel": line.channel,
                "status": line.status,
                "detail": line.what,
                "why": line.why,
                "action_id": line.action_id,
                "invoices": list(line.invoices),
            }
            for line in page.timeline
        ],
    }
