"""The early-payment discount (negotiation.early_payment: 2 % if paid 5 days before): the
packaged régua's preventive reminder (D-7) states it on every channel with a PIX code of its own
for the discounted amount and its last day; a reminder that comes after that day says nothing of
it; paying at least that by then settles the invoice in full, the discount recorded; later or
smaller payments count as usual."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from regua.channels.letter import letter_metadata, letter_pdf_from_message
from regua.channels.rendering import render
from regua.domain.customer_links import LinkPurpose, read_link_token
from regua.payments.pix import decode
from regua.payments.webhooks import PixReceived, PixRefund
from regua.policies.loader import DEFAULT_POLICY_FILE
from regua.services.customer_page import customer_page
from regua.services.daily_cycle import plan
from regua.services.message_context import PortalLinks
from regua.services.messages import PreparedMessage, prepare_messages
from regua.services.pix_receipts import receive_pix
from regua.services.policies import apply_policy_text
from regua.store.message_context import store_txids
from regua.store.tables import actions, customers, invoices
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv
from tests.pdf_codes import qr_codes_in_pdf

TODAY = NOW.date()  # Monday 23/11/2026
DUE = date(2026, 11, 30)  # next Monday: the reminder (D-7) is today; the discount holds to 25/11
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9101;NF-9101;C1;Mensalidade dezembro;{due:%d/%m/%Y};250,00;aberto
"""
PORTAL = PortalLinks("https://pagar.exemplo.com.br/p", "segredo-dos-links-de-teste")


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def _remind(
    engine: Engine, creditor_id: int, tmp_path: Path, due: date, reminder_offset: int = -7
) -> PreparedMessage:
    """The preventive reminder of the packaged régua (its day moved to `reminder_offset`) to
    José, whose one invoice falls due on `due`, prepared today with the portal configured."""
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    bills = write_csv(tmp_path / "t.csv", INVOICES.format(due=due))
    run_import(engine, "invoices", bills, creditor_id)
    text = Path(__file__).parents[2] / "src/regua/policies/defaults" / DEFAULT_POLICY_FILE
    policy = text.read_text(encoding="utf-8")
    assert "  - id: lembrete\n    offset: -7\n" in policy
    policy = policy.replace(
        "  - id: lembrete\n    offset: -7\n", f"  - id: lembrete\n    offset: {reminder_offset}\n"
    )
    with engine.begin() as connection:
        apply_policy_text(connection, creditor_id, policy, "padrao.yaml", NOW)
        plan(connection, creditor_id, TODAY, _noon(TODAY))
        action_id = connection.execute(
            select(actions.c.id).where(actions.c.step_id == "lembrete")
        ).scalar_one()
        prepared, txids = prepare_messages(connection, [action_id], now=_noon(TODAY), portal=PORTAL)
        store_txids(connection, txids)
    message = prepared[action_id]
    assert isinstance(message, PreparedMessage)
    return message


@pytest.fixture
def reminded(engine: Engine, creditor_id: int, tmp_path: Path) -> PreparedMessage:
    return _remind(engine, creditor_id, tmp_path, DUE)


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
    # 2 % of R$ 250,00 = R$ 5,00; paid by 25/11/2026 (5 days before 30/11).
    assert (early["discount_cents"], early["amount_cents"]) == (500, 24_500)
    assert early["pay_by"] == date(2026, 11, 25)
    code = decode(early["pix_code"])
    full = decode(reminded.context["payment"]["pix_code"])
    assert (code.amount_cents, full.amount_cents) == (24_500, 25_000)
    assert code.txid == full.txid  # the payment finds its invoice either way
    email = render("lembrete_vencimento", "email", reminded.context)
    assert (
        "Desconto por antecipação: pagando até 25/11/2026, você paga R$ 245,00 em vez de "
        "R$ 250,00 (desconto de R$ 5,00)."
    ) in email.text
    assert early["pix_code"] in email.text
    assert email.html is not None and early["pix_code"] in email.html
    whatsapp = render("lembrete_vencimento", "whatsapp", reminded.context)
    assert "pagando até *25/11/2026*, você paga *R$ 245,00* em vez de R$ 250,00" in whatsapp.text
    assert early["pix_code"] in whatsapp.text
    # Outside the 24 h window: the approved template of its own, the code a parameter.
    assert whatsapp.whatsapp_template == "regua_lembrete_vencimento_desconto"
    assert whatsapp.whatsapp_template_text is not None
    assert (
        "Pagando até 25/11/2026, você paga R$ 245,00 (desconto de R$ 5,00). PIX copia e cola "
        "desse valor, válido para pagamento até 25/11/2026: " + early["pix_code"]
    ) in whatsapp.whatsapp_template_text
    [param] = [p for p in whatsapp.whatsapp_params if p.startswith("000201")]
    assert decode(param).amount_cents == 24_500
    sms = render("lembrete_vencimento", "sms", reminded.context)
    assert (
        "Sua fatura de R$ 250,00 vence em 30/11/2026. Pagando ate 25/11/2026, sai por R$ 245,00 "
        "com este PIX copia e cola: " + early["pix_code"]
    ) in sms.text
    assert sms.sms_segments == 3


def test_a_reminder_after_the_discount_s_last_day_says_nothing_of_it(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    # A reminder at D-3, as the packaged régua had it: due on Thursday 26/11, the discount's
    # last day (D-5) was Saturday. The reminder goes without a word of a discount.
    late = _remind(engine, creditor_id, tmp_path, date(2026, 11, 26), reminder_offset=-3)
    assert late.context["payment"]["early"] is None
    with engine.connect() as connection:
        offered = connection.execute(select(invoices.c.early_discount_cents)).scalar_one()
    assert offered is None  # nothing offered: a payment of less stays a partial payment
    email = render("lembrete_vencimento", "email", late.context)
    whatsapp = render("lembrete_vencimento", "whatsapp", late.context)
    sms = render("lembrete_vencimento", "sms", late.context)
    letter = render("lembrete_vencimento", "letter", late.context)
    assert whatsapp.whatsapp_template == "regua_lembrete_vencimento"
    texts = [email.text, email.html, whatsapp.text, whatsapp.whatsapp_template_text, sms.text]
    for text in [*texts, letter.text]:
        assert text is not None and "desconto" not in text.lower()
        assert "245,00" not in text
    assert "R$ 250,00" in email.text and "26/11/2026" in email.text


def test_the_letter_states_the_discount_only_when_the_post_can_bring_it_in_time(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    # A reminder 10 days before: the discount holds 5 more days, time for a letter to arrive.
    ahead = _remind(engine, creditor_id, tmp_path, date(2026, 12, 3), reminder_offset=-10)
    early = ahead.context["payment"]["early"]
    assert early["pay_by"] == date(2026, 11, 28)
    letter = render("lembrete_vencimento", "letter", ahead.context)
    assert (
        "Desconto por antecipação: pagando até 28/11/2026, você paga R$ 245,00 em vez de "
        "R$ 250,00 (desconto de R$ 5,00)."
    ) in letter.text
    assert "[QR Code Pix com desconto]" in letter.text  # where the PDF prints its code
    # On paper, what the camera reads: the discounted PIX, the whole one, José's portal link.
    pdf = letter_pdf_from_message(
        letter.to_outgoing(
            to="Rua Augusta, 500\nConsolação, São Paulo - SP\n01304-000",
            to_name="José da Conceição",
            idempotency_key="act-1",
            metadata=letter_metadata(ahead.context),
        )
    )
    discounted, whole, link = qr_codes_in_pdf(pdf)
    assert (decode(discounted).amount_cents, decode(whole).amount_cents) == (24_500, 25_000)
    with engine.connect() as connection:
        jose = connection.execute(
            select(customers.c.id).where(customers.c.external_id == "C1")
        ).scalar_one()
    assert link.startswith("https://pagar.exemplo.com.br/p/")
    token = link.rsplit("/", 1)[1]
    assert read_link_token(PORTAL.secret, LinkPurpose.PORTAL, token, TODAY) == jose
    # Seven days before (the packaged day), the letter would arrive after 25/11: not a word.
    assert "desconto" not in render("lembrete_vencimento", "letter", _context_on(ahead, 3)).text


def _context_on(message: PreparedMessage, days_later: int) -> dict[str, Any]:
    context = dict(message.context)
    context["today"] = message.context["today"] + timedelta(days=days_later)
    return context


def test_the_discounted_amount_paid_by_the_last_day_settles_in_full(
    engine: Engine, creditor_id: int, reminded: PreparedMessage
) -> None:
    txid = decode(reminded.context["payment"]["early"]["pix_code"]).txid
    assert txid is not None
    _pay(engine, creditor_id, txid, 24_500, date(2026, 11, 25))
    assert _invoice(engine) == ("paid", 0, 500)
    page = customer_page(
        units(engine), creditor_id, "C1", today=date(2026, 11, 25), timezone="America/Sao_Paulo"
    )
    assert [line.what for line in page.timeline if line.kind == "discount"] == [
        "fatura NF-9101 quitada com desconto por antecipação de R$ 5,00 (pago até 25/11/2026)"
    ]


@pytest.mark.parametrize(
    ("cents", "on", "balance"),
    [
        (24_500, date(2026, 11, 26), 500),  # a day late for the discount
        (24_000, date(2026, 11, 24), 1_000),  # in time, but less than the discounted amount
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
    _pay(engine, creditor_id, txid, 24_500, date(2026, 11, 25))
    assert _invoice(engine) == ("paid", 0, 500)
    back = _noon(date(2026, 11, 27))
    refund = PixRefund("D1", 24_500, "DEVOLVIDO", back)
    receive_pix(
        units(engine),
        creditor_id,
        [
            PixReceived(
                "E251124500", txid, 24_500, _noon(date(2026, 11, 25)), None, 24_500, (refund,)
            )
        ],
        now=back,
    )
    # The R$ 245,00 went back: R$ 250,00 is owed again, not R$ 245,00.
    assert _invoice(engine) == ("open", 25_000, None)
