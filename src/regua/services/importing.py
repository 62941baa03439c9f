"""Import customers, invoices and payments from CSV/XLSX exports.

Idempotent: every row carries an external id from the ERP; importing the same file twice changes
nothing, an updated file updates what changed. Bad rows are collected as values (`RowError`) and
either written to a reject file next to the input (default) or, with `strict`, reject the whole
file inside a transaction that is rolled back, leaving the database exactly as it was.

Rows are streamed and written in batches with set-based statements: one SELECT per batch to find
what exists, one executemany for inserts, one for updates.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select

from regua.domain.calendar import UFS, effective_due_date
from regua.domain.documents import (
    DocumentError,
    TaxId,
    is_mobile,
    normalize_email,
    normalize_phone,
    parse_tax_id,
)
from regua.domain.fees import FeeTerms
from regua.errors import InputError, NotFound
from regua.payments.boleto import BoletoError
from regua.payments.boleto import parse as parse_boleto
from regua.services import cells
from regua.services.cells import CellError
from regua.services.settling import apply_matched_payments
from regua.services.tabular import Progress, open_table, resolve_columns
from regua.store.bulk import insert_ignoring_conflicts, update_by_id
from regua.store.tables import (
    contacts,
    creditors,
    customers,
    invoices,
    payments,
)

ImportKind = Literal["customers", "invoices", "payments"]
BATCH_SIZE = 5_000

CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "codigo_cliente",
        "cod_cliente",
        "id_cliente",
        "cliente_id",
        "customer_id",
        "customer_external_id",
        "codigo",
        "id",
    ),
    "name": (
        "nome",
        "nome_cliente",
        "cliente",
        "razao_social",
        "sacado",
        "pagador",
        "customer_name",
        "customer",
    ),
    "document": ("cpf_cnpj", "cnpj_cpf", "documento", "cpf", "cnpj", "doc", "tax_id"),
    "email": ("e_mail", "email_cliente", "mail"),
    "phone": (
        "telefone",
        "celular",
        "fone",
        "whatsapp",
        "tel",
        "phone",
        "mobile",
        "telefone_celular",
    ),
    "phone2": ("telefone_2", "telefone2", "fone_2", "fone2", "outro_telefone", "phone_2"),
    "uf": ("estado", "state", "uf_cliente"),
    "city": ("cidade", "municipio", "city"),
    "address": ("endereco", "logradouro", "endereco_completo", "address"),
    "tags": ("etiquetas", "grupo", "carteira"),
    "consumer": ("consumidor", "pessoa_fisica", "is_consumer"),
}

# In an invoice file the customer columns are the same, but "id"/"codigo" name the invoice.
_INVOICE_CUSTOMER_COLUMNS = {
    f"customer_{name}" if name != "external_id" else "customer_external_id": tuple(
        s for s in synonyms if s not in ("id", "codigo")
    )
    for name, synonyms in CUSTOMER_COLUMNS.items()
}
_INVOICE_CUSTOMER_COLUMNS["customer_name"] = (
    "customer_name",
    *CUSTOMER_COLUMNS["name"],
)

INVOICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "id_titulo",
        "codigo_titulo",
        "titulo",
        "id_fatura",
        "fatura_id",
        "invoice_id",
        "id_externo",
        "chave",
    ),
    "number": (
        "numero",
        "numero_documento",
        "num_doc",
        "nf",
        "nota_fiscal",
        "numero_titulo",
        "numero_nf",
        "invoice_number",
        "fatura",
    ),
    "description": ("descricao", "historico", "produto", "servico", "referente", "description"),
    "issue_date": ("emissao", "data_emissao", "data_de_emissao", "dt_emissao", "issue_date"),
    "due_date": (
        "vencimento",
        "data_vencimento",
        "data_de_vencimento",
        "dt_vencimento",
        "due_date",
        "due",
    ),
    "amount": ("valor", "valor_original", "valor_titulo", "valor_documento", "amount", "total"),
    "balance": (
        "saldo",
        "valor_aberto",
        "valor_em_aberto",
        "saldo_devedor",
        "balance",
        "open_amount",
    ),
    "status": ("situacao", "status", "situacao_titulo"),
    "boleto_line": (
        "linha_digitavel",
        "boleto",
        "linha",
        "codigo_de_barras",
        "codigo_barras",
        "barcode",
    ),
    "nosso_numero": ("nossonumero",),
    "pix_txid": ("txid",),
    **_INVOICE_CUSTOMER_COLUMNS,
}

PAYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "id_pagamento",
        "codigo_pagamento",
        "payment_id",
        "autenticacao",
        "id_externo",
    ),
    "invoice_external_id": (
        "titulo",
        "id_titulo",
        "codigo_titulo",
        "id_fatura",
        "fatura_id",
        "invoice_id",
        "invoice_external_id",
    ),
    "invoice_number": ("numero", "numero_documento", "nf", "numero_titulo", "invoice_number"),
    "nosso_numero": ("nossonumero",),
    "amount": ("valor", "valor_pago", "amount", "paid_amount"),
    "paid_on": ("data_pagamento", "data", "pago_em", "data_credito", "payment_date", "paid_at"),
    "method": ("forma", "forma_pagamento", "meio", "meio_pagamento", "payment_method"),
}

COLUMNS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    "customers": CUSTOMER_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}

FIELD_LABELS = {  # pt-BR names used in messages
    "external_id": "id",
    "name": "nome",
    "document": "cpf_cnpj",
    "email": "email",
    "phone": "telefone",
    "phone2": "telefone_2",
    "uf": "uf",
    "city": "cidade",
    "address": "endereco",
    "tags": "tags",
    "consumer": "consumidor",
    "number": "numero",
    "description": "descricao",
    "issue_date": "emissao",
    "due_date": "vencimento",
    "amount": "valor",
    "balance": "saldo",
    "status": "situacao",
    "boleto_line": "linha_digitavel",
    "nosso_numero": "nosso_numero",
    "pix_txid": "txid",
    "customer_external_id": "codigo_cliente",
    "customer_name": "nome",
    "customer_document": "cpf_cnpj",
    "customer_email": "email",
    "customer_phone": "telefone",
    "customer_phone2": "telefone_2",
    "customer_uf": "uf",
    "customer_city": "cidade",
    "customer_address": "endereco",
    "customer_tags": "tags",
    "customer_consumer": "consumidor",
    "invoice_external_id": "titulo",
    "invoice_number": "numero",
    "paid_on": "data_pagamento",
    "method": "forma",
}


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    field: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}: "
        return where + (f"{self.field}: " if self.field else "") + self.message


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


@dataclass
class _Row:
    line: int
    raw: list[Any]
    values: dict[str, Any]


class _RowInvalid(Exception):
    def __init__(self, field: str | None, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


def import_file(
    engine: Engine,
    kind: ImportKind,
    path: Path,
    *,
    creditor_id: int,
    now: datetime,
    strict: bool = False,
    mapping: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    reject_path: Path | None = None,
) -> ImportResult:
    """Import one file of `kind` for `creditor_id`; see the module docstring for the rules."""
    table = open_table(path, progress)
    columns = resolve_columns(table.header, COLUMNS[kind], mapping or {}, table.file)
    _require_columns(kind, columns, table.file)
    result = ImportResult(kind=kind, file=table.file, strict=strict)
    importer = _IMPORTERS[kind]
    with engine.connect() as connection, connection.begin() as transaction:
        terms = _creditor_terms(connection, creditor_id)
        context = _Context(connection, creditor_id, now, table.file, terms)
        for batch in _batches(table.rows, columns, table.file, result):
            importer(context, batch, result)
        if strict and result.errors:
            transaction.rollback()
            result.applied = False
            result.inserted = result.updated = result.unchanged = result.customers_created = 0
        else:
            transaction.commit()
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


def write_reject_file(
    path: Path,
    header: Sequence[str],
    errors: Sequence[RowError],
    raw_rows: Mapping[int, list[Any]],
) -> None:
    """`linha;campo;motivo;<original columns>`, UTF-8 with BOM so Excel pt-BR opens it right."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["linha", "campo", "motivo", *header])
        for error in errors:
            raw = raw_rows.get(error.row, [])
            writer.writerow([error.row, error.field or "", error.message, *map(cells.text, raw)])


def _require_columns(kind: ImportKind, found: Mapping[str, int], file: str) -> None:
    required: dict[ImportKind, list[tuple[str, ...]]] = {
        "customers": [("name",), ("document",)],
        "invoices": [
            ("due_date",),
            ("amount",),
            ("external_id", "number"),
            ("customer_external_id", "customer_document"),
        ],
        "payments": [
            ("amount",),
            ("paid_on",),
            ("invoice_external_id", "invoice_number", "nosso_numero"),
        ],
    }
    for options in required[kind]:
        if not any(option in found for option in options):
            names = " ou ".join(FIELD_LABELS.get(o, o) for o in options)
            raise InputError(
                f"falta a coluna {names} (use --map campo=coluna se ela tem outro nome)",
                file=file,
            )


def _batches(
    rows: Iterator[tuple[int, list[Any]]],
    columns: Mapping[str, int],
    file: str,
    result: ImportResult,
) -> Iterator[list[_Row]]:
    batch: list[_Row] = []
    for line, raw in rows:
        values = {name: raw[index] if index < len(raw) else "" for name, index in columns.items()}
        batch.append(_Row(line, raw, values))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Context:
    connection: Connection
    creditor_id: int
    now: datetime
    file: str
    terms: FeeTerms
    customer_ids: dict[str, int] | None = None  # external id -> id, loaded on first use
    customer_by_document: dict[str, int] | None = None
    seen_external_ids: set[str] = field(default_factory=set)
    # Raw cells of rejected rows, kept until the reject file is written.
    rejected_rows: dict[int, list[Any]] = field(default_factory=dict)

    def reject(self, result: ImportResult, row: _Row, error: _RowInvalid) -> None:
        label = FIELD_LABELS.get(error.field, error.field) if error.field else None
        result.errors.append(RowError(self.file, row.line, label, error.code, error.message))
        self.rejected_rows[row.line] = row.raw

    def load_customers(self) -> None:
        if self.customer_ids is not None:
            return
        rows = self.connection.execute(
            select(customers.c.external_id, customers.c.document, customers.c.id).where(
                customers.c.creditor_id == self.creditor_id
            )
        ).all()
        self.customer_ids = {external: cid for external, _doc, cid in rows}
        self.customer_by_document = {}
        for _external, document, cid in rows:
            self.customer_by_document.setdefault(document, cid)


def _creditor_terms(connection: Connection, creditor_id: int) -> FeeTerms:
    row = connection.execute(
        select(creditors.c.late_fee_bp, creditors.c.interest_monthly_bp).where(
            creditors.c.id == creditor_id
        )
    ).first()
    if row is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return FeeTerms(late_fee_bp=row.late_fee_bp, interest_monthly_bp=row.interest_monthly_bp)


# --- customers -------------------------------------------------------------------------------


@dataclass
class _CustomerIn:
    external_id: str
    name: str
    document: TaxId
    is_consumer: bool
    uf: str | None
    city: str | None
    address: str | None
    tags: str
    contacts: list[tuple[str, str]]  # (channel, value)


def _parse_customer(values: Mapping[str, Any], prefix: str = "") -> _CustomerIn:
    def get(name: str) -> str:
        return cells.text(values.get(prefix + name, ""))

    name = get("name")
    if not name:
        raise _RowInvalid(prefix + "name", "nome vazio", "required")
    raw_document = get("document")
    try:
        document = parse_tax_id(raw_document)
    except DocumentError as exc:
        raise _RowInvalid(prefix + "document", str(exc), "invalid_document") from None
    external_id = get("external_id") or document.number
    uf = get("uf").upper() or None
    if uf is not None and uf not in UFS:
        raise _RowInvalid(prefix + "uf", f"UF desconhecida: {uf}", "invalid_uf")
    consumer_text = get("consumer")
    try:
        is_consumer = cells.parse_yes_no(consumer_text) if consumer_text else document.kind == "cpf"
    except CellError as exc:
        raise _RowInvalid(prefix + "consumer", str(exc)) from None
    found: list[tuple[str, str]] = []
    email = get("email")
    if email:
        try:
            found.append(("email", normalize_email(email)))
        except DocumentError as exc:
            raise _RowInvalid(prefix + "email", str(exc), "invalid_email") from None
    for phone_field in ("phone", "phone2"):
        raw_phone = get(phone_field)
        if not raw_phone:
            continue
        try:
            e164 = normalize_phone(raw_phone)
        except DocumentError as exc:
            raise _RowInvalid(prefix + phone_field, str(exc), "invalid_phone") from None
        channels = ("whatsapp", "sms", "phone") if is_mobile(e164) else ("phone",)
        found.extend((channel, e164) for channel in channels)
    address = get("address") or None
    if address:
        found.append(("letter", address))
    tags = ",".join(
        t.strip().lower() for t in get("tags").replace(";", ",").split(",") if t.strip()
    )
    return _CustomerIn(
        external_id=external_id,
        name=name,
        document=document,
        is_consumer=is_consumer,
        uf=uf,
        city=get("city") or None,
        address=address,
        tags=f",{tags}," if tags else "",
        contacts=found,
    )


def _customer_row(ctx: _Context, customer: _CustomerIn) -> dict[str, Any]:
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


def _import_customers(ctx: _Context, batch: list[_Row], result: ImportResult) -> None:
    parsed: list[_CustomerIn] = []
    for row in batch:
        try:
            customer = _parse_customer(row.values)
            if customer.external_id in ctx.seen_external_ids:
                raise _RowInvalid(
                    "external_id", f"id repetido no arquivo: {customer.external_id}", "duplicate"
                )
        except _RowInvalid as error:
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


def _upsert_customers(ctx: _Context, parsed: Sequence[_CustomerIn]) -> tuple[int, int]:
    """Insert new customers, update changed ones, add their contacts. Returns (created, changed)."""
    conn = ctx.connection
    existing = {
        row.external_id: row
        for row in conn.execute(
            select(
                customers.c.id,
                customers.c.external_id,
                *(customers.c[name] for name in _CUSTOMER_COMPARED),
            ).where(
                customers.c.creditor_id == ctx.creditor_id,
                customers.c.external_id.in_([c.external_id for c in parsed]),
            )
        )
    }
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
        conn.execute(customers.insert(), new_rows)
    if updates:
        update_by_id(conn, customers, updates, (*_CUSTOMER_COMPARED, "updated_at"))
    ids: dict[str, int] = {
        external_id: customer_id
        for external_id, customer_id in conn.execute(
            select(customers.c.external_id, customers.c.id).where(
                customers.c.creditor_id == ctx.creditor_id,
                customers.c.external_id.in_([c.external_id for c in parsed]),
            )
        )
    }
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
    insert_ignoring_conflicts(conn, contacts, contact_rows, ("customer_id", "channel", "value"))
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


def _parse_invoice(ctx: _Context, values: Mapping[str, Any]) -> dict[str, Any]:
    def get(name: str) -> str:
        return cells.text(values.get(name, ""))

    number = get("number")
    external_id = get("external_id") or number
    if not external_id:
        raise _RowInvalid("external_id", "id do título vazio", "required")
    try:
        due_date = cells.parse_date(values.get("due_date", ""))
    except CellError as exc:
        raise _RowInvalid("due_date", str(exc), "invalid_date") from None
    issue_date = None
    if get("issue_date"):
        try:
            issue_date = cells.parse_date(values["issue_date"])
        except CellError as exc:
            raise _RowInvalid("issue_date", str(exc), "invalid_date") from None
        if issue_date > due_date:
            raise _RowInvalid("issue_date", "emissão depois do vencimento", "invalid_date")
    try:
        amount = cells.parse_amount(values.get("amount", ""))
    except CellError as exc:
        raise _RowInvalid("amount", str(exc), "invalid_amount") from None
    balance = None
    if get("balance"):
        try:
            balance = cells.parse_amount(values["balance"], allow_zero=True)
        except CellError as exc:
            raise _RowInvalid("balance", str(exc), "invalid_amount") from None
        if balance > amount:
            raise _RowInvalid("balance", "saldo maior que o valor do título", "invalid_amount")
    try:
        status = cells.parse_invoice_status(values.get("status", ""))
    except CellError as exc:
        raise _RowInvalid("status", str(exc), "invalid_status") from None
    boleto_line = None
    if get("boleto_line"):
        try:
            boleto = parse_boleto(get("boleto_line"), reference=due_date)
        except BoletoError as exc:
            raise _RowInvalid("boleto_line", exc.reason, "invalid_boleto") from None
        if boleto.amount_cents is not None and boleto.amount_cents != amount:
            raise _RowInvalid(
                "boleto_line",
                f"valor do boleto ({boleto.amount_cents / 100:.2f}) difere do valor do título "
                f"({amount / 100:.2f})".replace(".", ","),
                "boleto_mismatch",
            )
        if boleto.due_date is not None and boleto.due_date != due_date:
            raise _RowInvalid(
                "boleto_line",
                f"vencimento do boleto ({boleto.due_date:%d/%m/%Y}) difere do vencimento do "
                f"título ({due_date:%d/%m/%Y})",
                "boleto_mismatch",
            )
        boleto_line = boleto.line
    return {
        "external_id": external_id,
        "number": number or external_id,
        "description": get("description"),
        "issue_date": issue_date,
        "due_date": due_date,
        "effective_due_date": effective_due_date(due_date),
        "amount_cents": amount,
        "balance": balance,
        "status": status,
        "boleto_line": boleto_line,
        "nosso_numero": get("nosso_numero") or None,
        "pix_txid": get("pix_txid") or None,
    }


def _import_invoices(ctx: _Context, batch: list[_Row], result: ImportResult) -> None:
    ctx.load_customers()
    assert ctx.customer_ids is not None and ctx.customer_by_document is not None
    parsed: list[tuple[_Row, dict[str, Any]]] = []
    new_customers: dict[str, _CustomerIn] = {}
    waiting: list[tuple[_Row, dict[str, Any], str]] = []
    has_customer_columns = False
    for row in batch:
        try:
            invoice = _parse_invoice(ctx, row.values)
            if invoice["external_id"] in ctx.seen_external_ids:
                raise _RowInvalid(
                    "external_id", f"id repetido no arquivo: {invoice['external_id']}", "duplicate"
                )
            customer_key = cells.text(row.values.get("customer_external_id", ""))
            customer_id = ctx.customer_ids.get(customer_key) if customer_key else None
            document_text = cells.text(row.values.get("customer_document", ""))
            if customer_id is None and document_text:
                try:
                    document = parse_tax_id(document_text)
                except DocumentError as exc:
                    raise _RowInvalid("customer_document", str(exc), "invalid_document") from None
                customer_id = ctx.customer_by_document.get(document.number)
                if customer_id is None and not customer_key:
                    customer_key = document.number
            if customer_id is None:
                if cells.text(row.values.get("customer_name", "")) and document_text:
                    has_customer_columns = True
                    if customer_key not in new_customers:
                        new_customer = _parse_customer(row.values, prefix="customer_")
                        new_customer.external_id = customer_key
                        new_customers[customer_key] = new_customer
                    waiting.append((row, invoice, customer_key))
                    ctx.seen_external_ids.add(invoice["external_id"])
                    continue
                shown = customer_key or document_text or "(vazio)"
                raise _RowInvalid(
                    "customer_external_id", f"cliente desconhecido: {shown}", "unknown_customer"
                )
        except _RowInvalid as error:
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
    existing = {
        row.external_id: row
        for row in conn.execute(
            select(
                invoices.c.id,
                invoices.c.external_id,
                invoices.c.balance_cents,
                *(invoices.c[name] for name in _INVOICE_COMPARED),
            ).where(
                invoices.c.creditor_id == ctx.creditor_id,
                invoices.c.external_id.in_([i["external_id"] for i in parsed]),
            )
        )
    }
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
        conn.execute(invoices.insert(), inserts)
        result.inserted += len(inserts)
    if updates:
        update_by_id(
            conn,
            invoices,
            updates,
            (*_INVOICE_COMPARED, "balance_cents", "updated_at"),
        )
        result.updated += len(updates)


# --- payments --------------------------------------------------------------------------------


def _import_payments(ctx: _Context, batch: list[_Row], result: ImportResult) -> None:
    conn = ctx.connection
    parsed: list[tuple[_Row, dict[str, Any]]] = []
    for row in batch:
        values = row.values
        try:
            try:
                amount = cells.parse_amount(values.get("amount", ""))
            except CellError as exc:
                raise _RowInvalid("amount", str(exc), "invalid_amount") from None
            try:
                paid_on = cells.parse_date(values.get("paid_on", ""))
            except CellError as exc:
                raise _RowInvalid("paid_on", str(exc), "invalid_date") from None
            if paid_on > ctx.now.date():
                raise _RowInvalid(
                    "paid_on", f"data de pagamento no futuro: {paid_on:%d/%m/%Y}", "invalid_date"
                )
            reference = {
                name: cells.text(values.get(name, ""))
                for name in ("invoice_external_id", "invoice_number", "nosso_numero")
            }
            external_id = cells.text(values.get("external_id", "")) or (
                f"{next(v for v in reference.values() if v)}:{paid_on.isoformat()}:{amount}"
            )
            if external_id in ctx.seen_external_ids:
                raise _RowInvalid(
                    "external_id", f"pagamento repetido no arquivo: {external_id}", "duplicate"
                )
        except _RowInvalid as error:
            ctx.reject(result, row, error)
            continue
        ctx.seen_external_ids.add(external_id)
        parsed.append(
            (
                row,
                {
                    "external_id": external_id,
                    "amount_cents": amount,
                    "paid_on": paid_on,
                    "reference": reference,
                    "method": cells.text(values.get("method", "")) or None,
                },
            )
        )
    if not parsed:
        return
    known = set(
        conn.execute(
            select(payments.c.external_id).where(
                payments.c.creditor_id == ctx.creditor_id,
                payments.c.source == "import",
                payments.c.external_id.in_([p["external_id"] for _r, p in parsed]),
            )
        ).scalars()
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
                _RowInvalid(
                    "invoice_external_id", f"título desconhecido: {shown}", "unknown_invoice"
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
    conn = ctx.connection
    found: dict[tuple[str, str], int] = {}
    for field_name, column in (
        ("invoice_external_id", invoices.c.external_id),
        ("invoice_number", invoices.c.number),
        ("nosso_numero", invoices.c.nosso_numero),
    ):
        wanted = {r[field_name] for r in references if r[field_name]}
        if not wanted:
            continue
        for value, invoice_id in conn.execute(
            select(column, invoices.c.id).where(
                invoices.c.creditor_id == ctx.creditor_id, column.in_(wanted)
            )
        ):
            found.setdefault((field_name, value), invoice_id)
    out: list[int | None] = []
    for reference in references:
        match = None
        for field_name in ("invoice_external_id", "invoice_number", "nosso_numero"):
            value = reference[field_name]
            if value and (field_name, value) in found:
                match = found[(field_name, value)]
                break
        out.append(match)
    return out


_IMPORTERS: dict[ImportKind, Callable[[_Context, list[_Row], ImportResult], None]] = {
    "customers": _import_customers,
    "invoices": _import_invoices,
    "payments": _import_payments,
}
