"""A realistic render context with sample data, for tests, template lint and previews.

Its shape is the one the dispatch service builds from the store (see ``regua.channels.rendering``);
the figures are examples, not the fee rules of ``regua.domain.fees``.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import segno

from regua.channels.context_items import invoice_item, invoice_sections
from regua.domain.documents import parse_tax_id
from regua.domain.money import round_half_up

SAMPLE_PIX_CODE = (
    # The static example of the BCB BR Code manual (see BRAZIL.md §1.3), CRC included.
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)

# The early-payment discount's own code: R$ 146,90 to the sample creditor's CNPJ key, as
# `payments.pix.encode_static` writes it (txid REGUA1042), CRC included.
SAMPLE_EARLY_PIX_CODE = (
    "00020126360014br.gov.bcb.pix0114112223330001815204000053039865406146.905802BR5918Conecta "
    "Fibra Ltda6009Sao Paulo61080101000062130509REGUA1042630412D2"
)
SAMPLE_PORTAL_URL = "https://pagar.conectafibra.com.br/p/7Hk2QaLm9xVb3TnR8wYc1ZdEf4GhJ5KpQ6s"


def _sample_invoice(
    today: date, days_late: int, number: str, description: str, principal: int
) -> dict[str, Any]:
    due = today - timedelta(days=days_late)
    late = days_late > 0
    # Sample figures only (domain.fees computes real ones): multa 2% (CDC art. 52 §1) and
    # juros de mora 1% a.m. pro rata die, simple, on the principal.
    late_fee = round_half_up(Fraction(principal * 2, 100)) if late else 0
    interest = round_half_up(Fraction(principal * days_late, 100 * 30)) if late else 0
    return invoice_item(
        number=number,
        description=description,
        issue_date=due - timedelta(days=20),
        due_date=due,
        days_late=days_late,
        amount_cents=principal,
        balance_cents=principal,
        principal_cents=principal,
        late_fee_cents=late_fee,
        interest_cents=interest,
    )


def sample_context(
    today: date,
    *,
    offset: int = 3,
    invoices: int = 1,
    days_late: tuple[int, ...] | None = None,
    consumer: bool = True,
) -> dict[str, Any]:
    """A realistic context for tests, lint and previews.

    Args:
        today: the send date.
        offset: the step offset in days from the due date (-3 = three days before it).
        invoices: how many open invoices the action covers (1 or more).
        days_late: each invoice's days since its due date (negative: not yet due), instead of
            `invoices` invoices all at `offset`.
        consumer: a person (CPF) or, when False, a company (CNPJ).
    """
    samples = [
        ("NF-1042", "Plano Internet Fibra 300 Mega", 14990),
        ("NF-1043", "Instalação do roteador Wi-Fi", 8000),
        ("NF-1044", "Ponto adicional de Wi-Fi", 2990),
        ("NF-1045", "Mensalidade do roteador", 1990),
    ]
    lateness = days_late if days_late is not None else (offset,) * max(1, invoices)
    items = [
        _sample_invoice(today, days, *samples[i % len(samples)]) for i, days in enumerate(lateness)
    ]
    pix_code = SAMPLE_PIX_CODE
    return {
        "today": today,
        "customer": {
            "id": "c-1001",
            "name": "Maria da Conceição Souza",
            "first_name": "Maria",
            "document": parse_tax_id("52998224725").formatted,
            "kind": "cpf",
            "consumer": True,
        }
        if consumer
        else {
            "id": "c-2001",
            "name": "Pet Shop Cão Feliz Ltda",
            "first_name": "Pet Shop Cão Feliz Ltda",
            "document": parse_tax_id("06990590000123").formatted,
            "kind": "cnpj",
            "consumer": False,
        },
        "creditor": {
            "name": "Conecta Fibra Ltda",
            "trade_name": "Conecta Fibra",
            "document": parse_tax_id("11222333000181").formatted,
            "phone": "(11) 4002-8922",
            "email": "atendimento@conectafibra.com.br",
            "address": "Rua das Flores, 123, Centro, São Paulo - SP, 01010-000",
            "website": "www.conectafibra.com.br",
        },
        **invoice_sections(items, offset),
        "payment": {
            "pix_code": pix_code,
            "pix_amount_cents": sum(i["total_cents"] for i in items),
            "pix_qr_svg": segno.make(pix_code, error="m").svg_inline(scale=3),
            "boleto_line": "34191.79001 01043.510047 91020.150008 1 12340000014990",
            # As long as a real link (`domain.customer_links`: a 35-character token), so that
            # the SMS budget is checked with one.
            "portal_url": SAMPLE_PORTAL_URL,
            # The early-payment discount a preventive reminder states (2 % off, 5 days before),
            # as `services.message_context` gives it: one invoice, its last day not passed.
            "early": {
                "discount_cents": 300,
                "amount_cents": 14_690,
                "pay_by": today + timedelta(days=-offset - 5),
                "pix_code": SAMPLE_EARLY_PIX_CODE,
            }
            if len(items) == 1 and offset <= -5
            else None,
        },
        "step": {"id": f"etapa{offset:+d}", "offset": offset},
        "contact": {
            "phone": "(11) 4002-8922",
            "whatsapp": "(11) 98765-4321",
            "email": "atendimento@conectafibra.com.br",
            "hours": "de segunda a sexta, das 8h às 20h, e aos sábados, das 8h às 14h",
        },
        "opt_out": {"keyword": "SAIR"},
        "operator": {"name": "Ana"},
        "offers": {"installments_max": 6, "installment_min_cents": 5000, "new_due_days": 7},
        # An installment's messages (templates acordo_parcela_*) state these.
        "installment": {
            "agreement_id": 12,
            "made_on": today - timedelta(days=40),
            "number": 2,
            "count": 3,
            "label": "parcela 2 de 3",
            "amount_cents": 8_000,
            "balance_cents": 8_000,
            "due_date": today + timedelta(days=-offset),
            "break_on": today + timedelta(days=30 - offset),
            "pay_by": today + timedelta(days=29 - offset),
        },
        # A broken agreement's message (template acordo_quebrado) states these.
        "agreement": {
            "id": 12,
            "made_on": today - timedelta(days=75),
            "broken_on": today,
            "reason": "parcela 2 vencida em 08/10/2026 está 30 dias em atraso (limite 30)",
            "paid_cents": 8_000,
            "owed_principal_cents": sum(i["principal_cents"] for i in items),
            "owed_total_cents": sum(i["total_cents"] for i in items),
        },
    }
