"""Pydantic models of the policy YAML file: its shape, types and leaf formats.

The models mirror the file key by key (no aliases), so a validation error's location is also
the path of the offending key in the file, which ``regua.policies.loader`` turns into a line
number. Cross-field rules (a phone step needs a script, segments must exist, ...) are the
domain's (``regua.domain.policy_checks.check_policy``); conditions are parsed by the loader,
where the feature name (a mapping key) is known. The documented example of the format is
``policies/defaults/padrao.yaml``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic import StrictStr as Str
from pydantic_core import PydanticCustomError

from regua.domain.calendar import DEFAULT_TIMEZONE, parse_hours
from regua.domain.channels import CHANNELS
from regua.domain.policy import DEFAULT_PRESCRIPTION_YEARS, StepKind

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SEGMENT = re.compile(r"^[a-z][a-z0-9_]*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise PydanticCustomError(
            "invalid_name",
            "nome inválido '{value}': use letras minúsculas sem acento, números, '-' e '_' "
            "(ex.: padrao, atraso-3, vence_hoje)",
            {"value": value},
        )
    return value


def _segment_name(value: str) -> str:
    if not _SEGMENT.match(value):
        raise PydanticCustomError(
            "invalid_segment_name",
            "nome de segmento inválido '{value}': use letras minúsculas sem acento, números e "
            "'_', começando por letra (ex.: bom_pagador)",
            {"value": value},
        )
    return value


def _channel(value: str) -> str:
    if value not in CHANNELS:
        raise PydanticCustomError(
            "unknown_channel",
            "canal desconhecido '{value}'; use um de: {choices}",
            {"value": value, "choices": ", ".join(CHANNELS)},
        )
    return value


def _hours(value: str) -> str:
    try:
        parse_hours(value)
    except ValueError as exc:
        raise PydanticCustomError("invalid_hours", str(exc)) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "unknown_timezone",
            "fuso horário desconhecido '{value}' (ex.: America/Sao_Paulo)",
            {"value": value},
        ) from None
    return value


def _one_or_many(value: object) -> object:
    # `late_rate: ">=0.5"` and `avg_days_late: [">0", "<=10"]` are both accepted.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "condition_number",
            'esperada uma condição entre aspas, com operador, como ">={value}"',
            {"value": value},
        )
    return [value] if isinstance(value, str) else value


Slug = Annotated[Str, AfterValidator(_slug)]
SegmentName = Annotated[Str, AfterValidator(_segment_name)]
ChannelName = Annotated[Str, AfterValidator(_channel)]
HoursText = Annotated[Str, AfterValidator(_hours)]
Conditions = Annotated[list[Str], BeforeValidator(_one_or_many), Field(min_length=1)]
NonNegative = Annotated[StrictInt, Field(ge=0)]
OpenClosed = Literal["closed", "open"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowSpec(_Spec):
    """``contact_window``: hours per kind of day, in the customer's local time."""

    weekdays: HoursText = "08:00-20:00"
    saturday: HoursText = "08:00-14:00"
    sunday: HoursText = "closed"
    holidays: OpenClosed = "closed"
    carnival: OpenClosed = "open"
    closed_days: list[date] = []


def _one_a_day(value: int) -> int:
    if value != 1:
        raise PydanticCustomError(
            "per_customer_per_day",
            "o limite por dia não é configurável: cada cliente recebe no máximo um contato de "
            "cobrança por dia; remova per_customer_per_day da régua (ou use 1)",
        )
    return value


class LimitsSpec(_Spec):
    """``limits``: contacts per customer.

    ``per_customer_per_day`` is accepted, for files written when it could be set, only as 1:
    an action is unique per customer, day and purpose, so no other value could be honoured.
    """

    per_customer_per_week: Annotated[StrictInt, Field(ge=1)] = 3
    per_customer_per_day: Annotated[StrictInt, AfterValidator(_one_a_day)] | None = None
    over_limit: Literal["defer", "drop"] = "defer"


class SegmentSpec(_Spec):
    """One item of ``segments``: a name, a label and conditions (all must hold)."""

    name: SegmentName
    label: Str | None = None
    when: dict[Str, Conditions] = {}


class StepSpec(_Spec):
    """One item of ``steps``."""

    id: Slug
    offset: StrictInt
    channels: Annotated[list[ChannelName], Field(min_length=1)]
    template: Slug | None = None
    script: Slug | None = None
    segments: list[SegmentName] | None = None
    kind: StepKind | None = None
    min_amount_cents: NonNegative = 0


class ThankYouSpec(_Spec):
    """``thank_you``: the message sent when an invoice is settled."""

    template: Slug
    channels: Annotated[list[ChannelName], Field(min_length=1)]


class AssignSpec(_Spec):
    """``assign``: which customers the policy is for (empty = the default policy)."""

    segments: list[SegmentName] = []
    customer_tags: list[Annotated[Str, Field(min_length=1)]] = []
    priority: StrictInt = 0


Bp = Annotated[StrictInt, Field(ge=0, le=10_000)]
Positive = Annotated[StrictInt, Field(ge=1)]


class AgingSpec(_Spec):
    """``negotiation.rules[].aging``: days the oldest open invoice is overdue."""

    min_days: NonNegative = 0
    max_days: NonNegative | None = None


class AmountBandSpec(_Spec):
    """``negotiation.rules[].amount``: the debt's amount band, in centavos."""

    min_cents: NonNegative = 0
    max_cents: NonNegative | None = None


class DiscountSpec(_Spec):
    """``negotiation.rules[].discount``: caps for paying at once, in basis points of each part."""

    late_fee_bp: Bp = 0
    interest_bp: Bp = 0
    principal_bp: Bp = 0


class InstallmentsSpec(_Spec):
    """``negotiation.rules[].installments``: the plans allowed."""

    max_count: Annotated[StrictInt, Field(ge=1, le=120)] = 1
    min_installment_cents: NonNegative = 0
    min_down_payment_bp: Bp = 0
    first_due_days: Annotated[StrictInt, Field(ge=1, le=120)] = 30
    periodicity: Literal["monthly", "biweekly", "weekly"] = "monthly"


class AgreementInterestSpec(_Spec):
    """``negotiation.rules[].interest``: interest inside an agreement."""

    kind: Literal["none", "simple", "price"] = "none"
    monthly_bp: Annotated[StrictInt, Field(ge=0, le=2_000)] = 0


class TermRuleSpec(_Spec):
    """One item of ``negotiation.rules``: whom it is for and what it allows."""

    segments: list[SegmentName] | None = None
    aging: AgingSpec = AgingSpec()
    amount: AmountBandSpec = AmountBandSpec()
    discount: DiscountSpec = DiscountSpec()
    installments: InstallmentsSpec = InstallmentsSpec()
    interest: AgreementInterestSpec = AgreementInterestSpec()


class ExtensionSpec(_Spec):
    """``negotiation.extension``: a new due date (prorrogação)."""

    max_days: Annotated[StrictInt, Field(ge=0, le=180)] = 0
    with_fees: bool = True


class EarlyPaymentSpec(_Spec):
    """``negotiation.early_payment``: a discount for paying before the due date."""

    discount_bp: Bp = 0
    days_before: Annotated[StrictInt, Field(ge=0, le=60)] = 0


class BreakingSpec(_Spec):
    """``negotiation.breaking``: when an agreement breaks."""

    days_late: Annotated[StrictInt, Field(ge=1, le=180)] = 30
    notify_customer: bool = True


class InstallmentStepSpec(_Spec):
    """One item of ``negotiation.installment_steps``: a message about an agreement's installment."""

    id: Slug
    offset: StrictInt
    channels: Annotated[list[ChannelName], Field(min_length=1)]
    template: Slug


class NegotiationSpec(_Spec):
    """``negotiation``: the terms an operator (or the debtor, on the portal) may offer."""

    rules: Annotated[list[TermRuleSpec], Field(min_length=1)]
    offer_validity_days: Annotated[StrictInt, Field(ge=1, le=60)] = 3
    extension: ExtensionSpec = ExtensionSpec()
    early_payment: EarlyPaymentSpec = EarlyPaymentSpec()
    breaking: BreakingSpec = BreakingSpec()
    promise_tolerance_cents: NonNegative = 0
    promise_max_days: Annotated[StrictInt, Field(ge=1, le=180)] = 30
    beyond_terms_approver: Literal["gestor", "nobody"] = "gestor"
    installment_steps: Annotated[list[InstallmentStepSpec], Field(min_length=1)] | None = None


class PolicySpec(_Spec):
    """The whole policy file."""

    name: Slug
    description: Str = ""
    timezone: Annotated[Str, AfterValidator(_timezone)] = DEFAULT_TIMEZONE
    contact_window: WindowSpec = WindowSpec()
    limits: LimitsSpec = LimitsSpec()
    segments: Annotated[list[SegmentSpec], Field(min_length=1)] | None = None
    steps: Annotated[list[StepSpec], Field(min_length=1)]
    thank_you: ThankYouSpec | None = None
    prescription_years: Annotated[StrictInt, Field(ge=1, le=20)] = DEFAULT_PRESCRIPTION_YEARS
    prices: dict[ChannelName, NonNegative] = {}
    assign: AssignSpec = AssignSpec()
    negotiation: NegotiationSpec | None = None
