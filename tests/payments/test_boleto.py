"""Boleto: linha digitável, barcode, check digits and the 2025 due-factor restart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.errors import InputError
from regua.payments import boleto
from regua.payments.boleto import BoletoError

BB_LINE = "00190000090114971860168524522114675860000102656"

# Pairs (line, barcode, due date, amount) printed by independent boleto generators for real bank
# layouts (Bradesco, Itaú, Caixa, Santander, all before the factor restart).
BANK_EXAMPLES = [
    (
        "23790.27804 60000.212559 25003.923205 4 48690000828000",
        "23794486900008280000278060000212552500392320",
        date(2011, 2, 5),
        828000,
    ),
    (
        "34191.09008 00015.710296 30132.800001 9 43950000002980",
        "34199439500000029801090000015710293013280000",
        date(2009, 10, 19),
        2980,
    ),
    (
        "10498.01952 25086.156582 70000.004146 1 53880000295295",
        "10491538800002952958019525086156587000000414",
        date(2012, 7, 8),
        295295,
    ),
    (
        "03399.07073 07700.000123 34567.901029 5 54020000295295",
        "03395540200002952959070707700000123456790102",
        date(2012, 7, 22),
        295295,
    ),
]


def test_reads_the_banco_do_brasil_example_line() -> None:
    result = boleto.parse(BB_LINE, reference=date(2018, 7, 1))

    assert result == boleto.Boleto(
        kind="cobranca",
        bank_code="001",
        currency="9",
        due_date=date(2018, 7, 15),
        amount_cents=102656,
        free_field="0000001149718606852452211",
        barcode="00196758600001026560000001149718606852452211",
        line=BB_LINE,
        formatted_line="00190.00009 01149.718601 68524.522114 6 75860000102656",
    )


def test_same_factor_reads_as_2043_with_a_reference_after_2034() -> None:
    assert boleto.parse(BB_LINE, reference=date(2036, 1, 1)).due_date == date(2043, 3, 6)


def test_accepts_punctuation_and_spaces() -> None:
    pasted = " 00190.00009 01149.718601 68524.522114 6 75860000102656\n"
    assert boleto.parse(pasted, reference=date(2018, 7, 1)).line == BB_LINE


@pytest.mark.parametrize(("line", "barcode", "due", "amount"), BANK_EXAMPLES)
def test_reads_lines_and_barcodes_of_several_banks(
    line: str, barcode: str, due: date, amount: int
) -> None:
    from_line = boleto.parse(line, reference=date(2012, 1, 1))
    from_barcode = boleto.parse(barcode, reference=date(2012, 1, 1))

    assert from_line == from_barcode
    assert from_line.barcode == barcode
    assert from_line.formatted_line == line
    assert from_line.due_date == due
    assert from_line.amount_cents == amount
    assert from_line.bank_code == barcode[:3]


@pytest.mark.parametrize(("line", "barcode", "due", "amount"), BANK_EXAMPLES)
def test_make_barcode_reproduces_the_bank_examples(
    line: str, barcode: str, due: date, amount: int
) -> None:
    made = boleto.make_barcode(
        bank_code=barcode[:3], due_date=due, amount_cents=amount, free_field=barcode[19:]
    )
    assert made == barcode
    assert boleto.format_line(boleto.barcode_to_line(made)) == line


@pytest.mark.parametrize("bank", ["001", "237", "341", "104", "033"])
def test_boletos_due_after_the_factor_restart(bank: str) -> None:
    # 2025-03-10 is 1016 days after the new base 2022-05-29.
    barcode = boleto.make_barcode(
        bank_code=bank,
        due_date=date(2025, 3, 10),
        amount_cents=15990,
        free_field="1234567890123456789012345",
    )
    assert barcode[5:19] == "10160000015990"
    result = boleto.parse(boleto.barcode_to_line(barcode), reference=date(2025, 3, 1))
    assert (result.bank_code, result.due_date, result.amount_cents) == (
        bank,
        date(2025, 3, 10),
        15990,
    )


def test_barcode_and_line_of_the_last_old_factor_day() -> None:
    barcode = boleto.make_barcode(
        bank_code="341",
        due_date=date(2025, 2, 21),
        amount_cents=100,
        free_field="0" * 25,
    )
    assert barcode[5:9] == "9999"
    assert boleto.parse(barcode, reference=date(2025, 2, 1)).due_date == date(2025, 2, 21)


def test_boleto_without_due_date_or_amount() -> None:
    barcode = boleto.make_barcode(
        bank_code="237", due_date=None, amount_cents=0, free_field="9" * 25
    )
    result = boleto.parse(barcode, reference=date(2026, 1, 1))
    assert barcode[5:19] == "0" * 14
    assert (result.due_date, result.amount_cents) == (None, None)


# ----------------------------------------------------------------------------- factor


@pytest.mark.parametrize(
    ("due", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2012, 4, 27), 5316),
        (date(2025, 2, 20), 9998),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        (date(2049, 10, 13), 9999),
        (date(2018, 7, 15), 7586),
    ],
)
def test_due_factor(due: date, factor: int) -> None:
    assert boleto.due_factor(due) == factor


@pytest.mark.parametrize("due", [date(2000, 7, 2), date(1999, 1, 1), date(2049, 10, 14)])
def test_due_factor_outside_the_representable_range(due: date) -> None:
    with pytest.raises(BoletoError, match="fora do intervalo"):
        boleto.due_factor(due)


@pytest.mark.parametrize(
    ("factor", "reference", "due"),
    [
        (1000, date(2000, 7, 1), date(2000, 7, 3)),
        (1000, date(2025, 2, 1), date(2025, 2, 22)),
        (9999, date(2025, 2, 1), date(2025, 2, 21)),
        (7586, date(2018, 7, 1), date(2018, 7, 15)),
        (7586, date(2034, 6, 1), date(2043, 3, 6)),
        (7586, date(2026, 1, 1), date(2018, 7, 15)),
    ],
)
def test_date_from_factor_uses_the_window_around_the_reference(
    factor: int, reference: date, due: date
) -> None:
    assert boleto.date_from_factor(factor, reference) == due


def test_date_from_factor_zero_means_no_due_date() -> None:
    assert boleto.date_from_factor(0, date(2026, 1, 1)) is None


def test_window_edges() -> None:
    reference = date(2026, 1, 1)
    oldest = reference - timedelta(days=3000)
    newest = reference + timedelta(days=5500)
    assert boleto.date_from_factor(boleto.due_factor(oldest), reference) == oldest
    assert boleto.date_from_factor(boleto.due_factor(newest), reference) == newest


def test_factor_in_the_gap_between_windows_reads_as_the_nearest_date() -> None:
    # Candidates for 7586: 2018-07-15 and 2043-03-06. The window of 2027-01-01
    # (2018-10-15..2042-01-22) holds neither; 2018-07-15 (92 days before it) is nearer than
    # 2043-03-06 (408 days after it).
    assert boleto.date_from_factor(7586, date(2027, 1, 1)) == date(2018, 7, 15)


def test_date_from_factor_rejects_impossible_factors() -> None:
    with pytest.raises(BoletoError, match="fator de vencimento inválido: 0999"):
        boleto.date_from_factor(999, date(2026, 1, 1))


# ----------------------------------------------------------------------------- check digits


def test_mod10_and_mod11() -> None:
    assert boleto.mod10("001900000") == 9
    assert boleto.mod10("0114971860") == 1
    assert boleto.mod10("6852452211") == 4
    assert boleto.mod10("0") == 0
    barcode = "00196758600001026560000001149718606852452211"
    assert boleto.mod11_general(barcode[:4] + barcode[5:]) == 6


def test_general_dv_is_never_zero() -> None:
    # Sum mod 11 == 0 -> 11 - 0 = 11 -> 1; found by scanning amounts.
    for amount in range(1, 400):
        digits = f"3419{1000:04d}{amount:010d}" + "0" * 25
        assert boleto.mod11_general(digits) != 0


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (9, "campo 1 da linha digitável"),
        (20, "campo 2 da linha digitável"),
        (31, "campo 3 da linha digitável"),
        (32, "DV geral"),
    ],
)
def test_wrong_check_digit_names_the_field(position: int, field: str) -> None:
    wrong = str((int(BB_LINE[position]) + 1) % 10)
    if position == 32 and wrong == "0":
        wrong = "2"
    line = BB_LINE[:position] + wrong + BB_LINE[position + 1 :]
    with pytest.raises(BoletoError, match=f"^{field}: dígito verificador inválido") as info:
        boleto.parse(line, reference=date(2018, 7, 1))
    assert isinstance(info.value, InputError)
    assert info.value.field == field


def test_wrong_digit_inside_a_field_is_caught_by_its_dv() -> None:
    line = BB_LINE[:12] + "9" + BB_LINE[13:]
    with pytest.raises(BoletoError, match="campo 2 da linha digitável: dígito verificador"):
        boleto.parse(line, reference=date(2018, 7, 1))


def test_wrong_amount_is_caught_by_the_general_dv() -> None:
    line = BB_LINE[:-1] + "7"
    with pytest.raises(
        BoletoError, match="DV geral: dígito verificador inválido: esperado 3, encontrado 6"
    ):
        boleto.parse(line, reference=date(2018, 7, 1))


def test_wrong_barcode_general_dv() -> None:
    barcode = "00196758600001026560000001149718606852452211"
    with pytest.raises(BoletoError, match="DV geral"):
        boleto.parse(barcode[:4] + "5" + barcode[5:], reference=date(2018, 7, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0019000009011497186016852452211467586000010265", "encontrado 46 dígitos"),
        ("", "encontrado 0 dígitos"),
        ("00190.00009 01149.71860X", "caractere inválido: 'X'"),
    ],
)
def test_rejects_wrong_lengths_and_letters(text: str, message: str) -> None:
    with pytest.raises(BoletoError, match=message):
        boleto.parse(text, reference=date(2018, 7, 1))


# ----------------------------------------------------------------------------- arrecadação


@pytest.mark.parametrize(
    ("line", "segment", "amount"),
    [
        ("83640000001-1 33120138000-2 81288462711-6 08013618155-1", "3", 13312),
        ("85890000460-9 52460179160-5 60759305086-5 83148300001-0", "5", 4605246),
        ("846100000005246100291102005460339004695895061080", "4", 2461),
    ],
)
def test_reads_arrecadacao_lines(line: str, segment: str, amount: int) -> None:
    result = boleto.parse(line, reference=date(2020, 1, 1))
    assert result.kind == "arrecadacao"
    assert result.currency == segment
    assert result.amount_cents == amount
    assert result.due_date is None
    assert boleto.parse(result.barcode, reference=date(2020, 1, 1)) == result
    assert result.formatted_line.replace(" ", "").replace("-", "") == result.line


def test_arrecadacao_block_dv_error_names_the_block() -> None:
    line = "846100000005246100291102005460339004695895061081"
    with pytest.raises(BoletoError, match="bloco 4 da linha digitável: dígito verificador"):
        boleto.parse(line, reference=date(2020, 1, 1))


def test_arrecadacao_general_dv_error() -> None:
    barcode = "84610000000246100291100054603390069589506108"
    with pytest.raises(BoletoError, match="DV geral"):
        boleto.parse(barcode[:3] + "9" + barcode[4:], reference=date(2020, 1, 1))


def test_arrecadacao_with_unknown_value_identifier() -> None:
    with pytest.raises(BoletoError, match="identificação do valor inválida: 1"):
        boleto.parse("811" + "0" * 41, reference=date(2020, 1, 1))


# ----------------------------------------------------------------------------- make_barcode


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bank_code": "12"}, "código do banco inválido"),
        ({"bank_code": "812"}, "código do banco inválido"),
        ({"free_field": "123"}, "campo livre deve ter 25 dígitos"),
        ({"amount_cents": -1}, "valor fora do intervalo"),
        ({"amount_cents": 10_000_000_000}, "valor fora do intervalo"),
        ({"due_date": date(1999, 1, 1)}, "fora do intervalo representável"),
    ],
)
def test_make_barcode_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "bank_code": "001",
        "due_date": date(2026, 5, 1),
        "amount_cents": 100,
        "free_field": "0" * 25,
    }
    args.update(kwargs)
    with pytest.raises(BoletoError, match=message):
        boleto.make_barcode(**args)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- round trips

bank_codes = st.sampled_from(["001", "033", "104", "237", "341", "756", "077", "260"])
due_dates = st.dates(min_value=date(2000, 7, 3), max_value=date(2049, 10, 13))
amounts = st.integers(min_value=0, max_value=9_999_999_999)
free_fields = st.text(alphabet="0123456789", min_size=25, max_size=25)


@given(bank=bank_codes, due=due_dates, amount=amounts, free=free_fields)
def test_round_trip_through_line_and_barcode(bank: str, due: date, amount: int, free: str) -> None:
    barcode = boleto.make_barcode(
        bank_code=bank, due_date=due, amount_cents=amount, free_field=free
    )
    line = boleto.barcode_to_line(barcode)

    assert len(line) == 47
    assert boleto.line_to_barcode(line) == barcode
    assert boleto.line_to_barcode(boleto.format_line(line)) == barcode
    parsed = boleto.parse(boleto.format_line(line), reference=due)
    assert (parsed.bank_code, parsed.due_date, parsed.amount_cents, parsed.free_field) == (
        bank,
        due,
        amount or None,
        free,
    )


@given(
    due=due_dates,
    offset=st.integers(min_value=-3000, max_value=5500),
)
def test_any_date_in_the_window_decodes_back(due: date, offset: int) -> None:
    reference = due - timedelta(days=offset)
    assert boleto.date_from_factor(boleto.due_factor(due), reference) == due


@given(
    block=st.text(alphabet="0123456789", min_size=44, max_size=44),
    value_id=st.sampled_from("6789"),
)
def test_arrecadacao_round_trip(block: str, value_id: str) -> None:
    body = "8" + block[1] + value_id + block[4:]
    dv = boleto.mod10(body) if value_id in "67" else boleto.mod11_arrecadacao(body)
    barcode = body[:3] + str(dv) + body[3:]
    line = boleto.barcode_to_line(barcode)
    assert len(line) == 48
    assert boleto.line_to_barcode(line) == barcode
    assert boleto.parse(line, reference=date(2026, 1, 1)).barcode == barcode
