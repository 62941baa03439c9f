"""`regua contestacao listar|resolver` and `regua ligacao feita`: the staff's answers to what
debtors ask on the portal (a dispute of an invoice, a call at a chosen time)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from regua.cli.context import DbOption, command_app, command_creditor, command_day, parse_day
from regua.cli.negotiation_commands import ByOption
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain.disputes import DECISION_LABELS
from regua.domain.money import format_brl
from regua.services import setup
from regua.services.call_list import mark_call_done
from regua.services.disputes import DisputeLine, Resolution, list_disputes, resolve_dispute
from regua.services.portal_requests import size_pt

contestacao_app = typer.Typer(
    help="Contestações feitas pelo portal do cliente: listar e resolver (procede ou improcede)."
)
ligacao_app = typer.Typer(
    help="Ligações pedidas pelo portal do cliente (na lista de regua calls): marcar como feita."
)


def register(app: typer.Typer) -> None:
    contestacao_app.command("listar")(cli_errors(contestacao_listar))
    contestacao_app.command("resolver")(cli_errors(contestacao_resolver))
    ligacao_app.command("feita")(cli_errors(ligacao_feita))
    app.add_typer(contestacao_app, name="contestacao")
    app.add_typer(ligacao_app, name="ligacao")


def _dispute_dict(line: DisputeLine) -> dict[str, Any]:
    return {
        "id": line.dispute_id,
        "created_at": line.created_at,
        "customer": line.customer,
        "name": line.name,
        "invoice": line.invoice_number,
        "invoice_status": line.invoice_status,
        "balance_cents": line.balance_cents,
        "reason": line.reason,
        "comment": line.comment,
        "receipt": line.receipt_path,
        "receipt_type": line.receipt_type,
        "receipt_bytes": line.receipt_bytes,
        "receipt_found": line.receipt_found if line.receipt_path else None,
        "status": line.status,
        "resolved_at": line.resolved_at,
        "resolved_by": line.resolved_by,
        "resolution_note": line.resolution_note,
    }


def _receipt(line: DisputeLine) -> str:
    if line.receipt_path is None:
        return "—"
    kind = (line.receipt_type or "").split("/")[-1].upper()
    size = ""
    if line.receipt_bytes:
        # size_pt rounds down to KB: a small image would read "0 KB"
        size = size_pt(line.receipt_bytes) if line.receipt_bytes >= 1000 else "< 1 KB"
    missing = "" if line.receipt_found else " (arquivo não encontrado)"
    return f"{line.receipt_path} ({', '.join(p for p in (kind, size) if p)}){missing}"


def contestacao_listar(
    ctx: typer.Context,
    everything: Annotated[
        bool, typer.Option("--todas", help="Também as já resolvidas (procede ou improcede).")
    ] = False,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lista as contestações em aberto, as mais novas primeiro: cliente, título, saldo, motivo,
    comentário e o comprovante (caminho, tipo e tamanho)."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    lines = list_disputes(
        regua.uow, creditor_id, receipts_dir=regua.settings.receipts_dir, everything=everything
    )
    if json_output:
        print_json([_dispute_dict(line) for line in lines])
        return
    if not lines:
        console.print(
            "Nenhuma contestação." if everything else "Nenhuma contestação em aberto.",
            markup=False,
        )
        return
    table = Table(title="Contestações" if everything else "Contestações em aberto")
    headers = ["nº", "data", "cliente", "título", "saldo", "motivo", "comentário", "comprovante"]
    if everything:
        headers.append("situação")
    for header in headers:
        table.add_column(header, overflow="fold", justify="right" if header == "saldo" else "left")
    for line in lines:
        row = [
            str(line.dispute_id),
            f"{line.created_at:%d/%m/%Y}",
            f"{line.customer} {line.name}",
            line.invoice_number,
            format_brl(line.balance_cents),
            line.reason_label,
            line.comment or "—",
            _receipt(line),
        ]
        if everything:
            row.append(line.status_label)
        table.add_row(*row)
    console.print(table)


def contestacao_resolver(
    ctx: typer.Context,
    dispute: Annotated[
        int, typer.Argument(help="Número da contestação (regua contestacao listar).")
    ],
    decision: Annotated[
        str,
        typer.Option(
            "--decisao",
            help="procede (o título é cancelado, ou quitado com o pagamento em --pago-em) ou "
            "improcede (o título volta à cobrança).",
        ),
    ],
    note: Annotated[str, typer.Option("--nota", help="Por que: vai para o histórico do cliente.")],
    paid_on: Annotated[
        str | None,
        typer.Option(
            "--pago-em",
            help="Procede para quem diz que já pagou: o dia do pagamento (AAAA-MM-DD).",
        ),
    ] = None,
    by: ByOption = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Resolve uma contestação: procede ou improcede, com uma nota; o cliente vê a resposta no
    portal por 30 dias."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    done = resolve_dispute(
        regua.uow,
        creditor_id,
        dispute,
        decision=decision,
        note=note,
        paid_on=parse_day(paid_on, "--pago-em") if paid_on else None,
        by=by,
        today=command_day(regua, None, timezone=setup.creditor_timezone(regua.uow, creditor_id)),
        now=regua.now(),
    )
    if json_output:
        print_json(vars(done))
        return
    console.print(_resolved(done), markup=False)


def _resolved(done: Resolution) -> str:
    head = (
        f"Contestação {done.dispute_id} ({done.customer}, título {done.invoice_number}): "
        f"{DECISION_LABELS[done.decision]}. "
    )
    if done.effect == "reopen":
        return head + "O título volta à cobrança na próxima execução (regua run)."
    if done.effect == "cancel":
        return head + "Título cancelado; mensagens pendentes canceladas."
    if done.effect == "pay" and done.paid_on is not None:
        fees = f", com {format_brl(done.fees_cents)} de multa e juros" if done.fees_cents else ""
        return (
            head + f"Pagamento de {format_brl(done.payment_cents or 0)} em "
            f"{done.paid_on:%d/%m/%Y} registrado{fees}; título quitado."
        )
    return head + f"O título não estava mais contestado ({done.invoice_status}): nada mudou nele."


def ligacao_feita(
    ctx: typer.Context,
    request: Annotated[
        int, typer.Argument(help="Número do pedido (coluna Pedido de regua calls).")
    ],
    result: Annotated[
        str, typer.Option("--resultado", help="Como foi a ligação: vai para o histórico.")
    ] = "",
    by: ByOption = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Marca como feita uma ligação pedida pelo cliente no portal: sai da lista de regua calls
    e da página do cliente."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    done = mark_call_done(regua.uow, creditor_id, request, result=result, by=by, now=regua.now())
    if json_output:
        print_json(vars(done))
        return
    console.print(
        f"Ligação {done.request_id} para {done.name} ({done.customer}), pedida para "
        f"{done.requested_for:%d/%m/%Y} das {done.starts} às {done.ends}: feita.",
        markup=False,
    )
