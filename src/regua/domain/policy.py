"""The régua (collection policy) as immutable data, and the questions a planner asks of it.

A ``Policy`` holds the cadence (``Step``s at day offsets from the due date, per segment), the
contact window, the contact limits, the segment rules, the thank-you message, channel prices and
which customers it is assigned to. Here live the selection rules (which step applies to a segment
on a given day of delay, with catch-up that never bursts; which policy a customer gets), the
policy as JSON-ready data and the content digest that lets history say under which version an
action was planned. The consistency rules are ``regua.domain.policy_checks``, the comparison of
two versions ``regua.domain.policy_diff``; reading policies from YAML is ``regua.policies``' job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_TIMEZONE,
    ContactWindow,
    format_hours,
)
from regua.domain.money import Cents
from regua.domain.policy_terms import NegotiationTerms, terms_as_dict
from regua.domain.segments import SegmentRule
from regua.error_codes import ErrorCode
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
    """Contact caps per customer; ``over_limit`` says whether an extra contact waits or is lost.

    There is no daily cap to set: an action is unique per customer, day and purpose, so a
    customer gets at most one collection contact a day.
    """

    per_customer_per_week: int = 3
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
    # What may be offered to a debtor (offers, agreements, promises); None = nothing.
    negotiation: NegotiationTerms | None = None

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the policy's content: equal policies have equal digests, whatever the
        YAML formatting or comments were."""
        content = policy_as_dict(self)
        # Policies once had a daily cap, always 1 in effect; it stays in what is hashed so that
        # a version stored before the cap was dropped keeps its digest, and the actions planned
        # under it keep finding it.
        content["limits"]["per_customer_per_day"] = 1
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @cached_property
    def version(self) -> str:
        """Short form of the digest, to show and to store beside planned actions."""
        return self.digest[:12]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise NotFound(
            f"etapa {step_id!r} não existe na régua {self.name!r}", code=ErrorCode.NO_STEP
        )

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
            code=ErrorCode.NO_POLICY,
        )
    return chosen


# --- as data ----------------------------------------------------------------------------------


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
    data = _policy_core_dict(policy)
    # Only when set: a policy without terms keeps the digest it had before terms existed.
    if policy.negotiation is not None:
        data["negotiation"] = terms_as_dict(policy.negotiation)
    return data


def _policy_core_dict(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "timezone": policy.timezone,
        "contact_window": _window_as_dict(policy.contact_window),
        "limits": {
            "per_customer_per_week": policy.limits.per_customer_per_week,
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
