"""The régua (collection policy) as immutable data, and the pure rules over it.

A ``Policy`` holds the cadence (``Step``s at day offsets from the due date, per segment), the
contact window, the contact limits, the segment rules, the thank-you message, channel prices and
which customers it is assigned to. Here live the questions a planner asks of a policy (which
step applies to a segment on a given day of delay, with catch-up that never bursts), the
consistency rules a policy must satisfy (``check_policy``), the comparison of two versions
(``diff``) and the content digest that lets history say under which version an action was
planned. Reading policies from YAML is ``regua.policies``' job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Literal, get_args

from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_TIMEZONE,
    ContactWindow,
    describe_window,
    format_hours,
)
from regua.domain.channels import CHANNELS, MESSAGE_CHANNELS, WRITTEN_CHANNELS
from regua.domain.money import Cents, format_brl
from regua.domain.segments import SegmentRule, describe_rule
from regua.errors import NotFound

StepKind = Literal["reminder", "notice", "collection", "call", "bureau_notice"]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)

KIND_LABELS_PT: Mapping[str, str] = {
    "reminder": "lembrete",
    "notice": "aviso de vencimento",
    "collection": "cobrança",
    "call": "ligação",
    "bureau_notice": "aviso de negativação",
}

# Prescription of liquid debts in a public or private instrument (CC art. 206 §5 I).
DEFAULT_PRESCRIPTION_YEARS = 5


def derive_kind(offset: int, channels: Iterable[str]) -> StepKind:
    """The kind of a step that does not say: a call if it only phones, else by its day."""
    if set(channels) == {"phone"}:
        return "call"
    if offset < 0:
        return "reminder"
    return "notice" if offset == 0 else "collection"


def format_offset(offset: int) -> str:
    """The day of a step as collections teams write it: ``D-3``, ``D0``, ``D+3``."""
    return f"D{offset:+d}" if offset else "D0"


@dataclass(frozen=True)
class Step:
    """One step of the cadence.

    ``offset`` counts days from the due date (negative = before it). ``channels`` are tried in
    order; ``template`` names the message for e-mail/SMS/WhatsApp/letter and ``script`` the call
    script for ``phone``. ``segments`` limits the step to some segments (``None`` = all).
    ``kind`` is derived from the offset and channels when not given. Invoices below
    ``min_amount_cents`` skip the step.
    """

    id: str
    offset: int
    channels: tuple[str, ...]
    template: str | None = None
    script: str | None = None
    segments: tuple[str, ...] | None = None
    kind: StepKind = None  # type: ignore[assignment]  # derived in __post_init__ when omitted
    min_amount_cents: Cents = 0

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", derive_kind(self.offset, self.channels))

    def applies_to(self, segment: str) -> bool:
        return self.segments is None or segment in self.segments


@dataclass(frozen=True)
class Limits:
    """Contact caps per customer; ``over_limit`` says whether an extra contact waits or is lost."""

    per_customer_per_week: int = 3
    per_customer_per_day: int = 1
    over_limit: Literal["defer", "drop"] = "defer"


@dataclass(frozen=True)
class ThankYou:
    """The message sent when an invoice is settled."""

    template: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Assignment:
    """Which customers a policy is for.

    A policy with neither ``segments`` nor ``customer_tags`` is the creditor's default. One with
    both applies only to customers matching both. The most specific match wins, then the higher
    ``priority``, then the name (see ``select_policy``).
    """

    segments: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()
    priority: int = 0

    @property
    def is_default(self) -> bool:
        return not self.segments and not self.customer_tags


CATCH_ALL = (SegmentRule("todos", "Todos"),)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """A régua: the whole collection cadence of a creditor (or of part of its customers)."""

    name: str
    description: str = ""
    timezone: str = DEFAULT_TIMEZONE
    contact_window: ContactWindow = DEFAULT_CONTACT_WINDOW
    limits: Limits = Limits()
    segment_rules: tuple[SegmentRule, ...] = CATCH_ALL
    steps: tuple[Step, ...] = ()
    thank_you: ThankYou | None = None
    prescription_years: int = DEFAULT_PRESCRIPTION_YEARS
    channel_prices_cents: Mapping[str, Cents] = field(default_factory=dict, hash=False)
    assign: Assignment = Assignment()

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the policy's content: equal policies have equal digests, whatever the
        YAML formatting or comments were."""
        canonical = json.dumps(
            policy_as_dict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @cached_property
    def version(self) -> str:
        """Short form of the digest, to show and to store beside planned actions."""
        return self.digest[:12]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise NotFound(f"etapa {step_id!r} não existe na régua {self.name!r}", code="no_step")

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.segment_rules)


# --- the questions a planner asks -------------------------------------------------------------


def steps_for_segment(policy: Policy, segment: str) -> tuple[Step, ...]:
    """The steps that apply to ``segment``, by day."""
    return tuple(sorted((s for s in policy.steps if s.applies_to(segment)), key=lambda s: s.offset))


def _eligible(step: Step, amount_cents: Cents | None) -> bool:
    return amount_cents is None or amount_cents >= step.min_amount_cents


def step_for_days_late(
    policy: Policy, segment: str, days: int, *, amount_cents: Cents | None = None
) -> Step | None:
    """The step of ``segment`` whose offset is exactly ``days`` (negative = before the due date).

    With ``amount_cents``, a step whose minimum amount is not reached does not apply.
    """
    for step in steps_for_segment(policy, segment):
        if step.offset == days and _eligible(step, amount_cents):
            return step
    return None


def latest_step_due(
    policy: Policy,
    segment: str,
    days_late: int,
    last_sent_offset: int | None,
    *,
    amount_cents: Cents | None = None,
) -> Step | None:
    """Catch-up: the most advanced step not yet sent whose day has come.

    That is the step with the greatest offset such that ``last_sent_offset < offset <=
    days_late`` (``last_sent_offset`` ``None`` = nothing sent yet). Days missed (an outage, a
    closed window, an invoice imported late) never cause a burst: the steps in between are
    skipped, only the latest one is sent.
    """
    return latest_step_in(
        steps_for_segment(policy, segment), days_late, last_sent_offset, amount_cents
    )


def latest_step_in(
    ladder: Iterable[Step],
    days_late: int,
    last_sent_offset: int | None,
    amount_cents: Cents | None = None,
) -> Step | None:
    """`latest_step_due` over steps already sorted by offset, for a planner that sorts once per
    segment instead of once per invoice."""
    due: Step | None = None
    for step in ladder:
        if step.offset > days_late:
            break
        if last_sent_offset is not None and step.offset <= last_sent_offset:
            continue
        if _eligible(step, amount_cents):
            due = step
    return due


def select_policy(policies: Iterable[Policy], segment: str, customer_tags: Iterable[str]) -> Policy:
    """The policy assigned to a customer of ``segment`` with ``customer_tags``.

    A policy matches if each criterion it sets holds (one of its tags is on the customer, the
    customer's segment is one of its segments). The most specific match wins (tags and segment
    over one of them over the default), then the higher priority, then the name.
    """
    tags = set(customer_tags)
    matches: list[tuple[int, int, str, Policy]] = []
    for policy in policies:
        rule = policy.assign
        if rule.customer_tags and not tags & set(rule.customer_tags):
            continue
        if rule.segments and segment not in rule.segments:
            continue
        specificity = bool(rule.customer_tags) + bool(rule.segments)
        matches.append((-specificity, -rule.priority, policy.name, policy))
    chosen = min(matches, key=lambda match: match[:3])[3] if matches else None
    if chosen is None:
        raise NotFound(
            f"nenhuma régua se aplica ao segmento {segment!r}: defina uma régua padrão "
            "(sem 'assign')",
            code="no_policy",
        )
    return chosen


# --- consistency rules --------------------------------------------------------------------------

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyProblem:
    """A broken rule, located by its path in the policy file (``("steps", 2, "script")``)."""

    path: Path
    message: str


def _check_steps(policy: Policy) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    segment_names = policy.segment_names
    first_index: dict[str, int] = {}
    for i, step in enumerate(policy.steps):
        at: Path = ("steps", i)
        if step.id in first_index:
            problems.append(
                PolicyProblem(
                    (*at, "id"),
                    f"etapa {step.id!r} repetida (já definida em steps[{first_index[step.id]}])",
                )
            )
        first_index.setdefault(step.id, i)
        if not step.channels:
            problems.append(PolicyProblem((*at, "channels"), "informe ao menos um canal"))
        for k, channel in enumerate(step.channels):
            if channel not in CHANNELS:
                problems.append(
                    PolicyProblem(
                        (*at, "channels", k),
                        f"canal desconhecido {channel!r}; use um de: {', '.join(CHANNELS)}",
                    )
                )
            elif channel in step.channels[:k]:
                problems.append(PolicyProblem((*at, "channels", k), f"canal {channel!r} repetido"))
        phones = "phone" in step.channels
        messages = bool(set(MESSAGE_CHANNELS) & set(step.channels))
        if phones and not step.script:
            problems.append(
                PolicyProblem(
                    (*at, "script"), "uma etapa com o canal phone precisa de um roteiro (script)"
                )
            )
        if not phones and step.script:
            problems.append(
                PolicyProblem(
                    (*at, "script"), "roteiro (script) só vale para etapas com o canal phone"
                )
            )
        if messages and not step.template:
            problems.append(
                PolicyProblem(
                    (*at, "template"),
                    "uma etapa com mensagem (email, sms, whatsapp, letter) precisa de um "
                    "modelo (template)",
                )
            )
        if set(step.channels) == {"phone"} and step.template:
            problems.append(
                PolicyProblem(
                    (*at, "template"),
                    "modelo (template) sem uso: a etapa só tem o canal phone (use script)",
                )
            )
        if step.kind not in STEP_KINDS:
            problems.append(
                PolicyProblem(
                    (*at, "kind"),
                    f"tipo desconhecido {step.kind!r}; use um de: {', '.join(STEP_KINDS)}",
                )
            )
        if step.kind == "call" and not phones:
            problems.append(
                PolicyProblem((*at, "kind"), "uma etapa do tipo call precisa do canal phone")
            )
        if step.kind == "bureau_notice":
            if not WRITTEN_CHANNELS & set(step.channels):
                problems.append(
                    PolicyProblem(
                        (*at, "channels"),
                        "o aviso de negativação deve ser por escrito (CDC art. 43 §2): "
                        "inclua letter ou email",
                    )
                )
            if step.offset <= 0:
                problems.append(
                    PolicyProblem(
                        (*at, "offset"), "o aviso de negativação só cabe depois do vencimento"
                    )
                )
        if step.min_amount_cents < 0:
            problems.append(
                PolicyProblem((*at, "min_amount_cents"), "o valor mínimo não pode ser negativo")
            )
        if step.segments is not None:
            if not step.segments:
                problems.append(
                    PolicyProblem(
                        (*at, "segments"),
                        "lista vazia: a etapa não valeria para ninguém (omita o campo para "
                        "valer para todos)",
                    )
                )
            for k, name in enumerate(step.segments):
                if name not in segment_names:
                    problems.append(
                        PolicyProblem(
                            (*at, "segments", k),
                            f"segmento desconhecido {name!r}; segmentos da régua: "
                            f"{', '.join(segment_names)}",
                        )
                    )
        for j, earlier in enumerate(policy.steps[:i]):
            if earlier.offset != step.offset:
                continue
            shared = _shared_segments(earlier, step, segment_names)
            if shared:
                problems.append(
                    PolicyProblem(
                        (*at, "offset"),
                        f"a etapa {earlier.id!r} (steps[{j}]) já está em "
                        f"{format_offset(step.offset)} para {', '.join(shared)}: "
                        "separe os segmentos ou mude o dia",
                    )
                )
                break
    return problems


def _shared_segments(a: Step, b: Step, all_segments: tuple[str, ...]) -> list[str]:
    a_set = set(all_segments if a.segments is None else a.segments)
    b_set = set(all_segments if b.segments is None else b.segments)
    return [name for name in all_segments if name in a_set & b_set]


def _check_segments(policy: Policy) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    rules = policy.segment_rules
    if not rules:
        return [PolicyProblem(("segments",), "defina ao menos um segmento")]
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in seen:
            problems.append(
                PolicyProblem(
                    ("segments", i, "name"),
                    f"segmento {rule.name!r} repetido (já definido em segments[{seen[rule.name]}])",
                )
            )
        seen.setdefault(rule.name, i)
        if rule.is_catch_all and i < len(rules) - 1:
            problems.append(
                PolicyProblem(
                    ("segments", i + 1),
                    f"segmento {rules[i + 1].name!r} nunca será usado: {rule.name!r}, antes "
                    "dele, vale para todos (a ordem importa: o primeiro que casar vence)",
                )
            )
            break
    if not rules[-1].is_catch_all:
        problems.append(
            PolicyProblem(
                ("segments", len(rules) - 1),
                "o último segmento deve valer para todos os clientes (sem condições em "
                "'when'), para que todo cliente tenha um segmento",
            )
        )
    return problems


def check_policy(policy: Policy) -> list[PolicyProblem]:
    """Every consistency rule the policy breaks, in file order (empty = valid)."""
    problems = _check_segments(policy) + _check_steps(policy)
    segment_names = policy.segment_names
    if policy.thank_you is not None:
        if not policy.thank_you.channels:
            problems.append(PolicyProblem(("thank_you", "channels"), "informe ao menos um canal"))
        for k, channel in enumerate(policy.thank_you.channels):
            if channel not in MESSAGE_CHANNELS:
                problems.append(
                    PolicyProblem(
                        ("thank_you", "channels", k),
                        f"canal {channel!r} não serve para o agradecimento; use um de: "
                        f"{', '.join(sorted(MESSAGE_CHANNELS))}",
                    )
                )
    limits = policy.limits
    if limits.per_customer_per_week < 1:
        problems.append(PolicyProblem(("limits", "per_customer_per_week"), "deve ser pelo menos 1"))
    if limits.per_customer_per_day < 1:
        problems.append(PolicyProblem(("limits", "per_customer_per_day"), "deve ser pelo menos 1"))
    elif limits.per_customer_per_day > limits.per_customer_per_week:
        problems.append(
            PolicyProblem(
                ("limits", "per_customer_per_day"),
                "o limite por dia não pode passar do limite por semana",
            )
        )
    if not 1 <= policy.prescription_years <= 20:
        problems.append(PolicyProblem(("prescription_years",), "deve estar entre 1 e 20 anos"))
    for channel, price in policy.channel_prices_cents.items():
        if channel not in CHANNELS:
            problems.append(
                PolicyProblem(
                    ("prices", channel),
                    f"canal desconhecido {channel!r}; use um de: {', '.join(CHANNELS)}",
                )
            )
        elif price < 0:
            problems.append(PolicyProblem(("prices", channel), "o preço não pode ser negativo"))
    for k, name in enumerate(policy.assign.segments):
        if name not in segment_names:
            problems.append(
                PolicyProblem(
                    ("assign", "segments", k),
                    f"segmento desconhecido {name!r}; segmentos da régua: "
                    f"{', '.join(segment_names)}",
                )
            )
    return problems


# --- as data, and comparison --------------------------------------------------------------------


def _window_as_dict(window: ContactWindow) -> dict[str, Any]:
    return {
        "weekdays": format_hours(window.weekdays),
        "saturday": format_hours(window.saturday),
        "sunday": format_hours(window.sunday),
        "holidays": "closed" if window.holidays_closed else "open",
        "carnival": "closed" if window.carnival_closed else "open",
        "closed_days": [d.isoformat() for d in sorted(window.extra_closed_days)],
    }


def step_as_dict(step: Step) -> dict[str, Any]:
    return {
        "id": step.id,
        "offset": step.offset,
        "day": format_offset(step.offset),
        "channels": list(step.channels),
        "template": step.template,
        "script": step.script,
        "segments": None if step.segments is None else list(step.segments),
        "kind": step.kind,
        "min_amount_cents": step.min_amount_cents,
    }


def policy_as_dict(policy: Policy) -> dict[str, Any]:
    """The policy as JSON-ready data (the shape of the YAML, with defaults filled in)."""
    return {
        "name": policy.name,
        "description": policy.description,
        "timezone": policy.timezone,
        "contact_window": _window_as_dict(policy.contact_window),
        "limits": {
            "per_customer_per_week": policy.limits.per_customer_per_week,
            "per_customer_per_day": policy.limits.per_customer_per_day,
            "over_limit": policy.limits.over_limit,
        },
        "segments": [
            {
                "name": rule.name,
                "label": rule.label_pt,
                "when": [[c.feature, c.op, c.value] for c in rule.conditions],
            }
            for rule in policy.segment_rules
        ],
        "steps": [step_as_dict(step) for step in policy.steps],
        "thank_you": None
        if policy.thank_you is None
        else {
            "template": policy.thank_you.template,
            "channels": list(policy.thank_you.channels),
        },
        "prescription_years": policy.prescription_years,
        "prices": dict(sorted(policy.channel_prices_cents.items())),
        "assign": {
            "segments": list(policy.assign.segments),
            "customer_tags": list(policy.assign.customer_tags),
            "priority": policy.assign.priority,
        },
    }


ChangeKind = Literal["added", "removed", "moved", "changed"]


@dataclass(frozen=True)
class StepChange:
    """One difference between two versions of a policy's steps (matched by id)."""

    kind: ChangeKind
    step_id: str
    old_offset: int | None
    new_offset: int | None
    details: str


def _list_pt(values: Iterable[str] | None) -> str:
    return "todos" if values is None else ", ".join(values) or "nenhum"


def _field_changes(old: Step, new: Step) -> list[str]:
    changes: list[str] = []
    if old.channels != new.channels:
        changes.append(f"canais: {_list_pt(old.channels)} → {_list_pt(new.channels)}")
    if old.template != new.template:
        changes.append(f"modelo: {old.template or '—'} → {new.template or '—'}")
    if old.script != new.script:
        changes.append(f"roteiro: {old.script or '—'} → {new.script or '—'}")
    if old.segments != new.segments:
        changes.append(f"segmentos: {_list_pt(old.segments)} → {_list_pt(new.segments)}")
    if old.kind != new.kind:
        changes.append(f"tipo: {KIND_LABELS_PT[old.kind]} → {KIND_LABELS_PT[new.kind]}")
    if old.min_amount_cents != new.min_amount_cents:
        changes.append(
            f"valor mínimo: {format_brl(old.min_amount_cents)} → {format_brl(new.min_amount_cents)}"
        )
    return changes


def _describe_step(step: Step) -> str:
    what = f"modelo {step.template}" if step.template else f"roteiro {step.script}"
    if step.template and step.script:
        what += f", roteiro {step.script}"
    return (
        f"{format_offset(step.offset)} por {_list_pt(step.channels)}; {what}; "
        f"segmentos: {_list_pt(step.segments)}"
    )


def diff(old: Policy, new: Policy) -> list[StepChange]:
    """What changing ``old`` into ``new`` does to the steps, matched by id, in day order."""
    old_steps = {s.id: s for s in old.steps}
    new_steps = {s.id: s for s in new.steps}
    changes: list[StepChange] = []
    for step_id, before in old_steps.items():
        after = new_steps.get(step_id)
        if after is None:
            changes.append(
                StepChange(
                    "removed",
                    step_id,
                    before.offset,
                    None,
                    f"etapa removida (era {_describe_step(before)})",
                )
            )
            continue
        details = _field_changes(before, after)
        if before.offset != after.offset:
            move = f"movida de {format_offset(before.offset)} para {format_offset(after.offset)}"
            changes.append(
                StepChange(
                    "moved", step_id, before.offset, after.offset, "; ".join([move, *details])
                )
            )
        elif details:
            changes.append(
                StepChange("changed", step_id, before.offset, after.offset, "; ".join(details))
            )
    for step_id, after in new_steps.items():
        if step_id not in old_steps:
            changes.append(
                StepChange(
                    "added", step_id, None, after.offset, f"nova etapa em {_describe_step(after)}"
                )
            )

    def day(change: StepChange) -> tuple[int, str]:
        offset = change.new_offset if change.new_offset is not None else change.old_offset
        return (offset if offset is not None else 0, change.step_id)

    return sorted(changes, key=day)


def settings_changes(old: Policy, new: Policy) -> list[str]:
    """pt-BR lines for what changes outside the steps (window, limits, segments, ...)."""
    lines: list[str] = []
    if old.timezone != new.timezone:
        lines.append(f"fuso horário: {old.timezone} → {new.timezone}")
    old_window = describe_window(old.contact_window)
    new_window = describe_window(new.contact_window)
    # The first five lines (weekdays, Saturday, Sunday, holidays, Carnival) always exist.
    for was, now in zip(old_window[:5], new_window[:5], strict=True):
        if was != now:
            lines.append(f"janela de contato: {was} → {now.split(': ', 1)[1]}")
    old_days = old.contact_window.extra_closed_days
    new_days = new.contact_window.extra_closed_days
    if old_days != new_days:

        def days(values: frozenset[date]) -> str:
            return ", ".join(f"{d:%d/%m/%Y}" for d in sorted(values)) or "nenhum"

        lines.append(
            f"janela de contato: outros dias fechados: {days(old_days)} → {days(new_days)}"
        )
    if old.limits != new.limits:
        a, b = old.limits, new.limits
        if a.per_customer_per_week != b.per_customer_per_week:
            lines.append(
                f"limite por semana: {a.per_customer_per_week} → {b.per_customer_per_week}"
            )
        if a.per_customer_per_day != b.per_customer_per_day:
            lines.append(f"limite por dia: {a.per_customer_per_day} → {b.per_customer_per_day}")
        if a.over_limit != b.over_limit:
            lines.append(f"acima do limite: {a.over_limit} → {b.over_limit}")
    old_rules = {r.name: r for r in old.segment_rules}
    new_rules = {r.name: r for r in new.segment_rules}
    for name in old_rules.keys() - new_rules.keys():
        lines.append(f"segmento removido: {name}")
    for rule in new.segment_rules:
        before = old_rules.get(rule.name)
        if before is None:
            lines.append(f"segmento novo: {rule.name} ({describe_rule(rule)})")
        elif before.conditions != rule.conditions:
            lines.append(f"segmento {rule.name}: {describe_rule(before)} → {describe_rule(rule)}")
    shared_old = [n for n in old.segment_names if n in new_rules]
    shared_new = [n for n in new.segment_names if n in old_rules]
    if shared_old != shared_new:
        lines.append(f"ordem dos segmentos: {', '.join(shared_old)} → {', '.join(shared_new)}")
    if old.thank_you != new.thank_you:

        def show(thanks: ThankYou | None) -> str:
            if thanks is None:
                return "nenhum"
            return f"{thanks.template} por {_list_pt(thanks.channels)}"

        lines.append(f"agradecimento: {show(old.thank_you)} → {show(new.thank_you)}")
    for channel in sorted(set(old.channel_prices_cents) | set(new.channel_prices_cents)):
        a_price = old.channel_prices_cents.get(channel)
        b_price = new.channel_prices_cents.get(channel)
        if a_price != b_price:

            def price(value: Cents | None) -> str:
                return "—" if value is None else format_brl(value)

            lines.append(f"preço de {channel}: {price(a_price)} → {price(b_price)}")
    if old.prescription_years != new.prescription_years:
        lines.append(f"prescrição: {old.prescription_years} → {new.prescription_years} anos")
    if old.assign != new.assign:
        lines.append("atribuição da régua (assign) mudou")
    return lines
