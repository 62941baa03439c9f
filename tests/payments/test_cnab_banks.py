"""Each bank's CNAB 400 layout, written at its manual's positions and read back: the registry
entry of a bank is its whole description (positions, date forms, codes, amount meanings)."""

from __future__ import annotations

from datetime import date

import pytest

from regua.payments.cnab import SettlementLine, cnab400, parse_return
from regua.payments.cnab.registry import LAYOUTS_400, supported_400

DAY = date(2026, 11, 20)


def _first(layout_code: str, kind: str) -> str:
    table = LAYOUTS_400[layout_code].occurrences
    return next(code for code, (_text, k) in sorted(table.items()) if k == kind)


@pytest.mark.parametrize("bank", sorted(LAYOUTS_400))
def test_every_bank_reads_back_what_its_layout_holds(bank: str) -> None:
    layout = LAYOUTS_400[bank]
    settles = _first(bank, "settlement")
    fee = 175 if layout.fee else 0
    item = SettlementLine(
        nosso_numero="4242",
        seu_numero="DOC-7" if layout.seu_numero else "",
        company_ref="",
        due_date=date(2026, 11, 18),
        face_cents=12000,
        paid_cents=12345,
        interest_cents=345 if layout.interest else 0,
        fee_cents=fee,
        paid_on=DAY,
        credited_on=date(2026, 11, 23) if layout.credited_on else None,
        occurrence=settles,
    )
    data = cnab400.write_return(
        company_code="1",
        company_document="11444777000161",
        company_name="Loja",
        generated_on=DAY,
        records=[item],
        bank_code=bank,
    )
    parsed = parse_return(data)
    [record] = parsed.records
    size = layout.nosso_numero[1] - layout.nosso_numero[0] + 1
    assert (parsed.bank_code, parsed.bank_name, parsed.warnings) == (bank, layout.bank_name, ())
    assert (record.nosso_numero, record.occurrence, record.kind) == (
        "4242".zfill(size),
        settles,
        "settlement",
    )
    # What the payer paid, the fee and the credit, whichever of them the bank writes.
    assert (record.paid_cents, record.fee_cents, record.net_cents) == (12345, fee, 12345 - fee)
    assert (record.paid_on, record.due_date, record.credited_on) == (
        DAY,
        date(2026, 11, 18),
        item.credited_on,
    )
    assert record.seu_numero == item.seu_numero
    assert record.interest_cents == item.interest_cents


@pytest.mark.parametrize("bank", sorted(LAYOUTS_400))
def test_every_bank_table_has_a_settling_code_and_unknown_codes_never_settle(bank: str) -> None:
    table = LAYOUTS_400[bank].occurrences
    assert any(kind == "settlement" for _text, kind in table.values())
    assert all(len(code) == 2 and code.isdigit() for code in table)


def test_the_supported_list_names_each_bank_once() -> None:
    listed = supported_400()
    assert listed.count("341 Itaú") == 1 and listed.startswith("001 Banco do Brasil")
