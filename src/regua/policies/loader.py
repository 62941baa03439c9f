"""Read a policy YAML file into a ``regua.domain.policy.Policy``, or say exactly what is wrong.

Every mistake becomes one ``PolicyError`` whose message is a single pt-BR line naming the file,
the line and the field: ``padrao.yaml:14: steps[2].offset: esperado um número inteiro``. To
know lines, the YAML is composed into nodes (which carry their start marks) before it is turned
into data; a validation error's location (a key path) is then looked up in the node tree.

Checks run in stages (YAML syntax, shape and types, conditions, the domain's consistency rules)
and the first failing stage reports its mistake nearest the top of the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from regua.domain.calendar import ContactWindow, parse_hours
from regua.domain.policy import Assignment, Limits, Policy, Step, ThankYou
from regua.domain.policy_checks import KnownNames, PolicyProblem, check_policy
from regua.domain.policy_terms import (
    DEFAULT_INSTALLMENT_STEPS,
    AgreementInterest,
    BreakRule,
    DiscountCaps,
    EarlyPayment,
    Extension,
    InstallmentRules,
    InstallmentStep,
    NegotiationTerms,
    TermRule,
)
from regua.domain.segments import Condition, SegmentRule, default_label, parse_condition
from regua.error_codes import ErrorCode
from regua.errors import InputError
from regua.policies import schema

DEFAULT_POLICY_FILE = "padrao.yaml"

Loc = tuple[str | int, ...]


class PolicyError(InputError):
    """A policy file that cannot be used; ``str()`` is the one line to show."""

    code = ErrorCode.INVALID_POLICY


# --- YAML with line numbers ---------------------------------------------------------------------

_YAML_PROBLEMS_PT = {
    "mapping values are not allowed here": "':' inesperado; verifique a indentação ou use aspas",
    "did not find expected key": "indentação inconsistente (chave esperada não encontrada)",
    "did not find expected '-' indicator": "indentação inconsistente na lista",
    "could not find expected ':'": "falta ':' depois da chave",
    "found character '\\t' that cannot start any token": "tabulação não é permitida; use espaços",
    "found undefined alias": "âncora (alias) não definida",
    "did not find expected node content": "valor ausente ou indentação inconsistente",
    "expected ',' or ']'": "lista entre colchetes não fechada (falta ',' ou ']')",
    "expected ',' or '}'": "bloco entre chaves não fechado (falta ',' ou '}')",
    "expected chomping or indentation indicators": (
        "valor começando com '>' ou '|' precisa de aspas (ex.: \">=0.9\")"
    ),
    "found unexpected end of stream": "fim de arquivo inesperado (aspas não fechadas?)",
    "found unknown escape character": "caractere de escape desconhecido entre aspas",
}


def _yaml_problem_pt(problem: str | None) -> str:
    text = (problem or "").strip()
    for english, portuguese in _YAML_PROBLEMS_PT.items():
        if text.startswith(english):
            return portuguese
    if text.startswith("expected <block end>"):
        return "indentação inconsistente"
    return f"sintaxe inválida ({text})" if text else "sintaxe inválida"


@dataclass(frozen=True)
class _Document:
    data: Any
    root: yaml.Node | None


def _parse_yaml(text: str, source: str) -> _Document:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _refuse_duplicate_keys(root, source)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = exc.context or ""
        if exc.context_mark is not None and ("flow" in context or "quoted" in context):
            # An unclosed bracket or quote is found where parsing gives up, often lines later;
            # where it was opened is where the mistake is.
            mark = exc.context_mark
        row = mark.line + 1 if mark is not None else None
        raise PolicyError(
            f"YAML inválido: {_yaml_problem_pt(exc.problem)}", file=source, row=row
        ) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise PolicyError(f"YAML inválido: {exc}", file=source) from None
    finally:
        loader.dispose()
    return _Document(data, root)


def _refuse_duplicate_keys(node: yaml.Node, source: str, path: Loc = ()) -> None:
    # PyYAML silently keeps the last of two equal keys; in a policy that hides a mistake.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                if key.value in seen:
                    raise PolicyError(
                        "chave repetida",
                        file=source,
                        row=key.start_mark.line + 1,
                        field=_field_path((*path, key.value)),
                    )
                seen.add(key.value)
                _refuse_duplicate_keys(value, source, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, source, (*path, index))


def _line_of(root: yaml.Node | None, loc: Loc) -> int:
    """The 1-based line of the node at ``loc``, or of its nearest existing ancestor."""
    if root is None:
        return 1
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in loc:
        if part == "[key]":
            break
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    # A key's line is where a person looks for it, even if its value starts
                    # on the next line (a nested block).
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _field_path(loc: Iterable[str | int]) -> str:
    """``("steps", 2, "offset")`` -> ``steps[2].offset``."""
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --- pydantic errors in Portuguese --------------------------------------------------------------


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model whose fields the location's last key belongs to."""
    model: type[BaseModel] | None = schema.PolicySpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    metadata_origin = getattr(annotation, "__origin__", None)
    if metadata_origin is not None and metadata_origin is not annotation:
        return _inner_model(metadata_origin)
    return None


def _unknown_key_message(loc: Loc) -> str:
    model = _model_at(loc)
    key = str(loc[-1])
    if model is None:
        return f"campo desconhecido {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"campo desconhecido; você quis dizer {close[0]!r}?"
    return f"campo desconhecido; campos aceitos: {', '.join(allowed)}"


def _message_pt(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    loc = tuple(error["loc"])
    if kind == "missing":
        return "campo obrigatório"
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "esperado um número inteiro"
    if kind == "string_type":
        return "esperado um texto"
    if kind in ("bool_type", "bool_parsing"):
        return "esperado true ou false"
    if kind in ("list_type", "tuple_type"):
        return "esperada uma lista (ex.: [email, sms])"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "esperado um bloco de campos (chave: valor)"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return "data inválida: use AAAA-MM-DD"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", " ou ")
        if isinstance(error.get("input"), bool):
            # YAML 1.1 reads yes/no/on/off as booleans.
            return f"use {expected} (yes/no/true/false não servem aqui)"
        return f"valor {error.get('input')!r} não aceito; use {expected}"
    if kind == "too_short":
        return "a lista não pode ser vazia" if ctx.get("min_length") == 1 else "lista curta"
    if kind == "string_too_short":
        return "o texto não pode ser vazio"
    if kind == "greater_than_equal":
        return f"deve ser maior ou igual a {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"deve ser menor ou igual a {ctx.get('le')}"
    if kind == "none_required" or kind.endswith("_type"):
        return "tipo de valor inválido"
    # Our own validators raise PydanticCustomError with a pt-BR message already.
    return str(error["msg"])


# --- the stages -------------------------------------------------------------------------------


class _Problems(Exception):
    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        super().__init__(problems)
        self.problems = problems


def _raise_first(problems: Sequence[PolicyProblem], document: _Document, source: str) -> None:
    located = [(_line_of(document.root, p.path), i, p) for i, p in enumerate(problems)]
    row, _, problem = min(located, key=lambda item: item[:2])
    raise PolicyError(problem.message, file=source, row=row, field=_field_path(problem.path))


def _validate(document: _Document) -> schema.PolicySpec:
    if document.data is None:
        raise _Problems([PolicyProblem((), "arquivo vazio: esperado um bloco com name e steps")])
    if not isinstance(document.data, dict):
        raise _Problems(
            [PolicyProblem((), "esperado um bloco de campos (name, steps, ...) no topo do arquivo")]
        )
    try:
        return schema.PolicySpec.model_validate(document.data)
    except ValidationError as exc:
        errors = exc.errors()
    # A missing key beside an unknown one is most likely the same key misspelt: name the typo.
    misspelt = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "extra_forbidden"}
    raise _Problems(
        [
            PolicyProblem(tuple(e["loc"]), _message_pt(e))
            for e in errors
            if not (e["type"] == "missing" and tuple(e["loc"][:-1]) in misspelt)
        ]
    )


def _segment_rules(spec: schema.PolicySpec) -> tuple[SegmentRule, ...]:
    if spec.segments is None:
        return Policy(name=spec.name).segment_rules
    problems: list[PolicyProblem] = []
    rules: list[SegmentRule] = []
    for i, segment in enumerate(spec.segments):
        conditions: list[Condition] = []
        for feature, texts in segment.when.items():
            for k, text in enumerate(texts):
                try:
                    conditions.append(parse_condition(feature, text))
                except InputError as exc:
                    where: Loc = ("segments", i, "when", feature)
                    if len(texts) > 1:
                        where = (*where, k)
                    problems.append(PolicyProblem(where, exc.reason))
        rules.append(
            SegmentRule(
                name=segment.name,
                label_pt=segment.label or default_label(segment.name),
                conditions=tuple(conditions),
            )
        )
    if problems:
        raise _Problems(problems)
    return tuple(rules)


def _terms(spec: schema.NegotiationSpec | None) -> NegotiationTerms | None:
    if spec is None:
        return None
    return NegotiationTerms(
        rules=tuple(
            TermRule(
                segments=None if rule.segments is None else tuple(rule.segments),
                min_days=rule.aging.min_days,
                max_days=rule.aging.max_days,
                min_amount_cents=rule.amount.min_cents,
                max_amount_cents=rule.amount.max_cents,
                discount=DiscountCaps(
                    late_fee_bp=rule.discount.late_fee_bp,
                    interest_bp=rule.discount.interest_bp,
                    principal_bp=rule.discount.principal_bp,
                ),
                installments=InstallmentRules(
                    max_count=rule.installments.max_count,
                    min_installment_cents=rule.installments.min_installment_cents,
                    min_down_payment_bp=rule.installments.min_down_payment_bp,
                    first_due_days=rule.installments.first_due_days,
                    periodicity=rule.installments.periodicity,
                ),
                interest=AgreementInterest(
                    kind=rule.interest.kind, monthly_bp=rule.interest.monthly_bp
                ),
            )
            for rule in spec.rules
        ),
        offer_validity_days=spec.offer_validity_days,
        extension=Extension(max_days=spec.extension.max_days, with_fees=spec.extension.with_fees),
        early_payment=EarlyPayment(
            discount_bp=spec.early_payment.discount_bp,
            days_before=spec.early_payment.days_before,
        ),
        breaking=BreakRule(
            days_late=spec.breaking.days_late, notify_customer=spec.breaking.notify_customer
        ),
        promise_tolerance_cents=spec.promise_tolerance_cents,
        promise_max_days=spec.promise_max_days,
        beyond_terms_approver=spec.beyond_terms_approver,
        installment_steps=DEFAULT_INSTALLMENT_STEPS
        if spec.installment_steps is None
        else tuple(
            InstallmentStep(
                id=step.id,
                offset=step.offset,
                channels=tuple(step.channels),
                template=step.template,
            )
            for step in spec.installment_steps
        ),
    )


def _to_policy(spec: schema.PolicySpec) -> Policy:
    window = spec.contact_window
    return Policy(
        name=spec.name,
        description=spec.description.strip(),
        timezone=spec.timezone,
        contact_window=ContactWindow(
            weekdays=parse_hours(window.weekdays),
            saturday=parse_hours(window.saturday),
            sunday=parse_hours(window.sunday),
            holidays_closed=window.holidays == "closed",
            carnival_closed=window.carnival == "closed",
            extra_closed_days=frozenset(window.closed_days),
        ),
        limits=Limits(
            per_customer_per_week=spec.limits.per_customer_per_week,
            over_limit=spec.limits.over_limit,
        ),
        segment_rules=_segment_rules(spec),
        steps=tuple(
            Step(
                id=step.id,
                offset=step.offset,
                channels=tuple(step.channels),
                template=step.template,
                script=step.script,
                segments=None if step.segments is None else tuple(step.segments),
                kind=step.kind,  # type: ignore[arg-type]  # None means "derive it"
                min_amount_cents=step.min_amount_cents,
            )
            for step in spec.steps
        ),
        thank_you=None
        if spec.thank_you is None
        else ThankYou(template=spec.thank_you.template, channels=tuple(spec.thank_you.channels)),
        prescription_years=spec.prescription_years,
        channel_prices_cents=MappingProxyType(dict(spec.prices)),
        assign=Assignment(
            segments=tuple(spec.assign.segments),
            customer_tags=tuple(spec.assign.customer_tags),
            priority=spec.assign.priority,
        ),
        negotiation=_terms(spec.negotiation),
    )


def load_policy_text(text: str, source: str, known: KnownNames | None = None) -> Policy:
    """Parse and check policy YAML; ``source`` names it in error messages (a file name).

    With ``known``, every template and call script the policy names must be among them.

    Raises PolicyError with one line: ``source:line: field: what is wrong`` (pt-BR).
    """
    document = _parse_yaml(text, source)
    try:
        policy = _to_policy(_validate(document))
        problems = check_policy(policy, known)
        if problems:
            raise _Problems(problems)
    except _Problems as exc:
        _raise_first(exc.problems, document, source)
    return policy


def load_policy(path: Path, known: KnownNames | None = None) -> Policy:
    """Read and check a policy file. Raises PolicyError (one pt-BR line) on any mistake."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("arquivo não encontrado", file=source) from None
    except IsADirectoryError:
        raise PolicyError("é uma pasta, não um arquivo", file=source) from None
    except UnicodeDecodeError:
        raise PolicyError("o arquivo não está em UTF-8", file=source) from None
    except OSError as exc:
        raise PolicyError(f"não foi possível ler o arquivo ({exc.strerror})", file=source) from None
    return load_policy_text(text, source, known)


def packaged_policy_names() -> list[str]:
    """Names of the policies shipped with regua (``padrao``, ...)."""
    folder = resources.files("regua.policies").joinpath("defaults")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def packaged_policy_text(name: str = "padrao") -> str:
    """The YAML text of a shipped policy, e.g. to copy it into a creditor's folder."""
    entry = resources.files("regua.policies").joinpath("defaults", f"{name}.yaml")
    if not entry.is_file():
        raise PolicyError(
            f"régua {name!r} não existe; disponíveis: {', '.join(packaged_policy_names())}",
            code=ErrorCode.UNKNOWN_POLICY,
        )
    return entry.read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def packaged_policy(name: str) -> Policy:
    """A shipped policy, loaded and checked."""
    return load_policy_text(packaged_policy_text(name), f"{name}.yaml")


def default_policy() -> Policy:
    """The default pt-BR policy shipped with regua (``policies/defaults/padrao.yaml``)."""
    return packaged_policy("padrao")
