"""`regua dispatch`, `regua worker`, `regua calls` and `regua templates render`.

Embedded mode sends inline (`regua dispatch`, and the end of `regua run`); distributed mode
publishes to Celery queues (`regua dispatch --distributed`) consumed by `regua worker`.
"""

from __future__ import annotations

import csv
import logging
import os
import socket
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from regua.bootstrap import App
from regua.cli.context import (
    DateOption,
    DbOption,
    command_app,
    command_creditor,
    command_day,
    creditor_given,
)
from regua.cli.listing_sheets import calls_sheet
from regua.cli.output import JsonOption, cli_errors, console, error_console, print_json
from regua.cli.templates_commands import templates_app
from regua.cli.xlsx_output import XlsxOption, write_xlsx
from regua.domain.channels import MESSAGE_CHANNELS, channel_label
from regua.domain.csv_safety import safe_row
from regua.domain.money import format_brl, to_decimal_str
from regua.errors import InputError, ReguaError
from regua.services.operations_status import require_current_schema

if TYPE_CHECKING:
    # Channels, templates and the dispatcher are imported by the commands that use them:
    # every other command starts without them.
    from regua.channels.rendering import TemplateRenderer
    from regua.services.call_list import CallEntry
    from regua.services.dispatch_run import DispatchResult


log = logging.getLogger(__name__)


def _channels(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    names = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in MESSAGE_CHANNELS]
    if unknown:
        raise InputError(
            f"canal desconhecido: {', '.join(unknown)} (use {', '.join(MESSAGE_CHANNELS)})",
            field="--channel",
        )
    return names


def dispatch_embedded(
    app: App, *, today: date | None = None, creditor_id: int | None = None
) -> DispatchResult:
    """Send what is due now (of one creditor's when `creditor_id` is given), inline, with the
    channels of the settings."""
    from regua.services.dispatching import Dispatcher

    # The dispatcher commits each claim and each record itself: a message sent is recorded
    # even when a later one fails, so it owns its transactions rather than one unit of work.
    with app.channels() as registry:
        dispatcher = Dispatcher.from_settings(
            app.engine, app.settings, clock=app.clock, registry=registry, creditor_id=creditor_id
        )
        try:
            result = dispatcher.dispatch_due(today=today)
        finally:
            dispatcher.close()
    log.info(
        "dispatch finished",
        extra={
            "event": "dispatch_finished",
            "sent": dict(result.sent),
            "retrying": dict(result.retrying),
            "failed": dict(result.failed),
            "held": dict(result.held),
            "held_reasons": dict(result.held_reasons),
            "waiting": result.waiting,
        },
    )
    return result


def present_dispatch(result: DispatchResult, *, title: str = "Envio") -> None:
    """The dispatch summary a collections user reads."""
    console.print(f"[bold]{title}[/bold]")
    channels = sorted(
        set(result.sent)
        | set(result.retrying)
        | set(result.failed)
        | set(result.cancelled)
        | set(result.held)
        | set(result.queued)
    )
    if not channels:
        console.print("  Nada a enviar agora.")
    for channel in channels:
        parts = []
        if result.queued[channel]:
            parts.append(f"{result.queued[channel]} na fila dos workers")
        if result.sent[channel]:
            parts.append(f"{result.sent[channel]} enviadas")
        if result.retrying[channel]:
            parts.append(f"{result.retrying[channel]} para nova tentativa")
        if result.failed[channel]:
            parts.append(f"{result.failed[channel]} com falha")
        if result.cancelled[channel]:
            parts.append(f"{result.cancelled[channel]} canceladas")
        if result.held[channel]:
            parts.append(f"{result.held[channel]} retidas")
        where = result.destinations.get(channel)
        console.print(
            f"  {channel_label(channel)}: {', '.join(parts)}"
            + (f" ({where})" if where and result.sent[channel] else ""),
            markup=False,
        )
    for reason, count in sorted(result.held_reasons.items()):
        console.print(
            f"  {count} retidas: {reason} (complete com `regua credor editar`).", markup=False
        )
    if result.contacts_flagged:
        console.print(f"  {result.contacts_flagged} contatos marcados como inválidos.")
    if result.superseded:
        console.print(f"  {result.superseded} ações antigas substituídas por etapas mais novas.")
    if result.waiting:
        console.print(
            f"  {result.waiting} aguardando: fora da janela de contato do cliente agora, "
            "ou em envio por outro processo."
        )
    if result.retries_pending:
        console.print(f"  {result.retries_pending} com nova tentativa agendada (regua dispatch).")
    if result.calls:
        console.print(f"  {result.calls} ligações na lista dos operadores: regua calls")


def dispatch(
    ctx: typer.Context,
    db: DbOption = None,
    day: DateOption = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="Publica nas filas do Celery (regua worker) em vez de enviar."
        ),
    ] = False,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Só estes canais: email, sms, whatsapp, letter."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Envia as ações do dia que estão na janela de contato (idempotente)."""
    from regua.services.dispatching import Dispatcher
    from regua.services.publishing import DuePublisher

    regua = command_app(ctx, db)
    target = command_day(regua, day)
    channels = _channels(channel)
    # Without --credor every creditor's due actions go out (each with its own creditor's data).
    creditor_id = command_creditor(ctx, regua) if creditor_given(ctx) else None
    if distributed and creditor_id is not None:
        raise InputError(
            "--distributed publica as ações de todos os credores: rode sem --credor",
            field="--credor",
        )
    if distributed:
        from regua.worker.celery_app import create_celery, publisher

        # Publishing only: the workers hold the channels.
        due = DuePublisher.from_settings(regua.engine, regua.settings, clock=regua.clock)
        celery = create_celery(regua.settings)
        result = due.enqueue_due(publisher(celery), today=target, channels=channels)
    else:
        with regua.channels() as registry:
            dispatcher = Dispatcher.from_settings(
                regua.engine,
                regua.settings,
                clock=regua.clock,
                registry=registry,
                creditor_id=creditor_id,
            )
            try:
                result = dispatcher.dispatch_due(today=target, channels=channels)
            finally:
                dispatcher.close()
    if json_output:
        print_json({"date": target, "distributed": distributed, **result.to_dict()})
        return
    present_dispatch(result, title=f"Envio de {target:%d/%m/%Y}")


def worker(
    ctx: typer.Context,
    queues: Annotated[
        str,
        typer.Option("--queues", help="Canais atendidos, separados por vírgula."),
    ] = ",".join(MESSAGE_CHANNELS),
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Processos de envio.")
    ] = 2,
    beat: Annotated[
        bool,
        typer.Option("--beat", help="Também publica as ações devidas a cada minuto (um só)."),
    ] = False,
    loglevel: Annotated[str, typer.Option("--loglevel")] = "INFO",
    hostname: Annotated[
        str | None,
        typer.Option(
            "--hostname",
            help="Nome do worker no broker (único por processo). "
            "Padrão: regua-<canais>-<pid>@<máquina>.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Roda um worker do Celery (REGUA_BROKER_URL): envia as ações das filas dos canais."""
    channels = _channels([queues]) or list(MESSAGE_CHANNELS)
    regua = command_app(ctx, db)
    settings = regua.settings
    # Refuse to start without the database (or on an old schema) rather than say "ready" and
    # fail every task.
    try:
        require_current_schema(regua.uow)
    except ReguaError as exc:
        raise ReguaError(f"o worker não inicia: {exc.message}", code=exc.code) from None
    # Worker processes build their own App from the environment after the fork: what this
    # command was told on its command line goes there.
    os.environ["REGUA_DATABASE_URL"] = settings.database_url
    if settings.today is not None:
        os.environ["REGUA_TODAY"] = settings.today.isoformat()
    os.environ["REGUA_WORKER_CONCURRENCY"] = str(concurrency)
    from regua.worker.celery_app import CONTROL_QUEUE, app, queue_for

    argv = [
        "worker",
        "--queues",
        ",".join([*(queue_for(c) for c in channels), CONTROL_QUEUE]),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "--hostname",
        hostname or default_worker_hostname(channels),
    ]
    if beat:
        argv.append("--beat")
    app.worker_main(argv)


def default_worker_hostname(channels: list[str]) -> str:
    """``regua-email-sms-4242@host``: unique per process, so two workers on one host do not
    take the same control queue (RabbitMQ refuses the second: RESOURCE_LOCKED on the pidbox)."""
    return f"regua-{'-'.join(channels)}-{os.getpid()}@{socket.gethostname()}"


def _entry_dict(entry: CallEntry) -> dict[str, Any]:
    return {
        "action_id": entry.action_id,
        "request_id": entry.request_id,
        "date": entry.planned_for,
        "customer": entry.customer,
        "name": entry.name,
        "phone": entry.phone,
        "uf": entry.uf,
        "invoices": list(entry.invoices),
        "principal_cents": entry.principal_cents,
        "fees_cents": entry.fees_cents,
        "total_cents": entry.total_cents,
        "script": entry.script,
        "step": entry.step,
        "hours": entry.hours,
        "timezone": entry.timezone,
    }


CALL_LIST_HEADER = (
    "cliente",
    "nome",
    "telefone",
    "uf",
    "titulos",
    "valor_original",
    "multa_e_juros",
    "total",
    "roteiro",
    "etapa",
    "horario",
    "fuso",
    "acao",
    "pedido",  # a call the debtor asked for: the number `regua ligacao feita` takes
)


def _decimal_comma(cents: int) -> str:
    # Spreadsheets in pt-BR read "1234,56" as a number.
    return to_decimal_str(cents).replace(".", ",")


def write_call_list(path: Path, entries: list[CallEntry]) -> None:
    """The call list as CSV for spreadsheets in pt-BR: `;`, decimal comma, UTF-8 with BOM."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(CALL_LIST_HEADER)
        for e in entries:
            writer.writerow(
                safe_row(
                    (
                        e.customer,
                        e.name,
                        e.phone,
                        e.uf or "",
                        ", ".join(e.invoices),
                        _decimal_comma(e.principal_cents),
                        _decimal_comma(e.fees_cents),
                        _decimal_comma(e.total_cents),
                        e.script,
                        e.step,
                        e.hours or "fechado",
                        e.timezone,
                        e.action_id,
                        "" if e.request_id is None else e.request_id,
                    )
                )
            )


def calls(
    ctx: typer.Context,
    db: DbOption = None,
    day: DateOption = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Grava a lista em CSV.", dir_okay=False)
    ] = None,
    xlsx: XlsxOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lista de ligações do dia para os operadores: quem, quanto, roteiro e horário."""
    regua = command_app(ctx, db)
    target = command_day(regua, day)
    from regua.services.call_list import call_list

    entries = call_list(regua.uow, target, regua.now(), creditor_id=command_creditor(ctx, regua))
    if xlsx is not None:
        write_xlsx(xlsx, [calls_sheet(entries)])
        if not json_output:
            console.print(f"Planilha gravada: {xlsx} ({len(entries)} ligações)", markup=False)
    if csv_file is not None:
        write_call_list(csv_file, entries)
    if json_output:
        print_json([_entry_dict(e) for e in entries])
        return
    if csv_file is not None:
        console.print(f"{len(entries)} ligações gravadas em {csv_file}", markup=False)
        return
    table = Table(title=f"Ligações de {target:%d/%m/%Y}")
    # The calls customers asked for carry the number `regua ligacao feita` takes.
    asked = any(e.request_id is not None for e in entries)
    columns: tuple[str, ...] = ("Pedido",) if asked else ()
    columns += ("Cliente", "Nome", "Telefone", "Títulos", "Total", "Roteiro", "Horário")
    for column in columns:
        table.add_column(column, justify="right" if column == "Total" else "left")
    for e in entries:
        table.add_row(
            *((str(e.request_id or ""),) if asked else ()),
            e.customer,
            e.name,
            e.phone,
            ", ".join(e.invoices),
            format_brl(e.total_cents),
            e.script,
            f"{e.hours} ({e.timezone})" if e.hours else "fechado hoje",
        )
    console.print(table)


def render_command(
    ctx: typer.Context,
    step: Annotated[str, typer.Argument(help="Etapa da régua (ex.: atraso-3) ou modelo.")],
    customer: Annotated[str, typer.Option("--customer", help="Código do cliente.")],
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", help="email, sms, whatsapp, letter ou phone. Padrão: o da etapa."
        ),
    ] = None,
    day: DateOption = None,
    html: Annotated[bool, typer.Option("--html", help="Mostra a parte HTML do e-mail.")] = False,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Mostra a mensagem de uma etapa montada com os dados reais de um cliente."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    target = command_day(regua, day)
    from regua.channels.call_scripts import load_call_script, render_call_script
    from regua.services.customer_links import portal_links
    from regua.services.customer_preview import customer_preview

    renderer: TemplateRenderer = regua.renderer
    portal = portal_links(regua.uow, regua.settings)
    preview = customer_preview(
        regua.uow,
        creditor_id,
        customer,
        step,
        day=target,
        now=regua.now(),
        channel=channel,
        portal=portal,
        renderer=renderer,
        default_sender=regua.settings.smtp_sender,
    )
    if preview.held and not json_output:
        # The preview still shows the text; the person must know it would not go out.
        error_console.print(
            f"aviso: a mensagem real seria retida, não enviada: {preview.held} "
            "(complete com `regua credor editar`).",
            markup=False,
        )
    head = {
        "customer": preview.customer_external_id,
        "name": preview.customer_name,
        "step": preview.step_id,
        "template": preview.template,
        "channel": preview.channel,
        "to": preview.to,
        "date": target,
        "held": preview.held,
    }
    if preview.channel == "phone":
        script = render_call_script(
            load_call_script(preview.template, renderer=renderer), preview.context
        )
        if json_output:
            print_json(
                {
                    **head,
                    "steps": [{"id": s.id, "title": s.title, "say": s.say} for s in script.steps],
                }
            )
            return
        console.print(f"[bold]{script.title}[/bold] para {preview.customer_name} ({preview.to})")
        for item in script.steps:
            console.print(f"\n[bold]{item.title}[/bold]")
            console.print(item.say, markup=False)
        return
    rendered = renderer.render(preview.template, preview.channel, preview.context)
    if json_output:
        print_json(
            {
                **head,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "whatsapp_template": rendered.whatsapp_template,
                "whatsapp_params": list(rendered.whatsapp_params),
                "sms_segments": rendered.sms_segments,
            }
        )
        return
    label = channel_label(preview.channel)
    console.print(
        f"{label} para {preview.customer_name} ({preview.to or 'sem contato neste canal'}), "
        f"etapa {preview.step_id}, modelo {preview.template}, {target:%d/%m/%Y}",
        markup=False,
    )
    if rendered.subject:
        console.print(f"Assunto: {rendered.subject}", markup=False)
    if rendered.sms_segments:
        console.print(f"({rendered.sms_segments} segmento(s) de SMS)")
    console.print("")
    console.print(rendered.html if html and rendered.html else rendered.text, markup=False)


def register(app: typer.Typer) -> None:
    for command in (dispatch, worker, calls):
        app.command(command.__name__)(cli_errors(command))
    templates_app.command("render")(cli_errors(render_command))
