"""What changes between two versions of a policy, in pt-BR lines for the collections team.

``diff`` compares the steps (matched by id, in day order); ``settings_changes`` everything else
(window, limits, segments, thank-you, prices, prescription, assignment).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from regua.domain.calendar import describe_window
from regua.domain.channels import channel_label
from regua.domain.money import Cents, format_brl
from regua.domain.policy import KIND_LABELS_PT, Policy, Step, ThankYou, format_offset
from regua.domain.policy_terms import terms_changes
from regua.domain.segments import describe_rule

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


def _channels_pt(values: Iterable[str]) -> str:
    return _list_pt([channel_label(channel) for channel in values])


def _field_changes(old: Step, new: Step) -> list[str]:
    changes: list[str] = []
    if old.channels != new.channels:
        changes.append(f"canais: {_channels_pt(old.channels)} → {_channels_pt(new.channels)}")
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
        f"{format_offset(step.offset)} por {_channels_pt(step.channels)}; {what}; "
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
            return f"{thanks.template} por {_channels_pt(thanks.channels)}"

        lines.append(f"agradecimento: {show(old.thank_you)} → {show(new.thank_you)}")
    for channel in sorted(set(old.channel_prices_cents) | set(new.channel_prices_cents)):
        a_price = old.channel_prices_cents.get(channel)
        b_price = new.channel_prices_cents.get(channel)
        if a_price != b_price:

            def price(value: Cents | None) -> str:
                return "—" if value is None else format_brl(value)

            lines.append(f"preço de {channel_label(channel)}: {price(a_price)} → {price(b_price)}")
    if old.prescription_years != new.prescription_years:
        lines.append(f"prescrição: {old.prescription_years} → {new.prescription_years} anos")
    if old.assign != new.assign:
        lines.append("atribuição da régua (assign) mudou")
    lines += terms_changes(old.negotiation, new.negotiation)
    return lines
