"""CNAB 240 and CNAB 400 return files: position tables, bank variants, errors, round trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.errors import InputError
from regua.payments import cnab
from regua.payments.cnab import (
    CnabError,
    ReturnFile,
    ReturnRecord,
    SettlementLine,
    cnab240,
    cnab400,
)
from regua.payments.cnab.banks import bradesco
from regua.payments.cnab.registry import LAYOUTS_240


def place(width: int, fields: dict[int, str]) -> str:
    """A record built from {1-based start position: text}, typed from the layout tables."""
    chars = [" "] * width
    for start, text in fields.items():
        assert start - 1 + len(text) <= width, (start, text)
        chars[start - 1 : start - 1 + len(text)] = list(text)
    return "".join(chars)


def crlf(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


# ============================================================================ CNAB 240

HEADER_240 = place(
    240,
    {
        1: "748",
        4: "0000",
        8: "0",
        18: "2",
        19: "11222333000181",
        73: "EMPRESA EXEMPLO LTDA".ljust(30),
        103: "SICREDI",
        143: "2",
        144: "13032026",
        158: "000001",
        164: "087",
    },
)
LOT_HEADER_240 = place(
    240, {1: "748", 4: "0001", 8: "1", 9: "T", 10: "01", 14: "045", 18: "2", 19: "0" * 15}
)
SEGMENT_T = place(
    240,
    {
        1: "748",
        4: "0001",
        8: "3",
        9: "00001",
        14: "T",
        16: "06",
        38: "00000000000012345678",
        58: "1",
        59: "FAT-2026-0001  ",
        74: "10032026",
        82: "000000000015000",
        106: "INV-0001".ljust(25),
        131: "09",
        199: "000000000000250",
        214: "0000000000",
    },
)
SEGMENT_U = place(
    240,
    {
        1: "748",
        4: "0001",
        8: "3",
        9: "00002",
        14: "U",
        16: "06",
        18: "000000000000300",
        33: "000000000000100",
        48: "000000000000000",
        63: "000000000000000",
        78: "000000000015200",
        93: "000000000014950",
        138: "12032026",
        146: "13032026",
    },
)
LOT_TRAILER_240 = place(240, {1: "748", 4: "0001", 8: "5", 18: "000004", 24: "000001"})
FILE_TRAILER_240 = place(240, {1: "748", 4: "9999", 8: "9", 18: "000001", 24: "000006"})
FILE_240 = [HEADER_240, LOT_HEADER_240, SEGMENT_T, SEGMENT_U, LOT_TRAILER_240, FILE_TRAILER_240]

EXPECTED_240_RECORD = ReturnRecord(
    line=3,
    occurrence="06",
    occurrence_text="liquidação",
    kind="settlement",
    nosso_numero="00000000000012345678",
    seu_numero="FAT-2026-0001",
    company_ref="INV-0001",
    due_date=date(2026, 3, 10),
    face_cents=15000,
    paid_cents=15200,
    interest_cents=300,
    discount_cents=100,
    rebate_cents=0,
    fee_cents=250,
    net_cents=14950,
    paid_on=date(2026, 3, 12),
    credited_on=date(2026, 3, 13),
    reasons=(),
)


def test_reads_a_hand_assembled_cnab240_file() -> None:
    result = cnab.parse_return(crlf(FILE_240), filename="retorno.ret")

    assert result == ReturnFile(
        layout="cnab240",
        bank_code="748",
        company_document="11222333000181",
        generated_on=date(2026, 3, 13),
        records=[EXPECTED_240_RECORD],
        bank_name="Sicredi",
    )
    assert result.records[0].nosso_numero_digits == "12345678"
    assert result.records[0].is_settlement


def test_writer_puts_every_field_where_the_table_says() -> None:
    written = cnab240.write_return(
        bank_code="748",
        company_document="11222333000181",
        company_name="EMPRESA EXEMPLO LTDA",
        generated_on=date(2026, 3, 13),
        records=[
            SettlementLine(
                nosso_numero="00000000000012345678",
                seu_numero="FAT-2026-0001",
                company_ref="INV-0001",
                due_date=date(2026, 3, 10),
                face_cents=15000,
                paid_cents=15200,
                interest_cents=300,
                discount_cents=100,
                fee_cents=250,
                net_cents=14950,
                paid_on=date(2026, 3, 12),
                credited_on=date(2026, 3, 13),
            )
        ],
    )
    lines = written.decode("latin-1").split("\r\n")
    t, u = lines[2], lines[3]
    assert len(t) == len(u) == 240
    for start, text in {
        16: "06",
        38: "00000000000012345678",
        59: "FAT-2026-0001  ",
        74: "10032026",
        82: "000000000015000",
        106: "INV-0001".ljust(25),
        199: "000000000000250",
    }.items():
        assert t[start - 1 : start - 1 + len(text)] == text, start
    for start, text in {
        18: "000000000000300",
        33: "000000000000100",
        78: "000000000015200",
        93: "000000000014950",
        138: "12032026",
        146: "13032026",
    }.items():
        assert u[start - 1 : start - 1 + len(text)] == text, start
    assert cnab.parse_return(written).records == [EXPECTED_240_RECORD]


def test_santander_segment_t_is_shifted() -> None:
    t = place(
        240,
        {
            1: "033",
            4: "0001",
            8: "3",
            9: "00001",
            14: "T",
            16: "17",
            41: "0000001234567",
            54: "1",
            55: "DUP-77".ljust(15),
            70: "05012026",
            78: "000000000009990",
            101: "INV-SANT".ljust(25),
            194: "000000000000180",
            209: "A1B2      ",
        },
    )
    u = place(
        240,
        {1: "033", 4: "0001", 8: "3", 9: "00002", 14: "U", 16: "17", 78: "000000000009990"}
        | {93: "000000000009810", 138: "07012026", 146: "08012026"},
    )
    lines = [
        HEADER_240.replace("748", "033", 1),
        LOT_HEADER_240.replace("748", "033", 1),
        t,
        u,
        LOT_TRAILER_240.replace("748", "033", 1),
        FILE_TRAILER_240.replace("748", "033", 1),
    ]
    [record] = cnab.parse_return(crlf(lines)).records
    assert (
        record.occurrence,
        record.kind,
        record.nosso_numero,
        record.seu_numero,
        record.due_date,
        record.face_cents,
        record.company_ref,
        record.fee_cents,
        record.reasons,
        record.paid_cents,
        record.net_cents,
        record.paid_on,
    ) == (
        "17",
        "settlement",
        "0000001234567",
        "DUP-77",
        date(2026, 1, 5),
        9990,
        "INV-SANT",
        180,
        ("A1", "B2"),
        9990,
        9810,
        date(2026, 1, 7),
    )
    assert record.nosso_numero_digits == "1234567"


def test_caixa_nosso_numero_follows_the_two_digit_modality() -> None:
    t = place(
        240,
        {1: "104", 4: "0001", 8: "3", 9: "00001", 14: "T", 16: "06", 40: "14"}
        | {42: "000000000004567", 59: "DOC-1".ljust(11), 74: "10032026"}
        | {82: "000000000001000", 106: "INV-CX".ljust(25)},
    )
    u = place(240, {1: "104", 4: "0001", 8: "3", 9: "00002", 14: "U", 16: "06"})
    lines = [
        HEADER_240.replace("748", "104", 1),
        LOT_HEADER_240.replace("748", "104", 1),
        t,
        u,
        LOT_TRAILER_240.replace("748", "104", 1),
        FILE_TRAILER_240.replace("748", "104", 1),
    ]
    [record] = cnab.parse_return(crlf(lines)).records
    assert (record.nosso_numero, record.seu_numero, record.company_ref) == (
        "000000000004567",
        "DOC-1",
        "INV-CX",
    )


@pytest.mark.parametrize(
    ("occurrence", "kind", "text"),
    [
        ("02", "entry_confirmed", "entrada confirmada"),
        ("03", "entry_rejected", "entrada rejeitada"),
        ("06", "settlement", "liquidação"),
        ("09", "written_off", "baixa"),
        ("17", "settlement", "liquidação após baixa ou liquidação de título não registrado"),
        ("25", "protest", "protestado e baixado (baixa por ter sido protestado)"),
        ("44", "reversal", "título pago com cheque devolvido"),
        ("50", "other", "título pago com cheque pendente de compensação"),
        ("98", "unknown", "ocorrência 98 não catalogada para o banco 748"),
    ],
)
def test_cnab240_occurrences(occurrence: str, kind: str, text: str) -> None:
    t = SEGMENT_T[:15] + occurrence + SEGMENT_T[17:]
    [record] = cnab.parse_return(crlf([*FILE_240[:2], t, *FILE_240[3:]])).records
    assert (record.occurrence, record.kind, record.occurrence_text) == (occurrence, kind, text)


def test_line_endings_trailing_blank_line_and_eof_marker_are_tolerated() -> None:
    expected = cnab.parse_return(crlf(FILE_240))
    lf = ("\n".join(FILE_240) + "\n").encode("latin-1")
    no_final_newline = "\r\n".join(FILE_240).encode("latin-1")
    eof = crlf(FILE_240) + b"\r\n\x1a"
    for data in (lf, no_final_newline, eof):
        assert cnab.parse_return(data) == expected


def test_optional_w_segment_is_skipped() -> None:
    w = place(240, {1: "748", 4: "0001", 8: "3", 9: "00003", 14: "W", 16: "06"})
    trailer = place(240, {1: "748", 4: "0001", 8: "5", 18: "000005", 24: "000001"})
    file_trailer = place(240, {1: "748", 4: "9999", 8: "9", 18: "000001", 24: "000007"})
    lines = [*FILE_240[:4], w, trailer, file_trailer]
    assert cnab.parse_return(crlf(lines)).records == [EXPECTED_240_RECORD]


def _broken_240(index: int, line: str) -> bytes:
    lines = list(FILE_240)
    lines[index] = line
    return crlf(lines)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _broken_240(3, SEGMENT_U[:137] + "31022026" + SEGMENT_U[145:]),
            "retorno.ret:4: data da ocorrência inválida: 31022026",
        ),
        (
            _broken_240(3, SEGMENT_U[:77] + "0000000001520X" + SEGMENT_U[91:]),
            "retorno.ret:4: valor pago não numérico: '0000000001520X0'",
        ),
        (
            _broken_240(2, SEGMENT_T[:73] + "00002026" + SEGMENT_T[81:]),
            "retorno.ret:3: data de vencimento inválida: 00002026",
        ),
        (_broken_240(2, SEGMENT_T[:-1]), "retorno.ret:3: linha com 239 caracteres; esperado 240"),
        (
            _broken_240(3, SEGMENT_T.replace("00001", "00002", 1)),
            "retorno.ret:3: segmento T sem o segmento U seguinte",
        ),
        (
            _broken_240(2, SEGMENT_U.replace("00002", "00001", 1)),
            "retorno.ret:3: segmento U sem o segmento T anterior",
        ),
        (
            _broken_240(4, LOT_TRAILER_240.replace("000004", "000005")),
            "retorno.ret:5: trailer do lote informa 5 registros; o lote tem 4",
        ),
        (
            _broken_240(5, FILE_TRAILER_240.replace("000006", "000007")),
            "retorno.ret:6: trailer de arquivo informa 7 registros; o arquivo tem 6",
        ),
        (
            _broken_240(1, LOT_HEADER_240[:7] + "7" + LOT_HEADER_240[8:]),
            "retorno.ret:2: tipo de registro desconhecido: '7'",
        ),
        (
            _broken_240(2, SEGMENT_T[:13] + "A" + SEGMENT_T[14:]),
            "retorno.ret:3: segmento 'A' não pertence a um retorno de cobrança",
        ),
        (
            _broken_240(2, SEGMENT_T[:15] + "0X" + SEGMENT_T[17:]),
            "retorno.ret:3: código de movimento inválido: '0X'",
        ),
        (
            _broken_240(0, HEADER_240[:142] + "1" + HEADER_240[143:]),
            "retorno.ret:1: é um arquivo de remessa",
        ),
        (
            _broken_240(2, "237" + SEGMENT_T[3:]),
            r"retorno.ret:3: código do banco '237' difere do header \(748\)",
        ),
        (crlf(FILE_240[:5]), "retorno.ret:5: falta o trailer de arquivo"),
        (crlf([*FILE_240, FILE_TRAILER_240]), "retorno.ret:7: registro depois do trailer"),
        (
            crlf([FILE_240[0], SEGMENT_T, SEGMENT_U, FILE_240[5]]),
            "retorno.ret:2: registro de detalhe fora de um lote",
        ),
        (
            crlf([*FILE_240[:4], FILE_240[5]]),
            r"retorno.ret:5: trailer de arquivo com lote aberto",
        ),
        (b"", "retorno.ret: arquivo vazio"),
        (b"abc\r\n", "retorno.ret:1: linha com 3 caracteres e sem header CNAB reconhecível"),
    ],
)
def test_cnab240_errors_name_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(CnabError, match=f"^{message}") as info:
        cnab.parse_return(data, filename="retorno.ret")
    assert isinstance(info.value, InputError)
    assert info.value.file == "retorno.ret"


def test_non_ascii_digit_in_an_amount_is_refused() -> None:
    broken = SEGMENT_U[:77] + "00000000001520²" + SEGMENT_U[92:]
    with pytest.raises(CnabError, match=r"retorno\.ret:4: valor pago não numérico"):
        cnab.parse_return(_broken_240(3, broken), filename="retorno.ret")


def test_writer_spreads_titles_over_lots() -> None:
    items = [
        SettlementLine(
            nosso_numero=str(n),
            due_date=date(2026, 3, 1),
            face_cents=100 * n,
            paid_cents=100 * n,
            paid_on=date(2026, 3, 2),
            credited_on=date(2026, 3, 3),
        )
        for n in range(1, 6)
    ]
    data = cnab240.write_return(
        bank_code="001",
        company_document="52998224725",
        company_name="Fulano",
        generated_on=date(2026, 3, 3),
        records=items,
        titles_per_lot=2,
    )
    lines = data.decode("latin-1").split("\r\n")
    assert "".join(line[7] for line in lines if line) == "013333513333513359"
    result = cnab.parse_return(data)
    assert [r.nosso_numero for r in result.records] == ["1", "2", "3", "4", "5"]
    assert [r.line for r in result.records] == [3, 5, 9, 11, 15]
    assert result.company_document == "52998224725"
    assert lines[-2][17:23] == "000003"  # three lots


# ============================================================================ CNAB 400

HEADER_400 = place(
    400,
    {
        1: "0",
        2: "2",
        3: "RETORNO",
        10: "01",
        12: "COBRANCA".ljust(15),
        27: "00000000000004321000",
        47: "EMPRESA EXEMPLO LTDA".ljust(30),
        77: "237",
        80: "BRADESCO".ljust(15),
        95: "130326",
        395: "000001",
    },
)
DETAIL_400 = place(
    400,
    {
        1: "1",
        2: "02",
        4: "11222333000181",
        21: "00090123401234567",
        38: "INV-0001".ljust(25),
        71: "00000012345P",
        108: "9",
        109: "06",
        111: "120326",
        117: "FAT-0001  ",
        127: "00000000000012345P".rjust(20, "0"),
        147: "100326",
        153: "0000000015000",
        166: "237",
        176: "0000000000250",
        228: "0000000000000",
        241: "0000000000100",
        254: "0000000015200",
        267: "0000000000300",
        296: "130326",
        319: "0000000000",
        395: "000002",
    },
)
TRAILER_400 = place(
    400, {1: "9", 2: "2", 3: "01", 5: "237", 18: "00000001", 26: "00000000015000", 395: "000003"}
)
FILE_400 = [HEADER_400, DETAIL_400, TRAILER_400]

EXPECTED_400_RECORD = ReturnRecord(
    line=2,
    occurrence="06",
    occurrence_text="liquidação normal",
    kind="settlement",
    nosso_numero="00000012345P",
    seu_numero="FAT-0001",
    company_ref="INV-0001",
    due_date=date(2026, 3, 10),
    face_cents=15000,
    paid_cents=15200,
    interest_cents=300,
    discount_cents=100,
    rebate_cents=0,
    fee_cents=250,
    net_cents=14950,
    paid_on=date(2026, 3, 12),
    credited_on=date(2026, 3, 13),
    reasons=(),
    nosso_numero_forms=("00000012345",),  # without the DV Bradesco appends
)


def test_reads_a_hand_assembled_bradesco_file() -> None:
    result = cnab.parse_return(crlf(FILE_400), filename="CB130301.RET")
    assert result == ReturnFile(
        layout="cnab400",
        bank_code="237",
        company_document="11222333000181",
        generated_on=date(2026, 3, 13),
        records=[EXPECTED_400_RECORD],
        bank_name="Bradesco",
    )
    assert result.records[0].nosso_numero_digits == "12345P"


def test_bradesco_writer_round_trip_matches_the_hand_assembled_file() -> None:
    written = cnab400.write_return(
        company_code="4321000",
        company_document="11222333000181",
        company_name="EMPRESA EXEMPLO LTDA",
        generated_on=date(2026, 3, 13),
        records=[
            SettlementLine(
                nosso_numero="12345P",
                seu_numero="FAT-0001",
                company_ref="INV-0001",
                due_date=date(2026, 3, 10),
                face_cents=15000,
                paid_cents=15200,
                interest_cents=300,
                discount_cents=100,
                fee_cents=250,
                paid_on=date(2026, 3, 12),
                credited_on=date(2026, 3, 13),
            )
        ],
    )
    detail = written.decode("latin-1").split("\r\n")[1]
    for start, text in {
        38: "INV-0001".ljust(25),
        71: "00000012345P",
        109: "06",
        111: "120326",
        117: "FAT-0001  ",
        147: "100326",
        153: "0000000015000",
        176: "0000000000250",
        241: "0000000000100",
        254: "0000000015200",
        267: "0000000000300",
        296: "130326",
        395: "000002",
    }.items():
        assert detail[start - 1 : start - 1 + len(text)] == text, start
    assert cnab.parse_return(written).records == [EXPECTED_400_RECORD]


@pytest.mark.parametrize(
    ("occurrence", "kind"),
    [
        ("02", "entry_confirmed"),
        ("03", "entry_rejected"),
        ("06", "settlement"),
        ("09", "written_off"),
        ("10", "written_off"),
        ("15", "settlement"),
        ("16", "settlement"),
        ("17", "settlement"),
        ("19", "protest"),
        ("22", "reversal"),
        ("24", "entry_rejected"),
        ("28", "other"),
        ("40", "reversal"),
        ("77", "unknown"),
    ],
)
def test_bradesco_occurrences(occurrence: str, kind: str) -> None:
    detail = DETAIL_400[:108] + occurrence + DETAIL_400[110:]
    [record] = cnab.parse_return(crlf([HEADER_400, detail, TRAILER_400])).records
    assert record.kind == kind
    if occurrence == "77":
        assert record.occurrence_text == "ocorrência 77 não catalogada para o banco 237"


def test_bradesco_rejection_reasons() -> None:
    detail = DETAIL_400[:108] + "03" + DETAIL_400[110:318] + "0214000000" + DETAIL_400[328:]
    [record] = cnab.parse_return(crlf([HEADER_400, detail, TRAILER_400])).records
    assert (record.kind, record.reasons) == ("entry_rejected", ("02", "14"))


def test_bradesco_rateio_record_is_skipped() -> None:
    rateio = place(400, {1: "3", 395: "000003"})
    trailer = TRAILER_400[:394] + "000004"
    assert cnab.parse_return(crlf([HEADER_400, DETAIL_400, rateio, trailer])).records == [
        EXPECTED_400_RECORD
    ]


def test_a_400_file_from_a_bank_without_a_layout_is_refused_with_the_list() -> None:
    header = HEADER_400[:76] + "999" + "BANCO FICTICIO".ljust(15) + HEADER_400[94:]
    with pytest.raises(CnabError) as info:
        cnab.parse_return(crlf([header, DETAIL_400, TRAILER_400]), filename="X.RET")
    message = str(info.value)
    assert message.startswith("X.RET:1: banco 999 (BANCO FICTICIO): regua não conhece")
    assert "237 Bradesco" in message and "341 Itaú" in message and "104 Caixa" in message


def test_banco_do_brasil_400_with_detail_record_1_is_refused_naming_cbr643() -> None:
    header = HEADER_400[:76] + "001" + HEADER_400[79:]
    with pytest.raises(CnabError, match=r"CBR643.*registro 7"):
        cnab.parse_return(crlf([header, DETAIL_400, TRAILER_400]))


def test_itau_amount_is_the_credit_net_of_the_fee() -> None:
    # Itaú's 254-266 is the valor principal credited to the account: 152,00 credited with a
    # 2,50 fee means the payer paid 154,50.
    header = HEADER_400[:76] + "341" + HEADER_400[79:]
    detail = DETAIL_400[:62] + "87654321" + DETAIL_400[70:93] + "7" + DETAIL_400[94:]
    [record] = cnab.parse_return(crlf([header, detail, TRAILER_400])).records
    assert (record.nosso_numero, record.interest_cents, record.credited_on, record.kind) == (
        "87654321",
        300,
        date(2026, 3, 13),
        "settlement",
    )
    assert (record.paid_cents, record.fee_cents, record.net_cents) == (15450, 250, 15200)
    assert record.nosso_numero_forms == ("876543217",)  # with the DAC from position 94


def _broken_400(index: int, line: str) -> bytes:
    lines = list(FILE_400)
    lines[index] = line
    return crlf(lines)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _broken_400(1, DETAIL_400[:110] + "310226" + DETAIL_400[116:]),
            "CB.RET:2: data da ocorrência inválida: 310226",
        ),
        (
            _broken_400(1, DETAIL_400[:253] + "00000000152 0" + DETAIL_400[266:]),
            "CB.RET:2: valor pago não numérico: '00000000152 0'",
        ),
        (
            _broken_400(1, DETAIL_400[:394] + "000005"),
            "CB.RET:2: número sequencial do registro '000005' não confere com a linha 2",
        ),
        (_broken_400(1, DETAIL_400[:399]), "CB.RET:2: linha com 399 caracteres; esperado 400"),
        (_broken_400(1, "7" + DETAIL_400[1:]), "CB.RET:2: registro de detalhe tipo 7"),
        (_broken_400(1, "5" + DETAIL_400[1:]), "CB.RET:2: tipo de registro desconhecido: '5'"),
        (_broken_400(0, "01" + HEADER_400[2:]), "CB.RET:1: é um arquivo de remessa"),
        (_broken_400(0, "03" + HEADER_400[2:]), "CB.RET:1: não é um arquivo de retorno"),
        (crlf(FILE_400[:2]), "CB.RET:2: falta o trailer"),
        (
            crlf([*FILE_400, TRAILER_400[:394] + "000004"]),
            "CB.RET:4: registro depois do trailer",
        ),
        (
            _broken_400(1, DETAIL_400[:108] + "6 " + DETAIL_400[110:]),
            r"CB.RET:2: código de ocorrência inválido \(posições 109-110\): '6 '",
        ),
    ],
)
def test_cnab400_errors_name_file_and_line(data: bytes, message: str) -> None:
    with pytest.raises(CnabError, match=f"^{message}"):
        cnab.parse_return(data, filename="CB.RET")


def test_blank_optional_amounts_and_dates_read_as_empty() -> None:
    detail = DETAIL_400[:295] + " " * 6 + DETAIL_400[301:]
    detail = detail[:266] + " " * 13 + detail[279:]
    [record] = cnab.parse_return(crlf([HEADER_400, detail, TRAILER_400])).records
    assert (record.credited_on, record.interest_cents) == (None, 0)


# ============================================================================ round trips

nosso_numeros = st.from_regex(r"[0-9]{1,11}", fullmatch=True)
texts = st.from_regex(r"[A-Z0-9-]{0,10}", fullmatch=True)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2069, 12, 31))
cents = st.integers(min_value=0, max_value=10**11 - 1)


@st.composite
def settlement_lines(draw: st.DrawFn, occurrences: list[str]) -> SettlementLine:
    return SettlementLine(
        nosso_numero=draw(nosso_numeros),
        seu_numero=draw(texts),
        company_ref=draw(texts),
        due_date=draw(st.one_of(st.none(), days)),
        face_cents=draw(cents),
        paid_cents=draw(cents),
        interest_cents=draw(cents),
        discount_cents=draw(cents),
        fee_cents=draw(cents),
        net_cents=draw(cents),
        paid_on=draw(st.one_of(st.none(), days)),
        credited_on=draw(st.one_of(st.none(), days)),
        occurrence=draw(st.sampled_from(occurrences)),
    )


def _expected(item: SettlementLine, nosso_numero: str) -> tuple[object, ...]:
    return (
        nosso_numero,
        item.seu_numero,
        item.company_ref,
        item.due_date,
        item.face_cents,
        item.paid_cents,
        item.interest_cents,
        item.discount_cents,
        item.fee_cents,
        item.paid_on,
        item.credited_on,
        item.occurrence,
    )


def _actual(record: ReturnRecord) -> tuple[object, ...]:
    return (
        record.nosso_numero,
        record.seu_numero,
        record.company_ref,
        record.due_date,
        record.face_cents,
        record.paid_cents,
        record.interest_cents,
        record.discount_cents,
        record.fee_cents,
        record.paid_on,
        record.credited_on,
        record.occurrence,
    )


@settings(max_examples=50)
@given(
    bank=st.sampled_from(sorted(LAYOUTS_240)),
    items=st.lists(settlement_lines(sorted(cnab240.OCCURRENCES)), max_size=5),
)
def test_cnab240_round_trip(bank: str, items: list[SettlementLine]) -> None:
    segment_t = LAYOUTS_240[bank].segment_t
    start, end = segment_t.nosso_numero
    size = end - start + 1
    items = [replace(i, nosso_numero=i.nosso_numero[:size]) for i in items]
    data = cnab240.write_return(
        bank_code=bank,
        company_document="11222333000181",
        company_name="Empresa",
        generated_on=date(2026, 3, 13),
        records=items,
    )
    result = cnab.parse_return(data)
    width = size if segment_t.nosso_numero_zero_filled else None
    assert [_actual(r) for r in result.records] == [
        _expected(i, i.nosso_numero.zfill(width) if width else i.nosso_numero) for i in items
    ]
    assert [r.net_cents for r in result.records] == [i.net for i in items]


@settings(max_examples=50)
@given(items=st.lists(settlement_lines(sorted(bradesco.OCCURRENCES)), max_size=5))
def test_cnab400_round_trip(items: list[SettlementLine]) -> None:
    data = cnab400.write_return(
        company_code="1",
        company_document="11222333000181",
        company_name="Empresa",
        generated_on=date(2026, 3, 13),
        records=items,
    )
    result = cnab.parse_return(data)
    assert [_actual(r) for r in result.records] == [
        _expected(i, i.nosso_numero.zfill(12)) for i in items
    ]


# ============================================================================ performance


def _big_240(titles: int) -> bytes:
    t = SEGMENT_T
    u = SEGMENT_U
    body = []
    for n in range(titles):
        lot_seq = 2 * (n % 40000)
        if n % 40000 == 0:
            if body:
                body.append(place(240, {1: "748", 4: "0001", 8: "5", 18: f"{80002:06d}"}))
            body.append(LOT_HEADER_240)
        body.append(t[:8] + f"{lot_seq + 1:05d}" + t[13:37] + f"{n:020d}" + t[57:])
        body.append(u[:8] + f"{lot_seq + 2:05d}" + u[13:])
    last = titles % 40000 or 40000
    body.append(place(240, {1: "748", 4: "0001", 8: "5", 18: f"{2 * last + 2:06d}"}))
    lots = (titles + 39999) // 40000
    lines = [HEADER_240, *body]
    lines.append(
        place(240, {1: "748", 4: "9999", 8: "9", 18: f"{lots:06d}", 24: f"{len(lines) + 1:06d}"})
    )
    return crlf(lines)


def test_parses_a_file_spread_over_several_lots() -> None:
    # speed is measured in bench/, never asserted here (shared, noisy machines)
    result = cnab.parse_return(_big_240(20_000))
    assert len(result.records) == 20_000
    assert result.records[-1].nosso_numero == f"{19_999:020d}"


def test_two_digit_years_from_70_are_read_as_19xx() -> None:
    header = HEADER_400[:94] + "010170" + HEADER_400[100:]
    assert cnab.parse_return(crlf([header, DETAIL_400, TRAILER_400])).generated_on == date(
        1970, 1, 1
    )
