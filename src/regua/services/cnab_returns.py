"""CNAB 240/400 return files: parse, match each line to its invoice, apply the settlements.

A line that cannot be read refuses the whole file before anything is written, and so does a
payment dated where no payment can be (`domain.payment_dates`). Settlements are applied by
`reconciling.reconcile` (idempotent by a key per line) for what the payer paid; the bank's fee
and the amount credited are stored beside it. A baixa that reports a liquidation ("baixa por
ter sido liquidado") is money only when no settlement of the same title came before it.
Reversals (CNAB 44, Bradesco 22/40) undo the payment they name; other occurrences (entry
confirmed, rejected, written off, protest) go to the invoice's timeline once. Lines nobody
could match, and codes the bank's table lacks, are listed with their line numbers.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from regua.domain.amount_limits import AmountOutOfRange, check_amount
from regua.domain.money import Cents
from regua.domain.payment_dates import implausible_payment_date
from regua.domain.payment_texts import bank_occurrence_detail
from regua.domain.settlement import PAYABLE, IncomingPayment, InvoiceFacts
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound
from regua.payments.cnab import CnabError, ReturnFile, ReturnRecord, parse_return
from regua.services.reconciling import IncomingReversal, reconcile
from regua.store import creditors as creditor_store
from regua.store import invoices as invoice_store
from regua.store import timeline
from regua.store.batch import large_batch, without_cyclic_gc
from regua.store.invoices import ReferenceField
from regua.store.payments import invoices_with_applied_payments, lock_for_payments
from regua.store.uow import UnitOfWorkFactory

NOT_FOUND = "título não encontrado"
NOTHING_TO_REVERSE = "nenhum pagamento deste título a estornar"
UNKNOWN_CODE = "código de ocorrência fora da tabela do banco: não aplicado"
ALREADY_SETTLED = "baixa por liquidação de um título já pago: o pagamento não conta duas vezes"


@dataclass(frozen=True)
class UnmatchedLine:
    """A line of a return file that regua could not tie to an invoice (or to a payment)."""

    line: int
    occurrence: str
    occurrence_text: str
    kind: str
    nosso_numero: str
    seu_numero: str
    amount_cents: Cents
    reason: str  # pt-BR


@dataclass
class CnabImportResult:
    file: str
    layout: str
    bank_code: str
    records: int = 0
    settlements: int = 0  # settlement lines in the file
    applied: int = 0  # new payments applied to an invoice
    settled: int = 0  # invoices paid off by this file
    partial: int = 0  # invoices that still have something open after a payment
    amount_cents: Cents = 0  # money in the new payments (matched or not)
    credit_cents: Cents = 0  # overpayments kept as the customers' credit
    duplicates: int = 0  # settlement lines already imported before
    unmatched_cents: Cents = 0
    reversals: int = 0
    occurrences: Counter[str] = field(default_factory=Counter)  # kind -> recorded on invoices
    cancelled_actions: int = 0
    thank_you_actions: int = 0
    unmatched: list[UnmatchedLine] = field(default_factory=list)
    unknown: list[UnmatchedLine] = field(default_factory=list)  # codes the bank's table lacks
    fee_cents: Cents = 0  # the banks' fees on the new payments
    credited_cents: Cents = 0  # what the banks credited for them
    warnings: list[str] = field(default_factory=list)  # what in the file deviates (pt-BR)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["occurrences"] = dict(self.occurrences)
        return data


def import_return_file(
    uow: UnitOfWorkFactory,
    path: Path,
    creditor_id: int | None,
    now: datetime,
    *,
    day: date | None = None,
) -> CnabImportResult:
    """Import a CNAB 240/400 return file in one unit of work, committed at the end.

    A line that cannot be read refuses the whole file (`CnabError` naming the line) before
    anything is written. Settlements become payments matched by nosso número, then seu número,
    then the company's own reference; other occurrences go to the invoice's timeline.

    The titles matched are those of one creditor: `creditor_id`, or (None) the creditor whose
    CNPJ the file's header names, or the installation's only one (`file_creditor`).
    """
    # The collector stays paused from parsing to the commit; the transaction is a large
    # batch: a file of 100,000 lines sorts and hashes sets of keys larger than the default
    # work memory, in statements that JIT compilation would slow down.
    with without_cyclic_gc():
        parsed = parse_return(path.read_bytes(), filename=path.name)
        check_dates(parsed, path.name, (day or now.date()))
        with uow() as work, large_batch(work.connection):
            owner = file_creditor(work.connection, parsed, path.name, creditor_id)
            result = import_return(work.connection, parsed, path.name, owner, now, day=day)
            work.commit()
        return result


def file_creditor(
    conn: Connection, parsed: ReturnFile, filename: str, creditor_id: int | None
) -> int:
    """The creditor whose titles a return file settles: the one chosen, which the header's
    CNPJ must not contradict, else the one the header names, else the only one there is."""
    document = parsed.company_document.strip()
    named = creditor_store.find_by_document(conn, document) if document.strip("0") else None
    if creditor_id is not None:
        if named is not None and named != creditor_id:
            raise InputError(
                f"o arquivo é do credor #{named} (CNPJ {document} no cabeçalho), não do "
                f"credor #{creditor_id} escolhido; nada foi importado",
                file=filename,
            )
        return creditor_id
    if named is not None:
        return named
    stored = creditor_store.names(conn)
    if len(stored) == 1:
        return stored[0].id
    if not stored:
        raise NotFound("banco sem credor: rode `regua init` primeiro")
    raise InputError(
        f"o CNPJ do cabeçalho ({document or 'em branco'}) não é de nenhum credor deste banco: "
        "diga de quem é o arquivo com --credor",
        file=filename,
        code=ErrorCode.CREDITOR_REQUIRED,
    )


def import_return(
    conn: Connection,
    parsed: ReturnFile,
    filename: str,
    creditor_id: int,
    now: datetime,
    *,
    day: date | None = None,
) -> CnabImportResult:
    """`import_return_file` on a file already parsed, in the caller's transaction."""
    result = CnabImportResult(filename, parsed.layout, parsed.bank_code, len(parsed.records))
    result.warnings = list(parsed.warnings)
    records = parsed.records
    # Locked before the invoices are read: what matching reads, `reconcile` applies payments to.
    lock_for_payments(conn, creditor_id)
    facts: dict[int, InvoiceFacts] = {}
    matches = match_titles(conn, creditor_id, records, facts=facts)
    incoming: list[IncomingPayment] = []
    reversals: list[IncomingReversal] = []
    notes: list[tuple[ReturnRecord, int]] = []
    paid_lines: list[ReturnRecord] = []  # the record of each incoming payment, in order
    reversal_lines: dict[str, ReturnRecord] = {}
    bank_amounts: dict[str, tuple[int, int]] = {}
    # A baixa por liquidação is rare: what it needs is read only when a file has one.
    baixas = any(r.kind == "settled_written_off" for r in records)
    settled_titles = {_title(r) for r in records if r.kind == "settlement"} if baixas else set()
    # Invoices a baixa por liquidação names that an earlier file already paid (in part, too).
    paid_before = _paid_before(conn, creditor_id, records, matches) if baixas else set()
    for record, invoice_id in zip(records, matches, strict=True):
        kind = record.kind
        if kind == "settled_written_off" and _told_before(
            record, invoice_id, settled_titles, facts, paid_before
        ):
            if invoice_id is not None:
                notes.append((record, invoice_id))
            continue
        if kind == "settlement" or kind == "settled_written_off":
            result.settlements += 1
            payment = _cnab_payment(parsed, filename, record, invoice_id)
            incoming.append(payment)
            paid_lines.append(record)
            bank_amounts[payment.external_id] = (record.fee_cents, record.net_cents)
        elif kind == "unknown":
            result.unknown.append(_unmatched(record, UNKNOWN_CODE))
        elif invoice_id is None:
            result.unmatched.append(_unmatched(record, NOT_FOUND))
        elif record.kind == "reversal":
            key = _cnab_key(parsed.bank_code, record)
            reversals.append(
                IncomingReversal(
                    external_id=key,
                    invoice_id=invoice_id,
                    amount_cents=record.paid_cents,
                    reversed_on=record.paid_on or record.credited_on or now.date(),
                    reason=f"ocorrência {record.occurrence}: {record.occurrence_text}",
                )
            )
            reversal_lines[key] = record
        else:
            notes.append((record, invoice_id))

    outcome = reconcile(
        conn,
        creditor_id,
        incoming,
        source="cnab",
        now=now,
        reversals=reversals,
        day=day,
        invoices_read=facts,
        bank_amounts=bank_amounts,
    )
    for done, record in zip(outcome.payments, paid_lines, strict=True):
        if done.status == "duplicate":
            result.duplicates += 1
            if done.invoice_id is None:  # stored before and still without an invoice
                result.unmatched.append(_unmatched(record, NOT_FOUND))
            continue
        result.amount_cents += done.amount_cents
        result.fee_cents += record.fee_cents
        result.credited_cents += record.net_cents
        if done.status == "unmatched":
            result.unmatched_cents += done.amount_cents
            result.unmatched.append(_unmatched(record, NOT_FOUND))
            continue
        result.applied += 1
        result.credit_cents += done.credit_cents
        if done.settled:
            result.settled += 1
        elif done.balance_cents:
            result.partial += 1
    for reversal in outcome.reversals:
        if reversal.status == "reversed":
            result.reversals += 1
        elif reversal.status == "nothing_to_reverse":
            result.unmatched.append(
                _unmatched(reversal_lines[reversal.external_id], NOTHING_TO_REVERSE)
            )
    result.cancelled_actions = outcome.cancelled_actions
    result.thank_you_actions = outcome.thank_you_actions
    result.occurrences = _record_occurrences(conn, parsed.bank_code, notes, now)
    result.unmatched.sort(key=lambda u: u.line)
    return result


def check_dates(parsed: ReturnFile, filename: str, today: date) -> None:
    """Refuse a file with a payment dated where no payment can be, or of an amount beyond any
    regua accepts (`domain.amount_limits`): a misread field."""
    # A file has a handful of payment dates: each is checked once.
    problems = {
        day: problem
        for day in {r.paid_on for r in parsed.records if r.paid_on is not None}
        if (problem := implausible_payment_date(day, today))
    }
    if problems:
        for record in parsed.records:
            if record.is_settlement and record.paid_on in problems:
                raise CnabError(problems[record.paid_on], file=filename, line=record.line)
    for record in parsed.records:
        if record.is_settlement:
            try:
                check_amount(record.paid_cents)
            except AmountOutOfRange as exc:
                raise CnabError(str(exc), file=filename, line=record.line) from None


def _title(record: ReturnRecord) -> str:
    return record.nosso_numero or record.seu_numero or record.company_ref


def _paid_before(
    conn: Connection,
    creditor_id: int,
    records: Sequence[ReturnRecord],
    matches: Sequence[int | None],
) -> set[int]:
    wanted = {
        invoice_id
        for record, invoice_id in zip(records, matches, strict=True)
        if record.kind == "settled_written_off" and invoice_id is not None
    }
    if not wanted:
        return set()
    return invoices_with_applied_payments(conn, creditor_id, "cnab", wanted)


def _told_before(
    record: ReturnRecord,
    invoice_id: int | None,
    settled_titles: set[str],
    facts: dict[int, InvoiceFacts],
    paid_before: set[int],
) -> bool:
    """A "baixa por liquidação" of a title this file settles, or of an invoice a bank's payment
    already reached (paid in full, or in part by a liquidação parcial)."""
    if _title(record) in settled_titles or invoice_id in paid_before:
        return True
    row = facts.get(invoice_id) if invoice_id is not None else None
    return row is not None and (row.status not in PAYABLE or row.balance_cents <= 0)


def _cnab_key(bank_code: str, record: ReturnRecord) -> str:
    """Stable id of one occurrence of one título: the same line in another import is the same."""
    ref = record.nosso_numero or record.seu_numero or record.company_ref or f"linha{record.line}"
    when = record.paid_on or record.credited_on
    # A liquidation told again as a baixa ("baixa por ter sido liquidado") is the same payment.
    code = "liq" if record.kind == "settled_written_off" else record.occurrence
    return f"cnab:{bank_code}:{ref}:{code}:{when.isoformat() if when else '-'}"


def _cnab_payment(
    parsed: ReturnFile, filename: str, record: ReturnRecord, invoice_id: int | None
) -> IncomingPayment:
    # The data da ocorrência is the payment date; a bank that leaves it blank still credits.
    paid_on = record.paid_on or record.credited_on or parsed.generated_on
    assert paid_on is not None, "a settlement line always carries a date"
    return IncomingPayment(
        external_id=_cnab_key(parsed.bank_code, record),
        amount_cents=record.paid_cents,
        paid_on=paid_on,
        invoice_id=invoice_id,
        reference=record.nosso_numero or record.seu_numero or record.company_ref or None,
        method="boleto",
        note=None if invoice_id else f"{filename}, linha {record.line}",
    )


def _unmatched(record: ReturnRecord, reason: str) -> UnmatchedLine:
    return UnmatchedLine(
        line=record.line,
        occurrence=record.occurrence,
        occurrence_text=record.occurrence_text,
        kind=record.kind,
        nosso_numero=record.nosso_numero,
        seu_numero=record.seu_numero,
        amount_cents=record.paid_cents,
        reason=reason,
    )


_NOT_DIGITS = re.compile(r"\D")


def normalise_nosso_numero(value: str) -> str:
    """Digits without leading zeros: ``000123-4`` and ``1234`` are the same nosso número."""
    if value.isascii() and value.isdigit():
        return value.lstrip("0")
    return _NOT_DIGITS.sub("", value).lstrip("0")


def match_titles(
    conn: Connection,
    creditor_id: int,
    records: Sequence[ReturnRecord],
    *,
    facts: dict[int, InvoiceFacts] | None = None,
) -> list[int | None]:
    """The invoice of each record: by nosso número, then seu número, then the company's ref.

    Set-based: one indexed IN query per batch and per key. The nosso número is compared as
    digits without leading zeros; a stored form that is not found by its exact text (typed with
    a dash, or with zeros the bank left out) is looked for once more with the column normalised.
    Given `facts`, what `reconcile` needs about each invoice found is read by the same queries.
    """
    found: list[int | None] = [None] * len(records)
    by_nosso: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        key = normalise_nosso_numero(record.nosso_numero)
        if key:
            by_nosso[key].append(index)
    texts = {r.nosso_numero for r in records if r.nosso_numero}
    candidates = _by_nosso_numero(conn, creditor_id, by_nosso, texts, facts)
    for key, indexes in by_nosso.items():
        match = candidates.get(key)
        for index in indexes:
            found[index] = match
    # Other forms of a nosso número (with the DV the bank keeps apart, without the convênio
    # prefix...): looked for only for the records the number as the bank wrote it did not find,
    # so a file whose numbers all match costs no second round.
    by_form: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if found[index] is None and record.nosso_numero_forms:
            for form in record.nosso_numero_forms:
                key = normalise_nosso_numero(form)
                if key and index not in by_form[key]:
                    by_form[key].append(index)
    if by_form:
        candidates = _by_nosso_numero(conn, creditor_id, by_form, set(), facts)
        for index, record in enumerate(records):
            if found[index] is None and record.nosso_numero_forms:
                keys = (normalise_nosso_numero(f) for f in record.nosso_numero_forms)
                found[index] = next((candidates[k] for k in keys if k in candidates), None)
    fields: tuple[tuple[str, tuple[ReferenceField, ...]], ...] = (
        ("seu_numero", ("number", "external_id")),
        ("company_ref", ("external_id",)),
    )
    for attribute, columns in fields:
        wanted: dict[int, tuple[str, str]] = {}
        for index, record in enumerate(records):
            value = getattr(record, attribute).strip()
            if found[index] is None and value:
                wanted[index] = (value, value.lstrip("0") or value)
        for column in columns:
            if not wanted:
                break
            candidates = invoice_store.find_by_reference(
                conn,
                creditor_id,
                column,
                {text for pair in wanted.values() for text in pair},
                facts=facts,
            )
            for index, (value, stripped) in list(wanted.items()):
                match = candidates.get(value) or candidates.get(stripped)
                if match is not None:
                    found[index] = match
                    del wanted[index]
    return found


def _by_nosso_numero(
    conn: Connection,
    creditor_id: int,
    keys: dict[str, list[int]],
    texts: set[str],
    facts: dict[int, InvoiceFacts] | None,
) -> dict[str, int]:
    """Normalised nosso número -> invoice: by the stored text, then by the stored digits."""
    if not keys:
        return {}
    candidates = invoice_store.find_by_reference(
        conn,
        creditor_id,
        "nosso_numero",
        texts | set(keys),
        key_of=normalise_nosso_numero,
        facts=facts,
    )
    missing = set(keys) - set(candidates)
    if missing:
        candidates.update(
            invoice_store.find_by_reference(
                conn,
                creditor_id,
                "nosso_numero",
                missing,
                key_of=normalise_nosso_numero,
                as_digits=True,
                facts=facts,
            )
        )
    return candidates


def _record_occurrences(
    conn: Connection,
    bank_code: str,
    notes: Sequence[tuple[ReturnRecord, int]],
    now: datetime,
) -> Counter[str]:
    """Entry confirmed, rejected, written off, protest...: a "bank" line on the invoice's timeline.

    The text names the occurrence and its date, so the same line imported again is recognised
    by (invoice, text) and not written twice.
    """
    counts: Counter[str] = Counter()
    if not notes:
        return counts
    owners = invoice_store.customers_of(conn, {invoice_id for _r, invoice_id in notes})
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for record, invoice_id in notes:
        detail = bank_occurrence_detail(
            bank_code,
            record.occurrence,
            record.occurrence_text,
            record.paid_on or record.credited_on,
            record.reasons,
        )
        rows.setdefault(
            (invoice_id, detail),
            {
                "customer_id": owners[invoice_id],
                "invoice_id": invoice_id,
                "at": now,
                "kind": "bank",
                "channel": None,
                "detail": detail,
                "data": {
                    "bank": bank_code,
                    "occurrence": record.occurrence,
                    "kind": record.kind,
                    "nosso_numero": record.nosso_numero,
                    "reasons": list(record.reasons),
                },
            },
        )
    existing = timeline.bank_entries_of(conn, owners)
    todo = [row for key, row in rows.items() if key not in existing]
    timeline.add_entries(conn, todo)
    counts.update(row["data"]["kind"] for row in todo)
    return counts
