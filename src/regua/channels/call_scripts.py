"""Call scripts (roteiros): the operator's guide for a collection phone call.

A script is YAML under ``templates/scripts/<name>.yaml`` (a user folder overrides it, like
message templates): steps with the text the operator says, notes for the operator, branches
for the person's answers, and the outcome to record (a promise, a dispute, a claimed payment).
`load_call_script` reads and validates it; `render_call_script` fills its texts with the same
context as messages (see `regua.channels.rendering`), and `lint_call_script` checks the tone of
every line and that nothing about the debt is said before the person's identity is confirmed
(CDC art. 42 and 71; LGPD art. 6).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regua.channels.rendering import TemplateError, TemplateRenderer, default_renderer
from regua.channels.template_lint import TemplateLintIssue
from regua.channels.template_samples import sample_context
from regua.domain.tone import LintIssue, fold, lint_text
from regua.errors import InputError, ReguaError

ScriptOutcome = Literal[
    "promise", "dispute", "payment_claimed", "not_customer", "callback", "refused", "no_answer"
]


@dataclass(frozen=True)
class ScriptBranch:
    when: str  # the person's answer, as the operator sees it
    goto: str  # id of the next step


@dataclass(frozen=True)
class ScriptStep:
    id: str
    title: str
    say: str
    notes: tuple[str, ...] = ()
    branches: tuple[ScriptBranch, ...] = ()
    record: ScriptOutcome | None = None  # what regua stores when the call reaches this step
    capture: tuple[str, ...] = ()  # fields the operator fills in (amount_cents, date, reason...)
    pause_collection: bool = False  # stop automatic steps while staff checks (paid, disputed)
    end: bool = False


@dataclass(frozen=True)
class CallScript:
    name: str
    title: str
    description: str
    start: str
    identity_check: str | None
    steps: tuple[ScriptStep, ...]

    def step(self, step_id: str) -> ScriptStep:
        for item in self.steps:
            if item.id == step_id:
                return item
        raise KeyError(step_id)


class _BranchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    when: str
    goto: str


class _StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    say: str
    notes: list[str] = []
    branches: list[_BranchIn] = []
    record: ScriptOutcome | None = None
    capture: list[str] = []
    pause_collection: bool = False
    end: bool = False


class _ScriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    description: str = ""
    start: str
    identity_check: str | None = None
    steps: list[_StepIn] = Field(min_length=1)


def _check_graph(script: _ScriptIn, file: str) -> None:
    ids = [step.id for step in script.steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"etapas repetidas: {', '.join(duplicates)}", file=file, field="steps")
    known = set(ids)
    for ref, where in ((script.start, "start"), (script.identity_check, "identity_check")):
        if ref is not None and ref not in known:
            raise InputError(f"etapa inexistente: {ref}", file=file, field=where)
    for index, step in enumerate(script.steps):
        if not step.end and not step.branches:
            raise InputError(
                "uma etapa sem 'branches' precisa de 'end: true'",
                file=file,
                field=f"steps[{index}].{step.id}",
            )
        for branch in step.branches:
            if branch.goto not in known:
                raise InputError(
                    f"'goto' aponta para etapa inexistente: {branch.goto}",
                    file=file,
                    field=f"steps[{index}].{step.id}.branches",
                )
    reachable, frontier = {script.start}, [script.start]
    by_id = {step.id: step for step in script.steps}
    while frontier:
        for branch in by_id[frontier.pop()].branches:
            if branch.goto not in reachable:
                reachable.add(branch.goto)
                frontier.append(branch.goto)
    unreachable = [i for i in ids if i not in reachable]
    if unreachable:
        raise InputError(
            f"etapas inalcançáveis a partir de '{script.start}': {', '.join(unreachable)}",
            file=file,
            field="steps",
        )


def load_call_script(name: str, *, renderer: TemplateRenderer | None = None) -> CallScript:
    """Read and validate ``scripts/<name>.yaml``; texts are still Jinja templates.

    Raises InputError naming the file and field when the script is malformed.
    """
    renderer = renderer or default_renderer()
    file = f"scripts/{name}.yaml"
    try:
        raw = yaml.safe_load(renderer.source(file))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"YAML inválido: {getattr(exc, 'problem', exc)}",
            file=file,
            row=mark.line + 1 if mark is not None else None,
        ) from exc
    try:
        parsed = _ScriptIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(first["msg"], file=file, field=where) from exc
    _check_graph(parsed, file)
    return CallScript(
        name=parsed.name,
        title=parsed.title,
        description=parsed.description,
        start=parsed.start,
        identity_check=parsed.identity_check,
        steps=tuple(
            ScriptStep(
                id=step.id,
                title=step.title,
                say=step.say,
                notes=tuple(step.notes),
                branches=tuple(ScriptBranch(b.when, b.goto) for b in step.branches),
                record=step.record,
                capture=tuple(step.capture),
                pause_collection=step.pause_collection,
                end=step.end,
            )
            for step in parsed.steps
        ),
    )


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())


def render_call_script(
    script: CallScript, context: Mapping[str, Any], *, renderer: TemplateRenderer | None = None
) -> CallScript:
    """The same script with `say`, `notes` and branch texts rendered for one customer."""
    renderer = renderer or default_renderer()

    def fill(text: str, where: str) -> str:
        return _one_paragraph(renderer.render_string(text, context, where=where))

    steps = []
    for step in script.steps:
        where = f"scripts/{script.name}.yaml {step.id}"
        steps.append(
            replace(
                step,
                say=fill(step.say, where + ".say"),
                notes=tuple(fill(note, where + ".notes") for note in step.notes),
                branches=tuple(
                    ScriptBranch(fill(b.when, where + ".branches"), b.goto) for b in step.branches
                ),
            )
        )
    return replace(script, steps=tuple(steps))


# Words that reveal a debt; matched without accents and case.
_DEBT_WORDS = re.compile(
    r"\b(?:debito\w*|divida\w*|fatura\w*|atras\w*|em aberto|vencid\w*|vencimento|cobranca\w*"
    r"|pagamento\w*|pagar|inadimpl\w*|negativa\w*|multa|juros|parcela\w*)\b|R\$"
)


def _before_identity(script: CallScript) -> list[str]:
    """Steps the call can reach from the start without passing the identity check."""
    if script.identity_check is None:
        return []
    seen, frontier = {script.start}, [script.start]
    while frontier:
        current = frontier.pop()
        if current == script.identity_check:
            continue
        for branch in script.step(current).branches:
            if branch.goto not in seen:
                seen.add(branch.goto)
                frontier.append(branch.goto)
    return [step.id for step in script.steps if step.id in seen]


def lint_call_script(
    name: str, *, today: date, renderer: TemplateRenderer | None = None
) -> list[TemplateLintIssue]:
    """Render a script with `sample_context` on `today` and lint every line the operator says.

    `today` is the caller's, as for `template_lint.lint_template` (a line may name the date)."""
    renderer = renderer or default_renderer()
    file = f"scripts/{name}.yaml"

    def issue(code: str, message: str, severity: Literal["error", "warning"]) -> TemplateLintIssue:
        return TemplateLintIssue(name, "phone", file, LintIssue(code, message, None, severity))

    try:
        script = load_call_script(name, renderer=renderer)
        context = sample_context(today, offset=10)
        rendered = render_call_script(script, context, renderer=renderer)
    except (ReguaError, TemplateError) as exc:
        return [issue("erro_de_modelo", exc.message, "error")]
    creditor = context["creditor"]
    found: list[TemplateLintIssue] = []
    for step in rendered.steps:
        for item in lint_text("phone", step.say, check_identification=False):
            found.append(
                TemplateLintIssue(name, "phone", f"{file} {step.id}", replace(item, line=None))
            )
    whole = "\n".join(step.say for step in rendered.steps)
    # On the phone the caller names the company as the customer knows it: its trade name.
    spoken_name = creditor.get("trade_name") or creditor["name"]
    for item in lint_text("phone", whole, creditor_name=spoken_name):
        if item.code == "credor_nao_identificado":
            found.append(TemplateLintIssue(name, "phone", file, item))
    if script.identity_check is None:
        found.append(
            issue(
                "sem_confirmacao_de_identidade",
                "O roteiro não indica a etapa de confirmação de identidade ('identity_check'); "
                "a dívida só pode ser mencionada ao próprio cliente (CDC art. 42 e 71; LGPD).",
                "error",
            )
        )
    for step_id in _before_identity(rendered):
        match = _DEBT_WORDS.search(fold(rendered.step(step_id).say))
        if match:
            found.append(
                TemplateLintIssue(
                    name,
                    "phone",
                    f"{file} {step_id}",
                    LintIssue(
                        "divida_antes_da_identificacao",
                        f"A etapa '{step_id}' fala da dívida (“{match.group(0)}”) antes de "
                        "confirmar que a pessoa é o cliente (CDC art. 42 e 71; LGPD).",
                        None,
                        "error",
                    ),
                )
            )
    return found


OUTCOMES: tuple[str, ...] = get_args(ScriptOutcome)
