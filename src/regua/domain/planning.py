"""The daily plan as a pure function: who gets contacted today, about what, how, and why.

`plan_day(policies, customers, invoices, today)` receives plain rows (what the store selected as
candidates) and returns one `PlannedAction` per customer that has something due. Rules:

- A step applies to an open invoice when its offset is the number of days since the due date
  (negative before it) and the customer's segment is among the step's segments. If days were
  missed, only the latest step not yet sent applies (`policy.latest_step_due`): never a burst.
- Several invoices of one customer with steps due the same day become one action, under the
  most advanced step.
- The channel is the first of the step's channels with a reachable contact (present, not opted
  out, not flagged invalid). None reachable: the action is recorded as skipped, with why.
- A day outside the customer's contact window (Sunday, a national or state holiday, a closed
  Saturday, Carnival when the policy closes it) defers the contact: nothing is consumed, so the
  next open day's run sends the latest step then, merged with that day's steps.
- An installment of an agreement (`OpenInvoice.agreement_id`) follows the policy's installment
  steps (`negotiation.installment_steps`: a reminder, a notice on the day, a warning before
  the agreement breaks), never the collection steps: those threaten negativação and protest,
  which a late installment does not bring (it breaks the agreement). One action speaks of one
  kind: a customer with both due the same day hears of the ordinary invoices, the installments
  the next day.
- A cap on contacts per customer per (rolling) week: what exceeds it is deferred or dropped, as
  the policy says, with the reason recorded.
Every action carries `evidence`: the facts it was checked against, so a manager can prove each
contact was lawful.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, NamedTuple

from regua.domain.calendar import (
    ContactWindow,
    carnival_days,
    effective_window,
    format_hours,
    holiday_name,
    is_open_day,
    next_open_day,
    window_on,
)
from regua.domain.offers import early_payment_offer
from regua.domain.policy import (
    Policy,
    Step,
    latest_step_in,
    select_policy,
    steps_for_segment,
)
from regua.domain.policy_terms import DEFAULT_INSTALLMENT_STEPS

ActionStatus = Literal["planned", "deferred", "skipped", "dropped"]
NO_CHANNEL = "sem canal disponível"

# How a régua starts on a portfolio that already has overdue invoices (its first run, or the
# first run of a new régua): "recuperar" catches up, each overdue invoice getting its latest
# step at once (on a real portfolio, hundreds of pre-registration letters on day one);
# "hoje" starts from today, each invoice getting only the steps that fall from today on.
StartChoice = Literal["recuperar", "hoje"]
START_CHOICES: tuple[StartChoice, ...] = ("recuperar", "hoje")
# A first run starts from today unless told otherwise: catching up sends, on the first day,
# every old invoice's most severe step (letters that cost money, credit-bureau notices) about
# debts the creditor has usually been collecting by other means until then.
FIRST_RUN_START: StartChoice = "hoje"


def start_of(
    choice: StartChoice | None, day: date, *, fresh: bool, current: date | None
) -> date | None:
    """The first day of the régua after a run of `day` with `choice` (None: not given).

    `fresh`: the first run of the portfolio or of these régua versions; `current`: the start
    the last run kept. A choice counts only where it changes something: "hoje" on a régua that
    already starts on a day keeps that day (a contact deferred from the day before stays due).
    None on a fresh start takes `FIRST_RUN_START`; on a later run keeps `current`.
    """
    if choice is None:
        if not fresh:
            return current
        choice = FIRST_RUN_START
    if choice == "recuperar":
        return None
    return current if current is not None and not fresh else day


# ContactPoint, OpenInvoice and InvoiceStep are NamedTuples, not dataclasses: a first run over
# a portfolio builds millions of them, and a tuple is built several times faster.
class ContactPoint(NamedTuple):
    value: str
    opted_out: bool = False
    invalid: bool = False

    @property
    def reachable(self) -> bool:
        return not self.opted_out and not self.invalid


Reach = dict[str, tuple[ContactPoint, ...]]  # channel -> the customer's points, oldest first


@dataclass(frozen=True, slots=True)
class CustomerState:
    id: int
    segment: str
    uf: str | None = None
    tags: tuple[str, ...] = ()
    contacts: Mapping[str, tuple[ContactPoint, ...]] = field(default_factory=dict)
    contacts_last_7_days: int = 0  # actions planned or sent in the 6 days before today


class OpenInvoice(NamedTuple):
    id: int
    customer_id: int
    due_date: date
    balance_cents: int
    last_offset: int | None = None  # the most advanced step already planned for it
    agreement_id: int | None = None  # an installment of this agreement


class InvoiceStep(NamedTuple):
    invoice_id: int
    step_id: str
    offset: int


@dataclass(frozen=True, slots=True)
class PlannedAction:
    customer_id: int
    planned_for: date
    status: ActionStatus
    policy_name: str
    policy_version: str
    step: Step
    segment: str
    invoices: tuple[InvoiceStep, ...]
    channel: str | None = None
    contact_value: str | None = None
    reason: str = ""
    cost_cents: int = 0
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def consumes_steps(self) -> bool:
        """Whether the invoices' steps count as done (a deferred contact is retried later)."""
        return self.status != "deferred"


def plan_day(
    policies: Sequence[Policy],
    customers: Mapping[int, CustomerState],
    invoices: Iterable[OpenInvoice],
    today: date,
    starts_on: date | None = None,
) -> list[PlannedAction]:
    """One action per customer with a step due today; see the module docstring for the rules.

    `starts_on`: the régua's first day (`start_of`): a step that fell before it counts as
    passed, as if it had been planned, and is never caught up. None: every step can be.
    """
    due: dict[int, list[tuple[OpenInvoice, Step]]] = {}
    chosen: dict[int, tuple[Policy, _Ladder]] = {}
    # A portfolio has a handful of (segment, tags) and (policy, segment) pairs and up to
    # millions of invoices: each choice is made once per pair.
    by_profile: dict[tuple[str, tuple[str, ...]], Policy] = {}
    ladders: dict[tuple[str, str], _Ladder] = {}
    installment_ladders: dict[str, _Ladder] = {}
    # Due on or before this day: prescribed (CC art. 206 §5), no channel may collect it any more.
    prescribed_by = {
        policy.name: prescribed_through(today, policy.prescription_years) for policy in policies
    }
    for invoice in invoices:
        customer_id = invoice.customer_id
        found = chosen.get(customer_id)
        if found is None:
            customer = customers[customer_id]
            profile = (customer.segment, customer.tags)
            policy = by_profile.get(profile)
            if policy is None:
                policy = by_profile[profile] = select_policy(
                    policies, customer.segment, customer.tags
                )
            key = (policy.name, customer.segment)
            ladder = ladders.get(key)
            if ladder is None:
                ladder = ladders[key] = _Ladder(steps_for_segment(policy, customer.segment))
            found = chosen[customer_id] = (policy, ladder)
        policy, ladder = found
        if invoice.agreement_id is not None:
            ladder = installment_ladders.get(policy.name)
            if ladder is None:
                ladder = installment_ladders[policy.name] = _Ladder(installment_steps(policy))
        if invoice.due_date <= prescribed_by[policy.name]:
            continue
        last = invoice.last_offset
        if starts_on is not None:
            # The steps on the days before the start, offsets up to this one, are passed.
            passed = (starts_on - invoice.due_date).days - 1
            if last is None or passed > last:
                last = passed
        step = ladder.latest((today - invoice.due_date).days, last, invoice.balance_cents)
        if step is not None:
            items = due.get(customer_id)
            if items is None:
                due[customer_id] = [(invoice, step)]
            else:
                items.append((invoice, step))
    for customer_id, items in due.items():
        ordinary = [item for item in items if item[0].agreement_id is None]
        if ordinary and len(ordinary) < len(items):
            due[customer_id] = ordinary
    actions = []
    days_by_place: dict[tuple[str, str | None], _DayWindow] = {}
    dates = _DateTexts(today)
    for customer_id in sorted(due):
        policy, customer = chosen[customer_id][0], customers[customer_id]
        place = (policy.name, customer.uf)
        if place not in days_by_place:
            days_by_place[place] = _day_window(policy, customer.uf, today)
        actions.append(
            _action_for(policy, customer, due[customer_id], today, days_by_place[place], dates)
        )
    return actions


def installment_steps(policy: Policy) -> tuple[Step, ...]:
    """The steps an agreement's installments follow under `policy`, by day (the defaults when
    the policy has no negotiation terms: an agreement made under an earlier version)."""
    items = (
        policy.negotiation.installment_steps
        if policy.negotiation is not None
        else DEFAULT_INSTALLMENT_STEPS
    )
    return tuple(
        sorted(
            (
                Step(
                    id=item.id,
                    offset=item.offset,
                    channels=item.channels,
                    template=item.template,
                )
                for item in items
            ),
            key=lambda step: step.offset,
        )
    )


class PlannedSelection(NamedTuple):
    """What one customer's action of the day is about: the step that speaks, and its invoices."""

    step: Step
    invoices: tuple[InvoiceStep, ...]

    @property
    def invoice_ids(self) -> tuple[int, ...]:
        return tuple(item.invoice_id for item in self.invoices)


def planned_selection(
    policy: Policy,
    segment: str,
    tags: tuple[str, ...],
    invoices: Iterable[OpenInvoice],
    today: date,
) -> PlannedSelection | None:
    """The step and invoices `plan_day` gives one customer's action on `today`, or None.

    `invoices` are the customer's open invoices as the planner reads them (held ones, paused
    or promised, left out; `last_offset` the step memory). `policy` is the customer's (it must
    apply to `segment` and `tags`). It is `plan_day` itself over that one customer: a preview,
    a call script and the plan can never name different invoices.
    """
    listed = list(invoices)
    if not listed:
        return None
    customer_id = listed[0].customer_id
    state = CustomerState(id=customer_id, segment=segment, tags=tags)
    actions = plan_day([policy], {customer_id: state}, listed, today)
    if not actions:
        return None
    [action] = actions
    return PlannedSelection(action.step, action.invoices)


def still_collectable(rows: Iterable[Any], today: date) -> list[Any]:
    """The invoice rows a collection message may still speak of at send time: open, with a
    balance, not paused on `today` (rows carry ``status``, ``balance_cents``, ``paused`` and
    ``paused_until``). What the plan chose, less what changed since."""
    return [
        row
        for row in rows
        if row.status == "open"
        and row.balance_cents > 0
        and not (bool(row.paused) and (row.paused_until is None or row.paused_until >= today))
    ]


class _Ladder:
    """One segment's steps under one policy, and the step each (delay, last step, amount) gets.

    A first run over a portfolio asks for the latest step of every invoice, up to millions of
    times, with a few hundred distinct delays: each answer is found once. The amount matters
    only through which steps' minimums it reaches, so the answers are kept by that level.
    """

    __slots__ = ("_answers", "_minimums", "steps")

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps
        self._minimums = sorted({step.min_amount_cents for step in steps} - {0})
        self._answers: dict[tuple[int, int | None, int], Step | None] = {}

    def latest(self, days: int, last_offset: int | None, amount_cents: int) -> Step | None:
        level = bisect_right(self._minimums, amount_cents) if self._minimums else 0
        key = (days, last_offset, level)
        try:
            return self._answers[key]
        except KeyError:
            step = self._answers[key] = latest_step_in(self.steps, days, last_offset, amount_cents)
            return step


class _DateTexts:
    """The evidence's ISO dates and day counts, made once per due date of the day's plan."""

    __slots__ = ("_known", "today")

    def __init__(self, today: date) -> None:
        self.today = today
        self._known: dict[date, tuple[str, int]] = {}

    def of(self, due_date: date) -> tuple[str, int]:
        known = self._known.get(due_date)
        if known is None:
            known = self._known[due_date] = (due_date.isoformat(), (self.today - due_date).days)
        return known


@dataclass(frozen=True)
class _DayWindow:
    """Today's contact window for one policy in one state: the same for all its customers."""

    open: bool
    reason_closed: str
    reopens: date | None
    evidence: Mapping[str, Any]


def _day_window(policy: Policy, uf: str | None, today: date) -> _DayWindow:
    window = effective_window(policy.contact_window, uf)
    evidence = _window_evidence(window, today, uf)
    if is_open_day(window, today, uf):
        return _DayWindow(True, "", None, evidence)
    return _DayWindow(
        False, _closed_reason(window, today, uf), next_open_day(window, today, uf), evidence
    )


def _action_for(
    policy: Policy,
    customer: CustomerState,
    items: list[tuple[OpenInvoice, Step]],
    today: date,
    day: _DayWindow,
    dates: _DateTexts,
) -> PlannedAction:
    if len(items) > 1:
        items.sort(key=_by_step_then_due)
    step = items[-1][1]  # the most advanced step speaks for all the invoices
    listed = []
    for inv, st in items:
        due_text, days = dates.of(inv.due_date)
        listed.append(
            {
                "id": inv.id,
                "due_date": due_text,
                "days": days,
                "step": st.id,
                "balance_cents": inv.balance_cents,
            }
        )
    evidence = action_evidence(
        policy.name, policy.version, step.id, step.offset, customer.segment, listed
    )
    early = early_payment_offers(policy, step, items, today)
    if early:
        evidence["early_payment"] = early
    evidence["window"] = dict(day.evidence)
    evidence["weekly_count"] = customer.contacts_last_7_days
    evidence["weekly_cap"] = policy.limits.per_customer_per_week
    status: ActionStatus = "planned"
    reason = ""
    channel = value = None
    cap = policy.limits.per_customer_per_week
    if not day.open:
        assert day.reopens is not None
        status = "deferred"
        reason = (
            f"{day.reason_closed}: fora da janela de contato; adiado para {day.reopens:%d/%m/%Y}"
        )
        evidence["deferred_to"] = day.reopens.isoformat()
    elif customer.contacts_last_7_days >= cap:
        if policy.limits.over_limit == "drop":
            status = "dropped"
            reason = f"limite de {cap} contatos por semana atingido; etapa descartada"
        else:
            status = "deferred"
            reason = f"limite de {cap} contatos por semana atingido; adiado"
    else:
        choice = choose_channel(step.channels, customer.contacts)
        channel, value = choice.channel, choice.value
        evidence["channels_tried"] = choice.tried
        status, reason = choice.status, choice.reason
    return PlannedAction(
        customer_id=customer.id,
        planned_for=today,
        status=status,
        policy_name=policy.name,
        policy_version=policy.version,
        step=step,
        segment=customer.segment,
        invoices=tuple([InvoiceStep(inv.id, st.id, st.offset) for inv, st in items]),
        channel=channel,
        contact_value=value,
        reason=reason,
        cost_cents=int(policy.channel_prices_cents.get(channel, 0)) if channel else 0,
        evidence=evidence,
    )


def early_payment_offers(
    policy: Policy, step: Step, items: Sequence[tuple[OpenInvoice, Step]], today: date
) -> list[dict[str, Any]]:
    """The early-payment discounts a preventive step offers (`negotiation.early_payment`), one
    per invoice whose discount day has not passed; none for an agreement's installment (its
    amounts were agreed) or a step on or after the due date."""
    if step.offset >= 0 or policy.negotiation is None:
        return []
    terms = policy.negotiation.early_payment
    found = []
    for invoice, _ in items:
        if invoice.agreement_id is not None:
            continue
        offer = early_payment_offer(invoice.balance_cents, invoice.due_date, today, terms)
        if offer is not None:
            found.append(
                {
                    "invoice_id": invoice.id,
                    "discount_cents": offer.discount_cents,
                    "amount_cents": offer.amount_cents,
                    "pay_by": offer.pay_by.isoformat(),
                }
            )
    return found


def _by_step_then_due(item: tuple[OpenInvoice, Step]) -> tuple[int, date, int]:
    return (item[1].offset, item[0].due_date, item[0].id)


def next_step_day(due_date: date, offsets: Sequence[int], today: date) -> date | None:
    """The first day after today on which one of `offsets` (sorted) falls for this due date.

    A lower bound for the planner: it need not look at the invoice again before that day
    (the step's segment, amount or window may still turn it down then). None: no step is left.
    """
    for offset in offsets:
        day = due_date + timedelta(days=offset)
        if day > today:
            return day
    return None


class ChannelChoice(NamedTuple):
    """The channel an action goes out on, or why none could be used."""

    channel: str | None
    value: str | None
    tried: dict[str, str]  # channel -> what was found ("usado", "sem contato", ...)

    @property
    def status(self) -> ActionStatus:
        return "planned" if self.channel else "skipped"

    @property
    def reason(self) -> str:
        """Why the action is skipped, for the person reading it; empty when a channel was used."""
        if self.channel:
            return ""
        return f"{NO_CHANNEL}: " + "; ".join(f"{c}: {why}" for c, why in self.tried.items())


def choose_channel(
    channels: Sequence[str], contacts: Mapping[str, tuple[ContactPoint, ...]]
) -> ChannelChoice:
    """The first channel with a reachable contact; and, for the record, why others were not.

    Every action (a step of the régua, a thank-you) is skipped the same way when none is left.
    """
    tried: dict[str, str] = {}
    for channel in channels:
        points = contacts.get(channel, ())
        for point in points:
            if not point.opted_out and not point.invalid:
                tried[channel] = "usado"
                return ChannelChoice(channel, point.value, tried)
        if not points:
            tried[channel] = "sem contato"
        elif all(p.opted_out for p in points):
            tried[channel] = "descadastrado"
        else:
            tried[channel] = "contato inválido"
    return ChannelChoice(None, None, tried)


def action_evidence(
    policy_name: str,
    policy_version: str,
    step_id: str,
    step_offset: int,
    segment: str,
    invoices: list[dict[str, Any]],
) -> dict[str, Any]:
    """What every action records first, whatever its purpose: the régua version and step it
    follows, the customer's segment and the invoices it is about (each a dict with at least
    ``id`` and ``step``). The plan adds the window and the weekly count, every action the
    channels tried."""
    return {
        "policy": policy_name,
        "policy_version": policy_version,
        "step": step_id,
        "step_offset": step_offset,
        "segment": segment,
        "invoices": invoices,
    }


def add_years(day: date, years: int) -> date:
    """The same day and month `years` later; 29 February becomes 1 March in a common year.

    CC art. 132 §3: "os prazos de meses e anos expiram no dia de igual número do de início, ou
    no imediato, se faltar exata correspondência". A year without 29 February has no day of
    equal number, so the term ends on the day immediately after the 28th.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, into a common year
        return date(day.year + years, 3, 1)


def prescribed_through(today: date, years: int) -> date:
    """The latest due date whose `years`-year term (`add_years`) ended before `today`.

    The last day of the term still counts: an invoice due on 15/01/2024 may be collected on
    15/01/2029 under a five-year term and is prescribed from 16/01/2029, whatever leap days lie
    between.
    """
    last_end = today - timedelta(days=1)
    try:
        return last_end.replace(year=last_end.year - years)
    except ValueError:  # 29 February, back into a common year: the 28th ends on or before it
        return date(last_end.year - years, 2, 28)


def _closed_reason(window: ContactWindow, day: date, uf: str | None) -> str:
    name = holiday_name(day, uf)
    if name and window.holidays_closed:
        return f"feriado ({name})"
    weekday = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")[day.weekday()]
    if day in window.extra_closed_days:
        return f"{weekday} {day:%d/%m} fechado pela régua"
    if window.carnival_closed and day in carnival_days(day.year):
        return "carnaval"
    return weekday


def _window_evidence(window: ContactWindow, day: date, uf: str | None) -> dict[str, Any]:
    hours = window_on(window, day, uf)
    return {
        "uf": uf,
        "day": day.isoformat(),
        "hours": format_hours(hours) if hours else None,
        "holiday": holiday_name(day, uf),
        "open": hours is not None,
    }
