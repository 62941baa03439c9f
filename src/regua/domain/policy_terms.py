"""The negotiation terms of a policy: what a creditor allows when a debtor wants to settle.

A policy's ``negotiation`` block holds the rules by segment, aging bucket (days the oldest open
invoice is overdue) and, optionally, amount band: the caps on the discount for paying at once
(on multa, on juros, on principal), the installment plans allowed, the interest charged inside an
agreement (none, simple, or compound by the tabela Price), the new due date (prorrogação), the
early-payment discount on invoices not yet due, when an agreement breaks, and who approves a
plan beyond the terms. ``rule_for`` picks the rule of one customer; ``check_terms`` lists the
inconsistencies (located by their path in the file); ``terms_changes`` says what changed between
two versions in pt-BR; ``describe_terms`` says what a policy allows, for ``regua policy check``.

Rates are in basis points, like the creditor's fee settings: 200 = 2 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from regua.domain.money import Cents, format_brl

InterestKind = Literal["none", "simple", "price"]
INTEREST_KINDS: tuple[str, ...] = get_args(InterestKind)
Periodicity = Literal["monthly", "biweekly", "weekly"]
PERIODICITIES: tuple[str, ...] = get_args(Periodicity)
Approver = Literal["gestor", "nobody"]
Role = Literal["operator", "gestor"]

INTEREST_LABELS_PT = {
    "none": "sem juros",
    "simple": "juros simples",
    "price": "juros compostos (tabela Price)",
}
PERIODICITY_LABELS_PT = {"monthly": "mensal", "biweekly": "quinzenal", "weekly": "semanal"}
ROLE_LABELS_PT = {"operator": "operador", "gestor": "gestor"}

FULL_BP = 10_000
DEFAULT_PROMISE_MAX_DAYS = 30


def percent_pt(bp: int) -> str:
    """``250`` -> ``2,5%``: basis points as a pt-BR percentage."""
    whole, part = divmod(bp, 100)
    return f"{whole}%" if not part else f"{whole},{part:02d}".rstrip("0") + "%"


@dataclass(frozen=True)
class DiscountCaps:
    """The most that may be waived for paying at once, as a share of each part of the debt."""

    late_fee_bp: int = 0  # of the multa
    interest_bp: int = 0  # of the juros de mora
    principal_bp: int = 0  # of the principal


@dataclass(frozen=True)
class InstallmentRules:
    """The installment plans allowed: up to ``max_count`` installments (the down payment, when
    there is one, is not counted), none below ``min_installment_cents``, a down payment of at
    least ``min_down_payment_bp`` of the debt (0 = none required), the first installment
    ``first_due_days`` after the agreement (or after the down payment's day)."""

    max_count: int = 1
    min_installment_cents: Cents = 0
    min_down_payment_bp: int = 0
    first_due_days: int = 30
    periodicity: Periodicity = "monthly"


@dataclass(frozen=True)
class AgreementInterest:
    """Interest inside an agreement: none, simple, or compound by the tabela Price."""

    kind: InterestKind = "none"
    monthly_bp: int = 0


@dataclass(frozen=True)
class TermRule:
    """One rule of the terms: whom it is for and what it allows.

    ``segments`` None = every segment; days overdue between ``min_days`` and ``max_days``
    (None = no upper bound); amount between ``min_amount_cents`` and ``max_amount_cents``.
    """

    segments: tuple[str, ...] | None = None
    min_days: int = 0
    max_days: int | None = None
    min_amount_cents: Cents = 0
    max_amount_cents: Cents | None = None
    discount: DiscountCaps = DiscountCaps()
    installments: InstallmentRules = InstallmentRules()
    interest: AgreementInterest = AgreementInterest()

    def matches(self, segment: str, days_overdue: int, amount_cents: Cents) -> bool:
        return (
            (self.segments is None or segment in self.segments)
            and self.min_days <= days_overdue
            and (self.max_days is None or days_overdue <= self.max_days)
            and self.min_amount_cents <= amount_cents
            and (self.max_amount_cents is None or amount_cents <= self.max_amount_cents)
        )


@dataclass(frozen=True)
class Extension:
    """A new due date (prorrogação) within ``max_days`` of the old one; ``with_fees``: the
    multa and juros up to the new date are charged."""

    max_days: int = 0
    with_fees: bool = True


@dataclass(frozen=True)
class EarlyPayment:
    """A discount of ``discount_bp`` on an invoice paid at least ``days_before`` its due date."""

    discount_bp: int = 0
    days_before: int = 0


@dataclass(frozen=True)
class BreakRule:
    """An agreement breaks when an installment is ``days_late`` days overdue; the original debt
    comes back less what was paid, with its fees from the original due dates."""

    days_late: int = 30
    notify_customer: bool = True


@dataclass(frozen=True)
class InstallmentStep:
    """A step of an agreement's installments: ``offset`` days from the installment's due date
    (negative = before it), the ``channels`` tried in order and the message ``template``.

    Installments never follow the régua's collection steps: those threaten what an agreement
    does not (negativação, protest); a late installment leads to the agreement breaking.
    """

    id: str
    offset: int
    channels: tuple[str, ...]
    template: str


# A reminder three days before each installment, a notice on the day, and a warning three days
# after it is late (the agreement breaks on the terms' day, ``breaking.days_late``).
DEFAULT_INSTALLMENT_STEPS: tuple[InstallmentStep, ...] = (
    InstallmentStep(
        "parcela-lembrete", -3, ("email", "whatsapp", "sms"), "acordo_parcela_lembrete"
    ),
    InstallmentStep(
        "parcela-vence-hoje", 0, ("whatsapp", "sms", "email"), "acordo_parcela_vence_hoje"
    ),
    InstallmentStep("parcela-atraso", 3, ("whatsapp", "sms", "email"), "acordo_parcela_atraso"),
)
INSTALLMENT_CHANNELS = ("email", "sms", "whatsapp")


@dataclass(frozen=True)
class NegotiationTerms:
    """The whole ``negotiation`` block of a policy."""

    rules: tuple[TermRule, ...] = ()
    offer_validity_days: int = 3
    extension: Extension = Extension()
    early_payment: EarlyPayment = EarlyPayment()
    breaking: BreakRule = BreakRule()
    promise_tolerance_cents: Cents = 0
    # A promise to pay (promessa) may name a day at most this many days from the day it is made.
    promise_max_days: int = DEFAULT_PROMISE_MAX_DAYS
    beyond_terms_approver: Approver = "gestor"
    installment_steps: tuple[InstallmentStep, ...] = DEFAULT_INSTALLMENT_STEPS


def rule_for(
    terms: NegotiationTerms, segment: str, days_overdue: int, amount_cents: Cents
) -> TermRule | None:
    """The first rule that covers a customer of ``segment`` whose oldest open invoice is
    ``days_overdue`` days late and who owes ``amount_cents``; None when no rule does."""
    for rule in terms.rules:
        if rule.matches(segment, days_overdue, amount_cents):
            return rule
    return None


def may_approve(role: Role, within_terms: bool, terms: NegotiationTerms) -> bool:
    """An operator may close a deal within the terms; beyond them only a gestor, and only when
    the policy lets a gestor."""
    if within_terms:
        return True
    return role == "gestor" and terms.beyond_terms_approver == "gestor"


# --- consistency ------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def check_terms(terms: NegotiationTerms, segment_names: Iterable[str]) -> list[tuple[Path, str]]:
    """Every rule the terms break, as (path in the file, pt-BR message)."""
    names = tuple(segment_names)
    problems: list[tuple[Path, str]] = []
    base: Path = ("negotiation",)
    for i, rule in enumerate(terms.rules):
        at: Path = (*base, "rules", i)
        for k, segment in enumerate(rule.segments or ()):
            if segment not in names:
                problems.append(
                    (
                        (*at, "segments", k),
                        f"segmento desconhecido {segment!r}; segmentos da régua: "
                        f"{', '.join(names)}",
                    )
                )
        if rule.max_days is not None and rule.max_days < rule.min_days:
            problems.append(((*at, "aging"), "faixa de atraso vazia: max_days menor que min_days"))
        if rule.max_amount_cents is not None and rule.max_amount_cents < rule.min_amount_cents:
            problems.append(
                ((*at, "amount"), "faixa de valor vazia: max_cents menor que min_cents")
            )
        for name, bp in (
            ("late_fee_bp", rule.discount.late_fee_bp),
            ("interest_bp", rule.discount.interest_bp),
            ("principal_bp", rule.discount.principal_bp),
        ):
            if not 0 <= bp <= FULL_BP:
                problems.append(
                    ((*at, "discount", name), "o desconto deve estar entre 0 e 10000 (100%)")
                )
        plan = rule.installments
        if plan.min_down_payment_bp >= FULL_BP:
            problems.append(
                (
                    (*at, "installments", "min_down_payment_bp"),
                    "a entrada mínima deve ser menor que 10000 (100% da dívida)",
                )
            )
        interest = rule.interest
        if interest.kind == "none" and interest.monthly_bp:
            problems.append(
                (
                    (*at, "interest", "monthly_bp"),
                    "taxa informada com kind: none; use simple ou price, ou remova a taxa",
                )
            )
        if interest.kind != "none" and interest.monthly_bp <= 0:
            problems.append(
                (
                    (*at, "interest", "monthly_bp"),
                    f"juros {interest.kind} precisam de uma taxa mensal maior que zero",
                )
            )
        if plan.max_count == 1 and interest.kind != "none":
            problems.append(
                (
                    (*at, "interest", "kind"),
                    "juros dentro do acordo só fazem sentido com mais de uma parcela "
                    "(installments.max_count > 1)",
                )
            )
    if terms.early_payment.discount_bp and not terms.early_payment.days_before:
        problems.append(
            (
                (*base, "early_payment", "days_before"),
                "informe com quantos dias de antecedência vale o desconto",
            )
        )
    problems += _check_installment_steps(terms)
    if terms.early_payment.discount_bp >= FULL_BP:
        problems.append(
            ((*base, "early_payment", "discount_bp"), "o desconto deve ser menor que 100%")
        )
    return problems


def _check_installment_steps(terms: NegotiationTerms) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for i, step in enumerate(terms.installment_steps):
        at: Path = ("negotiation", "installment_steps", i)
        if step.id in seen:
            problems.append(((*at, "id"), f"etapa {step.id!r} repetida"))
        seen.add(step.id)
        if step.offset >= terms.breaking.days_late:
            problems.append(
                (
                    (*at, "offset"),
                    f"a etapa cai em D+{step.offset}, quando o acordo já está quebrado "
                    f"(breaking.days_late: {terms.breaking.days_late}); use um dia anterior",
                )
            )
        if not step.channels:
            problems.append(((*at, "channels"), "informe ao menos um canal"))
        for k, channel in enumerate(step.channels):
            if channel not in INSTALLMENT_CHANNELS:
                problems.append(
                    (
                        (*at, "channels", k),
                        f"canal {channel!r} não serve para as parcelas; use um de: "
                        f"{', '.join(INSTALLMENT_CHANNELS)}",
                    )
                )
            elif channel in step.channels[:k]:
                problems.append(((*at, "channels", k), f"canal {channel!r} repetido"))
    return problems


# --- in words and as data ---------------------------------------------------------------------


def _band(rule: TermRule) -> str:
    days = (
        f"{rule.min_days} dias ou mais de atraso"
        if rule.max_days is None
        else f"{rule.min_days} a {rule.max_days} dias de atraso"
    )
    who = "todos os segmentos" if rule.segments is None else ", ".join(rule.segments)
    text = f"{who}; {days}"
    if rule.min_amount_cents or rule.max_amount_cents is not None:
        top = "" if rule.max_amount_cents is None else f" a {format_brl(rule.max_amount_cents)}"
        text += f"; dívida de {format_brl(rule.min_amount_cents)}{top}"
    return text


def describe_rule(rule: TermRule) -> str:
    """One pt-BR line of what a rule allows."""
    d = rule.discount
    plan = rule.installments
    interest = INTEREST_LABELS_PT[rule.interest.kind]
    if rule.interest.kind != "none":
        interest += f" de {percent_pt(rule.interest.monthly_bp)} a.m."
    down = (
        f", entrada mínima {percent_pt(plan.min_down_payment_bp)}"
        if plan.min_down_payment_bp
        else ""
    )
    return (
        f"{_band(rule)}: à vista até {percent_pt(d.late_fee_bp)} da multa, "
        f"{percent_pt(d.interest_bp)} dos juros e {percent_pt(d.principal_bp)} do principal; "
        f"até {plan.max_count}x {PERIODICITY_LABELS_PT[plan.periodicity]}, parcela mínima "
        f"{format_brl(plan.min_installment_cents)}{down}, 1ª parcela em {plan.first_due_days} "
        f"dias, {interest}"
    )


def describe_terms(terms: NegotiationTerms) -> list[str]:
    """What the terms allow, in pt-BR lines."""
    lines = [f"regra {i + 1}: {describe_rule(rule)}" for i, rule in enumerate(terms.rules)]
    lines.append(f"validade das ofertas: {terms.offer_validity_days} dias")
    ext = terms.extension
    if ext.max_days:
        fees = "com multa e juros" if ext.with_fees else "sem multa e juros"
        lines.append(f"prorrogação: até {ext.max_days} dias, {fees}")
    else:
        lines.append("prorrogação: não permitida")
    early = terms.early_payment
    if early.discount_bp:
        lines.append(
            f"desconto por antecipação: {percent_pt(early.discount_bp)} se pago "
            f"{early.days_before} dias antes do vencimento"
        )
    lines.append(
        f"quebra do acordo: parcela com {terms.breaking.days_late} dias de atraso; volta a "
        "dívida original menos o que foi pago, com multa e juros das datas originais"
    )
    lines.append(
        "etapas das parcelas: "
        + "; ".join(
            f"D{step.offset:+d} {'/'.join(step.channels)} ({step.template})".replace("D+0", "D0")
            for step in terms.installment_steps
        )
    )
    lines.append(f"tolerância das promessas: {format_brl(terms.promise_tolerance_cents)}")
    lines.append(f"promessas: data em até {terms.promise_max_days} dias")
    lines.append(
        "aprovação: operador dentro das condições; fora delas, "
        + ("o gestor" if terms.beyond_terms_approver == "gestor" else "ninguém")
    )
    return lines


def rule_as_dict(rule: TermRule) -> dict[str, Any]:
    return {
        "segments": None if rule.segments is None else list(rule.segments),
        "aging": {"min_days": rule.min_days, "max_days": rule.max_days},
        "amount": {"min_cents": rule.min_amount_cents, "max_cents": rule.max_amount_cents},
        "discount": {
            "late_fee_bp": rule.discount.late_fee_bp,
            "interest_bp": rule.discount.interest_bp,
            "principal_bp": rule.discount.principal_bp,
        },
        "installments": {
            "max_count": rule.installments.max_count,
            "min_installment_cents": rule.installments.min_installment_cents,
            "min_down_payment_bp": rule.installments.min_down_payment_bp,
            "first_due_days": rule.installments.first_due_days,
            "periodicity": rule.installments.periodicity,
        },
        "interest": {"kind": rule.interest.kind, "monthly_bp": rule.interest.monthly_bp},
    }


def terms_as_dict(terms: NegotiationTerms) -> dict[str, Any]:
    """The terms as JSON-ready data (the shape of the YAML, defaults filled in)."""
    return {
        "rules": [rule_as_dict(rule) for rule in terms.rules],
        "offer_validity_days": terms.offer_validity_days,
        "extension": {
            "max_days": terms.extension.max_days,
            "with_fees": terms.extension.with_fees,
        },
        "early_payment": {
            "discount_bp": terms.early_payment.discount_bp,
            "days_before": terms.early_payment.days_before,
        },
        "breaking": {
            "days_late": terms.breaking.days_late,
            "notify_customer": terms.breaking.notify_customer,
        },
        "promise_tolerance_cents": terms.promise_tolerance_cents,
        # Only when changed, like the installment steps: stored terms keep their digest.
        **(
            {}
            if terms.promise_max_days == DEFAULT_PROMISE_MAX_DAYS
            else {"promise_max_days": terms.promise_max_days}
        ),
        "beyond_terms_approver": terms.beyond_terms_approver,
        # Only when changed: terms stored before installment steps existed keep their digest.
        **(
            {}
            if terms.installment_steps == DEFAULT_INSTALLMENT_STEPS
            else {
                "installment_steps": [installment_step_as_dict(s) for s in terms.installment_steps]
            }
        ),
    }


def installment_step_as_dict(step: InstallmentStep) -> dict[str, Any]:
    return {
        "id": step.id,
        "offset": step.offset,
        "channels": list(step.channels),
        "template": step.template,
    }


def terms_changes(old: NegotiationTerms | None, new: NegotiationTerms | None) -> list[str]:
    """pt-BR lines for what changes in the negotiation terms."""
    if old == new:
        return []
    if old is None:
        assert new is not None  # they differ
        return ["negociação: condições novas", *(f"  {line}" for line in describe_terms(new))]
    if new is None:
        return ["negociação: condições removidas (nenhuma oferta será feita)"]
    lines: list[str] = []
    for i in range(max(len(old.rules), len(new.rules))):
        before = old.rules[i] if i < len(old.rules) else None
        after = new.rules[i] if i < len(new.rules) else None
        if before == after:
            continue
        if after is None and before is not None:
            lines.append(f"negociação: regra {i + 1} removida (era {describe_rule(before)})")
        elif before is None and after is not None:
            lines.append(f"negociação: regra {i + 1} nova: {describe_rule(after)}")
        elif before is not None and after is not None:
            lines.append(
                f"negociação: regra {i + 1}: {describe_rule(before)} → {describe_rule(after)}"
            )
    old_lines = describe_terms(old)[len(old.rules) :]
    new_lines = describe_terms(new)[len(new.rules) :]
    for was, now in zip(old_lines, new_lines, strict=False):
        if was != now:
            lines.append(f"negociação: {was} → {now.split(': ', 1)[1]}")
    if len(old_lines) != len(new_lines):
        lines.extend(f"negociação: {line}" for line in new_lines if line not in old_lines)
    return lines
