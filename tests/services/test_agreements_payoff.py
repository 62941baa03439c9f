"""Early payoff: the quote has its own PIX code and a last day; paid by then, the agreement is
completed, the remaining installments and the originals settled, the future interest forgiven."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.domain.money import format_brl
from regua.payments.webhooks import PixReceived
from regua.services import agreements, agreements_payoff, agreements_review
from regua.services.agreements import AgreementRequest
from regua.services.negotiation_sheet import negotiation_sheet
from regua.services.pix_receipts import receive_pix
from regua.store.tables import interactions, invoices
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()  # Monday 23/11/2026
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9001;NF-9001;C1;Mensalidade;20/09/2026;500,00;aberto
9002;NF-9002;C1;Mensalidade;20/10/2026;300,00;aberto
"""
QUOTE_DAY = date(2027, 1, 8)  # a Friday: the quote holds through Monday 11/01


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def _pay(engine: Engine, creditor_id: int, txid: str, cents: int, on: date) -> None:
    receive_pix(
        units(engine),
        creditor_id,
        [PixReceived(f"E{txid}{on:%d}", txid, cents, _at(on), None)],
        now=_at(on),
    )


def _review(engine: Engine, creditor_id: int, day: date) -> agreements_review.AgreementReview:
    with units(engine)() as work:
        review = agreements_review.review_agreements(work.connection, creditor_id, day, _at(day))
        work.commit()
    return review


def _statuses(engine: Engine, agreement_id: int) -> list[tuple[str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(invoices.c.external_id, invoices.c.status, invoices.c.balance_cents)
            .where(
                (invoices.c.agreement_id == agreement_id)
                | invoices.c.external_id.in_(["9001", "9002"])
            )
            .order_by(invoices.c.due_date, invoices.c.id)
        ).all()
    return [tuple(row) for row in rows]


def _quoted(engine: Engine, creditor_id: int) -> tuple[int, agreements_payoff.PayoffQuote]:
    agreement_id, quote, _left = _quoted_with(engine, creditor_id)
    return agreement_id, quote


def _quoted_with(
    engine: Engine, creditor_id: int
) -> tuple[int, agreements_payoff.PayoffQuote, list[tuple[date, int]]]:
    made = agreements.create_agreement(
        units(engine),
        creditor_id,
        AgreementRequest("C1", offer=6),
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )
    down, first = made.installments[0], made.installments[1]
    _pay(engine, creditor_id, down.pix_txid, down.amount_cents, TODAY)
    _pay(engine, creditor_id, first.pix_txid, first.amount_cents, first.due_date)
    quote = agreements_payoff.issue_payoff(
        units(engine), creditor_id, made.agreement_id, today=QUOTE_DAY, now=_at(QUOTE_DAY), by="bia"
    )
    assert quote.remaining_cents == sum(i.amount_cents for i in made.installments[2:])
    return made.agreement_id, quote, [(i.due_date, i.amount_cents) for i in made.installments[2:]]


def test_a_quote_has_its_amount_its_pix_code_and_its_last_day(
    engine: Engine, portfolio: int
) -> None:
    agreement_id, quote, left = _quoted_with(engine, portfolio)
    # Independent check in floats: each of the five installments left brought to 08/01/2027 at
    # 1,99 % a.m. compound, months of 365/12 days.
    expected = sum(a / 1.0199 ** ((d - QUOTE_DAY).days * 12 / 365) for d, a in left)
    assert quote.payoff_cents == round(expected)
    assert quote.payoff_cents < quote.remaining_cents
    assert quote.valid_until == date(2027, 1, 11)
    assert quote.txid == f"ACD{agreement_id:09d}P02"  # the first open installment's
    amount = f"{quote.payoff_cents // 100}.{quote.payoff_cents % 100:02d}"
    assert quote.pix_code is not None and f"54{len(amount):02d}{amount}" in quote.pix_code
    with engine.connect() as connection:
        detail = (
            connection.execute(select(interactions.c.detail).order_by(interactions.c.id.desc()))
            .scalars()
            .first()
        )
    assert detail == (
        f"quitação do acordo {agreement_id} cotada por bia: {format_brl(quote.payoff_cents)} "
        f"(parcelas a vencer somam {format_brl(quote.remaining_cents)}), válida até 11/01/2027"
    )


def test_paying_the_quote_by_its_last_day_completes_the_agreement(
    engine: Engine, portfolio: int
) -> None:
    agreement_id, quote = _quoted(engine, portfolio)
    assert quote.txid is not None
    _pay(engine, portfolio, quote.txid, quote.payoff_cents, date(2027, 1, 11))
    review = _review(engine, portfolio, date(2027, 1, 11))
    assert review.completed == [agreement_id] and review.broken == []
    statuses = _statuses(engine, agreement_id)
    assert {status for _, status, _ in statuses} == {"paid"}
    assert all(balance == 0 for _, _, balance in statuses)
    line = negotiation_sheet(units(engine), portfolio)[0]
    assert line.status == "completed"
    forgiven = quote.remaining_cents - quote.payoff_cents
    with engine.connect() as connection:
        data = (
            connection.execute(select(interactions.c.data).order_by(interactions.c.id.desc()))
            .scalars()
            .first()
        )
    assert data["early"] is True and data["forgiven_cents"] == forgiven
    assert data["paid_cents"] == quote.payoff_cents


def test_less_than_the_quote_or_after_its_last_day_is_an_ordinary_payment(
    engine: Engine, portfolio: int
) -> None:
    agreement_id, quote = _quoted(engine, portfolio)
    assert quote.txid is not None
    _pay(engine, portfolio, quote.txid, quote.payoff_cents - 1, date(2027, 1, 11))
    assert _review(engine, portfolio, date(2027, 1, 11)).completed == []
    _pay(engine, portfolio, quote.txid, quote.payoff_cents, date(2027, 1, 12))
    assert _review(engine, portfolio, date(2027, 1, 12)).completed == []
    last = _statuses(engine, agreement_id)[-1]
    assert last[1] == "open" and last[2] > 0  # the last installment is still owed


def test_the_cli_hands_out_the_quote_with_its_pix_and_last_day(
    engine: Engine, portfolio: int, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from regua.cli.main import app

    made = agreements.create_agreement(
        units(engine),
        portfolio,
        AgreementRequest("C1", offer=6),
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )
    monkeypatch.setenv("REGUA_TODAY", QUOTE_DAY.isoformat())
    result = CliRunner().invoke(
        app, ["acordo", "quitar", "--acordo", str(made.agreement_id), "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    remaining = sum(i.amount_cents for i in made.installments)  # nothing paid yet
    assert f"parcelas a vencer somam {format_brl(remaining)}" in text
    assert "Válida até 11/01/2027" in text
    assert f"ACD{made.agreement_id:09d}P00" in text  # the down payment is the first open
