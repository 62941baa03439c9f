"""CNAB 240 retorno de cobrança (FEBRABAN layout): parser and a writer for tests and demos.

Structure: header de arquivo (0), lots of [header de lote (1), segment T + U pairs (3),
trailer de lote (5)], trailer de arquivo (9). Segment positions follow the FEBRABAN generic map;
Santander (033) shifts segment T and Caixa SIGCB (104) moves the nosso número (BRAZIL.md 3).
T and U of one title are consecutive lines and are joined by position, never by nosso número.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from regua.payments.cnab.fields import FieldReader, LineBuilder, document_of, join_lines, reasons_of
from regua.payments.cnab.layouts import FEBRABAN_240, Layout240, SegmentT
from regua.payments.cnab.records import (
    Occurrences,
    RecordKind,
    ReturnFile,
    ReturnRecord,
    SettlementLine,
    describe,
)
from regua.payments.cnab.registry import LAYOUTS_240

WIDTH = 240
# Records in a lot are numbered in 5 digits (positions 9-13): at most 49,999 T/U pairs.
MAX_TITLES_PER_LOT = 49_999


GENERIC = Layout240(bank_code="000", bank_name="")
# Kept for callers that name them: the FEBRABAN table and segment T maps by bank.
OCCURRENCES: Occurrences = FEBRABAN_240
GENERIC_T = GENERIC.segment_t
SEGMENT_T_BY_BANK = {code: layout.segment_t for code, layout in LAYOUTS_240.items()}
# Segment Y-03 (Pix): the txid of a boleto paid by Pix (Santander).
PIX_TXID = slice(158, 193)

# Optional segments of a cobrança return (W: informações complementares, Y: sacador/cheques,
# Pix); only Y-03's txid is kept.
_SKIPPED_SEGMENTS = frozenset("WY")


def parse_lines(lines: list[str], filename: str, warnings: list[str] | None = None) -> ReturnFile:
    """Parse the lines of a CNAB 240 return file (see ``cnab.parse_return``).

    ``warnings`` holds what ``detect`` already noticed about the file; this adds its own.
    """
    warned = list(warnings or ())
    r = FieldReader(filename)
    header = lines[0]
    _check_width(r, header, 1)
    if header[7] != "0" or header[3:7] != "0000":
        raise r.error(1, "o arquivo deve começar pelo header de arquivo (registro 0, lote 0000)")
    code, stamp = header[142], header[143:151]
    shifted = False
    if code not in ("1", "2"):
        # Headers written without the bank's name (Sicoob, Ailos) have the fields after the
        # company's name moved left: the retorno code and the date follow the blanks.
        tail = header[102:].lstrip(" ")
        if tail[:1] in ("1", "2") and tail[1:9].isdigit() and len(header.rstrip()) < 240 - 10:
            code, stamp, shifted = tail[0], tail[1:9], True
    if code == "1":
        raise r.error(
            1,
            "é um arquivo de remessa (o que a empresa envia ao banco), não um retorno: "
            "importe o arquivo de retorno que o banco devolve",
        )
    if code != "2":
        raise r.error(1, f"não é um arquivo de retorno (posição 143 = {code!r}; 2 = retorno)")
    bank = header[0:3]
    if not (bank.isdigit() and bank.isascii()):
        raise r.error(1, f"código do banco não numérico: {bank!r}")
    layout = LAYOUTS_240.get(bank)
    if layout is None:
        # CNAB 240 is FEBRABAN's standard: a bank without known deviations reads by it.
        layout = GENERIC
        warned.append(f"banco {bank} sem desvios conhecidos do CNAB 240: lido pelo padrão FEBRABAN")
    if shifted:
        warned.append(
            f"o header não traz o nome do banco (posições 103-132; banco {bank}): o código de "
            "retorno e a data de geração vêm logo após o nome da empresa"
        )
    elif not header[102:132].strip():
        warned.append(f"o header não traz o nome do banco (posições 103-132); banco {bank}")
    company_document = document_of(header[17], header[18:32])
    generated_on = r.date8(stamp, 1, "data de geração do arquivo")
    t_map = layout.segment_t
    table = layout.occurrences
    dv_included = layout.check_digit_included
    convenio_digits = layout.convenio_digits
    # A nosso número of this width may start with the convênio (-1: the bank has none).
    forms_width = convenio_digits + 10 if convenio_digits else -1
    t_nn = slice(t_map.nosso_numero[0] - 1, t_map.nosso_numero[1])
    t_seu = slice(t_map.seu_numero[0] - 1, t_map.seu_numero[1])
    t_due = slice(t_map.due_date[0] - 1, t_map.due_date[1])
    t_face = slice(t_map.face[0] - 1, t_map.face[1])
    t_ref = slice(t_map.company_ref[0] - 1, t_map.company_ref[1])
    t_fee = slice(t_map.fee[0] - 1, t_map.fee[1])
    t_reasons = slice(t_map.reasons[0] - 1, t_map.reasons[1])

    records: list[ReturnRecord] = []
    amount, date8 = r.amount, r.date8
    described: dict[str, tuple[str, RecordKind]] = {}  # a file repeats a handful of codes
    in_lot = False
    lot_id = ""
    lot_records = 0
    lots = 0
    pending_t: str | None = None
    pending_line = 0
    trailer_seen = False
    for index in range(1, len(lines)):
        n = index + 1
        line = lines[index]
        if len(line) != WIDTH:
            _check_width(r, line, n)
        if trailer_seen:
            raise r.error(n, "registro depois do trailer de arquivo")
        if line[0:3] != bank:
            raise r.error(n, f"código do banco {line[0:3]!r} difere do header ({bank})")
        kind = line[7]
        if kind == "3":
            if not in_lot:
                raise r.error(n, "registro de detalhe fora de um lote")
            if line[3:7] != lot_id:
                raise r.error(n, f"lote {line[3:7]} difere do header de lote ({lot_id})")
            lot_records += 1
            segment = line[13]
            if segment == "T":
                if pending_t is not None:
                    raise r.error(pending_line, "segmento T sem o segmento U seguinte")
                pending_t = line
                pending_line = n
            elif segment == "U":
                if pending_t is None:
                    raise r.error(n, "segmento U sem o segmento T anterior")
                t = pending_t
                occurrence = t[15:17]
                found = described.get(occurrence)
                if found is None:
                    if not (occurrence.isdigit() and occurrence.isascii()):
                        raise r.error(pending_line, f"código de movimento inválido: {occurrence!r}")
                    found = described[occurrence] = describe(table, occurrence, bank)
                text, record_kind = found
                values = line[17:107]  # juros/multa, desconto, abatimento, IOF, pago, líquido
                if values.isdigit() and values.isascii():  # every amount filled: the usual case
                    interest, discount, rebate = (
                        int(line[17:32]),
                        int(line[32:47]),
                        int(line[47:62]),
                    )
                    paid, net = int(line[77:92]), int(line[92:107])
                    iof = int(line[62:77])
                else:
                    interest = amount(line[17:32], n, "valor de juros/multa")
                    discount = amount(line[32:47], n, "valor do desconto")
                    rebate = amount(line[47:62], n, "valor do abatimento")
                    paid = amount(line[77:92], n, "valor pago")
                    net = amount(line[92:107], n, "valor líquido")
                    iof = amount(line[62:77], n, "valor do IOF")
                number = t[t_nn].strip()
                records.append(
                    ReturnRecord(
                        line=pending_line,
                        occurrence=occurrence,
                        occurrence_text=text,
                        kind=record_kind,
                        nosso_numero=number,
                        seu_numero=t[t_seu].strip(),
                        company_ref=t[t_ref].strip(),
                        due_date=date8(t[t_due], pending_line, "data de vencimento"),
                        face_cents=amount(t[t_face], pending_line, "valor nominal do título"),
                        fee_cents=amount(t[t_fee], pending_line, "valor da tarifa"),
                        reasons=reasons_of(t[t_reasons]),
                        nosso_numero_forms=_forms(number, dv_included, convenio_digits)
                        if dv_included or len(number) == forms_width
                        else (),
                        iof_cents=iof,
                        interest_cents=interest,
                        discount_cents=discount,
                        rebate_cents=rebate,
                        paid_cents=paid,
                        net_cents=net,
                        paid_on=date8(line[137:145], n, "data da ocorrência"),
                        credited_on=date8(line[145:153], n, "data do crédito"),
                    )
                )
                pending_t = None
            elif segment in _SKIPPED_SEGMENTS:
                if pending_t is not None:
                    raise r.error(pending_line, "segmento T sem o segmento U seguinte")
                if segment == "Y" and line[17:19] == "03" and records:
                    records[-1] = records[-1]._replace(pix_txid=line[PIX_TXID].strip())
            else:
                raise r.error(n, f"segmento {segment!r} não pertence a um retorno de cobrança")
        elif kind == "1":
            if in_lot:
                raise r.error(n, "header de lote antes do trailer do lote anterior")
            in_lot = True
            lot_id = line[3:7]
            lot_records = 1
            lots += 1
        elif kind == "5":
            if not in_lot:
                raise r.error(n, "trailer de lote sem header de lote")
            if pending_t is not None:
                raise r.error(pending_line, "segmento T sem o segmento U seguinte")
            lot_records += 1
            declared = r.number(line[17:23], n, "quantidade de registros do lote")
            if declared != lot_records:
                if layout.lot_count_details_only and declared == lot_records - 2:
                    warned.append(
                        "o trailer de lote conta só os registros de detalhe (como o "
                        f"{layout.bank_name} envia), não o header e o trailer do lote"
                    )
                else:
                    raise r.error(
                        n, f"trailer do lote informa {declared} registros; o lote tem {lot_records}"
                    )
            in_lot = False
        elif kind == "9":
            if in_lot:
                raise r.error(n, "trailer de arquivo com lote aberto (falta o trailer de lote)")
            declared_lots = r.number(line[17:23], n, "quantidade de lotes")
            if declared_lots != lots:
                raise r.error(n, f"trailer de arquivo informa {declared_lots} lotes; há {lots}")
            declared_lines = r.number(line[23:29], n, "quantidade de registros")
            if declared_lines != n:
                raise r.error(
                    n, f"trailer de arquivo informa {declared_lines} registros; o arquivo tem {n}"
                )
            trailer_seen = True
        elif kind in "24":
            # Registros iniciais/finais do lote: allowed by FEBRABAN, nothing to read.
            if not in_lot:
                raise r.error(n, f"registro tipo {kind} fora de um lote")
            lot_records += 1
        elif kind == "0":
            raise r.error(n, "header de arquivo repetido")
        else:
            raise r.error(n, f"tipo de registro desconhecido: {kind!r}")
    if not trailer_seen:
        raise r.error(len(lines), "falta o trailer de arquivo (registro 9)")
    return ReturnFile(
        layout="cnab240",
        bank_code=bank,
        company_document=company_document,
        generated_on=generated_on,
        records=records,
        bank_name=layout.bank_name,
        warnings=tuple(dict.fromkeys(warned)),
    )


def _forms(number: str, dv_included: bool, convenio_digits: int) -> tuple[str, ...]:
    """Other forms of a nosso número an ERP may store (see ``cnab400._forms``)."""
    forms: list[str] = []
    digits = number.lstrip("0")
    if dv_included and len(digits) > 1:
        forms.append(digits[:-1])
    if convenio_digits and len(number) == convenio_digits + 10 and number.isdigit():
        forms.append(number[convenio_digits:].lstrip("0") or "0")
    return tuple(forms)


def _check_width(r: FieldReader, line: str, n: int) -> None:
    if len(line) != WIDTH:
        raise r.error(n, f"linha com {len(line)} caracteres; esperado {WIDTH}")


# --------------------------------------------------------------------------- writer


def write_return(
    *,
    bank_code: str,
    company_document: str,
    company_name: str,
    generated_on: date,
    records: Iterable[SettlementLine],
    bank_name: str = "",
    file_number: int = 1,
    titles_per_lot: int = MAX_TITLES_PER_LOT,
) -> bytes:
    """Build a CNAB 240 return file of T/U pairs (CRLF, latin-1).

    A lot numbers its records in 5 digits, so titles are spread over as many lots as needed.
    Meant for tests, demo data and benchmarks: bank accounts and payer data are zeros/blanks.
    """
    if not 1 <= titles_per_lot <= MAX_TITLES_PER_LOT:
        raise ValueError(f"titles_per_lot must be within 1..{MAX_TITLES_PER_LOT}")
    t_map = SEGMENT_T_BY_BANK.get(bank_code, GENERIC_T)
    bank_name = bank_name or (LAYOUTS_240[bank_code].bank_name if bank_code in LAYOUTS_240 else "")
    inscription = "1" if len(company_document) == 11 else "2"
    lines = [
        LineBuilder(WIDTH)
        .num(1, 3, bank_code)
        .num(4, 7, 0)
        .num(8, 8, 0)
        .num(18, 18, inscription)
        .num(19, 32, company_document)
        .num(53, 57, 0)
        .num(59, 70, 0)
        .alpha(73, 102, company_name, cut=True)
        .alpha(103, 132, bank_name, cut=True)
        .num(143, 143, 2)
        .date8(144, generated_on)
        .num(152, 157, 0)
        .num(158, 163, file_number)
        .num(164, 166, 87)
        .num(167, 171, 0)
        .build()
    ]
    items = list(records)
    lots = 0
    for first in range(0, max(len(items), 1), titles_per_lot):
        lots += 1
        chunk = items[first : first + titles_per_lot]
        lines.append(
            LineBuilder(WIDTH)
            .num(1, 3, bank_code)
            .num(4, 7, lots)
            .num(8, 8, 1)
            .alpha(9, 9, "T")
            .num(10, 11, 1)
            .num(14, 16, 45)
            .num(18, 18, inscription)
            .num(19, 33, company_document)
            .alpha(74, 103, company_name, cut=True)
            .num(184, 191, file_number)
            .date8(192, generated_on)
            .date8(200, None)
            .build()
        )
        sequence = 0
        for item in chunk:
            sequence += 1
            lines.append(_segment_t(bank_code, lots, sequence, t_map, item))
            sequence += 1
            lines.append(_segment_u(bank_code, lots, sequence, item))
        lines.append(
            LineBuilder(WIDTH)
            .num(1, 3, bank_code)
            .num(4, 7, lots)
            .num(8, 8, 5)
            .num(18, 23, sequence + 2)
            .num(24, 29, len(chunk))
            .num(30, 46, sum(item.face_cents for item in chunk))
            .build()
        )
    lines.append(
        LineBuilder(WIDTH)
        .num(1, 3, bank_code)
        .num(4, 7, 9999)
        .num(8, 8, 9)
        .num(18, 23, lots)
        .num(24, 29, len(lines) + 1)
        .num(30, 35, 0)
        .build()
    )
    return join_lines(lines)


def _segment_t(
    bank_code: str, lot: int, sequence: int, t_map: SegmentT, item: SettlementLine
) -> str:
    t = LineBuilder(WIDTH)
    t.num(1, 3, bank_code).num(4, 7, lot).num(8, 8, 3).num(9, 13, sequence)
    t.alpha(14, 14, "T").num(16, 17, item.occurrence)
    start, end = t_map.nosso_numero
    if t_map.nosso_numero_zero_filled:
        t.num(start, end, item.nosso_numero)
    else:
        t.alpha(start, end, item.nosso_numero)
    t.alpha(t_map.seu_numero[0], t_map.seu_numero[1], item.seu_numero)
    t.date8(t_map.due_date[0], item.due_date)
    t.num(t_map.face[0], t_map.face[1], item.face_cents)
    t.alpha(t_map.company_ref[0], t_map.company_ref[1], item.company_ref)
    t.num(t_map.fee[0], t_map.fee[1], item.fee_cents)
    t.alpha(t_map.reasons[0], t_map.reasons[1], "".join(item.reasons))
    return t.build()


def _segment_u(bank_code: str, lot: int, sequence: int, item: SettlementLine) -> str:
    u = LineBuilder(WIDTH)
    u.num(1, 3, bank_code).num(4, 7, lot).num(8, 8, 3).num(9, 13, sequence)
    u.alpha(14, 14, "U").num(16, 17, item.occurrence)
    u.num(18, 32, item.interest_cents)
    u.num(33, 47, item.discount_cents)
    u.num(48, 62, item.rebate_cents)
    u.num(63, 77, 0)
    u.num(78, 92, item.paid_cents)
    u.num(93, 107, item.net)
    u.num(108, 122, 0)
    u.num(123, 137, 0)
    u.date8(138, item.paid_on)
    u.date8(146, item.credited_on)
    return u.build()
