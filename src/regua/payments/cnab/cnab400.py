"""CNAB 400 retorno de cobrança, read with the layout of the bank that wrote it.

CNAB 400 is not one FEBRABAN standard: only the skeleton (header 0, details, trailer 9,
sequence in 395-400) is shared, so the bank code in header positions 77-79 picks the bank's
layout from ``registry`` (BRAZIL.md 4). A bank regua has no layout for is refused with its code
and the list of the banks it knows: another bank's positions would read other fields as
amounts. What the amount fields mean comes from the layout too: the payer's payment, the fee
and the amount credited are kept apart (Itaú reports the credited amount; BB both).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date

from regua.payments.cnab.fields import FieldReader, LineBuilder, document_of, join_lines, reasons_of
from regua.payments.cnab.layouts import DateField, Layout400, Span
from regua.payments.cnab.records import (
    ReturnFile,
    ReturnRecord,
    SettlementLine,
    describe,
)
from regua.payments.cnab.registry import LAYOUTS_400, supported_400

WIDTH = 400
BRADESCO = "237"
ITAU = "341"


def _slice(span: Span | None) -> slice | None:
    return None if span is None else slice(span[0] - 1, span[1])


def parse_lines(lines: list[str], filename: str, warnings: list[str] | None = None) -> ReturnFile:
    """Parse the lines of a CNAB 400 return file (see ``cnab.parse_return``).

    ``warnings`` holds what ``detect`` already noticed about the file; this adds its own.
    """
    warned = list(warnings or ())
    r = FieldReader(filename)
    header = lines[0]
    if header[0] != "0":
        raise r.error(1, "o arquivo deve começar pelo header (registro 0)")
    if header[1] == "1" or header[2:9] == "REMESSA":
        raise r.error(
            1,
            "é um arquivo de remessa (o que a empresa envia ao banco), não um retorno: "
            "importe o arquivo de retorno que o banco devolve",
        )
    if header[1] != "2":
        raise r.error(1, f"não é um arquivo de retorno (posição 2 = {header[1]!r}; 2 = retorno)")
    _check_sequence(r, header, 1)
    bank = header[76:79]
    if not (bank.isdigit() and bank.isascii()):
        raise r.error(1, f"código do banco não numérico (posições 77-79): {bank!r}")
    layout = LAYOUTS_400.get(bank)
    if layout is None:
        name = header[79:94].strip()
        named = f" ({name})" if name else ""
        raise r.error(
            1,
            f"banco {bank}{named}: regua não conhece o layout CNAB 400 deste banco e não lê o "
            f"arquivo com as posições de outro. Bancos suportados em CNAB 400: {supported_400()}",
        )
    if not header[79:94].strip():
        warned.append(f"o header não traz o nome do banco (posições 80-94); banco {bank}")
    generated_on = _date(r, layout.file_date, header, 1, "data de gravação do arquivo")
    records = _details(r, layout, lines, warned)
    return ReturnFile(
        layout="cnab400",
        bank_code=bank,
        company_document=records[1],
        generated_on=generated_on,
        records=records[0],
        bank_name=layout.bank_name,
        warnings=tuple(dict.fromkeys(warned)),
        variant=layout.variant,
    )


def _date(r: FieldReader, field: DateField, line: str, n: int, what: str) -> date | None:
    start, end = field.span
    return r.date_in(field.form, line[start - 1 : end], n, what)


def _details(
    r: FieldReader, layout: Layout400, lines: list[str], warned: list[str]
) -> tuple[list[ReturnRecord], str]:
    nn = slice(layout.nosso_numero[0] - 1, layout.nosso_numero[1])
    dv = _slice(layout.check_digit)
    convenio = _slice(layout.convenio_prefix)
    seu = _slice(layout.seu_numero)
    ref = _slice(layout.company_ref)
    occ = slice(layout.occurrence[0] - 1, layout.occurrence[1])
    face = slice(layout.face[0] - 1, layout.face[1])
    fee_at = _slice(layout.fee)
    iof_at = _slice(layout.iof)
    rebate_at = _slice(layout.rebate)
    discount_at = _slice(layout.discount)
    amount_at = slice(layout.amount[0] - 1, layout.amount[1])
    interest_at = [slice(s - 1, e) for s, e in layout.interest]
    credited_at = _slice(layout.credited)
    reasons_at = _slice(layout.reasons)
    pix_at = _slice(layout.pix_txid)
    credited_is_amount = layout.amount_is == "credited"
    table = layout.occurrences
    bank = layout.bank_code
    amount = r.amount

    records: list[ReturnRecord] = []
    company_document = ""
    trailer_seen = False
    for index in range(1, len(lines)):
        n = index + 1
        line = lines[index]
        if len(line) != WIDTH:
            raise r.error(n, f"linha com {len(line)} caracteres; esperado {WIDTH}")
        if trailer_seen:
            raise r.error(n, "registro depois do trailer (registro 9)")
        if line[394:400] != f"{n:06d}":
            if line[0] != "9":
                _check_sequence(r, line, n)
            warned.append(
                f"o trailer (linha {n}) traz o número sequencial {line[394:400]!r}, não {n:06d}"
            )
        kind = line[0]
        if kind == layout.detail_type:
            occurrence = line[occ]
            if not (occurrence.isdigit() and occurrence.isascii()):
                raise r.error(
                    n,
                    f"código de ocorrência inválido (posições {layout.occurrence[0]}-"
                    f"{layout.occurrence[1]}): {occurrence!r}",
                )
            if not company_document:
                company_document = document_of(line[1:3], line[3:17])
            text, record_kind = describe(table, occurrence, bank)
            fee = amount(line[fee_at], n, "valor da tarifa") if fee_at else 0
            value = amount(line[amount_at], n, "valor pago")
            if credited_is_amount:
                credited = value
                paid = value + fee if value else 0
            else:
                paid = value
                if credited_at:
                    credited = amount(line[credited_at], n, "valor lançado em conta")
                else:
                    credited = max(paid - fee, 0)
            number = line[nn].strip()
            records.append(
                ReturnRecord(
                    line=n,
                    occurrence=occurrence,
                    occurrence_text=text,
                    kind=record_kind,
                    nosso_numero=number,
                    seu_numero=line[seu].strip() if seu else "",
                    company_ref=line[ref].strip() if ref else "",
                    due_date=_date(r, layout.due_date, line, n, "data de vencimento")
                    if layout.due_date
                    else None,
                    face_cents=amount(line[face], n, "valor do título"),
                    paid_cents=paid,
                    interest_cents=sum(
                        amount(line[s], n, "valor de juros/multa") for s in interest_at
                    ),
                    discount_cents=amount(line[discount_at], n, "valor do desconto")
                    if discount_at
                    else 0,
                    rebate_cents=amount(line[rebate_at], n, "valor do abatimento")
                    if rebate_at
                    else 0,
                    fee_cents=fee,
                    net_cents=credited,
                    paid_on=_date(r, layout.occurred_on, line, n, "data da ocorrência"),
                    credited_on=_date(r, layout.credited_on, line, n, "data do crédito")
                    if layout.credited_on
                    else None,
                    reasons=reasons_of(line[reasons_at], layout.reason_width) if reasons_at else (),
                    iof_cents=amount(line[iof_at], n, "valor do IOF") if iof_at else 0,
                    nosso_numero_forms=_forms(
                        number,
                        line[dv].strip() if dv else "",
                        layout.check_digit_included,
                        line[convenio].strip() if convenio else "",
                    ),
                )
            )
        elif kind == "9":
            trailer_seen = True
        elif kind == layout.pix_type and pix_at is not None:
            if not records:
                raise r.error(n, "registro Pix (tipo 2) antes de qualquer título")
            records[-1] = records[-1]._replace(pix_txid=line[pix_at].strip())
        elif kind in layout.extra_types:
            continue
        elif kind == "0":
            raise r.error(n, "header repetido")
        elif kind in "17" and layout.detail_type in "17":
            wanted = layout.detail_type
            raise r.error(
                n,
                f"registro de detalhe tipo {kind}; o layout CNAB 400 de {layout.bank_name} que "
                f"regua lê ({layout.variant or 'padrão'}) traz o detalhe no registro {wanted}",
            )
        else:
            raise r.error(n, f"tipo de registro desconhecido: {kind!r}")
    if not trailer_seen:
        raise r.error(len(lines), "falta o trailer (registro 9)")
    return records, company_document


def _forms(number: str, check_digit: str, dv_included: bool, convenio: str) -> tuple[str, ...]:
    """Other forms of a nosso número an ERP may store: with its DV kept apart by the bank,
    without the DV the bank appends, without the convênio the number starts with."""
    forms: list[str] = []
    if check_digit:
        forms.append(number + check_digit)
    if dv_included and len(number) > 1:
        forms.append(number[:-1])
    digits = convenio.lstrip("0")
    if digits and number.lstrip("0").startswith(digits) and len(number.lstrip("0")) > len(digits):
        forms.append(number.lstrip("0")[len(digits) :])
    return tuple(forms)


def _check_sequence(r: FieldReader, line: str, n: int) -> None:
    # The sequence in 395-400 catches lines lost or duplicated when files are joined by hand.
    sequence = line[394:400]
    if sequence != f"{n:06d}":
        raise r.error(n, f"número sequencial do registro {sequence!r} não confere com a linha {n}")


# --------------------------------------------------------------------------- writer


def write_return(
    *,
    company_code: str,
    company_document: str,
    company_name: str,
    generated_on: date,
    records: Iterable[SettlementLine],
    bank_code: str = BRADESCO,
    bank_name: str | None = None,
    credited_on: date | None = None,
) -> bytes:
    """Build a CNAB 400 return file in ``bank_code``'s layout (CRLF, latin-1).

    Meant for tests, demo data and benchmarks: every field the reader uses is filled from the
    ``SettlementLine``; the others are zeros and blanks.
    """
    layout = LAYOUTS_400[bank_code]
    inscription = 1 if len(company_document) == 11 else 2
    head = LineBuilder(WIDTH)
    head.num(1, 1, 0).num(2, 2, 2).alpha(3, 9, "RETORNO").num(10, 11, 1)
    head.alpha(12, 26, "COBRANCA").num(27, 46, company_code)
    head.alpha(47, 76, company_name, cut=True).num(77, 79, bank_code)
    # Bank systems write the name without accents or dashes.
    plain = unicodedata.normalize("NFKD", bank_name or layout.bank_name.split(" — ")[0])
    head.alpha(80, 94, plain.encode("ascii", "ignore").decode().upper(), cut=True)
    _put_date(head, layout.file_date, generated_on)
    head.num(395, 400, 1)
    lines = [head.build()]
    titles = 0
    total = 0
    for item in records:
        titles += 1
        total += item.face_cents
        d = LineBuilder(WIDTH)
        d.alpha(1, 1, layout.detail_type).num(2, 3, inscription).num(4, 17, company_document)
        if layout.company_ref:
            d.alpha(*layout.company_ref, item.company_ref)
        d.num(*layout.nosso_numero, item.nosso_numero)
        if layout.check_digit:
            d.num(*layout.check_digit, 0)
        d.num(*layout.occurrence, item.occurrence)
        _put_date(d, layout.occurred_on, item.paid_on)
        if layout.seu_numero:
            d.alpha(*layout.seu_numero, item.seu_numero)
        if layout.due_date:
            _put_date(d, layout.due_date, item.due_date)
        d.num(*layout.face, item.face_cents)
        if layout.fee:
            d.num(*layout.fee, item.fee_cents)
        if layout.iof:
            d.num(*layout.iof, 0)
        if layout.rebate:
            d.num(*layout.rebate, item.rebate_cents)
        if layout.discount:
            d.num(*layout.discount, item.discount_cents)
        paid = item.paid_cents
        d.num(*layout.amount, item.net if layout.amount_is == "credited" and paid else paid)
        for i, span in enumerate(layout.interest):
            d.num(*span, item.interest_cents if i == 0 else 0)
        if layout.credited:
            d.num(*layout.credited, item.net if paid else 0)
        if layout.credited_on:
            _put_date(d, layout.credited_on, item.credited_on)
        if layout.reasons:
            size = layout.reasons[1] - layout.reasons[0] + 1
            d.num(*layout.reasons, "".join(item.reasons).ljust(size, "0"))
        d.num(395, 400, len(lines) + 1)
        lines.append(d.build())
    lines.append(
        LineBuilder(WIDTH)
        .num(1, 1, 9)
        .num(2, 2, 2)
        .num(3, 4, 1)
        .num(5, 7, bank_code)
        .num(18, 25, titles)
        .num(26, 39, total)
        .num(395, 400, len(lines) + 1)
        .build()
    )
    return join_lines(lines)


def _put_date(builder: LineBuilder, field: DateField, value: date | None) -> None:
    start, end = field.span
    if value is None:
        builder.num(start, end, 0)
    else:
        form = {"ddmmyy": "%d%m%y", "ddmmyyyy": "%d%m%Y", "yyyymmdd": "%Y%m%d"}[field.form]
        builder.alpha(start, end, value.strftime(form))
