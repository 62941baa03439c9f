"""Agreements: an accepted offer holds the originals, issues installments that payments pay,
completes, breaks or is cancelled; refusals name the rule and write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from regua.error_codes import ErrorCode
from regua.errors import NotFound, RuleViolation
from regua.payments.webhooks import PixReceived
from regua.services import agreements, agreements_payoff, agreements_review, negotiation
from regua.services.agreements import AgreementRequest
from regua.services.negotiation_sheet import negotiation_sheet
from regua.services.pix_receipts import receive_pix
from regua.store import invoices as invoice_store
from regua.store.tables import agreements as agreement_table
from regua.store.tables import interactions, invoices
from tests.builders import CUSTOMERS_CSV, NOW, pointing_at_nothing, run_import, units, write_csv

TODAY = NOW.date()  # Monday 23/11/2026
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9001;NF-9001;C1;Mensalidade;20/09/2026;500,00;aberto
9002;NF-9002;C1;Mensalidade;20/10/2026;300,00;aberto
9003;NF-9003;C3;Parcela;10/11/2026;200,00;aberto
9004;NF-9004;C3;Instalação;05/11/2026;90,00;contestado
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _accept(engine: Engine, creditor_id: int, request: AgreementRequest, **kwargs: object):
    args: dict = {"today": TODAY, "now": NOW, "accepted_by": "ana"} | kwargs
    return agreements.create_agreement(units(engine), creditor_id, request, **args)


def _status(engine: Engine, *external_ids: str) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(invoices.c.external_id, invoices.c.status, invoices.c.balance_cents)
            .where(invoices.c.external_id.in_(external_ids))
            .order_by(invoices.c.external_id)
        ).all()
    return [(row.status, row.balance_cents) for row in rows]


def _count_agreements(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(agreement_table)).scalar())


def _pay(engine: Engine, creditor_id: int, txid: str, cents: int, on: date) -> None:
    paid_at = datetime(on.year, on.month, on.day, 15, 0, tzinfo=UTC)
    receive_pix(
        units(engine),
        creditor_id,
        [PixReceived(f"E{txid}", txid, cents, paid_at, None)],
        now=paid_at,
    )


def test_offers_bring_the_debt_up_to_date_and_follow_the_terms(
    engine: Engine, portfolio: int
) -> None:
    found = negotiation.customer_offers(units(engine), portfolio, "C1", today=TODAY, now=NOW)
    # R$ 800,00 of principal; multa 2 % (16,00); juros 1 % a.m.: 500 x 64/30 days (10,67) and
    # 300 x 34/30 (3,40): R$ 830,07 today. 64 days late: the second rule of the default régua.
    cash = found.offers[0]
    assert cash.debt.total_cents == 83_007
    assert cash.discount_cents == 7_007  # multa, juros and 5 % of the principal
    assert cash.total_cents == 76_000
    assert [o.count for o in found.offers] == [1, 2, 3, 4, 5, 6]
    six = found.offers[-1]
    assert six.down_payment_cents == 8_000  # 10 % of R$ 800,00 (multa and juros waived)
    pmt = 72_000 * 0.0199 / (1 - 1.0199**-6)
    assert six.installment_cents == round(pmt)
    assert six.interest_kind == "price"


def test_accepting_an_offer_holds_the_originals_and_issues_installments(
    engine: Engine, portfolio: int
) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C1", offer=6), channel="telefone")

    assert made.within_terms and made.held_invoices == ["NF-9001", "NF-9002"]
    assert [i.number for i in made.installments] == [0, 1, 2, 3, 4, 5, 6]
    assert made.installments[0].amount_cents == 8_000
    assert made.installments[0].due_date == TODAY
    assert made.installments[1].due_date == date(2026, 12, 23)
    assert made.installments[1].pix_txid == f"ACD{made.agreement_id:09d}P01"
    assert sum(i.amount_cents for i in made.installments) == made.offer.total_cents
    assert _status(engine, "9001", "9002") == [("in_agreement", 50_000), ("in_agreement", 30_000)]
    with engine.connect() as connection:
        # the régua stops for the originals; the installments are what is collected now
        candidates = invoice_store.plan_candidates(connection, portfolio, TODAY, None)
        numbers = dict(connection.execute(select(invoices.c.id, invoices.c.number)).all())
        entries = connection.execute(
            select(interactions.c.detail).where(interactions.c.kind == "agreement")
        ).scalars()
        details = list(entries)
    planned = {numbers[c.id] for c in candidates.invoices}
    assert not planned & {"NF-9001", "NF-9002"}
    assert f"ACORDO-{made.agreement_id}-ENTRADA" in planned
    assert details[0].startswith(
        f"acordo {made.agreement_id} aceito por ana (telefone): entrada de R$ 80,00 + 6x de"
    )
    assert pointing_at_nothing(engine) == []


def test_paying_every_installment_completes_the_agreement(engine: Engine, portfolio: int) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C1", offer=2))
    for item in made.installments:
        _pay(engine, portfolio, item.pix_txid, item.amount_cents, item.due_date)
    review = _review(engine, portfolio, made.installments[-1].due_date)
    assert review.completed == [made.agreement_id] and review.broken == []
    assert _status(engine, "9001", "9002") == [("paid", 0), ("paid", 0)]
    assert negotiation_sheet(units(engine), portfolio)[0].status == "completed"


def _review(engine: Engine, creditor_id: int, day: date) -> agreements_review.AgreementReview:
    now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with units(engine)() as work:
        review = agreements_review.review_agreements(work.connection, creditor_id, day, now)
        work.commit()
    return review


def test_a_late_installment_breaks_the_agreement_and_brings_the_originals_back(
    engine: Engine, portfolio: int
) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C1", offer=3))
    down = made.installments[0]
    _pay(engine, portfolio, down.pix_txid, down.amount_cents, TODAY)
    first = made.installments[1]
    assert _review(engine, portfolio, first.due_date + timedelta(days=29)).broken == []
    review = _review(engine, portfolio, first.due_date + timedelta(days=30))
    assert review.broken == [made.agreement_id]
    # the R$ 80,00 down payment is credited to the oldest original
    assert _status(engine, "9001", "9002") == [("open", 42_000), ("open", 30_000)]
    line = negotiation_sheet(units(engine), portfolio, ["broken"])[0]
    assert (line.paid_count, line.paid_cents, line.due_count) == (1, 8_000, 0)
    with engine.connect() as connection:
        detail = connection.execute(
            select(interactions.c.detail)
            .where(interactions.c.kind == "agreement")
            .order_by(interactions.c.id.desc())
        ).scalar()
    assert detail == (
        f"acordo {made.agreement_id} quebrado: parcela 1 vencida em 23/12/2026 está 30 dias em "
        "atraso (limite 30); os títulos originais voltam à cobrança com R$ 720,00 de principal, "
        "com multa e juros desde os vencimentos originais"
    )


def test_cancelling_restores_the_originals(engine: Engine, portfolio: int) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C3", offer=1))
    owed = agreements_review.cancel_agreement(
        units(engine),
        portfolio,
        made.agreement_id,
        reason="cliente desistiu",
        by="ana",
        today=TODAY,
        now=NOW,
    )
    assert owed == 20_000
    assert _status(engine, "9003") == [("open", 20_000)]
    with pytest.raises(NotFound, match=f"acordo {made.agreement_id} não está ativo"):
        agreements_review.cancel_agreement(
            units(engine), portfolio, made.agreement_id, reason="x", by="ana", today=TODAY, now=NOW
        )


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            AgreementRequest("C3", invoices=("NF-9004",), offer=1),
            ErrorCode.DISPUTED_INVOICE,
            "título NF-9004 está em disputa",
        ),
        (
            AgreementRequest("C1", offer=1, offered_on=TODAY - timedelta(days=4)),
            ErrorCode.OFFER_EXPIRED,
            "oferta expirada: feita em 19/11/2026, valia até 22/11/2026 \\(3 dias\\)",
        ),
        (
            AgreementRequest("C1", installments=12),
            ErrorCode.OUTSIDE_TERMS,
            "acordo fora das condições da régua \\(12 parcelas passam do máximo de 6 das "
            "condições\\): só um gestor pode aprovar",
        ),
        (
            AgreementRequest("C1", installments=3, first_due=date(2026, 11, 1)),
            ErrorCode.DATE_IN_PAST,
            "parcela com vencimento no passado \\(03/11/2026; hoje é 23/11/2026\\)",
        ),
        (AgreementRequest("C1", offer=9), ErrorCode.UNKNOWN_OFFER, "oferta 9 não existe"),
    ],
)
def test_refusals_name_the_rule_and_write_nothing(
    engine: Engine, portfolio: int, request_: AgreementRequest, code: ErrorCode, message: str
) -> None:
    with pytest.raises((RuleViolation, NotFound), match=message) as raised:
        _accept(engine, portfolio, request_)
    assert raised.value.code == code
    assert _count_agreements(engine) == 0
    assert _status(engine, "9001", "9003") == [("open", 50_000), ("open", 20_000)]


def test_no_second_agreement_on_the_same_invoice_and_none_half_written(
    engine: Engine, portfolio: int
) -> None:
    _accept(engine, portfolio, AgreementRequest("C3", offer=1))
    with pytest.raises(RuleViolation, match="título NF-9003 já está em um acordo ativo"):
        agreements.create_agreements(
            units(engine),
            portfolio,
            [AgreementRequest("C1", offer=1), AgreementRequest("C3", invoices=("NF-9003",))],
            today=TODAY,
            now=NOW,
            accepted_by="ana",
        )
    assert _count_agreements(engine) == 1  # C1's, before the refusal, was rolled back
    assert _status(engine, "9001") == [("open", 50_000)]


def test_an_offer_accepted_days_later_keeps_its_figures(engine: Engine, portfolio: int) -> None:
    before = negotiation.customer_offers(
        units(engine), portfolio, "C1", today=TODAY - timedelta(days=2), now=NOW
    ).offers[0]
    made = _accept(engine, portfolio, AgreementRequest("C1", offer=1, offered_on=before.made_on))
    assert made.offer.total_cents == before.total_cents == 76_000
    assert made.offer.debt.interest_cents == before.debt.interest_cents == 1_353  # as offered
    assert made.installments[0].due_date == TODAY  # its day had gone by


def test_a_gestor_may_approve_beyond_the_terms(engine: Engine, portfolio: int) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C1", installments=10), role="gestor")
    assert not made.within_terms
    assert made.offer.count == 10


def test_early_payoff_takes_off_the_interest_not_yet_run(engine: Engine, portfolio: int) -> None:
    made = _accept(engine, portfolio, AgreementRequest("C1", offer=6))
    _pay(engine, portfolio, made.installments[0].pix_txid, 8_000, TODAY)
    quote = agreements_payoff.payoff_quote(units(engine), portfolio, made.agreement_id, today=TODAY)
    assert quote.remaining_cents == sum(i.amount_cents for i in made.installments[1:])
    # brought to today at 1,99 % a.m., the rest is worth about the R$ 720,00 financed
    assert 72_000 <= quote.payoff_cents < 72_100


def test_a_new_due_date_is_an_extension_agreement_within_the_terms_days(
    engine: Engine, portfolio: int
) -> None:
    # The default régua: up to 10 days, with multa and juros running to the new day. Saturday
    # 28/11 falls due on Monday 30/11, a week of juros more than today's R$ 830,07.
    with pytest.raises(RuleViolation) as far:
        _accept(engine, portfolio, AgreementRequest(customer="C1", pay_on=date(2026, 12, 4)))
    assert far.value.code == ErrorCode.DATE_TOO_FAR
    assert "no máximo até 03/12/2026 (10 dias)" in far.value.message
    with pytest.raises(RuleViolation) as past:
        _accept(engine, portfolio, AgreementRequest(customer="C1", pay_on=date(2026, 11, 20)))
    assert past.value.code == ErrorCode.DATE_IN_PAST
    assert _count_agreements(engine) == 0

    made = _accept(engine, portfolio, AgreementRequest(customer="C1", pay_on=date(2026, 11, 28)))
    assert made.offer.kind == "extension"
    [only] = made.installments
    assert only.due_date == date(2026, 11, 30)
    # 500 x 71/30 days (11,83) and 300 x 41/30 (4,10) of juros, multa R$ 16,00.
    assert only.amount_cents == 80_000 + 1_600 + 1_183 + 410
    assert _status(engine, "9001", "9002") == [("in_agreement", 50_000), ("in_agreement", 30_000)]


def test_many_agreements_in_one_call_take_each_customers_own_offers(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # Three customers under different rules and fee terms (C2 is a company: its multa is not
    # capped at 2 %), accepted together: each agreement has the figures its customer was shown.
    company = "id;numero;codigo_cliente;descricao;vencimento;valor;situacao\n"
    company += "9101;NF-9101;C2;Fornecimento;01/07/2026;4.250,00;aberto\n"
    company += "9102;NF-9102;C2;Fornecimento;01/08/2026;1.999,99;aberto\n"
    run_import(engine, "invoices", write_csv(tmp_path / "c2.csv", company), portfolio)
    chosen = {"C1": 3, "C2": 2, "C3": 1}
    shown = {
        customer: negotiation.customer_offers(
            units(engine), portfolio, customer, today=TODAY, now=NOW
        ).offers[number - 1]
        for customer, number in chosen.items()
    }
    made = agreements.create_agreements(
        units(engine),
        portfolio,
        [AgreementRequest(customer, offer=number) for customer, number in chosen.items()],
        today=TODAY,
        now=NOW,
        accepted_by="ana",
    )
    assert [m.customer_external_id for m in made] == ["C1", "C2", "C3"]
    for m in made:
        offer = shown[m.customer_external_id]
        assert m.offer == offer
        assert [(i.due_date, i.amount_cents) for i in m.installments] == [
            (p.due_date, p.amount_cents) for p in offer.payments
        ]
    assert shown["C2"].debt.principal_cents == 624_999
