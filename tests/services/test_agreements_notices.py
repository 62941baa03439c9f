"""A broken agreement is told: the customer gets the acordo_quebrado message (which agreement,
what was paid, the debt that came back and its total), the operator sees it in the run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.channels.rendering import render
from regua.payments.webhooks import PixReceived
from regua.services import agreements, agreements_review
from regua.services.agreements import AgreementRequest
from regua.services.messages import PreparedMessage, prepare_messages
from regua.services.pix_receipts import receive_pix
from regua.store.tables import action_invoices, actions, invoices
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()  # Monday 23/11/2026
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9001;NF-9001;C1;Mensalidade;20/09/2026;500,00;aberto
9002;NF-9002;C1;Mensalidade;20/10/2026;300,00;aberto
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def _break(engine: Engine, creditor_id: int) -> tuple[int, date, agreements_review.AgreementReview]:
    made = agreements.create_agreement(
        units(engine),
        creditor_id,
        AgreementRequest("C1", offer=3),
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )
    down = made.installments[0]
    receive_pix(
        units(engine),
        creditor_id,
        [PixReceived("E1", down.pix_txid, down.amount_cents, _noon(TODAY), None)],
        now=_noon(TODAY),
    )
    day = made.installments[1].due_date + timedelta(days=30)  # 22/01/2027
    with units(engine)() as work:
        review = agreements_review.review_agreements(work.connection, creditor_id, day, _noon(day))
        work.commit()
    return made.agreement_id, day, review


def test_the_customer_is_told_what_was_paid_and_what_came_back(
    engine: Engine, portfolio: int
) -> None:
    agreement_id, day, review = _break(engine, portfolio)
    assert review.broken == [agreement_id]
    (broken,) = review.broken_details
    # R$ 80,00 down payment credited to NF-9001: R$ 420,00 + R$ 300,00 back. On 22/01/2027,
    # NF-9001 is 124 days late: multa 8,40, juros 420 x 1 % x 124/30 = 17,36 -> 445,76;
    # NF-9002 is 94 days late: multa 6,00, juros 300 x 1 % x 94/30 = 9,40 -> 315,40.
    assert (broken.customer_code, broken.paid_cents) == ("C1", 8_000)
    assert (broken.owed_principal_cents, broken.owed_total_cents) == (72_000, 76_116)
    assert review.notices and len(review.notices) == 1

    with engine.connect() as connection:
        action = connection.execute(
            select(
                actions.c.purpose,
                actions.c.planned_for,
                actions.c.channel,
                actions.c.contact_value,
                actions.c.template,
                actions.c.status,
            ).where(actions.c.id == review.notices[0])
        ).one()
        spoken_of = sorted(
            connection.execute(
                select(invoices.c.external_id)
                .join(action_invoices, action_invoices.c.invoice_id == invoices.c.id)
                .where(action_invoices.c.action_id == review.notices[0])
            ).scalars()
        )
        prepared, _txids = prepare_messages(connection, review.notices, now=_noon(day))
    # The default régua thanks by WhatsApp first: the notice goes the same way.
    assert tuple(action) == (
        "agreement",
        day,
        "whatsapp",
        "+5511987654321",
        "acordo_quebrado",
        "planned",
    )
    assert spoken_of == ["9001", "9002"]
    message = prepared[review.notices[0]]
    assert isinstance(message, PreparedMessage)
    whatsapp = render("acordo_quebrado", "whatsapp", message.context)
    assert f"O acordo {agreement_id}, feito em 23/11/2026, foi encerrado em 22/01/2027" in (
        whatsapp.text
    )
    assert "Você pagou R$ 80,00 nesse acordo" in whatsapp.text
    assert "NF-9001: R$ 420,00 + multa R$ 8,40 + juros R$ 17,36 = *R$ 445,76*" in whatsapp.text
    assert "NF-9002: R$ 300,00 + multa R$ 6,00 + juros R$ 9,40 = *R$ 315,40*" in whatsapp.text
    assert "Total hoje: *R$ 761,16*" in whatsapp.text
    assert message.context["payment"]["pix_amount_cents"] == 76_116
    assert whatsapp.whatsapp_template_text is not None
    assert "Você pagou R$ 80,00 nesse acordo" in whatsapp.whatsapp_template_text
    assert "R$ 761,16 hoje" in whatsapp.whatsapp_template_text
    sms = render("acordo_quebrado", "sms", message.context)
    assert "Pago nele: R$ 80,00. A divida original voltou: R$ 761,16 hoje" in sms.text
    email = render("acordo_quebrado", "email", message.context)
    assert (
        email.subject == f"Acordo {agreement_id} encerrado: a dívida original voltou a ser cobrada"
    )
    assert "Total hoje: R$ 761,16" in email.text


def test_a_notice_is_not_sent_for_debt_paid_before_it_goes_out(
    engine: Engine, portfolio: int
) -> None:
    _agreement_id, day, review = _break(engine, portfolio)
    with units(engine)() as work:
        work.connection.execute(
            invoices.update()
            .where(invoices.c.external_id.in_(["9001", "9002"]))
            .values(status="paid", balance_cents=0)
        )
        work.commit()
    with engine.connect() as connection:
        prepared, _ = prepare_messages(connection, review.notices, now=_noon(day))
    refused = prepared[review.notices[0]]
    assert not isinstance(refused, PreparedMessage)
    assert refused.reason == "títulos pagos ou encerrados antes do envio"


def test_the_run_summary_lists_the_agreements_broken_that_day(
    engine: Engine, portfolio: int, db_url: str
) -> None:
    from typer.testing import CliRunner

    from regua.cli.main import app

    made = agreements.create_agreement(
        units(engine),
        portfolio,
        AgreementRequest("C1", offer=3),
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )
    down = made.installments[0]
    receive_pix(
        units(engine),
        portfolio,
        [PixReceived("E1", down.pix_txid, down.amount_cents, _noon(TODAY), None)],
        now=_noon(TODAY),
    )
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--db", db_url, "--date", "2027-01-22", "--no-dispatch"])
    assert result.exit_code == 0, result.output
    assert "Acordos quebrados hoje: 1" in result.output
    assert (
        f"acordo {made.agreement_id} · C1 José da Conceição: pagou R$ 80,00 no acordo; voltaram "
        "R$ 761,16 (principal R$ 720,00, com multa e juros)"
    ) in " ".join(result.output.split())
    again = runner.invoke(
        app, ["run", "--db", db_url, "--date", "2027-01-22", "--no-dispatch", "--json"]
    )
    assert '"broken_agreements": []' in again.output
