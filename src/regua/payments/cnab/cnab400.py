"""CNAB 400 retorno de cobrança: Bradesco (237) in full, common fields for other banks.

CNAB 400 is not one FEBRABAN standard: only the skeleton (header 0, details 1, trailer 9,
sequence in 395-400) and a handful of detail positions are shared, so the bank code in header
positions 77-79 picks the map (BRAZIL.md 4). Banks without their own map get the common fields
only: occurrence, dates, document number, face value, amount paid, tarifa, abatimento, desconto
and the company's own reference; their nosso número is left empty and only code 06 counts as a
payment, because the other codes mean different things at different banks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from regua.payments.cnab.fields import FieldReader, LineBuilder, document_of, join_lines, reasons_of
from regua.payments.cnab.records import (
    Occurrences,
    ReturnFile,
    ReturnRecord,
    SettlementLine,
    describe,
)

WIDTH = 400
BRADESCO = "237"
ITAU = "341"

# Bradesco, "Cobrança Bradesco - Layout de Arquivo Retorno CNAB 400", identificação da ocorrência.
BRADESCO_OCCURRENCES: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixado automaticamente via arquivo", "written_off"),
    "10": ("baixado conforme instruções da agência", "written_off"),
    "11": ("em ser (títulos pendentes)", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "16": ("título pago em cheque vinculado", "settlement"),
    "17": ("liquidação após baixa ou título não registrado", "settlement"),
    "18": ("acerto de depositária", "other"),
    "19": ("confirmação de recebimento de instrução de protesto", "protest"),
    "20": ("confirmação de recebimento de instrução de sustação de protesto", "protest"),
    "21": ("acerto do controle do participante", "other"),
    "22": ("título com pagamento cancelado", "reversal"),
    "23": ("entrada do título em cartório", "protest"),
    "24": ("entrada rejeitada por CEP irregular", "entry_rejected"),
    "27": ("baixa rejeitada", "other"),
    "28": ("débito de tarifas/custas", "other"),
    "30": ("alteração de outros dados rejeitados", "other"),
    "32": ("instrução rejeitada", "other"),
    "33": ("confirmação pedido alteração outros dados", "other"),
    "34": ("retirado de cartório e manutenção carteira", "protest"),
    "35": ("desagendamento do débito automático", "other"),
    "40": ("estorno de pagamento", "reversal"),
}

# Codes whose meaning the banks agree on (Bradesco, Itaú, Caixa and the FEBRABAN 240 table).
COMMON_OCCURRENCES: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixa", "written_off"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "19": ("confirmação de instrução de protesto", "protest"),
    "20": ("confirmação de sustação de protesto", "protest"),
    "23": ("título enviado a cartório", "protest"),
}


@dataclass(frozen=True)
class DetailMap:
    """1-based inclusive positions of the bank-specific detail fields (None: not carried)."""

    nosso_numero: tuple[int, int] | None
    interest: tuple[int, int] | None
    credited_on: tuple[int, int] | None
    reasons: tuple[int, int] | None
    occurrences: Occurrences
    skipped_record_types: frozenset[str] = frozenset()


BRADESCO_MAP = DetailMap(
    nosso_numero=(71, 82),  # 11 digits + DV (the DV may be 'P')
    interest=(267, 279),  # juros de mora (multa included)
    credited_on=(296, 301),
    reasons=(319, 328),
    occurrences=BRADESCO_OCCURRENCES,
    # Registro 3: rateio de crédito, an optional split of the credit among accounts.
    skipped_record_types=frozenset("3"),
)
ITAU_MAP = DetailMap(
    nosso_numero=(63, 70),
    interest=(267, 279),
    credited_on=(296, 301),
    reasons=None,
    occurrences=COMMON_OCCURRENCES,
)
GENERIC_MAP = DetailMap(
    nosso_numero=None,
    interest=None,
    credited_on=None,
    reasons=None,
    occurrences=COMMON_OCCURRENCES,
)
MAPS_BY_BANK = {BRADESCO: BRADESCO_MAP, ITAU: ITAU_MAP}


def _slice(positions: tuple[int, int] | None) -> slice | None:
    return None if positions is None else slice(positions[0] - 1, positions[1])


def parse_lines(lines: list[str], filename: str) -> ReturnFile:
    """Parse the lines of a CNAB 400 return file (see ``cnab.parse_return``)."""
    r = FieldReader(filename)
    header = lines[0]
    if header[0] != "0":
        raise r.error(1, "o arquivo deve começar pelo header (registro 0)")
    if header[1] != "2":
        raise r.error(1, f"não é um arquivo de retorno (posição 2 = {header[1]!r}; 1 = remessa)")
    _check_sequence(r, header, 1)
    bank = header[76:79]
    if not bank.isdigit():
        raise r.error(1, f"código do banco não numérico (posições 77-79): {bank!r}")
    generated_on = r.date6(header[94:100], 1, "data de gravação do arquivo")
    bank_map = MAPS_BY_BANK.get(bank, GENERIC_MAP)
    nn = _slice(bank_map.nosso_numero)
    interest = _slice(bank_map.interest)
    credited = _slice(bank_map.credited_on)
    reasons = _slice(bank_map.reasons)
    table = bank_map.occurrences
    amount, date6 = r.amount, r.date6

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
        _check_sequence(r, line, n)
        kind = line[0]
        if kind == "1":
            occurrence = line[108:110]
            if not (occurrence.isdigit() and occurrence.isascii()):
                raise r.error(n, f"código de ocorrência inválido: {occurrence!r}")
            if not company_document:
                company_document = document_of(line[1:3], line[3:17])
            text, record_kind = describe(table, occurrence, bank)
            paid = amount(line[253:266], n, "valor pago")
            fee = amount(line[175:188], n, "valor da tarifa")
            records.append(
                ReturnRecord(
                    line=n,
                    occurrence=occurrence,
                    occurrence_text=text,
                    kind=record_kind,
                    nosso_numero=line[nn].strip() if nn else "",
                    seu_numero=line[116:126].strip(),
                    company_ref=line[37:62].strip(),
                    due_date=date6(line[146:152], n, "data de vencimento"),
                    face_cents=amount(line[152:165], n, "valor do título"),
                    paid_cents=paid,
                    interest_cents=amount(line[interest], n, "valor de juros de mora")
                    if interest
                    else 0,
                    discount_cents=amount(line[240:253], n, "valor do desconto"),
                    rebate_cents=amount(line[227:240], n, "valor do abatimento"),
                    fee_cents=fee,
                    # CNAB 400 carries no net amount: the tarifa is debited from what was paid.
                    net_cents=paid - fee,
                    paid_on=date6(line[110:116], n, "data da ocorrência"),
                    credited_on=date6(line[credited], n, "data do crédito") if credited else None,
                    reasons=reasons_of(line[reasons]) if reasons else (),
                )
            )
        elif kind == "9":
            trailer_seen = True
        elif kind in bank_map.skipped_record_types:
            continue
        elif kind == "0":
            raise r.error(n, "header repetido")
        else:
            raise r.error(n, f"tipo de registro desconhecido: {kind!r}")
    if not trailer_seen:
        raise r.error(len(lines), "falta o trailer (registro 9)")
    return ReturnFile(
        layout="cnab400",
        bank_code=bank,
        company_document=company_document,
        generated_on=generated_on,
        records=records,
    )


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
    bank_name: str = "BRADESCO",
    credited_on: date | None = None,
) -> bytes:
    """Build a CNAB 400 return file in the Bradesco layout (CRLF, latin-1).

    With another ``bank_code`` the details keep the Bradesco positions, which include every
    common field the generic reader uses. Meant for tests, demo data and benchmarks.
    """
    inscription = 1 if len(company_document) == 11 else 2
    lines = [
        LineBuilder(WIDTH)
        .num(1, 1, 0)
        .num(2, 2, 2)
        .alpha(3, 9, "RETORNO")
        .num(10, 11, 1)
        .alpha(12, 26, "COBRANCA")
        .num(27, 46, company_code)
        .alpha(47, 76, company_name, cut=True)
        .num(77, 79, bank_code)
        .alpha(80, 94, bank_name, cut=True)
        .date6(95, generated_on)
        .num(101, 108, 1600000)
        .num(109, 113, 0)
        .date6(380, credited_on)
        .num(395, 400, 1)
        .build()
    ]
    titles = 0
    total = 0
    for item in records:
        titles += 1
        total += item.face_cents
        d = LineBuilder(WIDTH)
        d.num(1, 1, 1).num(2, 3, inscription).num(4, 17, company_document)
        d.num(18, 20, 0).num(21, 37, 0)
        d.alpha(38, 62, item.company_ref)
        d.num(63, 70, 0)
        d.num(71, 82, item.nosso_numero)
        d.num(83, 92, 0).num(93, 104, 0).num(106, 107, 0)
        d.alpha(108, 108, "9")
        d.num(109, 110, item.occurrence)
        d.date6(111, item.paid_on)
        d.alpha(117, 126, item.seu_numero)
        d.num(127, 146, item.nosso_numero)
        d.date6(147, item.due_date)
        d.num(153, 165, item.face_cents)
        d.num(166, 168, bank_code).num(169, 173, 0).num(174, 175, 0)
        d.num(176, 188, item.fee_cents)
        d.num(189, 201, 0).num(202, 214, 0).num(215, 227, 0)
        d.num(228, 240, item.rebate_cents)
        d.num(241, 253, item.discount_cents)
        d.num(254, 266, item.paid_cents)
        d.num(267, 279, item.interest_cents)
        d.num(280, 292, 0)
        d.date6(296, item.credited_on)
        d.num(302, 304, 0)
        d.num(319, 328, "".join(item.reasons).ljust(10, "0"))
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
