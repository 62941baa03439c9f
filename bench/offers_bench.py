"""Negotiation benchmark: offers for N customers against a plain Price installment per customer,
and agreement creation for N customers in one call.

1. Offers (pure, no database): for each of N customers with one to three overdue invoices, the
   whole list of offers of the default régua's rule for 91+ days (cash, and 2x to 12x at
   1,99 % a.m. by the tabela Price with a 10 % down payment: debt brought up to date, discounts,
   dates on business days, exact centavos, CET), computed in one run (`offers_for_portfolio`,
   every figure in columns), against the same loop computing one plain Price installment per
   customer in floats. Ratio printed (goal: at most 3), on processor time, best of --rounds.
   Also printed: turning every figure into `Offer` and `Installment` tuples (about a hundred
   objects a customer), and with --per-customer `make_offers` called customer by customer.
2. Agreements: N customers with overdue debt in a fresh database; `create_agreements` accepts
   offer 3 for all of them in one call (one transaction); milliseconds per agreement (goal:
   under 10 on SQLite).

    python bench/offers_bench.py --customers 100000 --db sqlite
    python bench/offers_bench.py --customers 10000 --db postgresql --skip-offers
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.common import engine_for, fresh_database, record
from regua.domain.calendar import effective_due_date
from regua.domain.fees import FeeTerms
from regua.domain.offers import DebtInvoice, installment_dates, make_offers
from regua.domain.offers import _plan_shape as plan_shape
from regua.domain.portfolio_offers import PortfolioOffers, offers_for_portfolio
from regua.policies.loader import default_policy
from regua.services.agreements import AgreementRequest, create_agreements
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.store.tables import customers, invoices
from regua.store.uow import UnitOfWork

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


def debts(n: int, seed: int) -> list[list[DebtInvoice]]:
    rng = random.Random(seed)
    found = []
    for customer in range(n):
        found.append(
            [
                DebtInvoice(
                    customer * 3 + k,
                    f"NF-{customer}-{k}",
                    TODAY - timedelta(days=rng.randint(95, 400)),
                    rng.randint(20_000, 500_000),
                )
                for k in range(rng.randint(1, 3))
            ]
        )
    return found


def plain_price(data: list[list[DebtInvoice]], rate: float) -> int:
    """The lower bound: one plain Price installment (12x) a customer, in floats."""
    total = 0
    for invoices_of in data:
        financed = sum(i.balance_cents for i in invoices_of)
        total += round(financed * rate / (1 - (1 + rate) ** -12))
    return total


def plain_price_per_plan(data: list[list[DebtInvoice]], rate: float, made: list[int]) -> int:
    """A fairer bound: as many plain Price installments as offers made (same counts)."""
    counts = [2, 3, 4, 5, 6, 8, 10, 12, 12, 12, 12]
    total = 0
    for invoices_of, m in zip(data, made, strict=True):
        financed = sum(i.balance_cents for i in invoices_of)
        for k in counts[:m]:
            total += round(financed * rate / (1 - (1 + rate) ** -k))
    return total


def best_of(rounds: int, *runs: Callable[[], object]) -> list[float]:
    """Each run's best processor time over ``rounds`` rounds, the runs taking turns in each
    round. Processor time, not the wall clock: both sides are one thread of pure computation
    (no I/O, no threads in numpy's element-wise operations), and on a shared machine the wall
    clock also counts the time other processes held the cores, more often for the longer run."""
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for k, run in enumerate(runs):
            start = time.process_time()
            run()
            best[k] = min(best[k], time.process_time() - start)
    return best


def bench_offers(n: int, seed: int, rounds: int, per_customer: bool) -> float:
    terms = default_policy().negotiation
    assert terms is not None
    rule = terms.rules[-1]  # 91 days or more: cash, up to 12x Price 1,99 %, 10 % down
    fees = FeeTerms()
    data = debts(n, seed)
    rate = rule.interest.monthly_bp / 10_000

    def batch() -> PortfolioOffers:
        # The day's plan shapes (dates on business days, factors, CET roots) are cached
        # across runs of a day; here each run computes them afresh.
        installment_dates.cache_clear()
        plan_shape.cache_clear()
        return offers_for_portfolio(data, fees, rule, TODAY)

    made = [len(offers) for offers in batch()]
    count = sum(made)
    offers_s, plain_s, per_offer_s = best_of(
        rounds,
        batch,
        lambda: plain_price(data, rate),
        lambda: plain_price_per_plan(data, rate, made),
    )

    # Every figure as an ``Offer`` with its ``Installment`` tuples (what a screen or an
    # export reads), for all customers: the columns' figures turned into Python objects.
    start = time.process_time()
    built = batch()
    objects = sum(len(built.offers(i)) for i in range(n))
    tuples_s = time.process_time() - start
    assert objects == count
    sample = random.Random(seed).sample(range(n), min(n, 300))
    assert all(built.offers(i) == make_offers(data[i], fees, rule, TODAY) for i in sample)

    ratio = offers_s / plain_s
    print(
        f"offers: {n_customers(n)} customers, {count} offers ({count / n:.1f} a customer) "
        f"computed in {offers_s:.3f} s ({offers_s / n * 1e6:.2f} µs a customer, "
        f"{offers_s / count * 1e6:.2f} µs an offer); processor time, best of {rounds}"
    )
    print(
        f"plain Price: one a customer {plain_s:.3f} s ({plain_s / n * 1e6:.2f} µs a customer); "
        f"one an offer {per_offer_s:.3f} s ({per_offer_s / count * 1e6:.2f} µs an offer)"
    )
    print(
        f"ratio offers / plain Price: {ratio:.2f} against one a customer (the issue's bound, "
        f"goal <= 3) | {offers_s / per_offer_s:.2f} against one an offer"
    )
    print(
        f"offers as Offer tuples (every installment an object): {tuples_s:.2f} s, "
        f"ratio {tuples_s / plain_s:.1f} against one plain Price a customer"
    )
    size = f"{n:,} customers"
    record("offers / Price a customer", "-", size, offers_s, plain_s, 3.0)
    record("offers / Price an offer", "-", size, offers_s, per_offer_s, 3.0)
    record("offers as tuples / Price a customer", "-", size, tuples_s, plain_s, 3.0)
    if per_customer:
        start = time.process_time()
        one_by_one = sum(len(make_offers(d, fees, rule, TODAY)) for d in data)
        loop_s = time.process_time() - start
        assert one_by_one == count
        print(
            f"make_offers customer by customer: {loop_s:.2f} s, ratio {loop_s / plain_s:.1f} "
            "against one plain Price a customer"
        )
    return ratio


def n_customers(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def build(url: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
        connection.execute(
            customers.insert(),
            [
                {
                    "creditor_id": creditor_id,
                    "external_id": f"C{i}",
                    "name": f"Cliente {i}",
                    "document": f"{i:011d}",
                    "document_kind": "cpf",
                    "is_consumer": True,
                    "tags": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(n)
            ],
        )
        ids = dict(
            (external, cid)
            for cid, external in connection.execute(select(customers.c.id, customers.c.external_id))
        )
        rows = []
        for i in range(n):
            for k in range(rng.randint(1, 3)):
                due = TODAY - timedelta(days=rng.randint(95, 400))
                amount = rng.randint(20_000, 500_000)
                rows.append(
                    {
                        "creditor_id": creditor_id,
                        "customer_id": ids[f"C{i}"],
                        "external_id": f"T{i}-{k}",
                        "number": f"NF-{i}-{k}",
                        "due_date": due,
                        "effective_due_date": effective_due_date(due),
                        "amount_cents": amount,
                        "balance_cents": amount,
                        "status": "open",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        for start in range(0, len(rows), 20_000):
            connection.execute(invoices.insert(), rows[start : start + 20_000])
    engine.dispose()
    return [f"C{i}" for i in range(n)]


def bench_agreements(kind: str, n: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(kind, "regua_offers_bench", Path(folder))
        names = build(url, n, seed)
        engine = engine_for(url)
        try:
            uow = partial(UnitOfWork, engine)
            start = time.perf_counter()
            made = create_agreements(
                uow,
                1,
                [AgreementRequest(name, offer=3) for name in names],
                today=TODAY,
                now=NOW,
                accepted_by="bench",
            )
            elapsed = time.perf_counter() - start
        finally:
            engine.dispose()
    per = elapsed / len(made) * 1000
    # A latency (no lower bound): seconds an agreement, held to 10 ms.
    record("agreement creation", kind, f"{len(made):,} agreements", per / 1000, None, 0.010)
    installments = sum(len(m.installments) for m in made)
    print(
        f"agreements ({kind}): {len(made)} in one call, {installments} installment invoices, "
        f"{elapsed:.2f} s: {per:.2f} ms an agreement (goal < 10 on SQLite)"
    )
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--agreements", type=int, default=None, help="default: min(customers, 10000)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--skip-offers", action="store_true")
    parser.add_argument("--skip-agreements", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="offers: best of this many runs")
    parser.add_argument(
        "--per-customer",
        action="store_true",
        help="also time make_offers customer by customer (what the batch replaces)",
    )
    args = parser.parse_args()
    if not args.skip_offers:
        bench_offers(args.customers, args.seed, args.rounds, args.per_customer)
    if not args.skip_agreements:
        bench_agreements(args.db, args.agreements or min(args.customers, 10_000), args.seed)


if __name__ == "__main__":
    main()
