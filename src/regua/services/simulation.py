"""Simulated days for the demo: each day the payments that arrive are applied (under the
creditor's own fee terms), then the daily cycle runs (`services.daily_cycle`) and, with an
outbox folder, dispatches the day's messages there.

The demo's future payments (`pagamentos_futuros.csv`) arrive on their dates, so the simulation
shows the régua stopping for customers who pay and going on for those who do not. Each day is
planned at 08:00 and dispatched at 10:00 in São Paulo, inside every state's contact window on a
weekday, so the outbox holds what a real day would have sent: e-mails (.eml), SMS and WhatsApp
(.json), letters (.pdf).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from regua.channels.registry import ChannelRegistry
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_TIMEZONE,
    holiday_name,
    is_open_day,
)
from regua.services.cells import parse_amount, parse_date
from regua.services.customer_links import portal_links
from regua.services.daily_cycle import run_day
from regua.services.dispatching import Dispatcher, DispatchResult
from regua.services.reconciling import apply_matched_payments
from regua.services.setup import creditor_fee_terms
from regua.store.action_report import sent_between, statuses_on_day
from regua.store.invoices import ids_by_external
from regua.store.uow import UnitOfWorkFactory

SAO_PAULO = ZoneInfo(DEFAULT_TIMEZONE)
DISPATCH_TIME = time(10, 0)  # 09:00 in Manaus, 08:00 in Rio Branco: every state's window opened


@dataclass
class SimulatedDay:
    day: date
    payments: int = 0
    paid_cents: int = 0
    planned: Counter[tuple[str, str]] = field(default_factory=Counter)  # (step, channel)
    not_sent: Counter[str] = field(default_factory=Counter)  # reason -> count
    cost_cents: int = 0
    sent: Counter[str] = field(default_factory=Counter)  # channel -> messages in the outbox
    thank_yous: int = 0  # thank-yous sent that day (planned, when the days are not dispatched)
    closed: str = ""  # why the day had no contact window ("domingo", "feriado (Natal)"); "" open

    @property
    def quiet(self) -> str:
        """Why the day planned nothing, for the day table; "" when it planned something."""
        if self.planned:
            return ""
        deferred = sum(n for reason, n in self.not_sent.items() if "adiado" in reason)
        if self.closed:
            return f"{self.closed}: sem contato" + (f" ({deferred} adiadas)" if deferred else "")
        if self.not_sent:
            return "nenhuma enviada (motivos ao lado)"
        return "nenhuma etapa vence hoje"


def _future_payments(path: Path) -> dict[date, list[tuple[str, str, int]]]:
    by_day: dict[date, list[tuple[str, str, int]]] = {}
    if not path.exists():
        return by_day
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader, None)
        for payment_id, invoice_id, paid_on, amount, *_ in reader:
            by_day.setdefault(parse_date(paid_on), []).append(
                (payment_id, invoice_id, parse_amount(amount))
            )
    return by_day


def simulate(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    start: date,
    days: int,
    future_payments: Path,
    *,
    channels: Settings | None = None,
) -> list[SimulatedDay]:
    """`days` simulated days from `start`; with `channels` (settings whose outbox folder is the
    demo's), each day's due messages are dispatched through them."""
    arriving = _future_payments(future_payments)
    results = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        now = datetime.combine(day, time(8, 0), SAO_PAULO).astimezone(UTC)
        outcome = SimulatedDay(day)
        todays = arriving.get(day, [])
        if todays:
            with uow() as work:
                connection = work.connection
                ids = ids_by_external(connection, creditor_id, [p[1] for p in todays])
                matched: list[dict[str, Any]] = [
                    {
                        "external_id": pid,
                        "invoice_id": ids[inv],
                        "amount_cents": cents,
                        "paid_on": day,
                        "method": "pix",
                    }
                    for pid, inv, cents in todays
                    if inv in ids
                ]
                apply_matched_payments(
                    connection,
                    creditor_id,
                    matched,
                    source="import",
                    now=now,
                    terms=creditor_fee_terms(connection, creditor_id),
                )
                work.commit()
            outcome.payments = len(matched)
            outcome.paid_cents = sum(p["amount_cents"] for p in matched)
        dispatch = None if channels is None else partial(_dispatch_day, uow, channels, day)
        run = run_day(uow, creditor_id, day, now, dispatch=dispatch)
        for action in run.plan.actions:
            if action.status == "planned":
                outcome.planned[(action.step.id, action.channel or "-")] += 1
                outcome.cost_cents += action.cost_cents
            else:
                outcome.not_sent[action.reason.split(":")[0].split(";")[0]] += 1
        if run.dispatched is not None:
            outcome.sent = run.dispatched.sent
        with uow() as work:
            if run.dispatched is None:
                planned = statuses_on_day(work.connection, creditor_id, day, "thank_you")
                outcome.thank_yous = planned.get("planned", 0)
            else:  # sent today, those of a closed day before included
                midnight = datetime.combine(day, time(0, 0), SAO_PAULO)
                outcome.thank_yous = sent_between(
                    work.connection, creditor_id, "thank_you", midnight, midnight + timedelta(1)
                )
        outcome.closed = _closed(day)
        results.append(outcome)
    return results


def _closed(day: date) -> str:
    """Why the default contact window is closed on `day` (a national holiday, a Sunday); ""."""
    holiday = holiday_name(day, None)
    if holiday and DEFAULT_CONTACT_WINDOW.holidays_closed:
        return f"feriado ({holiday})"
    if not is_open_day(DEFAULT_CONTACT_WINDOW, day, None):
        return ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")[day.weekday()]
    return ""


def _dispatch_day(uow: UnitOfWorkFactory, channels: Settings, day: date) -> DispatchResult:
    """Send the day's due messages through `channels`, on a clock standing at 10:00 in São
    Paulo."""
    clock = FixedClock(datetime.combine(day, DISPATCH_TIME, SAO_PAULO).astimezone(UTC))
    # The dispatcher commits each claim and each record on connections of its own (see
    # `Dispatcher`): it is given the engine the units of work run on, not one of them.
    engine = uow().engine
    with ChannelRegistry.from_settings(channels, clock=clock) as registry:
        # No rate limit: the outbox is a folder, and simulated time does not wait.
        # The messages carry the portal links a real run's would (`regua serve` opens them).
        portal = portal_links(uow, channels)
        return Dispatcher(engine, registry, clock=clock, portal=portal).dispatch_due(today=day)
