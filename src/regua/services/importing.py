"""Import customers, invoices and payments from CSV/XLSX exports: the use case.

Idempotent: every row carries an external id from the ERP; importing the same file twice changes
nothing, an updated file updates what changed. Bad rows are collected as values (`RowError`) and
either written to a reject file next to the input (default) or, with `strict`, reject the whole
file inside a transaction that is rolled back, leaving the database exactly as it was. A row
imported with a part left out (a contact that cannot be read) or flagged (a duplicate, by the
user's rule in `import_duplicates`) is a warning, listed in the same file.

Rows are streamed and written in batches with set-based statements: one SELECT per batch to find
what exists, one executemany for inserts, one for updates. Which columns a file has (and on which
line its header is) is `import_columns`; how a row's cells become a record is `import_rows` and
`import_contacts`; the payments invoice rows record is `import_history`; payments are matched to
their invoices by `store.invoices.find_by_reference` and applied by `reconciling`, and those no
invoice matches are kept as unmatched money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from regua.services.import_columns import Columns, ImportKind, find_columns, header_fits
from regua.services.import_duplicates import (
    DUPLICATE_RULES,
    DuplicateRule,
    InvoiceNumbers,
    document_flag,
)
from regua.services.import_history import PaidInvoice, record_history
from regua.services.import_results import ImportResult, StrictImportRefused
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
from regua.services.tabular import Progress, open_table, with_header_row
from regua.store import contacts as contact_store
from regua.store import customers as customer_store
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store.uow import UnitOfWorkFactory

# ImportKind and DuplicateRule name what `import_file` takes.
__all__ = [
    "DUPLICATE_RULES",
    "DuplicateRule",
    "ImportKind",
    "ImportResult",
    "StrictImportRefused",
    "import_file",
]

# Which of the invoice's fields a payment row names it by, in the order they are tried.
_REFERENCE_FIELDS: tuple[tuple[str, invoice_store.ReferenceField], ...] = (
    ("invoice_external_id", "external_id"),
    ("invoice_number", "number"),
    ("nosso_numero", "nosso_numero"),
)


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
    header_row: int | None = None,
    duplicates: DuplicateRule = "avisar",
    max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS,
) -> ImportResult:
    """Import one file of `kind` for `creditor_id`; see the module docstring for the rules.

    The header is the first line, or the first of the first rows with the columns `kind` needs
    (a report's title rows above it), or line `header_row`. Amounts beyond `max_amount_cents`
    (the REGUA_MAX_INVOICE_CENTS setting) are refused.
    """
    mapping = mapping or {}
    table, found_on = with_header_row(
        open_table(path, progress), lambda row: header_fits(kind, row, mapping), header_row
    )
    columns = find_columns(kind, table.header, mapping, table.file)
    result = ImportResult(
        kind=kind,
        file=table.file,
        strict=strict,
        header_row=found_on,
        unused_columns=columns.unused,
    )
    importer = _IMPORTERS[kind]
    with uow() as work:
        connection = work.connection
        creditor = payment_store.payment_settings(connection, creditor_id)
        # Business dates (a payment's date) are the creditor's, not UTC's.
        today = now.astimezone(ZoneInfo(creditor.timezone)).date()
        context = _Context(
            connection, creditor_id, now, today, table.file, creditor.terms, columns, duplicates
        )
        context.max_amount_cents = max_amount_cents
        rows = 0
        for batch in batches(table.rows, columns.index):
            rows += len(batch)
            importer(context, batch, result)
        if not rows:
            raise InputError(
                f"o arquivo não tem linhas, só o cabeçalho (linha {found_on}): nada a importar",
                file=table.file,
                code=ErrorCode.NO_ROWS,
            )
        if strict and result.errors:
            # Not committed: the unit of work rolls the whole file back.
            result.applied = False
            result.inserted = result.updated = result.unchanged = result.customers_created = 0
            result.unmatched = result.history_payments = 0
        else:
            work.commit()
    # Flags made per batch (duplicates) come after those made per row: the file's order.
    result.errors.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda e: e.row)
    if result.errors or result.warnings:
        target = reject_path or path.with_name(path.stem + ".rejeitados.csv")
        listed = sorted(result.errors + result.warnings, key=lambda e: e.row)
        write_reject_file(target, table.header, listed, context.rejected_rows)
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
    columns: Columns
    duplicates: DuplicateRule
    max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS
    customer_ids: dict[str, int] | None = None  # external id -> id, loaded on first use
    customer_by_document: dict[str, int] | None = None
    # document -> the customer external id first seen with it (stored, then in the file)
    owner_of_document: dict[str, str] | None = None
    seen_external_ids: set[str] = field(default_factory=set)
    invoice_numbers: InvoiceNumbers = field(default_factory=InvoiceNumbers)
    # Raw cells of the rows listed in the reject file, kept until it is written.
    rejected_rows: dict[int, list[Any]] = field(default_factory=dict)

    def reject(self, result: ImportResult, row: ImportRow, error: RowInvalid) -> None:
        result.errors.append(self._error(row, error, warning=False))

    def warn(self, result: ImportResult, row: ImportRow, error: RowInvalid) -> None:
        result.warnings.append(self._error(row, error, warning=True))

    def flag_duplicate(self, result: ImportResult, row: ImportRow, error: RowInvalid) -> bool:
        """Flag a duplicate by the user's rule; True when the row is left out."""
        if self.duplicates == "rejeitar":
            self.reject(result, row, error)
            return True
        self.warn(result, row, error)
        return False

    def _error(self, row: ImportRow, error: RowInvalid, *, warning: bool) -> RowError:
        self.rejected_rows[row.line] = row.raw
        label = self.columns.label(error.field)
        return RowError(self.file, row.line, label, error.code, error.message, warning)

    def load_customers(self) -> None:
        if self.customer_ids is not None:
            return
        rows = customer_store.customer_keys(self.connection, self.creditor_id)
        self.customer_ids = {external: cid for external, _doc, cid in rows}
        self.customer_by_document = {}
        self.owner_of_document = {}
        # The first registered customer keeps a document: a re-import flags the same code.
        for external, document, cid in sorted(rows, key=lambda row: row[2]):
            self.customer_by_document.setdefault(document, cid)
            self.owner_of_document.setdefault(document, external)


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
        "district": customer.district,
        "postal_code": customer.postal_code,
        "tags": customer.tags,
        "birth_date": customer.birth_date,
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
    "district",
    "postal_code",
    "tags",
    "birth_date",
)


def _import_customers(ctx: _Context, batch: list[ImportRow], result: ImportResult) -> None:
    ctx.load_customers()
    assert ctx.owner_of_document is not None
    parsed: list[CustomerIn] = []
    for row in batch:
        try:
            customer = parse_customer(row.values, ctx.today)
            if customer.external_id in ctx.seen_external_ids:
                raise RowInvalid(
                    "external_id",
                    f"id repetido no arquivo: {customer.external_id}",
                    ErrorCode.DUPLICATE,
                )
        except RowInvalid as error:
            ctx.reject(result, row, error)
            continue
        document = customer.document.number
        flag = document_flag(
            customer.document.formatted,
            customer.external_id,
            ctx.owner_of_document.get(document),
        )
        if flag is not None and ctx.flag_duplicate(result, row, flag):
            continue
        ctx.owner_of_document.setdefault(document, customer.external_id)
        for dropped in customer.dropped:
            ctx.warn(result, row, dropped)
        ctx.seen_external_ids.add(customer.external_id)
        parsed.append(customer)
    if not parsed:
        return
    created, changed = _upsert_customers(ctx, parsed)
    result.inserted += created
    result.updated += changed
    result.unchanged += len(parsed) - created - changed


def _upsert_customers(ctx: _Context, parsed: Sequence[CustomerIn]) -> tuple[int, int]:
    """Insert new customers, update changed ones, add their contacts. Returns (created, changed):
    a customer who gets a contact it did not have is changed."""
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
    # Contacts are additive (a new phone never deletes an old one, which may carry an opt-out):
    # only those not stored yet are written, and their customers count as changed.
    stored = contact_store.stored_contacts(conn, [row.id for row in existing.values()])
    contact_rows = [
        {
            "customer_id": ids[c.external_id],
            "channel": channel,
            "value": value,
            "created_at": ctx.now,
        }
        for c in parsed
        for channel, value in c.contacts
        if (ids[c.external_id], channel, value) not in stored
    ]
    customer_store.add_contacts(conn, contact_rows)
    updated_ids = {row["id"] for row in updates}
    old_ids = {row.id for row in existing.values()}
    reached = {r["customer_id"] for r in contact_rows} & old_ids
    return len(new_rows), len(updated_ids | reached)


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
_CLOSED = ("paid", "cancelled", "written_off")


def _import_invoices(ctx: _Context, batch: list[ImportRow], result: ImportResult) -> None:
    ctx.load_customers()
    assert ctx.customer_ids is not None and ctx.customer_by_document is not None
    parsed: list[tuple[ImportRow, dict[str, Any]]] = []
    new_customers: dict[str, CustomerIn] = {}
    waiting: list[tuple[ImportRow, dict[str, Any], str]] = []
    for row in batch:
        try:
            invoice = parse_invoice(row.values, ctx.today, ctx.max_amount_cents)
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
                    if customer_key not in new_customers:
                        new_customer = parse_customer(row.values, ctx.today, prefix="customer_")
                        new_customer.external_id = customer_key
                        new_customers[customer_key] = new_customer
                        for dropped in new_customer.dropped:
                            ctx.warn(result, row, dropped)
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
    if new_customers:
        created, _changed = _upsert_customers(ctx, list(new_customers.values()))
        result.customers_created += created
        for row, invoice, key in waiting:
            invoice["customer_id"] = ctx.customer_ids[key]
            parsed.append((row, invoice))
    kept = _flag_numbers(ctx, parsed, result)
    if kept:
        _upsert_invoices(ctx, kept, result)


def _flag_numbers(
    ctx: _Context, parsed: list[tuple[ImportRow, dict[str, Any]]], result: ImportResult
) -> list[dict[str, Any]]:
    """The invoices to write: those billed twice (one number, one customer, two ids) flagged
    by the user's rule, and left out under `rejeitar`."""
    ctx.invoice_numbers.load(
        ctx.connection,
        ctx.creditor_id,
        {(invoice["customer_id"], invoice["number"]) for _row, invoice in parsed},
    )
    kept = []
    for row, invoice in sorted(parsed, key=lambda pair: pair[0].line):
        flag = ctx.invoice_numbers.check(
            invoice["customer_id"], invoice["number"], invoice["external_id"]
        )
        if flag is not None and ctx.flag_duplicate(result, row, flag):
            continue
        kept.append(invoice)
    return kept


def _upsert_invoices(ctx: _Context, parsed: list[dict[str, Any]], result: ImportResult) -> None:
    conn = ctx.connection
    existing = invoice_store.imported_invoices(
        conn,
        ctx.creditor_id,
        [i["external_id"] for i in parsed],
        (*_INVOICE_COMPARED, "settled_on"),
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    paid: list[PaidInvoice] = []
    for invoice in parsed:
        balance = invoice.pop("balance")
        paid_on, paid_cents = invoice.pop("paid_on"), invoice.pop("paid_amount")
        settled_on = invoice.pop("settled_on")
        status = invoice["status"]
        old = existing.get(invoice["external_id"])
        if old is None:
            if balance is None:
                balance = 0 if status in _CLOSED else invoice["amount_cents"]
            inserts.append(
                {
                    **invoice,
                    "creditor_id": ctx.creditor_id,
                    "balance_cents": balance,
                    "settled_on": settled_on,
                    "created_at": ctx.now,
                    "updated_at": ctx.now,
                }
            )
        else:
            if balance is None:
                # Payments applied in regua already reduced the balance: carry a change of
                # the amount over as a difference instead of resetting the balance.
                balance = max(0, old.balance_cents + invoice["amount_cents"] - old.amount_cents)
                if status in _CLOSED:
                    balance = 0
            # A settlement day regua knows (a payment it applied) stays; the ERP's fills a gap.
            settled_on = (old.settled_on or settled_on) if status == "paid" else old.settled_on
            changed = (
                balance != old.balance_cents
                or settled_on != old.settled_on
                or any(getattr(old, name) != invoice[name] for name in _INVOICE_COMPARED)
            )
            if changed:
                updates.append(
                    {
                        "id": old.id,
                        **{n: invoice[n] for n in _INVOICE_COMPARED},
                        "balance_cents": balance,
                        "settled_on": settled_on,
                        # a new due date or status: the planner looks at it again on its next run
                        "updated_at": ctx.now,
                    }
                )
            else:
                result.unchanged += 1
        if paid_on is not None and status not in ("cancelled", "written_off"):
            paid.append(
                PaidInvoice(
                    invoice["external_id"],
                    invoice["number"],
                    invoice["customer_id"],
                    invoice["amount_cents"],
                    status,
                    balance,
                    paid_on,
                    paid_cents,
                )
            )
    if inserts:
        invoice_store.insert_invoices(conn, inserts)
        result.inserted += len(inserts)
    if updates:
        invoice_store.update_invoices(
            conn, updates, (*_INVOICE_COMPARED, "balance_cents", "settled_on", "updated_at")
        )
        result.updated += len(updates)
    if paid:
        ids = invoice_store.ids_by_external(conn, ctx.creditor_id, [p.external_id for p in paid])
        result.history_payments += record_history(
            conn, ctx.creditor_id, paid, invoice_ids=ids, now=ctx.now
        )


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
    known = payment_store.known_payments(
        conn, ctx.creditor_id, "import", [p["external_id"] for _r, p in parsed]
    )
    # Stored and applied: nothing to do. Stored unmatched: applied now if its invoice came.
    todo = [
        (row, p)
        for row, p in parsed
        if p["external_id"] not in known or known[p["external_id"]][1] == "unmatched"
    ]
    invoice_ids = _match_invoices(ctx, [p["reference"] for _row, p in todo])
    fresh: list[dict[str, Any]] = []
    for (_row, payment), invoice_id in zip(todo, invoice_ids, strict=True):
        if invoice_id is None and payment["external_id"] in known:
            continue  # still unmatched, as stored
        # Money nobody can match yet is kept, unmatched, never lost: `regua payments
        # --unmatched` shows it, and a later import that brings its invoice applies it.
        payment["invoice_id"] = invoice_id
        if invoice_id is None:
            result.unmatched += 1
            days = (ctx.today - payment["paid_on"]).days + 1
            result.unmatched_days = max(result.unmatched_days, days)
        fresh.append(payment)
    result.unchanged += len(parsed) - len(fresh)
    for payment in fresh:
        # the reference as the payer gave it: what a person reads beside unmatched money
        payment["reference"] = next((v for v in payment["reference"].values() if v), None)
    apply_matched_payments(
        conn, ctx.creditor_id, fresh, source="import", now=ctx.now, terms=ctx.terms
    )
    result.inserted += len(fresh)


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
