"""The banks regua reads, by layout: the one place that lists ``banks``' modules."""

from __future__ import annotations

from regua.payments.cnab.banks import (
    ailos,
    banco_do_brasil,
    banco_do_nordeste,
    banrisul,
    bradesco,
    brb,
    caixa,
    cresol,
    fibra,
    inter,
    itau,
    pine,
    safra,
    santander,
    sicoob,
    sicredi,
    unicred,
)
from regua.payments.cnab.layouts import Layout240, Layout400

LAYOUTS_400: dict[str, Layout400] = {
    m.CNAB400.bank_code: m.CNAB400
    for m in (
        banco_do_brasil,
        banco_do_nordeste,
        banrisul,
        bradesco,
        brb,
        caixa,
        cresol,
        fibra,
        inter,
        itau,
        pine,
        safra,
        santander,
        sicoob,
        sicredi,
        unicred,
    )
}
LAYOUTS_240: dict[str, Layout240] = {
    m.CNAB240.bank_code: m.CNAB240
    for m in (
        ailos,
        banco_do_brasil,
        banrisul,
        bradesco,
        caixa,
        cresol,
        itau,
        santander,
        sicoob,
        sicredi,
    )
}


def supported_400() -> str:
    """'001 Banco do Brasil, 004 Banco do Nordeste, ...' for messages."""
    return ", ".join(f"{code} {layout.bank_name}" for code, layout in sorted(LAYOUTS_400.items()))


def layout_240(bank_code: str) -> Layout240 | None:
    return LAYOUTS_240.get(bank_code)
