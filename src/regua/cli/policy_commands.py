"""`regua policy check|diff`: validate a policy file and show what a change to it would do."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from regua.cli.context import DbOption, command_app, command_creditor
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain.calendar import describe_window
from regua.domain.channels import channel_label
from regua.domain.money import format_brl
from regua.domain.policy import Policy, format_offset, policy_as_dict
from regua.domain.policy_checks import KnownNames
from regua.domain.policy_diff import diff, settings_changes
from regua.domain.policy_terms import describe_terms
from regua.domain.segments import default_label, describe_rule
from regua.policies.loader import load_policy

policy_app = typer.Typer(
    help="Conferir e comparar réguas de cobrança (arquivos YAML).", no_args_is_help=True
)

FileArgument = Annotated[Path, typer.Argument(help="Arquivo YAML da régua.", show_default=False)]

_CHANGE_LABELS_PT = {
    "added": "nova",
    "removed": "removida",
    "moved": "movida",
    "changed": "alterada",
}


def register(app: typer.Typer) -> None:
    """Mount the commands as `regua policy ...`."""
    app.add_typer(policy_app, name="policy")


def _steps_table(policy: Policy) -> Table:
    table = Table(
        title="Etapas", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True
    )
    # Names must stay whole (people copy them into templates); the rest may wrap.
    table.add_column("etapa", no_wrap=True)
    table.add_column("dia", no_wrap=True, justify="right")
    table.add_column("canais")
    table.add_column("modelo/roteiro", no_wrap=True)
    table.add_column("segmentos", min_width=len("Atrasador habitual"))
    labels = {rule.name: rule.label_pt for rule in policy.segment_rules}
    for step in sorted(policy.steps, key=lambda s: s.offset):
        used = [name for name in (step.template, step.script) if name]
        extra = f" (mín. {format_brl(step.min_amount_cents)})" if step.min_amount_cents else ""
        table.add_row(
            step.id,
            format_offset(step.offset),
            # One name per line keeps the table within 80 columns without cutting names.
            "\n".join(channel_label(channel) for channel in step.channels),
            "\n".join(used) + extra,
            "todos"
            if step.segments is None
            else "\n".join(labels.get(name) or default_label(name) for name in step.segments),
        )
    return table


def _segments_table(policy: Policy) -> Table:
    table = Table(
        title="Segmentos (o primeiro que casar vence)", title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("#", justify="right")
    table.add_column("segmento", no_wrap=True)
    table.add_column("nome")
    table.add_column("condições")
    for position, rule in enumerate(policy.segment_rules, start=1):
        table.add_row(str(position), rule.name, rule.label_pt, describe_rule(rule))
    return table


def _known_names() -> KnownNames:
    """The templates and call scripts dispatch renders (the packaged library)."""
    from regua.channels.rendering import default_renderer

    renderer = default_renderer()
    return KnownNames(templates=renderer.template_names(), scripts=renderer.script_names())


@policy_app.command("check")
@cli_errors
def check(file: FileArgument, json_output: JsonOption = False) -> None:
    """Valida uma régua e lista suas etapas, segmentos e janela de contato."""
    policy = load_policy(file, _known_names())
    if json_output:
        print_json(
            {
                "valid": True,
                "file": str(file),
                "version": policy.version,
                "digest": policy.digest,
                "policy": policy_as_dict(policy),
            }
        )
        return
    console.print(f"Régua {policy.name} (versão {policy.version}): válida", markup=False)
    if policy.description:
        console.print(policy.description, markup=False)
    console.print(_steps_table(policy))
    for step in policy.steps:
        if step.kind == "bureau_notice":
            console.print(
                f"Aviso prévio de negativação (CDC art. 43 §2): {step.id} em "
                f"{format_offset(step.offset)}",
                markup=False,
            )
    console.print(_segments_table(policy))
    console.print("Janela de contato (horário local do cliente):", markup=False)
    for line in describe_window(policy.contact_window):
        console.print(f"  {line}", markup=False)
    limits = policy.limits
    console.print(
        # One collection contact a day at most: an action is unique per customer, day and purpose.
        "Limites por cliente: 1 por dia, "
        f"{limits.per_customer_per_week} por semana; acima do limite: "
        + ("adiar" if limits.over_limit == "defer" else "descartar"),
        markup=False,
    )
    if policy.thank_you is not None:
        console.print(
            f"Agradecimento: {policy.thank_you.template} por "
            f"{', '.join(channel_label(c) for c in policy.thank_you.channels)}",
            markup=False,
        )
    if policy.channel_prices_cents:
        prices = ", ".join(
            f"{channel_label(channel)} {format_brl(cents)}"
            for channel, cents in policy.channel_prices_cents.items()
        )
        console.print(f"Preços: {prices}", markup=False)
    if policy.negotiation is not None:
        console.print("Negociação:", markup=False)
        for line in describe_terms(policy.negotiation):
            console.print(f"  {line}", markup=False)


@policy_app.command("diff")
@cli_errors
def diff_command(old: FileArgument, new: FileArgument, json_output: JsonOption = False) -> None:
    """Mostra o que muda de uma régua para outra: etapas novas, movidas, removidas."""
    before = load_policy(old)
    after = load_policy(new)
    step_changes = diff(before, after)
    other_changes = settings_changes(before, after)
    if json_output:
        print_json(
            {
                "old_version": before.version,
                "new_version": after.version,
                "steps": [asdict(change) for change in step_changes],
                "settings": other_changes,
            }
        )
        return
    console.print(
        f"Régua {before.name} ({before.version}) → {after.name} ({after.version})", markup=False
    )
    if not step_changes and not other_changes:
        console.print("Nenhuma mudança.", markup=False)
        return
    if step_changes:
        table = Table(
            title="Etapas",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_lines=True,
        )
        table.add_column("mudança", no_wrap=True)
        table.add_column("etapa", no_wrap=True)
        table.add_column("antes", no_wrap=True, justify="right")
        table.add_column("depois", no_wrap=True, justify="right")
        table.add_column("detalhes", overflow="fold")
        for change in step_changes:
            table.add_row(
                _CHANGE_LABELS_PT[change.kind],
                change.step_id,
                "—" if change.old_offset is None else format_offset(change.old_offset),
                "—" if change.new_offset is None else format_offset(change.new_offset),
                change.details,
            )
        console.print(table)
    else:
        console.print("Etapas: nenhuma mudança.", markup=False)
    if other_changes:
        console.print("Outras mudanças:", markup=False)
        for line in other_changes:
            console.print(f"  {line}", markup=False)


@policy_app.command("apply")
@cli_errors
def apply_command(ctx: typer.Context, file: FileArgument, db: DbOption = None) -> None:
    """Ativa a régua do arquivo para o credor; as versões anteriores ficam no histórico."""
    from regua.services.policies import apply_policy_file

    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    applied = apply_policy_file(regua.uow, creditor_id, file, regua.now(), _known_names())
    policy, old = applied.policy, applied.previous
    if old is not None and old.version == policy.version:
        console.print(f"Régua {policy.name} já estava ativa nesta versão ({policy.version}).")
        return
    console.print(f"Régua {policy.name} ativa, versão {policy.version}.")
    if old is not None:
        for change in diff(old, policy):
            console.print(f"  {change.details}", markup=False)
        console.print(f"  A versão anterior ({old.version}) fica no histórico das ações já feitas.")


@policy_app.command("list")
@cli_errors
def list_command(ctx: typer.Context, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Lista as réguas do credor e suas versões (a ativa e as anteriores)."""
    from regua.services.policies import policy_versions

    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    rows = policy_versions(regua.uow, creditor_id)
    if json_output:
        print_json([row._asdict() for row in rows])
        return
    table = Table(title="Réguas", box=box.SIMPLE)
    for column in ("Régua", "Versão", "Situação", "Carregada em"):
        table.add_column(column)
    for name, version, active, loaded_at in rows:
        table.add_row(
            name, version, "ativa" if active else "histórico", f"{loaded_at:%d/%m/%Y %H:%M}"
        )
    console.print(table)
