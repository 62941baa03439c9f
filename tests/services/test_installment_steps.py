"""An agreement's installments follow their own steps (negotiation.installment_steps): a
reminder before each due date, a notice on the day, a warning before the agreement breaks;
never the régua's collection steps. Planned day after day over the store, read as the customer
reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.channels.rendering import render
from regua.domain.money import format_brl
from regua.payments.pix import decode
from regua.payments.webhooks import PixReceived
from regua.services import agreements
from regua.services.agreements import AgreementMade, AgreementRequest
from regua.services.daily_cycle import plan
from regua.services.messages import PreparedMessage, prepare_messages
from regua.services.pix_receipts import receive_pix
from regua.store.tables import actions
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()  # Monday 23/11/2026
# One invoice 13 days late: the default régua's first rule (up to 3x, no interest).
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9003;NF-9003;C3;Parcela;10/11/2026;200,00;aberto
"""


@pytest.fixture
def made(engine: Engine, creditor_id: int, tmp_path: Path) -> AgreementMade:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return agreements.create_agreement(
        units(engine),
        creditor_id,
        AgreementRequest("C3", offer=3),
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def _plan_days(engine: Engine, creditor_id: int, first: date, last: date) -> None:
    day = first
    while day <= last:
        with engine.begin() as connection:
            plan(connection, creditor_id, day, _noon(day))
        day += timedelta(days=1)


def _pay(engine: Engine, creditor_id: int, txid: str, cents: int, on: date) -> None:
    receive_pix(
        units(engine),
        creditor_id,
        [PixReceived(f"E{txid}", txid, cents, _noon(on), None)],
        now=_noon(on),
    )


def _planned(engine: Engine) -> list[tuple[date, str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(actions.c.planned_for, actions.c.step_id, actions.c.template, actions.c.id)
            # A planned action not sent yet is cancelled once its installment is paid; it was
            # planned all the same. A deferred one is planned again the next open day.
            .where(actions.c.status != "deferred", actions.c.purpose == "collection")
            .order_by(actions.c.planned_for)
        ).all()
    return [(r.planned_for, r.step_id, r.template, r.id) for r in rows]


def _message(engine: Engine, action_id: int, day: date) -> PreparedMessage:
    with engine.connect() as connection:
        prepared, _ = prepare_messages(connection, [action_id], now=_noon(day))
    message = prepared[action_id]
    assert isinstance(message, PreparedMessage), message
    return message


def test_installments_get_their_own_steps_and_never_a_collection_step(
    engine: Engine, creditor_id: int, made: AgreementMade
) -> None:
    parts = made.installments
    assert [p.number for p in parts] == [1, 2, 3]
    assert sum(p.amount_cents for p in parts) == 20_000
    last = parts[-1].due_date
    day = TODAY
    # The first two are paid on their day; the third is left unpaid.
    for part in parts[:2]:
        _plan_days(engine, creditor_id, day, part.due_date)
        _pay(engine, creditor_id, part.pix_txid, part.amount_cents, part.due_date)
        day = part.due_date + timedelta(days=1)
    _plan_days(engine, creditor_id, day, last + timedelta(days=10))

    planned = _planned(engine)
    templates = [template for _, _, template, _ in planned]
    assert templates == [
        "acordo_parcela_lembrete",
        "acordo_parcela_vence_hoje",
        "acordo_parcela_lembrete",
        "acordo_parcela_vence_hoje",
        "acordo_parcela_lembrete",
        "acordo_parcela_vence_hoje",
        "acordo_parcela_atraso",
    ]
    # On their days (or the next open day, a weekend or holiday defers a contact).
    for (on, step_id, _, _), part, offset in zip(
        planned, [p for p in parts for _ in (0, 1)] + [parts[2]], [-3, 0] * 3 + [3], strict=True
    ):
        target = part.due_date + timedelta(days=offset)
        assert target <= on <= target + timedelta(days=3), (step_id, on, target)
    assert not {"aviso-negativacao", "negativacao"} & {step for _, step, _, _ in planned}


def test_the_messages_state_the_installment_its_pix_and_when_the_agreement_breaks(
    engine: Engine, creditor_id: int, made: AgreementMade
) -> None:
    parts = made.installments
    second, third = parts[1], parts[2]
    _pay(engine, creditor_id, parts[0].pix_txid, parts[0].amount_cents, parts[0].due_date)
    _pay(engine, creditor_id, second.pix_txid, second.amount_cents, second.due_date)
    _plan_days(
        engine, creditor_id, third.due_date - timedelta(days=4), third.due_date + timedelta(days=6)
    )
    planned = {template: (on, action_id) for on, _, template, action_id in _planned(engine)}

    on, action_id = planned["acordo_parcela_lembrete"]
    message = _message(engine, action_id, on)
    amount = format_brl(third.amount_cents)
    due = f"{third.due_date:%d/%m/%Y}"
    whatsapp = render("acordo_parcela_lembrete", "whatsapp", message.context)
    assert f"acordo {made.agreement_id}, feito em {TODAY:%d/%m/%Y}" in whatsapp.text
    assert f"a parcela 3 de 3, no valor de *{amount}*, vence em *{due}*" in whatsapp.text
    code = message.context["payment"]["pix_code"]
    assert code in whatsapp.text
    decoded = decode(code)
    assert (decoded.amount_cents, decoded.txid) == (third.amount_cents, third.pix_txid)
    sms = render("acordo_parcela_lembrete", "sms", message.context)
    assert f"Acordo {made.agreement_id}: parcela 3 de 3 de {amount} vence em {due}" in sms.text
    email = render("acordo_parcela_lembrete", "email", message.context)
    assert email.subject == f"Acordo {made.agreement_id}: parcela 3 de 3 vence em {due}"

    on, action_id = planned["acordo_parcela_atraso"]
    message = _message(engine, action_id, on)
    # The default terms break an agreement when an installment is 30 days late.
    breaks = third.due_date + timedelta(days=30)
    pay_by = breaks - timedelta(days=1)
    whatsapp = render("acordo_parcela_atraso", "whatsapp", message.context)
    assert f"A parcela 3 de 3 do acordo {made.agreement_id}, de *{amount}*, venceu em {due}" in (
        whatsapp.text
    )
    assert (
        f"*O acordo será quebrado em {breaks:%d/%m/%Y} se a parcela não for paga até "
        f"{pay_by:%d/%m/%Y}.*"
    ) in whatsapp.text
    assert "a dívida original volta a ser cobrada, menos o que já foi pago" in whatsapp.text
    decoded = decode(message.context["payment"]["pix_code"])
    assert decoded.txid == third.pix_txid
    assert decoded.amount_cents == message.context["payment"]["pix_amount_cents"]
    assert decoded.amount_cents >= third.amount_cents
    assert whatsapp.whatsapp_template_text is not None
    assert f"quebrado em {breaks:%d/%m/%Y}" in whatsapp.whatsapp_template_text
    sms = render("acordo_parcela_atraso", "sms", message.context)
    assert f"Se nao paga ate {pay_by:%d/%m/%Y}, o acordo sera quebrado" in sms.text
