"""The early-payment discount (negotiation.early_payment: 2 % if paid 5 days before): the
preventive reminder states it with a PIX code of its own for the discounted amount and its last
day; paying at least that by then settles the invoice in full, the discount recorded; later or
smaller payments count as usual."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.channels.rendering import render
from regua.payments.pix import decode
from regua.payments.webhooks import PixReceived, PixRefund
from regua.policies.loader import DEFAULT_POLICY_FILE
from regua.services.customer_page import customer_page
from regua.services.daily_cycle import plan
from regua.services.messages import PreparedMessage, prepare_messages
from regua.services.pix_receipts import receive_pix
from regua.services.policies import apply_policy_text
from regua.store.message_context import store_txids
from regua.store.tables import actions, invoices
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()  # Monday 23/11/2026
DUE = date(2026, 12, 3)  # Thursday; the discount's last day is 5 days before: 28/11
# A reminder 10 days before the due date, so that the discount is still to be had.
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9101;NF-9101;C1;Mensalidade dezembro;03/12/2026;250,00;aberto
"""


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


@pytest.fixture
def reminded(engine: Engine, creditor_id: int, tmp_path: Path) -> PreparedMessage:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    text = Path(__file__).parents[2] / "src/regua/policies/defaults" / DEFAULT_POLICY_FILE
    policy = text.read_text(encoding="utf-8").replace(
        "  - id: lembrete\n    offset: -3\n", "  - id: lembrete\n    offset: -10\n", 1
    )
    with engine.begin() as connection:
        apply_policy_text(connection, creditor_id, policy, "padrao.yaml", NOW)
        plan(connection, creditor_id, TODAY, _noon(TODAY))
        action_id = connection.execute(
            select(actions.c.id).where(actions.c.step_id == "lembrete")
        ).scalar_one()
        prepared, txids = prepare_messages(connection, [action_id], now=_noon(TODAY))
        store_txids(connection, txids)
    message = prepared[action_id]
    assert isinstance(message, PreparedMessage)
    return message


def _pay(engine: Engine, creditor_id: int, txid: str, cents: int, on: date) -> None:
    receive_pix(
        units(engine),
        creditor_id,
        [PixReceived(f"E{on:%d%m}{cents}", txid, cents, _noon(on), None)],
        now=_noon(on),
    )


def _invoice(engine: Engine) -> tuple[str, int, int | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(invoices.c.status, invoices.c.balance_cents, invoices.c.discount_cents).where(
                invoices.c.external_id == "9101"
            )
        ).one()
    return row.status, row.balance_cents, row.discount_cents


def test_the_reminder_states_the_discount_with_its_own_pix(reminded: PreparedMessage) -> None:
    early = reminded.context["payment"]["early"]
    # 2 % of R$ 250,00 = R$ 5,00; paid by 28/11/2026 (5 days before 03/12).
    assert (early["discount_cents"], early["amount_cents"]) == (500, 24_500)
    assert early["pay_by"] == date(2026, 11, 28)
    code = decode(early["pix_code"])
    full = decode(reminded.context["payment"]["pix_code"])
    assert (code.amount_cents, full.amount_cents) == (24_500, 25_000)
    assert code.txid == full.txid  # the payment finds its invoice either way
    email = render("lembrete_vencimento", "email", reminded.context)
    assert (
        "Desconto por antecipação: pagando até 28/11/2026, você paga R$ 245,00 em vez de "
        "R$ 250,00 (desconto de R$ 5,00)."
    ) in email.text
    assert early["pix_code"] in email.text
    whatsapp = render("lembrete_vencimento", "whatsapp", reminded.context)
    assert "pagando até *28/11/2026*, você paga *R$ 245,00* em vez de R$ 250,00" in whatsapp.text
    assert early["pix_code"] in whatsapp.text


def test_the_discounted_amount_paid_by_the_last_day_settles_in_full(
    engine: Engine, creditor_id: int, reminded: PreparedMessage
) -> None:
    txid = decode(reminded.context["payment"]["early"]["pix_code"]).txid
    assert txid is not None
    _pay(engine, creditor_id, txid, 24_500, date(2026, 11, 28))
    assert _invoice(engine) == ("paid", 0, 500)
    page = customer_page(
        units(engine), creditor_id, "C1", today=date(2026, 11, 28), timezone="America/Sao_Paulo"
    )
    assert [line.what for line in page.timeline if line.kind == "discount"] == [
        "fatura NF-9101 quitada com desconto por antecipação de R$ 5,00 (pago até 28/11/2026)"
    ]


@pytest.mark.parametrize(
    ("cents", "on", "balance"),
    [
        (24_500, date(2026, 11, 29), 500),  # a day late for the discount
        (24_000, date(2026, 11, 27), 1_000),  # in time, but less than the discounted amount
    ],
)
def test_a_late_or_smaller_payment_counts_as_usual(
    engine: Engine,
    creditor_id: int,
    reminded: PreparedMessage,
    cents: int,
    on: date,
    balance: int,
) -> None:
    txid = decode(reminded.context["payment"]["pix_code"]).txid
    assert txid is not None
    _pay(engine, creditor_id, txid, cents, on)
    assert _invoice(engine) == ("open", balance, None)


def test_a_discounted_payment_given_back_reopens_the_whole_debt(
    engine: Engine, creditor_id: int, reminded: PreparedMessage
) -> None:
    txid = decode(reminded.context["payment"]["early"]["pix_code"]).txid
    assert txid is not None
    _pay(engine, creditor_id, txid, 24_500, date(2026, 11, 28))
    assert _invoice(engine) == ("paid", 0, 500)
    back = _noon(date(2026, 11, 30))
    refund = PixRefund("D1", 24_500, "DEVOLVIDO", back)
    receive_pix(
        units(engine),
        creditor_id,
        [
            PixReceived(
                "E281124500", txid, 24_500, _noon(date(2026, 11, 28)), None, 24_500, (refund,)
            )
        ],
        now=back,
    )
    # The R$ 245,00 went back: R$ 250,00 is owed again, not R$ 245,00.
    assert _invoice(engine) == ("open", 25_000, None)
