"""`regua templates lint|show`: check the message library's tone and preview a template.

Both work on the packaged library, or on a user folder (``--dir``) whose files override it.
Previews use `sample_context`; rendering with a real customer's data is `regua render`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from regua.cli.context import command_app
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound

if TYPE_CHECKING:
    # Templates and call scripts (Jinja) are imported by the commands that render them.
    from regua.channels.template_lint import TemplateLintIssue

templates_app = typer.Typer(
    help="Conferir o tom e visualizar os modelos de mensagem e roteiros de ligação.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Pasta de modelos do usuário (mesma estrutura; substitui os modelos padrão).",
        exists=True,
        file_okay=False,
        show_default=False,
    ),
]

_SEVERITY_PT = {"error": "erro", "warning": "aviso"}


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def register(app: typer.Typer) -> None:
    """Mount the commands as `regua templates ...`."""
    app.add_typer(templates_app, name="templates")


def _issues_table(issues: list[TemplateLintIssue]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_lines=True, pad_edge=False)
    table.add_column("modelo", no_wrap=True)
    table.add_column("canal", no_wrap=True)
    table.add_column("arquivo")
    table.add_column("tipo", no_wrap=True)
    table.add_column("regra", no_wrap=True)
    table.add_column("linha", justify="right", no_wrap=True)
    table.add_column("problema")
    for item in issues:
        table.add_row(
            item.template,
            item.channel,
            item.file,
            _SEVERITY_PT.get(item.issue.severity, item.issue.severity),
            item.issue.code,
            "" if item.issue.line is None else str(item.issue.line),
            item.issue.message_pt,
        )
    return table


@templates_app.command("lint")
@cli_errors
def lint_command(
    ctx: typer.Context, dir: DirOption = None, json_output: JsonOption = False
) -> None:
    """Confere todos os modelos e roteiros: ameaças, constrangimento, terceiros, caixa alta,
    identificação do credor (CDC art. 42-A), opção de saída e tamanho. Sai com 1 se houver erro."""
    from regua.channels.call_scripts import lint_call_script
    from regua.channels.rendering import TemplateRenderer
    from regua.channels.template_lint import lint_template

    renderer = TemplateRenderer(dir)
    today = command_app(ctx).today()
    templates, scripts = renderer.template_names(), renderer.script_names()
    issues: list[TemplateLintIssue] = []
    for name in templates:
        issues += lint_template(name, renderer=renderer, today=today)
    for name in scripts:
        issues += lint_call_script(name, renderer=renderer, today=today)
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    if json_output:
        print_json(
            {
                "templates": templates,
                "scripts": scripts,
                "errors": errors,
                "warnings": warnings,
                "issues": [item.as_dict() for item in issues],
            }
        )
    else:
        if issues:
            console.print(_issues_table(issues))
        console.print(
            f"{_plural(len(templates), 'modelo', 'modelos')} e "
            f"{_plural(len(scripts), 'roteiro', 'roteiros')} conferidos: "
            f"{errors} {'erro' if errors == 1 else 'erros'}, "
            f"{warnings} {'aviso' if warnings == 1 else 'avisos'}.",
            markup=False,
        )
    if errors:
        raise typer.Exit(1)


@templates_app.command("show")
@cli_errors
def show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nome do modelo ou do roteiro.", show_default=False)],
    channel: Annotated[
        str, typer.Option("--channel", help="email, sms, whatsapp, letter ou phone (roteiro).")
    ] = "email",
    dir: DirOption = None,
    offset: Annotated[
        int | None,
        typer.Option(
            help="Dias em relação ao vencimento (padrão: o do modelo).", show_default=False
        ),
    ] = None,
    invoices: Annotated[int, typer.Option(help="Quantas faturas na mensagem.", min=1)] = 1,
    html: Annotated[bool, typer.Option("--html", help="Mostra a parte HTML do e-mail.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Mostra um modelo montado com dados de exemplo."""
    from regua.channels.call_scripts import load_call_script, render_call_script
    from regua.channels.rendering import TemplateRenderer
    from regua.channels.template_samples import sample_context
    from regua.domain.channels import MESSAGE_CHANNELS

    renderer = TemplateRenderer(dir)
    today = command_app(ctx).today()
    if channel == "phone":
        script = load_call_script(name, renderer=renderer)
        context = sample_context(today, offset=10 if offset is None else offset, invoices=invoices)
        rendered_script = render_call_script(script, context, renderer=renderer)
        if json_output:
            print_json(
                {
                    "name": rendered_script.name,
                    "title": rendered_script.title,
                    "steps": [
                        {
                            "id": s.id,
                            "title": s.title,
                            "say": s.say,
                            "notes": list(s.notes),
                            "branches": [{"when": b.when, "goto": b.goto} for b in s.branches],
                            "record": s.record,
                        }
                        for s in rendered_script.steps
                    ],
                }
            )
            return
        console.print(rendered_script.title, markup=False, style="bold")
        for step in rendered_script.steps:
            console.print(f"\n[{step.id}] {step.title}", markup=False, style="bold")
            console.print(step.say, markup=False)
            for note in step.notes:
                console.print(f"  nota: {note}", markup=False, style="dim")
            for branch in step.branches:
                console.print(f"  -> {branch.when}: {branch.goto}", markup=False)
            if step.record:
                console.print(f"  registra: {step.record}", markup=False)
        return
    if channel not in MESSAGE_CHANNELS:
        raise InputError(
            f"canal desconhecido: {channel} (use email, sms, whatsapp, letter ou phone)",
            code=ErrorCode.INVALID,
        )
    if name not in renderer.template_names():
        raise NotFound(f"modelo não encontrado: {name}", code=ErrorCode.TEMPLATE_NOT_FOUND)
    meta_offset = int(renderer.meta(name).get("offset", 3))
    context = sample_context(
        today,
        offset=meta_offset if offset is None else offset,
        invoices=invoices,
    )
    rendered = renderer.render(name, channel, context)
    if json_output:
        print_json(
            {
                "template": rendered.template,
                "channel": rendered.channel,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "whatsapp_template": rendered.whatsapp_template,
                "whatsapp_params": list(rendered.whatsapp_params),
                "whatsapp_template_text": rendered.whatsapp_template_text,
                "sms_segments": rendered.sms_segments,
            }
        )
        return
    if rendered.subject is not None:
        console.print(f"Assunto: {rendered.subject}\n", markup=False, style="bold")
    if channel == "email" and html:
        console.print(rendered.html or "", markup=False, soft_wrap=True)
        return
    if rendered.whatsapp_template_text is not None:
        console.print(f"Modelo aprovado: {rendered.whatsapp_template}", markup=False, style="bold")
        console.print(rendered.whatsapp_template_text + "\n", markup=False)
        console.print("Texto livre (janela de 24 horas aberta):", markup=False, style="bold")
    console.print(rendered.text, markup=False, soft_wrap=True)
    if rendered.sms_segments is not None:
        console.print(
            f"\n{len(rendered.text)} caracteres, {rendered.sms_segments} parte(s) de SMS.",
            markup=False,
            style="dim",
        )
