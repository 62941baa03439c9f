"""Naming a creditor: by id, CNPJ or name; the only one when none is named; never a guess."""

from __future__ import annotations

import pytest

from regua.domain.creditor_choice import CreditorChoiceError, CreditorName, choose_creditor

ALFA = CreditorName(1, "Loja Alfa Ltda", "06990590000123")
BETA = CreditorName(2, "Comércio Beta S.A.", "11444777000161", trade_name="Beta")
BETA_FILHO = CreditorName(3, "Beta Filho Comércio Ltda", "52998224725")


def test_the_only_creditor_needs_no_name() -> None:
    assert choose_creditor([ALFA], None) == 1
    assert choose_creditor([ALFA], "  ") == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2", 2),
        ("11.444.777/0001-61", 2),
        ("11444777000161", 2),
        ("529.982.247-25", 3),
        ("beta", 2),  # the trade name, exactly: not Beta Filho
        ("Comercio Beta SA", 2),
        ("COMÉRCIO-BETA-S-A", 2),
        ("alfa", 1),  # a part of one name only
        ("filho", 3),
    ],
)
def test_a_creditor_is_named_by_id_document_or_name(given: str, expected: int) -> None:
    assert choose_creditor([ALFA, BETA, BETA_FILHO], given) == expected


def test_several_and_none_named_lists_them() -> None:
    with pytest.raises(CreditorChoiceError) as error:
        choose_creditor([ALFA, BETA], None)
    message = str(error.value)
    assert message.startswith("este banco tem 2 credores; escolha um com --credor")
    assert "#1 Loja Alfa Ltda (loja-alfa-ltda)" in message and "#2 Beta (beta)" in message


def test_a_name_of_several_or_of_none_is_refused() -> None:
    with pytest.raises(CreditorChoiceError, match="mais de um credor"):
        choose_creditor([ALFA, BETA, BETA_FILHO], "comercio")
    with pytest.raises(CreditorChoiceError, match="credor não encontrado: 9"):
        choose_creditor([ALFA, BETA], "9")
    with pytest.raises(CreditorChoiceError, match="banco sem credor"):
        choose_creditor([], None)


def test_a_long_list_names_ten_and_points_to_the_listing() -> None:
    many = [CreditorName(n, f"Credor {n} Ltda", f"{n:014d}") for n in range(1, 31)]
    with pytest.raises(CreditorChoiceError) as error:
        choose_creditor(many, None)
    message = str(error.value)
    assert "#10 Credor 10 Ltda" in message and "#11 " not in message
    assert message.endswith("e mais 20 (regua credor listar)")
