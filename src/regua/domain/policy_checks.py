"""The consistency rules a policy must satisfy, as problems located by their path in the file.

``check_policy`` returns every rule a ``Policy`` breaks; the YAML loader turns each path into a
line of the policy file. The file's shape and types are ``regua.policies.schema``'s concern.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from regua.domain.channels import CHANNELS, MESSAGE_CHANNELS, WRITTEN_CHANNELS
from regua.domain.policy import STEP_KINDS, Policy, Step, format_offset
from regua.domain.policy_terms import check_terms

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyProblem:
    """A broken rule, located by its path in the policy file (``("steps", 2, "script")``)."""

    path: Path
    message: str


def _unknown_channel(at: Path, channel: str) -> PolicyProblem:
    return PolicyProblem(at, f"canal desconhecido {channel!r}; use um de: {', '.join(CHANNELS)}")


def _unknown_segment(at: Path, name: str, segment_names: tuple[str, ...]) -> PolicyProblem:
    return PolicyProblem(
        at, f"segmento desconhecido {name!r}; segmentos da régua: {', '.join(segment_names)}"
    )


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
                problems.append(_unknown_channel((*at, "channels", k), channel))
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
                    problems.append(_unknown_segment((*at, "segments", k), name, segment_names))
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


@dataclass(frozen=True)
class KnownNames:
    """The message templates and call scripts a policy may name (what dispatch can render).

    The domain does not know where they come from: the caller lists them (the template library).
    """

    templates: Collection[str]
    scripts: Collection[str]


def _unknown_name(
    at: Path, kind: str, where: str, name: str, known: Collection[str]
) -> PolicyProblem:
    message = f"{kind} {name!r} não existe ({where})"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        message += f"; você quis dizer {close[0]}?"
    elif known:
        message += f"; disponíveis: {', '.join(sorted(known))}"
    return PolicyProblem(at, message)


def check_names(policy: Policy, known: KnownNames) -> list[PolicyProblem]:
    """Every template or call script the policy names that is not in `known`, in file order."""
    problems: list[PolicyProblem] = []
    for i, step in enumerate(policy.steps):
        where = f"etapa {step.id!r}"
        if step.template and step.template not in known.templates:
            problems.append(
                _unknown_name(
                    ("steps", i, "template"), "modelo", where, step.template, known.templates
                )
            )
        if step.script and step.script not in known.scripts:
            problems.append(
                _unknown_name(("steps", i, "script"), "roteiro", where, step.script, known.scripts)
            )
    if policy.negotiation is not None:
        for i, item in enumerate(policy.negotiation.installment_steps):
            if item.template not in known.templates:
                problems.append(
                    _unknown_name(
                        ("negotiation", "installment_steps", i, "template"),
                        "modelo",
                        f"etapa das parcelas {item.id!r}",
                        item.template,
                        known.templates,
                    )
                )
    if policy.thank_you is not None and policy.thank_you.template not in known.templates:
        problems.append(
            _unknown_name(
                ("thank_you", "template"),
                "modelo",
                "agradecimento",
                policy.thank_you.template,
                known.templates,
            )
        )
    return problems


def check_policy(policy: Policy, known: KnownNames | None = None) -> list[PolicyProblem]:
    """Every consistency rule the policy breaks, in file order (empty = valid).

    With `known`, a template or call script that is not among the known names is a problem too
    (without it, the names are not looked at: stored versions were checked when applied).
    """
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
    if policy.limits.per_customer_per_week < 1:
        problems.append(PolicyProblem(("limits", "per_customer_per_week"), "deve ser pelo menos 1"))
    if not 1 <= policy.prescription_years <= 20:
        problems.append(PolicyProblem(("prescription_years",), "deve estar entre 1 e 20 anos"))
    for channel, price in policy.channel_prices_cents.items():
        if channel not in CHANNELS:
            problems.append(_unknown_channel(("prices", channel), channel))
        elif price < 0:
            problems.append(PolicyProblem(("prices", channel), "o preço não pode ser negativo"))
    for k, name in enumerate(policy.assign.segments):
        if name not in segment_names:
            problems.append(_unknown_segment(("assign", "segments", k), name, segment_names))
    if policy.negotiation is not None:
        problems += [
            PolicyProblem(path, message)
            for path, message in check_terms(policy.negotiation, segment_names)
        ]
    if known is not None:
        problems += check_names(policy, known)
    return problems
