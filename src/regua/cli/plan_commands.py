"""`regua run`, `regua preview`, `regua segments`, `regua pause` / `regua resume`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from regua.cli import dispatch_commands
from regua.cli.context import DbOption, command_app, command_creditor, command_day, parse_day
from regua.cli.listing_sheets import segments_sheet
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.cli.xlsx_output import XlsxOption, write_xlsx
from regua.domain.action_statuses import status_label
from regua.domain.agreements import BrokenAgreement
from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.domain.channels import channel_label
from regua.domain.money import format_brl
from regua.domain.planning import StartChoice
from regua.domain.policy import format_offset
from regua.domain.segments import default_label
from regua.error_codes import ErrorCode
from regua.errors import InputError, ReguaError
from regua.services import daily_cycle, day_scheduler, pausing, reporting, setup
from regua.services.planning import PlanResult

if TYPE_CHECKING:
    from regua.services.dispatch_run import DispatchResult

DateOption = Annotated[
    str | None, typer.Option("--date", help="Dia do plano (AAAA-MM-DD). Padrão: hoje.")
]
StartOption = Annotated[
    StartChoice | None,
    typer.Option(
        "--inicio",
        help="Na primeira execução da régua (ou de uma régua nova), com títulos já vencidos: "
        "recuperar (cada título vencido recebe já a sua etapa mais recente) ou hoje (só as "
        "etapas de hoje em diante). Padrão: hoje. A escolha fica gravada para as próximas.",
        show_default=False,
    ),
]
START_LABELS = {"recuperar": "recuperando as etapas já passadas", "hoje": "a partir de hoje"}


def run(
    ctx: typer.Context,
    db: DbOption = None,
    day: DateOption = None,
    json_output: JsonOption = False,
    no_dispatch: Annotated[
        bool, typer.Option("--no-dispatch", help="Só planeja; o envio fica para `regua dispatch`.")
    ] = False,
    start: StartOption = None,
) -> None:
    """Planeja as ações do dia e envia as que estão na janela de contato (idempotente: rodar de
    novo não duplica nada)."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    target = command_day(regua, day, timezone=setup.creditor_timezone(regua.uow, creditor_id))
    # Embedded mode: what is due now goes out inline, through the channels of the settings.
    dispatch = (
        None
        if no_dispatch
        else partial(dispatch_commands.dispatch_embedded, regua, creditor_id=creditor_id)
    )
    try:
        ran = day_scheduler.run_claimed_day(
            regua.uow,
            creditor_id,
            target,
            regua.clock,
            day_scheduler.runner_name("run"),
            by_hand=True,
            dispatch=dispatch,
            start=start,
        )
    except day_scheduler.DayBusy as busy:
        raise ReguaError(
            f"o dia {busy.day:%d/%m/%Y} já está sendo executado por {busy.runner} desde "
            f"{busy.since:%H:%M} UTC; espere terminar",
            code=ErrorCode.DAY_RUNNING,
        ) from None
    assert ran is not None  # by hand: run even when the day was claimed and finished
    broken = ran.agreements.broken_details if ran.agreements is not None else []
    now = regua.now()
    opens = daily_cycle.window_opens(regua.uow, creditor_id, now)
    _present(
        ran.plan,
        json_output,
        wrote=True,
        dispatched=ran.dispatched,
        sending=sending_of(ran.plan, ran.dispatched, opens, now),
        broken=broken,
    )


def preview(
    ctx: typer.Context,
    db: DbOption = None,
    day: DateOption = None,
    json_output: JsonOption = False,
    start: StartOption = None,
) -> None:
    """Mostra o plano do dia sem gravar nada (na primeira execução de uma régua, também quantas
    ações haveria recuperando as etapas passadas e começando hoje)."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    target = command_day(regua, day, timezone=setup.creditor_timezone(regua.uow, creditor_id))
    result = daily_cycle.preview_day(regua.uow, creditor_id, target, regua.now(), start=start)
    choices: dict[str, PlanResult] = {}
    if result.fresh_start:
        shown: StartChoice = "hoje" if result.starts_on is not None else "recuperar"
        other: StartChoice = "recuperar" if shown == "hoje" else "hoje"
        choices = {
            shown: result,
            other: daily_cycle.preview_day(
                regua.uow, creditor_id, target, regua.now(), start=other
            ),
        }
    _present(result, json_output, wrote=False, choices=choices)


def _action_dict(action: Any) -> dict[str, Any]:
    return {
        "customer_id": action.customer_id,
        "planned_for": action.planned_for,
        "status": action.status,
        "policy": action.policy_name,
        "policy_version": action.policy_version,
        "step": action.step.id,
        "offset": action.step.offset,
        "segment": action.segment,
        "channel": action.channel,
        "contact": action.contact_value,
        "invoice_ids": [item.invoice_id for item in action.invoices],
        "reason": action.reason,
        "cost_cents": action.cost_cents,
        "evidence": action.evidence,
    }


def _present(
    result: PlanResult,
    json_output: bool,
    *,
    wrote: bool,
    dispatched: DispatchResult | None = None,
    choices: dict[str, PlanResult] | None = None,
    sending: Sending | None = None,
    broken: Sequence[BrokenAgreement] = (),
) -> None:
    load = result.load()
    if json_output:
        print_json(
            {
                **({"broken_agreements": [_broken_dict(b) for b in broken]} if wrote else {}),
                "date": result.day,
                "written": wrote,
                "start": {
                    "first_run": result.fresh_start,
                    "choice": "recuperar" if result.starts_on is None else "hoje",
                    "starts_on": result.starts_on,
                    **(
                        {"choices": {c: _choice_dict(r) for c, r in sorted(choices.items())}}
                        if choices
                        else {}
                    ),
                },
                "new_actions": result.inserted if wrote else len(result.actions),
                "already_planned": result.existing,
                "cancelled": result.cancelled,
                "by_status": dict(result.by_status),
                "load": load,
                "actions": [_action_dict(a) for a in result.actions],
                **({"dispatch": dispatched.to_dict()} if dispatched is not None else {}),
                **(
                    {"waiting": sending.waiting, "window_opens": sending.opens}
                    if sending is not None
                    else {}
                ),
            }
        )
        return
    title = "Plano" if wrote else "Prévia (nada foi gravado)"
    console.print(f"[bold]{title} de {result.day:%d/%m/%Y}[/bold]")
    if wrote and result.existing:
        console.print(f"{result.existing} ações já estavam planejadas para este dia.")
    if result.cancelled:
        console.print(f"{result.cancelled} ações canceladas: títulos pagos antes do envio.")
    per_step: Counter[tuple[str, int, str, str]] = Counter()
    for action in result.actions:
        per_step[(action.step.id, action.step.offset, action.channel or "-", action.status)] += 1
    table = Table(title="Ações por etapa e canal")
    for column in ("Etapa", "Dia", "Canal", "Situação", "Ações"):
        table.add_column(column, justify="right" if column == "Ações" else "left")
    for (step, offset, channel, status), count in sorted(per_step.items(), key=lambda i: i[0][1]):
        table.add_row(
            step, format_offset(offset), channel_label(channel), status_label(status), str(count)
        )
    console.print(table)
    reasons = Counter(a.reason.split(":")[0] for a in result.actions if a.status != "planned")
    for reason, count in reasons.most_common():
        console.print(f"  {count} não enviadas: {reason}")
    console.print("[bold]Carga do dia[/bold]")
    for channel, entry in sorted(load["channels"].items()):
        console.print(
            f"  {channel_label(channel)}: {entry['actions']} ({format_brl(entry['cost_cents'])})"
        )
    console.print(f"  Ligações para os operadores: {load['calls']}")
    console.print(f"  Custo estimado: {format_brl(load['cost_cents'])}")
    _present_start(result, wrote, choices or {})
    if broken:
        # The operators' part: whom to call back about an agreement that broke today.
        console.print(f"[bold]Acordos quebrados hoje: {len(broken)}[/bold]")
        for b in broken:
            console.print(
                f"  acordo {b.agreement_id} · {b.customer_code} {b.customer_name}: pagou "
                f"{format_brl(b.paid_cents)} no acordo; voltaram {format_brl(b.owed_total_cents)} "
                f"(principal {format_brl(b.owed_principal_cents)}, com multa e juros): "
                f"{b.reason}"
            )
    if dispatched is not None:
        dispatch_commands.present_dispatch(dispatched)
    if sending is not None:
        for line in sending.lines():
            console.print(line, markup=False, soft_wrap=True)
    unsent = sum(1 for a in result.actions if a.status in ("skipped", "dropped"))
    if dispatched is not None:
        unsent += sum(dispatched.failed.values()) + sum(dispatched.held.values())
    if unsent:
        console.print(
            f"Quem ficou sem mensagem e por quê: regua acoes --date {result.day:%Y-%m-%d}",
            markup=False,
            soft_wrap=True,
        )


WEEKDAYS = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")
SEND_LATER = (
    "`regua dispatch` as envia então: rode-o nesse horário, por um agendador (cron) ou com "
    "`regua worker --beat` rodando."
)


@dataclass(frozen=True)
class Sending:
    """What of the day's plan still waits to be sent, and when the contact window opens."""

    waiting: int  # messages planned and not sent (phone calls aside: the operators make them)
    opens: datetime | None  # when the contact window opens; `now` when it is open
    now: datetime
    dispatched: bool

    def when(self) -> str:
        assert self.opens is not None
        opens, today = self.opens, self.now.astimezone(self.opens.tzinfo).date()
        if opens.date() == today:
            day = "hoje"
        elif opens.date() == today + timedelta(days=1):
            day = f"amanhã ({opens:%d/%m})"
        else:
            day = f"{WEEKDAYS[opens.weekday()]}, {opens:%d/%m}"
        zone = str(opens.tzinfo)
        where = "horário de Brasília" if zone == DEFAULT_TIMEZONE else zone
        return f"{day} às {opens:%H:%M} ({where})"

    def lines(self) -> list[str]:
        if not self.waiting:
            return []
        closed = self.opens is not None and self.opens > self.now
        letters = " Cartas não esperam a janela: são impressas e vão pelo correio."
        if not self.dispatched:
            told = f"{self.waiting} mensagens planejadas: o envio fica para `regua dispatch`"
            if closed:
                return [f"{told}; a janela de contato abre {self.when()}. {SEND_LATER}{letters}"]
            return [f"{told} (ou um agendador: cron, `regua worker --beat`)."]
        if closed:
            return [
                f"{self.waiting} mensagens aguardam a janela de contato, que abre "
                f"{self.when()}. {SEND_LATER}{letters}"
            ]
        if self.opens is None:
            return [
                f"{self.waiting} mensagens aguardam: a janela de contato não abre nas próximas "
                "duas semanas (veja contact_window da régua)."
            ]
        return []


def sending_of(
    plan: PlanResult, dispatched: DispatchResult | None, opens: datetime | None, now: datetime
) -> Sending:
    if dispatched is not None:
        waiting = dispatched.waiting
    else:
        waiting = sum(1 for a in plan.actions if a.status == "planned" and a.channel != "phone")
    return Sending(waiting, opens, now, dispatched is not None)


def _choice_dict(result: PlanResult) -> dict[str, Any]:
    per_step = Counter(a.step.id for a in result.actions if a.status == "planned")
    return {
        "actions": len(result.actions),
        "by_status": dict(result.by_status),
        "planned_by_step": dict(sorted(per_step.items())),
        "cost_cents": result.load()["cost_cents"],
    }


def _present_start(result: PlanResult, wrote: bool, choices: dict[str, PlanResult]) -> None:
    """How the régua starts on the old overdue invoices, on its first run."""
    if not result.fresh_start:
        return
    if result.starts_on is None:
        console.print(
            "Primeira execução desta régua: recuperando: cada título vencido recebe já a sua "
            "etapa mais recente."
        )
    else:
        console.print(
            f"Primeira execução desta régua: começando em {result.starts_on:%d/%m/%Y}: os "
            "títulos já vencidos recebem só as etapas de hoje em diante "
            "(para enviar já a etapa mais recente de cada um: --inicio recuperar)."
        )
    if wrote:
        console.print("A escolha fica gravada: as próximas execuções seguem a partir dela.")
    if choices:
        console.print("[bold]Como começar (--inicio)[/bold]")
        for choice in ("recuperar", "hoje"):
            plan = choices[choice]
            per_step = Counter(a.step.id for a in plan.actions if a.status == "planned")
            steps = ", ".join(f"{step} {n}" for step, n in sorted(per_step.items()))
            console.print(
                f"  {choice} ({START_LABELS[choice]}): {len(plan.actions)} ações, "
                f"{format_brl(plan.load()['cost_cents'])}" + (f" ({steps})" if steps else ""),
                markup=False,
            )


def _broken_dict(broken: BrokenAgreement) -> dict[str, Any]:
    return {
        "agreement_id": broken.agreement_id,
        "customer": broken.customer_code,
        "name": broken.customer_name,
        "reason": broken.reason,
        "paid_cents": broken.paid_cents,
        "owed_principal_cents": broken.owed_principal_cents,
        "owed_total_cents": broken.owed_total_cents,
    }


def segments(
    ctx: typer.Context,
    db: DbOption = None,
    xlsx: XlsxOption = None,
    json_output: JsonOption = False,
) -> None:
    """Quantos clientes e quanto dinheiro cada segmento tem."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    rows = reporting.segment_totals(regua.uow, creditor_id, regua.today())
    if xlsx is not None:
        write_xlsx(xlsx, [segments_sheet(rows)])
    if json_output:
        print_json([row.__dict__ for row in rows])
        return
    table = Table(title="Segmentos")
    for column in ("Segmento", "Clientes", "Em aberto", "Vencido"):
        table.add_column(column, justify="left" if column == "Segmento" else "right")
    for row in rows:
        table.add_row(
            default_label(row.segment),
            str(row.customers),
            format_brl(row.open_cents),
            format_brl(row.overdue_cents),
        )
    console.print(table)
    waiting = sum(row.customers for row in rows if row.segment == reporting.UNCLASSIFIED)
    if waiting:
        console.print(
            f"{waiting} {'cliente ainda não tem' if waiting == 1 else 'clientes ainda não têm'} "
            "segmento: os segmentos são calculados por `regua run` (a régua do dia)."
        )
    if xlsx is not None:
        console.print(f"Planilha gravada: {xlsx}", markup=False)


def pause(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option("--customer", help="Código do cliente.")] = None,
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="Id do título no ERP ou seu número.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Motivo (fica no histórico).")] = "",
    until: Annotated[str | None, typer.Option("--until", help="Até (AAAA-MM-DD).")] = None,
    open_ended: Annotated[
        bool,
        typer.Option(
            "--sem-prazo", help="Sem data de fim (substitui a data de uma pausa em vigor)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Pausa a cobrança de um cliente ou de um título."""
    if not reason:
        raise InputError("informe o motivo da pausa", field="--reason")
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    end = parse_day(until, "--until") if until else None
    done = pausing.pause(
        regua.uow,
        creditor_id,
        customer=customer,
        invoice=invoice,
        reason=reason,
        until=end,
        now=regua.now(),
        today=regua.today(),
        open_ended=open_ended,
    )
    line = f"Pausado: {done.label}" + (f" até {done.until:%d/%m/%Y}" if done.until else "")
    if done.kept:
        line += " (data da pausa anterior mantida; use --sem-prazo para pausar sem data)"
    console.print(line, markup=False)


def resume(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option("--customer", help="Código do cliente.")] = None,
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="Id do título no ERP ou seu número.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Retoma a cobrança pausada."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    what = pausing.resume(
        regua.uow, creditor_id, customer=customer, invoice=invoice, now=regua.now()
    )
    console.print(f"Retomado: {what}")


def register(app: typer.Typer) -> None:
    for command in (run, preview, segments, pause, resume):
        app.command(command.__name__)(cli_errors(command))
