"""Money parsing/formatting and Brazilian documents, through the libraries that know them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.documents import (
    DocumentError,
    format_phone,
    normalize_email,
    normalize_phone,
    parse_tax_id,
)
from regua.domain.money import MoneyFormatError, format_brl, parse_brl


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234,56", 123456),
        ("1234.56", 123456),
        ("1,234.56", 123456),
        ("R$ 1.234,56", 123456),
        ("R$\u00a01.234,5", 123450),
        ("1.234", 123400),
        ("0,01", 1),
        ("99", 9900),
        ("-10,00", -1000),
        ("1.234.567,89", 123456789),
    ],
)
def test_parse_brl(text: str, cents: int) -> None:
    assert parse_brl(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12,345,6", "1.23.4"])
def test_parse_brl_rejects_garbage(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_brl(text)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_then_parse_round_trip(cents: int) -> None:
    assert parse_brl(format_brl(cents)) == cents


def test_format_brl_pt_br() -> None:
    assert format_brl(123456) == "R$ 1.234,56"
    assert format_brl(5) == "R$ 0,05"
    assert format_brl(-100_000_000) == "-R$ 1.000.000,00"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_brl_writes_what_babel_writes_for_pt_br(cents: int) -> None:
    babel = format_currency(Decimal(cents) / 100, "BRL", locale="pt_BR").replace("\u00a0", " ")
    assert format_brl(cents) == babel


@pytest.mark.parametrize(
    ("text", "kind", "number", "formatted"),
    [
        ("529.982.247-25", "cpf", "52998224725", "529.982.247-25"),
        ("52998224725", "cpf", "52998224725", "529.982.247-25"),
        ("3905334402", "cpf", "03905334402", "039.053.344-02"),  # leading zero dropped by Excel
        ("11.444.777/0001-61", "cnpj", "11444777000161", "11.444.777/0001-61"),
        ("12.ABC.345/01DE-35", "cnpj", "12ABC34501DE35", "12.ABC.345/01DE-35"),  # IN RFB 2.229
        ("12abc34501de35", "cnpj", "12ABC34501DE35", "12.ABC.345/01DE-35"),
    ],
)
def test_tax_ids(text: str, kind: str, number: str, formatted: str) -> None:
    tax_id = parse_tax_id(text)
    assert (tax_id.kind, tax_id.number, tax_id.formatted) == (kind, number, formatted)


@pytest.mark.parametrize("text", ["111.111.111-11", "123.456.789-00", "11.444.777/0001-62", "x"])
def test_invalid_tax_ids(text: str) -> None:
    with pytest.raises(DocumentError, match="inválido"):
        parse_tax_id(text)


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("11987654321", "+5511987654321"),
        ("+55 11 98765 4321", "+5511987654321"),
        ("011 98765-4321", "+5511987654321"),
        ("0 21 11 98765-4321", "+5511987654321"),  # carrier selection code
        ("(21) 3222-1111", "+552132221111"),
    ],
)
def test_phones_normalise_to_e164(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


def test_bad_phone_and_email() -> None:
    with pytest.raises(DocumentError, match="telefone inválido: 123"):
        normalize_phone("123")
    with pytest.raises(DocumentError, match="e-mail inválido"):
        normalize_email("fulano@")
    assert normalize_email(" Fulano@Exemplo.COM.br ") == "fulano@exemplo.com.br"
    assert format_phone("+5511987654321") == "(11) 98765-4321"
