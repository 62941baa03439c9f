"""Spreadsheet rows as records: each row's cells read into a customer, an invoice or a payment,
or refused with a `RowError` naming the row, the field and the reason (pt-BR); the batches rows
are read in, and the reject file that lists the refused ones."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from regua.domain.amount_limits import DEFAULT_MAX_INVOICE_CENTS
from regua.domain.calendar import UFS, effective_due_date
from regua.domain.csv_safety import safe_row
from regua.domain.documents import DocumentError, TaxId, parse_tax_id
from regua.error_codes import ErrorCode
from regua.payments.boleto import BoletoError
from regua.payments.boleto import parse as parse_boleto
from regua.services import cells
from regua.services.cells import CellError
from regua.services.import_contacts import read_address, read_contacts

# Re-exported: where the importer's callers have always found them.
from regua.services.import_row_errors import RowError as RowError
from regua.services.import_row_errors import RowInvalid as RowInvalid

BATCH_SIZE = 5_000

T = TypeVar("T")


@dataclass
class ImportRow:
    line: int
    raw: list[Any]
    values: dict[str, Any]


def _cell(field: str, code: ErrorCode, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`parse(*args, **kwargs)`, or the row refused on `field` with `code` and the cell's reason."""
    try:
        return parse(*args, **kwargs)
    except CellError as exc:
        raise RowInvalid(field, str(exc), code) from None


def batches(
    rows: Iterator[tuple[int, list[Any]]], columns: Mapping[str, int]
) -> Iterator[list[ImportRow]]:
    """The rows in lists of `BATCH_SIZE`, each row's cells by field (`columns`)."""
    batch: list[ImportRow] = []
    for line, raw in rows:
        values = {name: raw[index] if index < len(raw) else "" for name, index in columns.items()}
        batch.append(ImportRow(line, raw, values))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def write_reject_file(
    path: Path,
    header: Sequence[str],
    errors: Sequence[RowError],
    raw_rows: Mapping[int, list[Any]],
) -> None:
    """`linha;campo;motivo;<original columns>`, UTF-8 with BOM so Excel pt-BR opens it right.

    The cells are written as the input had them: a CSV's text as it was, a spreadsheet's typed
    dates and numbers the pt-BR way (15/10/2026, 199,90), so the file can be fixed in Excel and
    imported again.
    """
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(safe_row(["linha", "campo", "motivo", *header]))
        for error in errors:
            raw = raw_rows.get(error.row, [])
            writer.writerow(
                safe_row([error.row, error.field or "", error.message, *map(cells.as_typed, raw)])
            )


@dataclass
class CustomerIn:
    external_id: str
    name: str
    document: TaxId
    is_consumer: bool
    uf: str | None
    city: str | None
    address: str | None  # logradouro, número, complemento
    district: str | None
    postal_code: str | None
    tags: str
    contacts: list[tuple[str, str]]  # (channel, value)
    # Contacts (or a CEP) left out, each a warning for the reject file.
    dropped: list[RowInvalid] = field(default_factory=list)
    birth_date: date | None = None  # what the portal asks, when known


def parse_customer(values: Mapping[str, Any], today: date, prefix: str = "") -> CustomerIn:
    def get(name: str) -> str:
        return cells.text(values.get(prefix + name, ""))

    name = get("name")
    if not name:
        raise RowInvalid(prefix + "name", "nome vazio", ErrorCode.REQUIRED)
    raw_document = get("document")
    try:
        document = parse_tax_id(raw_document)
    except DocumentError as exc:
        raise RowInvalid(prefix + "document", str(exc), ErrorCode.INVALID_DOCUMENT) from None
    external_id = get("external_id") or document.number
    uf = get("uf").upper() or None
    if uf is not None and uf not in UFS:
        raise RowInvalid(prefix + "uf", f"UF desconhecida: {uf}", ErrorCode.INVALID_UF)
    consumer_text = get("consumer")
    is_consumer = (
        _cell(prefix + "consumer", ErrorCode.INVALID, cells.parse_yes_no, consumer_text)
        if consumer_text
        else document.kind == "cpf"
    )
    found = read_contacts(get, values, prefix)
    city = get("city") or None
    address = read_address(get, city, uf, found, prefix)
    tags = ",".join(
        t.strip().lower() for t in get("tags").replace(";", ",").split(",") if t.strip()
    )
    birth_text = get("birth_date")
    birth_date = (
        _cell(prefix + "birth_date", ErrorCode.INVALID, cells.parse_date, birth_text)
        if birth_text
        else None
    )
    # The portal asks it to tell who is there: a year mistyped into the future would lock the
    # customer out, so the row is refused with the cell named.
    if birth_date is not None and birth_date > today:
        raise RowInvalid(
            prefix + "birth_date",
            f"data de nascimento impossível: {birth_date:%d/%m/%Y}",
            ErrorCode.INVALID,
        )
    return CustomerIn(
        external_id=external_id,
        name=name,
        document=document,
        is_consumer=is_consumer,
        uf=uf,
        city=city,
        address=address.street,
        district=address.district,
        postal_code=address.postal_code,
        tags=f",{tags}," if tags else "",
        contacts=found.contacts,
        dropped=found.dropped,
        birth_date=birth_date,
    )


def parse_invoice(
    values: Mapping[str, Any], today: date, max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS
) -> dict[str, Any]:
    """An invoice row; with a payment date (and amount paid), the payment it records: paid
    invoices settle on that date, so their history counts from the first run. Amounts beyond
    `max_amount_cents` are refused."""

    def get(name: str) -> str:
        return cells.text(values.get(name, ""))

    number = get("number")
    installment = get("installment")
    if number and installment:
        # TOTVS and Omie number each installment of a document apart: 1234/2
        number = f"{number}/{installment}"
    external_id = get("external_id") or number
    if not external_id:
        raise RowInvalid("external_id", "id do título vazio", ErrorCode.REQUIRED)
    due_date = _cell(
        "due_date", ErrorCode.INVALID_DATE, cells.parse_date, values.get("due_date", "")
    )
    issue_date = None
    if get("issue_date"):
        issue_date = _cell(
            "issue_date", ErrorCode.INVALID_DATE, cells.parse_date, values["issue_date"]
        )
        if issue_date > due_date:
            raise RowInvalid("issue_date", "emissão depois do vencimento", ErrorCode.INVALID_DATE)
    amount = _cell(
        "amount",
        ErrorCode.INVALID_AMOUNT,
        cells.parse_amount,
        values.get("amount", ""),
        ceiling=max_amount_cents,
    )
    balance = None
    if get("balance"):
        balance = _cell(
            "balance",
            ErrorCode.INVALID_AMOUNT,
            cells.parse_amount,
            values["balance"],
            allow_zero=True,
            ceiling=max_amount_cents,
        )
        if balance > amount:
            raise RowInvalid(
                "balance", "saldo maior que o valor do título", ErrorCode.INVALID_AMOUNT
            )
    status = _cell(
        "status", ErrorCode.INVALID_STATUS, cells.parse_invoice_status, values.get("status", "")
    )
    paid_on, paid_amount = _history(values, today, amount)
    if paid_amount is not None and status == "open" and balance is None:
        balance = max(0, amount - paid_amount)
    # A payment date and nothing left open, without a status: the ERP's way of saying paid.
    if paid_on is not None and not get("status") and not balance:
        status = "paid"
    boleto_line = None
    if get("boleto_line"):
        try:
            boleto = parse_boleto(get("boleto_line"), reference=due_date)
        except BoletoError as exc:
            raise RowInvalid("boleto_line", exc.reason, ErrorCode.INVALID_BOLETO) from None
        if boleto.amount_cents is not None and boleto.amount_cents != amount:
            raise RowInvalid(
                "boleto_line",
                f"valor do boleto ({boleto.amount_cents / 100:.2f}) difere do valor do título "
                f"({amount / 100:.2f})".replace(".", ","),
                ErrorCode.BOLETO_MISMATCH,
            )
        if boleto.due_date is not None and boleto.due_date != due_date:
            raise RowInvalid(
                "boleto_line",
                f"vencimento do boleto ({boleto.due_date:%d/%m/%Y}) difere do vencimento do "
                f"título ({due_date:%d/%m/%Y})",
                ErrorCode.BOLETO_MISMATCH,
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
        "settled_on": paid_on if status == "paid" else None,
        "paid_on": paid_on,
        "paid_amount": paid_amount,
    }


def _history(values: Mapping[str, Any], today: date, amount: int) -> tuple[date | None, int | None]:
    """The payment an invoice row records (its date and the amount paid, when the file says),
    each None when the row has none."""
    paid_on = paid_amount = None
    if cells.text(values.get("paid_on", "")):
        paid_on = _cell("paid_on", ErrorCode.INVALID_DATE, cells.parse_date, values["paid_on"])
        if paid_on > today:
            raise RowInvalid(
                "paid_on",
                f"data de pagamento no futuro: {paid_on:%d/%m/%Y}",
                ErrorCode.INVALID_DATE,
            )
    if cells.text(values.get("paid_amount", "")):
        paid_amount = _cell(
            "paid_amount",
            ErrorCode.INVALID_AMOUNT,
            cells.parse_amount,
            values["paid_amount"],
            allow_zero=True,
        )
    return paid_on, paid_amount


PAYMENT_REFERENCES = ("invoice_external_id", "invoice_number", "nosso_numero")


def parse_payment(
    values: Mapping[str, Any], today: date, max_amount_cents: int = DEFAULT_MAX_INVOICE_CENTS
) -> dict[str, Any]:
    """A payment row: external id (made from its reference, date and amount when the file has
    none), amount, date (not after `today`, the creditor's business date), the references it
    names its invoice by and the method."""
    amount = _cell(
        "amount",
        ErrorCode.INVALID_AMOUNT,
        cells.parse_amount,
        values.get("amount", ""),
        ceiling=max_amount_cents,
    )
    paid_on = _cell("paid_on", ErrorCode.INVALID_DATE, cells.parse_date, values.get("paid_on", ""))
    if paid_on > today:
        raise RowInvalid(
            "paid_on", f"data de pagamento no futuro: {paid_on:%d/%m/%Y}", ErrorCode.INVALID_DATE
        )
    reference = {name: cells.text(values.get(name, "")) for name in PAYMENT_REFERENCES}
    external_id = cells.text(values.get("external_id", "")) or (
        f"{next(v for v in reference.values() if v)}:{paid_on.isoformat()}:{amount}"
    )
    return {
        "external_id": external_id,
        "amount_cents": amount,
        "paid_on": paid_on,
        "reference": reference,
        "method": cells.text(values.get("method", "")) or None,
    }
