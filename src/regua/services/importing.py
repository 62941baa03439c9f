"""Import customers, invoices and payments from CSV/XLSX exports: the use case.

Idempotent: every row carries an external id from the ERP; importing the same file twice changes
nothing, an updated file updates what changed. Bad rows are collected as values (`RowError`) and
either written to a reject file next to the input (default) or, with `strict`, reject the whole
file inside a transaction that is rolled back, leaving the database exactly as it was.

Rows are streamed and written in batches with set-based statements: one SELECT per batch to find
what exists, one executemany for inserts, one for updates. Which columns a file has is
`import_columns`; how a row's cells become a record is `import_rows`; payments are matched to
their invoices by `store.invoices.find_by_reference` and applied by `reconciling`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from regua.domain.amount_limits import DEFAULT_MAX_INVOICE_CENTS
from regua.domain.documents import DocumentError, parse_tax_id
from regua.domain.fees import FeeTerms
from regua.error_codes import ErrorCode
from regua.errors import InputError
from regua.services import cells
from regua.services.import_columns import FIELD_LABELS, ImportKind, find_columns
from regua.services.import_rows import (
    PAYMENT_REFERENCES,
    CustomerIn,
    ImportRow,
    RowError,
    RowInvalid,
    batches,
    parse_customer,
    parse_invoice,
    parse_payment,
    write_reject_file,
)
from regua.services.reconciling import apply_matched_payments
from regua.services.tabular import Progress, open_table
from regua.store import customers as customer_store
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store.uow import UnitOfWorkFactory

# ImportKind names what `import_file` takes.
__all__ = ["ImportKind", "ImportResult", "StrictImportRefused", "import_file"]

# Which of the invoice's fields a payment row names it by, in the order they are tried.
_REFERENCE_FIELDS: tuple[tuple[str, invoice_store.ReferenceField], ...] = (
    ("invoice_external_id", "external_id"),
    ("invoice_number", "number"),
    ("nosso_numero", "nosso_numero"),
)


@dataclass
class ImportResult:
    kind: ImportKind
    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    reject_file: str | None = None
    strict: bool = False
    applied: bool = True  # False when strict mode refused the file

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "customers_created": self.customers_created,
            "reject_file": self.reject_file,
            "applied": self.applied,
            "errors": [asdict(e) for e in self.errors[:100]],
        }


class StrictImportRefused(InputError):
    """Strict mode: at least one bad row, so nothing was imported."""


def import_file(
    uow: UnitOfWorkFactory,
    kind: ImportKind,
    path: Path,
    *,
    creditor_id: int,
    now: datetime,
    strict: bool = False,
    mapping: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    reject_path: Path | None = None,
    max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS,
) -> ImportResult:
    """Import one file of `kind` for `creditor_id`; see the module docstring for the rules.
    Amounts beyond `max_amount_cents` (the REGUA_MAX_INVOICE_CENTS setting) are refused."""
    table = open_table(path, progress)
    columns = find_columns(kind, table.header, mapping or {}, table.file)
    result = ImportResult(kind=kind, file=table.file, strict=strict)
    importer = _IMPORTERS[kind]
    with uow() as work:
        connection = work.connection
        creditor = payment_store.payment_settings(connection, creditor_id)
        # Business dates (a payment's date) are the creditor's, not UTC's.
        today = now.astimezone(ZoneInfo(creditor.timezone)).date()
        context = _Context(connection, creditor_id, now, today, table.file, creditor.terms)
        context.max_amount_cents = max_amount_cents
        for batch in batches(table.rows, columns):
            importer(context, batch, result)
        if strict and result.errors:
            # Not committed: the unit of work rolls the whole file back.
            result.applied = False
            result.inserted = result.updated = result.unchanged = result.customers_created = 0
        else:
            work.commit()
    if result.errors:
        target = reject_path or path.with_name(path.stem + ".rejeitados.csv")
        write_reject_file(target, table.header, result.errors, context.rejected_rows)
        result.reject_file = str(target)
    if strict and result.errors:
        first = result.errors[0]
        raise StrictImportRefused(
            f"arquivo recusado, nada foi importado: {result.rejected} linha(s) inválida(s); "
            f"a primeira: linha {first.row}: {first.field or ''}: {first.message}"
            f" (detalhes em {result.reject_file})",
            file=table.file,
        )
    return result


@dataclass
class _Context:
    connection: Connection
    creditor_id: int
    now: datetime
    today: date  # in the creditor's time zone
    file: str
    terms: FeeTerms
    max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS
    customer_ids: dict[str, int] | None = None  # external id -> id, loaded on first use
    customer_by_document: dict[str, int] | None = None
    seen_external_ids: set[str] = field(default_factory=set)
    # Raw cells of rejected rows, kept until the reject file is written.
    rejected_rows: dict[int, list[Any]] = field(default_factory=dict)

    def reject(self, result: ImportResult, row: ImportRow, error: RowInvalid) -> None:
        label = FIELD_LABELS.get(error.field, error.field) if error.field else None
        result.errors.append(RowError(self.file, row.line, label, error.code, error.message))
        self.rejected_rows[row.line] = row.raw

    def load_customers(self) -> None:
        if self.customer_ids is not None:
            return
        rows = customer_store.customer_keys(self.connection, self.creditor_id)
        self.customer_ids = {external: cid for external, _doc, cid in rows}
        self.customer_by_document = {}
        for _external, document, cid in rows:
            self.customer_by_document.setdefault(document, cid)


def _customer_row(ctx: _Context, customer: CustomerIn) -> dict[str, Any]:
    return {
        "creditor_id": ctx.creditor_id,
        "external_id": customer.external_id,
        "name": customer.name,
        "document": customer.document.number,
        "document_kind": customer.document.kind,
        "is_consumer": customer.is_consumer,
        "uf": customer.uf,
        "city": customer.city,
        "address": customer.address,
        "tags": customer.tags,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }


_CUSTOMER_COMPARED = (
    "name",
    "document",
    "document_kind",
    "is_consumer",
    "uf",
    "city",
    "address",
    "tags",
)


def _import_customers(ctx: _Context, batch: list[ImportRow], result: ImportResult) -> None:
    parsed: list[CustomerIn] = []
    for row in batch:
        try:
            customer = parse_customer(row.values)
            if customer.external_id in ctx.seen_external_ids:
                raise RowInvalid(
                    "external_id",
                    f"id repetido no arquivo: {customer.external_id}",
                    ErrorCode.DUPLICATE,
                )
        except RowInvalid as error:
            ctx.reject(result, row, error)
            continue
        ctx.seen_external_ids.add(customer.external_id)
        parsed.append(customer)
    if not parsed:
        return
    created, changed = _upsert_customers(ctx, parsed)
    result.inserted += created
    result.updated += changed
    result.unchanged += len(parsed) - created - changed


def _upsert_customers(ctx: _Context, parsed: Sequence[CustomerIn]) -> tuple[int, int]:
    """Insert new customers, update changed ones, add their contacts. Returns (created, changed)."""
    conn = ctx.connection
    existing = customer_store.imported_customers(
        conn, ctx.creditor_id, [c.external_id for c in parsed], _CUSTOMER_COMPARED
    )
    new_rows = [_customer_row(ctx, c) for c in parsed if c.external_id not in existing]
    updates = []
    for customer in parsed:
        old = existing.get(customer.external_id)
        if old is None:
            continue
        fresh = _customer_row(ctx, customer)
        if any(getattr(old, name) != fresh[name] for name in _CUSTOMER_COMPARED):
            updates.append(
                {"id": old.id, **{n: fresh[n] for n in _CUSTOMER_COMPARED}, "updated_at": ctx.now}
            )
    if new_rows:
        customer_store.insert_customers(conn, new_rows)
    if updates:
        customer_store.update_customers(conn, updates, (*_CUSTOMER_COMPARED, "updated_at"))
    ids = customer_store.ids_by_external_id(conn, ctx.creditor_id, [c.external_id for c in parsed])
    if ctx.customer_ids is not None:
        ctx.customer_ids.update(ids)
        assert ctx.customer_by_document is not None
        for customer in parsed:
            ctx.customer_by_document.setdefault(customer.document.number, ids[customer.external_id])
    contact_rows = [
        {
            "customer_id": ids[c.external_id],
            "channel": channel,
            "value": value,
            "created_at": ctx.now,
        }
        for c in parsed
        for channel, value in c.contacts
    ]
    customer_store.add_contacts(conn, contact_rows)
    # A contact row added to an existing customer counts as a change only through its fields;
    # contacts are additive (a new phone never deletes an old one, which may carry an opt-out).
    return len(new_rows), len(updates)


# --- invoices --------------------------------------------------------------------------------

_INVOICE_COMPARED = (
    "customer_id",
    "number",
    "description",
    "issue_date",
    "due_date",
    "effective_due_date",
    "amount_cents",
    "status",
    "boleto_line",
    "nosso_numero",
    "pix_txid",
)


def _import_invoices(ctx: _Context, batch: list[ImportRow], result: ImportResult) -> None:
    ctx.load_customers()
    assert ctx.customer_ids is not None and ctx.customer_by_document is not None
    parsed: list[tuple[ImportRow, dict[str, Any]]] = []
    new_customers: dict[str, CustomerIn] = {}
    waiting: list[tuple[ImportRow, dict[str, Any], str]] = []
    has_customer_columns = False
    for row in batch:
        try:
            invoice = parse_invoice(row.values, ctx.max_amount_cents)
            if invoice["external_id"] in ctx.seen_external_ids:
                raise RowInvalid(
                    "external_id",
                    f"id repetido no arquivo: {invoice['external_id']}",
                    ErrorCode.DUPLICATE,
                )
            customer_key = cells.text(row.values.get("customer_external_id", ""))
            customer_id = ctx.customer_ids.get(customer_key) if customer_key else None
            document_text = cells.text(row.values.get("customer_document", ""))
            if customer_id is None and document_text:
                try:
                    document = parse_tax_id(document_text)
                except DocumentError as exc:
                    raise RowInvalid(
                        "customer_document", str(exc), ErrorCode.INVALID_DOCUMENT
                    ) from None
                customer_id = ctx.customer_by_document.get(document.number)
                if customer_id is None and not customer_key:
                    customer_key = document.number
            if customer_id is None:
                if cells.text(row.values.get("customer_name", "")) and document_text:
                    has_customer_columns = True
                    if customer_key not in new_customers:
                        new_customer = parse_customer(row.values, prefix="customer_")
                        new_customer.external_id = customer_key
                        new_customers[customer_key] = new_customer
                    waiting.append((row, invoice, customer_key))
                    ctx.seen_external_ids.add(invoice["external_id"])
                    continue
                shown = customer_key or document_text or "(vazio)"
                raise RowInvalid(
                    "customer_external_id",
                    f"cliente desconhecido: {shown}",
                    ErrorCode.UNKNOWN_CUSTOMER,
                )
        except RowInvalid as error:
            ctx.reject(result, row, error)
            continue
        ctx.seen_external_ids.add(invoice["external_id"])
        invoice["customer_id"] = customer_id
        parsed.append((row, invoice))
    if has_customer_columns and new_customers:
        created, _changed = _upsert_customers(ctx, list(new_customers.values()))
        result.customers_created += created
        for row, invoice, key in waiting:
            invoice["customer_id"] = ctx.customer_ids[key]
            parsed.append((row, invoice))
    if parsed:
        _upsert_invoices(ctx, [invoice for _row, invoice in parsed], result)


def _upsert_invoices(ctx: _Context, parsed: list[dict[str, Any]], result: ImportResult) -> None:
    conn = ctx.connection
    existing = invoice_store.imported_invoices(
        conn, ctx.creditor_id, [i["external_id"] for i in parsed], _INVOICE_COMPARED
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for invoice in parsed:
        balance = invoice.pop("balance")
        status = invoice["status"]
        old = existing.get(invoice["external_id"])
        if old is None:
            if balance is None:
                balance = (
                    0 if status in ("paid", "cancelled", "written_off") else invoice["amount_cents"]
                )
            inserts.append(
                {
                    **invoice,
                    "creditor_id": ctx.creditor_id,
                    "balance_cents": balance,
                    "settled_on": None,
                    "created_at": ctx.now,
                    "updated_at": ctx.now,
                }
            )
            continue
        if balance is None:
            # Payments applied in regua already reduced the balance: carry a change of the
            # amount over as a difference instead of resetting the balance.
            balance = max(0, old.balance_cents + invoice["amount_cents"] - old.amount_cents)
            if status in ("paid", "cancelled", "written_off"):
                balance = 0
        changed = balance != old.balance_cents or any(
            getattr(old, name) != invoice[name] for name in _INVOICE_COMPARED
        )
        if changed:
            updates.append(
                {
                    "id": old.id,
                    **{n: invoice[n] for n in _INVOICE_COMPARED},
                    "balance_cents": balance,
                    # a new due date or status: the planner looks at it again on its next run
                    "updated_at": ctx.now,
                }
            )
        else:
            result.unchanged += 1
    if inserts:
        invoice_store.insert_invoices(conn, inserts)
        result.inserted += len(inserts)
    if updates:
        invoice_store.update_invoices(
            conn, updates, (*_INVOICE_COMPARED, "balance_cents", "updated_at")
        )
        result.updated += len(updates)


# --- payments


def _import_payments(ctx: _Context, batch: list[ImportRow], result: ImportResult) -> None:
    conn = ctx.connection
    parsed: list[tuple[ImportRow, dict[str, Any]]] = []
    for row in batch:
        try:
            payment = parse_payment(row.values, ctx.today, ctx.max_amount_cents)
            external_id = payment["external_id"]
            if external_id in ctx.seen_external_ids:
                raise RowInvalid(
                    "external_id",
                    f"pagamento repetido no arquivo: {external_id}",
                    ErrorCode.DUPLICATE,
                )
        except RowInvalid as error:
            ctx.reject(result, row, error)
            continue
        ctx.seen_external_ids.add(external_id)
        parsed.append((row, payment))
    if not parsed:
        return
    known = payment_store.stored_external_ids(
        conn, ctx.creditor_id, "import", [p["external_id"] for _r, p in parsed]
    )
    todo = [(row, p) for row, p in parsed if p["external_id"] not in known]
    result.unchanged += len(parsed) - len(todo)
    if not todo:
        return
    invoice_ids = _match_invoices(ctx, [p["reference"] for _row, p in todo])
    matched: list[dict[str, Any]] = []
    for (row, payment), invoice_id in zip(todo, invoice_ids, strict=True):
        if invoice_id is None:
            shown = next(v for v in payment["reference"].values() if v)
            ctx.reject(
                result,
                row,
                RowInvalid(
                    "invoice_external_id",
                    f"título desconhecido: {shown}",
                    ErrorCode.UNKNOWN_INVOICE,
                ),
            )
            continue
        payment["invoice_id"] = invoice_id
        matched.append(payment)
    apply_matched_payments(
        conn, ctx.creditor_id, matched, source="import", now=ctx.now, terms=ctx.terms
    )
    result.inserted += len(matched)


def _match_invoices(ctx: _Context, references: list[dict[str, str]]) -> list[int | None]:
    """The invoice each payment row names: by the invoice's id, then its number, then its nosso
    número; where one names several, as `store.invoices.find_by_reference` chooses."""
    found: dict[str, dict[str, int]] = {
        name: invoice_store.find_by_reference(ctx.connection, ctx.creditor_id, field_name, wanted)
        if (wanted := {r[name] for r in references if r[name]})
        else {}
        for name, field_name in _REFERENCE_FIELDS
    }
    out: list[int | None] = []
    for reference in references:
        match = None
        for name in PAYMENT_REFERENCES:
            value = reference[name]
            if value and value in found[name]:
                match = found[name][value]
                break
        out.append(match)
    return out


_IMPORTERS: dict[ImportKind, Callable[[_Context, list[ImportRow], ImportResult], None]] = {
    "customers": _import_customers,
    "invoices": _import_invoices,
    "payments": _import_payments,
}
