"""Every published return file in ../shared/data/cnab-real: read with the values its bank's
layout gives, or refused with the reason a person would give. One row per file says which and
why; the test skips when the folder is absent (the files are not copied into the project).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from regua.payments.cnab import CnabError, parse_return


def _real_files() -> Path:
    """../shared/data/cnab-real beside the checkout (or beside a folder of checkouts)."""
    root = Path(__file__).resolve().parents[2]
    for folder in (root.parent, root.parent.parent):
        candidate = folder / "shared" / "data" / "cnab-real"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "data" / "cnab-real"


REAL = _real_files()
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/cnab-real is absent")


@dataclass(frozen=True)
class Read:
    """The first settling title (or the first title, when none settles) as the layout gives it."""

    bank: str
    titles: int
    settlements: int
    nosso_numero: str
    occurrence: str  # code and its words in the bank's table
    paid: int  # what the payer paid
    fee: int
    credited: int
    paid_on: date | None
    credited_on: date | None
    warning: str = ""  # a deviation the file has, named once
    why: str = ""


@dataclass(frozen=True)
class Refused:
    message: str
    why: str


CASES: dict[str, Read | Refused] = {
    "brcobranca__CBR64310.RET": Read(
        "001",
        26,
        26,
        "16224200000000003",
        "06 liquidação normal",
        9064,
        500,
        8564,
        date(2009, 1, 20),
        date(2009, 1, 22),
        why="BB CBR643, detail record 7: convênio 1622420 + sequence; 306-318 credited",
    ),
    "brcobranca__CNAB240.RET": Read(
        "001",
        35,
        35,
        "14499570000020673",
        "17 liquidação após baixa ou liquidação de título não registrado",
        34400,
        103,
        34297,
        date(2011, 12, 29),
        date(2012, 1, 2),
        warning="74 linha(s) com os brancos finais cortados (larguras 146–235",
        why="trailing blanks trimmed upstream; every field is still where FEBRABAN puts it",
    ),
    "brcobranca__CNAB240AILOS.RET": Read(
        "085",
        3,
        3,
        "000000000000083",
        "06 liquidação",
        200,
        170,
        200,
        date(2015, 8, 10),
        date(2015, 8, 10),
        warning="o header não traz o nome do banco",
        why="header without the bank's name; lines trimmed",
    ),
    "brcobranca__CNAB240SANTANDER.RET": Read(
        "033",
        2,
        1,
        "0000000001406",
        "06 liquidação",
        1000,
        0,
        1000,
        date(2016, 4, 1),
        date(2016, 4, 4),
        warning="o trailer de lote conta só os registros de detalhe",
        why="Santander's lot trailer counts detail records only",
    ),
    "brcobranca__CNAB240SICOOB.RET": Read(
        "756",
        3,
        3,
        "0000000083",
        "06 liquidação",
        200,
        170,
        200,
        date(2015, 8, 10),
        date(2015, 8, 10),
        warning="o header não traz o nome do banco",
        why="Sicoob: 10-digit nosso número with DV at 38-47; header without the bank's name",
    ),
    "brcobranca__CNAB240SICREDI.CRT": Read(
        "748",
        2,
        0,
        "172000595",
        "02 entrada confirmada",
        0,
        0,
        0,
        date(2017, 4, 6),
        None,
        why="an entry and a tarifa (28): nothing settles",
    ),
    "brcobranca__CNAB400BANCOBRASILIA.RET": Read(
        "070",
        1,
        1,
        "107851907015",
        "05 liquidação",
        26492,
        0,
        26492,
        date(2012, 7, 26),
        date(2012, 7, 26),
        warning="o trailer (linha 3) traz o número sequencial '000030'",
        why="BRB: 8-digit dates move every later field; the trailer's sequence is off",
    ),
    "brcobranca__CNAB400BANCONORDESTE.RET": Read(
        "004",
        1,
        1,
        "0000011",
        "06 liquidação normal",
        17500,
        260,
        17240,
        date(2014, 11, 19),
        None,
        why="BNB: nosso número 63-69 with its DV apart at 70",
    ),
    "brcobranca__CNAB400BANRISUL.RET": Read(
        "041",
        1,
        1,
        "22832563",
        "06 liquidação normal",
        145000,
        160,
        144840,
        date(2015, 5, 15),
        date(2015, 5, 15),
        why="Banrisul: nosso número 63-70, two check digits at 71-72",
    ),
    "brcobranca__CNAB400BRADESCO.RET": Read(
        "237",
        6,
        0,
        "000000000303",
        "02 entrada confirmada",
        145000,
        160,
        144840,
        date(2015, 5, 15),
        date(2015, 5, 15),
        why="entries only: nothing settles",
    ),
    "brcobranca__CNAB400CREDISIS.RET": Refused(
        "banco 097 (CENTRALCRED): regua não conhece o layout CNAB 400",
        "CrediSIS's detail carries no occurrence code at 109-110: a payment cannot be told "
        "from anything else, so the file is refused, never read with another bank's positions",
    ),
    "brcobranca__CNAB400ITAU.RET": Read(
        "341",
        52,
        51,
        "00000011",
        "06 liquidação normal",
        4000,
        210,
        3790,
        date(2013, 5, 20),
        date(2013, 5, 21),
        why="Itaú's 254-266 is the credit (37,90), net of the 2,10 fee: the payer paid 40,00",
    ),
    "brcobranca__CNAB400SANTANDER.RET": Read(
        "033",
        52,
        51,
        "00000011",
        "06 liquidação",
        3790,
        210,
        3580,
        date(2013, 5, 20),
        date(2013, 5, 21),
        why="Santander's 254-266 is the payment; the upstream file copies Itaú's details, so "
        "the payer's 37,90 of a 40,00 título is what Santander's layout gives",
    ),
    "cnabphp__retorno-cb030400-bradesco.ret": Read(
        "237",
        7,
        6,
        "000000000097",
        "06 liquidação normal",
        500,
        0,
        500,
        date(2012, 4, 11),
        date(2012, 4, 13),
    ),
    "cnabphp__retorno-cnab400-bb.ret": Read(
        "001",
        1,
        1,
        "11122450000000290",
        "06 liquidação normal",
        2500,
        900,
        1600,
        date(2015, 9, 8),
        date(2015, 9, 10),
        why="BB CBR643: 7-digit fee at 182-188, credited 16,00 at 306-318",
    ),
    "cnabphp__retorno-cnab400-itau.ret": Read(
        "341",
        4,
        3,
        "00231327",
        "06 liquidação normal",
        21330,
        333,
        20997,
        date(2013, 6, 20),
        date(2013, 6, 21),
        why="Itaú: the payer paid the credited 209,97 plus the 3,33 fee",
    ),
    "cnabphp__retorno_bb.ret": Read(
        "001",
        5,
        5,
        "32948600000000196",
        "06 liquidação",
        4000,
        500,
        3500,
        date(2011, 3, 21),
        date(2011, 3, 23),
        warning="1 linha(s) com brancos além da posição 240",
        why="BB 240: 17-digit convênio + sequence; one 241-character line (a trailing blank)",
    ),
    "cnabphp__retorno_cnab240_caixa.ret": Read(
        "104",
        9,
        9,
        "000000011136997",
        "06 liquidação",
        8000,
        125,
        8000,
        date(2014, 1, 6),
        date(2014, 1, 7),
        why="Caixa SIGCB 240: valor líquido reported equal to the payment",
    ),
    "cnabphp__retorno_santander.ret": Read(
        "033",
        1,
        1,
        "0000000001040",
        "17 liquidação após baixa ou liquidação de título não registrado",
        1100,
        324,
        1100,
        date(2014, 6, 4),
        date(2014, 6, 5),
        warning="o trailer de lote conta só os registros de detalhe",
    ),
    "laravel__cnab240__cresol.ret": Read(
        "133",
        2,
        1,
        "00000000000000000001",
        "06 liquidação",
        15000,
        250,
        14750,
        date(2026, 3, 11),
        date(2026, 3, 12),
    ),
    "laravel__cnab240__santander_pix_liquidacao_chave.ret": Read(
        "033",
        1,
        1,
        "0000000001040",
        "06 liquidação",
        1100,
        324,
        1100,
        date(2014, 6, 4),
        date(2014, 6, 5),
        why="a boleto paid by Pix: segment Y-03 carries the txid",
    ),
    "laravel__cnab400__bnb.ret": Read(
        "004",
        10,
        7,
        "0990798",
        "06 liquidação normal",
        234525,
        0,
        234525,
        date(2017, 3, 7),
        None,
    ),
    "laravel__cnab400__cef.ret": Read(
        "104",
        1,
        0,
        "14000000000000001",
        "02 baixa confirmada",
        10000,
        0,
        10000,
        date(2016, 10, 20),
        None,
        why="Caixa's 02 is a baixa, not an entrada confirmada: nothing settles",
    ),
    "laravel__cnab400__cresol.ret": Read(
        "133",
        3,
        1,
        "00000000002P",
        "06 liquidação",
        15308,
        350,
        14958,
        date(2026, 3, 15),
        date(2026, 3, 16),
        why="Cresol 400 on Bradesco's model: 11 digits and a DV that may be 'P'",
    ),
    "laravel__cnab400__fibra.ret": Read(
        "224",
        11,
        5,
        "00113365383",
        "06 liquidação normal",
        5859000,
        0,
        5859000,
        date(2023, 1, 13),
        None,
        why="Fibra: nosso número 63-73 (all five settlements carry one)",
    ),
    "laravel__cnab400__inter.ret": Read(
        "077",
        1,
        0,
        "00000000000",
        "02 em aberto (entrada confirmada)",
        0,
        0,
        0,
        date(2021, 12, 6),
        None,
        why="Inter's compact detail: occurrence at 90-91",
    ),
    "laravel__cnab400__pine.ret": Read(
        "643",
        5,
        5,
        "01044552172",
        "06 liquidação normal",
        1164298,
        0,
        1164298,
        date(2023, 1, 13),
        None,
    ),
    "laravel__cnab400__remessa.txt": Refused(
        "é um arquivo de remessa", "a remessa sent by mistake is named as such"
    ),
    "laravel__cnab400__retorno_banco_fake.ret": Refused(
        "banco 999 (FAKE): regua não conhece o layout CNAB 400 deste banco",
        "an unknown bank's 400 file is never read with another bank's positions",
    ),
    "laravel__cnab400__retorno_banco_fake_2.ret": Refused(
        "é um arquivo de remessa", "its header says remessa (position 2 = 1)"
    ),
    "laravel__cnab400__santander_pix.ret": Read(
        "033",
        1,
        0,
        "00000019",
        "02 entrada de título confirmada",
        10000,
        0,
        10000,
        date(2016, 10, 20),
        None,
        why="record type 2 after the detail carries the Pix txid",
    ),
    "laravel__cnab400__sicredi.ret": Read(
        "748",
        1,
        0,
        "00000162000015",
        "02 entrada confirmada",
        10000,
        0,
        10000,
        date(2016, 11, 11),
        None,
    ),
    "opencnabphp__CN07116A.RET": Read(
        "341",
        1,
        1,
        "00000029",
        "06 liquidação normal",
        1200,
        390,
        810,
        date(2016, 11, 4),
        date(2016, 11, 8),
        why="Itaú: 8,10 credited and a 3,90 fee: the payer paid the 12,00 face",
    ),
    "opencnabphp__R2100095.RET": Read(
        "104",
        36,
        36,
        "000000000085923",
        "06 liquidação",
        4900,
        161,
        4900,
        date(2016, 12, 20),
        date(2016, 12, 21),
    ),
}


def test_the_table_names_every_published_file() -> None:
    present = {p.name for p in REAL.iterdir() if p.name != "README.md"}
    assert present == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_published_file(name: str) -> None:
    expected = CASES[name]
    data = (REAL / name).read_bytes()
    if isinstance(expected, Refused):
        with pytest.raises(CnabError) as info:
            parse_return(data, filename=name)
        assert expected.message in str(info.value)
        return
    parsed = parse_return(data, filename=name)
    settling = [r for r in parsed.records if r.is_settlement]
    first = (settling or parsed.records)[0]
    assert (parsed.bank_code, len(parsed.records), len(settling)) == (
        expected.bank,
        expected.titles,
        expected.settlements,
    )
    assert (
        first.nosso_numero,
        f"{first.occurrence} {first.occurrence_text}",
        first.paid_cents,
        first.fee_cents,
        first.net_cents,
        first.paid_on,
        first.credited_on,
    ) == (
        expected.nosso_numero,
        expected.occurrence,
        expected.paid,
        expected.fee,
        expected.credited,
        expected.paid_on,
        expected.credited_on,
    )
    if expected.warning:
        assert any(expected.warning in w for w in parsed.warnings), parsed.warnings
    else:
        assert parsed.warnings == ()


def test_itau_files_settle_for_what_the_payer_paid() -> None:
    parsed = parse_return((REAL / "brcobranca__CNAB400ITAU.RET").read_bytes())
    paid = [r for r in parsed.records if r.is_settlement]
    # Every title: paid = face + juros - desconto - abatimento; credited = paid - fee.
    for r in paid:
        assert r.paid_cents == r.face_cents + r.interest_cents - r.discount_cents - r.rebate_cents
        assert r.net_cents == r.paid_cents - r.fee_cents
    assert len(paid) == 51


def test_caixa_400_codes_are_caixas_own() -> None:
    [record] = parse_return((REAL / "laravel__cnab400__cef.ret").read_bytes()).records
    assert (record.occurrence, record.kind) == ("02", "written_off")


def test_pix_txids_are_kept() -> None:
    [record] = parse_return((REAL / "laravel__cnab400__santander_pix.ret").read_bytes()).records
    assert record.pix_txid == "id-da-transcao-pix"
    [paid] = parse_return(
        (REAL / "laravel__cnab240__santander_pix_liquidacao_chave.ret").read_bytes()
    ).records
    assert paid.pix_txid == "YKP000550547000000000003509062026"
