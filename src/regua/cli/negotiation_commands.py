"""`regua offers`, `regua acordo criar|listar|cancelar|quitar`, `regua promessa criar|listar`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from regua.cli.context import DbOption, command_app, command_creditor, command_day, parse_day
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain.money import Cents, MoneyFormatError, format_brl, parse_brl
from regua.domain.offers import Offer
from regua.domain.policy_terms import INTEREST_LABELS_PT, Role
from regua.errors import InputError
from regua.services import (
    agreements,
    agreements_payoff,
    agreements_review,
    negotiation,
    promises,
    setup,
)
from regua.services.negotiation_sheet import STATUS_LABELS_PT, negotiation_sheet, write_sheet

acordo_app = typer.Typer(help="Acordos: aceitar uma oferta, listar, cancelar, quitar.")
promessa_app = typer.Typer(help="Promessas de pagamento: registrar e listar.")

CustomerOption = Annotated[str, typer.Option("--customer", help="Código do cliente.")]
InvoicesOption = Annotated[
    list[str] | None,
    typer.Option("--titulo", help="Só este título (número ou código); repita para vários."),
]
ByOption = Annotated[str, typer.Option("--por", help="Quem registra (operador).")]
ROLES = {"operador": "operator", "operator": "operator", "gestor": "gestor"}
PROMISE_STATUSES = {"aberta": "open", "cumprida": "kept", "quebrada": "broken"}
PROMISE_LABELS = {value: key for key, value in PROMISE_STATUSES.items()}


def register(app: typer.Typer) -> None:
    app.command("offers")(cli_errors(offers))
    for name, command in (
        ("criar", acordo_criar),
        ("listar", acordo_listar),
        ("cancelar", acordo_cancelar),
        ("quitar", acordo_quitar),
    ):
        acordo_app.command(name)(cli_errors(command))
    promessa_app.command("criar")(cli_errors(promessa_criar))
    promessa_app.command("listar")(cli_errors(promessa_listar))
    app.add_typer(acordo_app, name="acordo")
    app.add_typer(promessa_app, name="promessa")


def _money(text: str, field: str) -> Cents:
    try:
        cents = parse_brl(text)
    except MoneyFormatError as exc:
        raise InputError(str(exc), field=field) from None
    if cents <= 0:
        raise InputError(f"o valor deve ser maior que zero: {text}", field=field)
    return cents


def _context(ctx: typer.Context, db: str | None) -> tuple[Any, int]:
    regua = command_app(ctx, db)
    return regua, command_creditor(ctx, regua)


def _today(regua: Any, creditor_id: int) -> Any:
    return command_day(regua, None, timezone=setup.creditor_timezone(regua.uow, creditor_id))


def offer_dict(offer: Offer) -> dict[str, Any]:
    """An offer as JSON: every figure in centavos, rates in percent."""
    debt = offer.debt
    return {
        "number": offer.number,
        "kind": offer.kind,
        "description": offer.describe(),
        "made_on": offer.made_on,
        "valid_until": offer.valid_until,
        "debt": {
            "principal_cents": debt.principal_cents,
            "late_fee_cents": debt.late_fee_cents,
            "interest_cents": debt.interest_cents,
            "total_cents": debt.total_cents,
            "invoices": [i.number for i in debt.invoices],
        },
        "discount_cents": offer.discount_cents,
        "discount_percent": str(offer.discount_percent),
        "down_payment_cents": offer.down_payment_cents,
        "installments": [
            {"number": p.number, "due_date": p.due_date, "amount_cents": p.amount_cents}
            for p in offer.payments
        ],
        "total_cents": offer.total_cents,
        "total_without_agreement_cents": debt.total_cents,
        "interest_kind": offer.interest_kind,
        "interest_monthly_bp": offer.interest_monthly_bp,
        "monthly_rate_percent": str(offer.monthly_rate),
        "annual_rate_percent": str(offer.annual_rate),
    }


def _print_offers(offers: list[Offer]) -> None:
    debt = offers[0].debt
    console.print(
        f"Dívida hoje: {format_brl(debt.total_cents)} (principal {format_brl(debt.principal_cents)}"
        f", multa {format_brl(debt.late_fee_cents)}, juros {format_brl(debt.interest_cents)}); "
        f"títulos: {', '.join(i.number for i in debt.invoices)}",
        markup=False,
    )
    table = Table(show_lines=False)
    for header in ("nº", "oferta", "desconto", "total", "juros", "CET a.m.", "CET a.a.", "datas"):
        table.add_column(header, overflow="fold")
    for offer in offers:
        interest = INTEREST_LABELS_PT[offer.interest_kind]
        if offer.interest_monthly_bp:
            interest += f" {offer.interest_monthly_bp / 100:.2f}% a.m.".replace(".", ",")
        dates = [f"{p.due_date:%d/%m}" for p in offer.payments]
        percent = str(offer.discount_percent).replace(".", ",")
        table.add_row(
            str(offer.number),
            offer.describe(),
            f"{format_brl(offer.discount_cents)} ({percent}%)",
            format_brl(offer.total_cents),
            interest,
            f"{offer.monthly_rate}%".replace(".", ","),
            f"{offer.annual_rate}%".replace(".", ","),
            dates[0] if len(dates) == 1 else f"{dates[0]} a {dates[-1]}",
        )
    console.print(table)
    console.print(
        f"Sem acordo: {format_brl(debt.total_cents)} hoje, com multa e juros crescendo. "
        f"Ofertas válidas até {offers[0].valid_until:%d/%m/%Y}.",
        markup=False,
    )


def offers(
    ctx: typer.Context,
    customer: CustomerOption,
    invoices: InvoicesOption = None,
    monthly: Annotated[
        str | None,
        typer.Option(
            "--valor-parcela", help="Contraproposta: quanto o cliente pode pagar por mês."
        ),
    ] = None,
    pay_on: Annotated[
        str | None,
        typer.Option("--pagar-em", help="Contraproposta: a data em que o cliente pode pagar."),
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Mostra as ofertas de acordo para a dívida de um cliente, dentro das condições da régua."""
    regua, creditor_id = _context(ctx, db)
    today = _today(regua, creditor_id)
    if monthly is not None or pay_on is not None:
        answer = negotiation.customer_counter_offer(
            regua.uow,
            creditor_id,
            customer,
            today=today,
            now=regua.now(),
            monthly_cents=_money(monthly, "--valor-parcela") if monthly else None,
            pay_on=parse_day(pay_on, "--pagar-em") if pay_on else None,
        )
        if json_output:
            print_json(
                {
                    "offer": None if answer.offer is None else offer_dict(answer.offer),
                    "reason": answer.reason,
                }
            )
        elif answer.offer is None:
            console.print(f"Nenhum plano cabe: {answer.reason}", markup=False)
        else:
            console.print("Plano mais próximo do pedido, dentro das condições:", markup=False)
            _print_offers([answer.offer])
        return
    found = negotiation.customer_offers(
        regua.uow, creditor_id, customer, today=today, now=regua.now(), invoice_numbers=invoices
    )
    if json_output:
        print_json(
            {
                "customer": found.customer_external_id,
                "segment": found.segment,
                "offers": [offer_dict(o) for o in found.offers],
            }
        )
        return
    console.print(f"{found.customer_name} ({found.customer_external_id})", markup=False)
    _print_offers(found.offers)


def acordo_criar(
    ctx: typer.Context,
    customer: CustomerOption,
    offer: Annotated[int | None, typer.Option("--offer", help="Número da oferta aceita.")] = None,
    offered_on: Annotated[
        str | None,
        typer.Option("--data-oferta", help="Dia em que a oferta foi feita (AAAA-MM-DD)."),
    ] = None,
    installments: Annotated[
        int | None, typer.Option("--parcelas", help="Plano próprio: número de parcelas.")
    ] = None,
    down: Annotated[str | None, typer.Option("--entrada", help="Plano próprio: entrada.")] = None,
    first_due: Annotated[
        str | None, typer.Option("--primeira", help="Plano próprio: 1ª parcela (AAAA-MM-DD).")
    ] = None,
    invoices: InvoicesOption = None,
    by: ByOption = "operador",
    channel: Annotated[str, typer.Option("--canal", help="Por onde foi aceito.")] = "operador",
    role: Annotated[
        str, typer.Option("--papel", help="operador (dentro das condições) ou gestor.")
    ] = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Aceita uma oferta: os títulos ficam em acordo e as parcelas viram títulos a cobrar."""
    if offer is None and installments is None:
        raise InputError("informe a oferta aceita (--offer N) ou um plano (--parcelas N)")
    if role not in ROLES:
        raise InputError(f"papel desconhecido {role!r}; use operador ou gestor", field="--papel")
    regua, creditor_id = _context(ctx, db)
    request = agreements.AgreementRequest(
        customer=customer,
        offer=offer,
        offered_on=parse_day(offered_on, "--data-oferta") if offered_on else None,
        installments=installments,
        down_payment_cents=parse_brl(down) if down else None,
        first_due=parse_day(first_due, "--primeira") if first_due else None,
        invoices=tuple(invoices or ()),
    )
    mapped: Role = "gestor" if ROLES[role] == "gestor" else "operator"
    made = agreements.create_agreement(
        regua.uow,
        creditor_id,
        request,
        today=_today(regua, creditor_id),
        now=regua.now(),
        accepted_by=by,
        channel=channel,
        role=mapped,
    )
    if json_output:
        print_json(
            {
                "agreement_id": made.agreement_id,
                "customer": made.customer_external_id,
                "within_terms": made.within_terms,
                "held_invoices": made.held_invoices,
                "offer": offer_dict(made.offer),
                "installments": [vars(i) for i in made.installments],
            }
        )
        return
    console.print(
        f"Acordo {made.agreement_id} criado para {made.customer_name} "
        f"({made.customer_external_id}): {made.offer.describe()}, total "
        f"{format_brl(made.offer.total_cents)}. Títulos em acordo: "
        f"{', '.join(made.held_invoices)}.",
        markup=False,
    )
    for item in made.installments:
        label = "entrada" if item.number == 0 else f"parcela {item.number}"
        console.print(
            f"  {label}: {format_brl(item.amount_cents)} em {item.due_date:%d/%m/%Y} "
            f"(título {item.invoice_number}, txid {item.pix_txid})",
            markup=False,
        )
        if item.pix_code:
            console.print(f"    PIX copia e cola: {item.pix_code}", markup=False)
        if item.boleto_line:
            console.print(f"    boleto: {item.boleto_line}", markup=False)


def _statuses(values: list[str] | None, known: dict[str, str]) -> list[str] | None:
    if not values:
        return None
    chosen = []
    for value in values:
        if value not in known:
            raise InputError(
                f"situação desconhecida {value!r}; use: {', '.join(sorted(set(known)))}",
                field="--status",
            )
        chosen.append(known[value])
    return chosen


AGREEMENT_STATUSES = {
    **{v: k for k, v in STATUS_LABELS_PT.items()},
    **{k: k for k in STATUS_LABELS_PT},
}


def acordo_listar(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="ativo, cumprido, quebrado ou cancelado; repita."),
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Grava a planilha de negociações (.xlsx).")
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lista os acordos: dívida original, acordo, parcelas pagas e a vencer, situação."""
    chosen = _statuses(status, AGREEMENT_STATUSES)
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError("a planilha deve ter a extensão .xlsx", field="--xlsx")
    regua, creditor_id = _context(ctx, db)
    lines = negotiation_sheet(regua.uow, creditor_id, chosen)
    if xlsx is not None:
        write_sheet(lines, xlsx)
    if json_output:
        print_json([vars(line) for line in lines])
        return
    table = Table()
    for header in (
        "acordo",
        "cliente",
        "feito em",
        "situação",
        "original",
        "acordo",
        "pagas",
        "pago",
        "a pagar",
        "próximo",
    ):
        table.add_column(header, overflow="fold")
    for line in lines:
        table.add_row(
            str(line.agreement_id),
            f"{line.customer} {line.name}",
            f"{line.made_on:%d/%m/%Y}",
            STATUS_LABELS_PT[line.status],
            format_brl(line.original_cents),
            format_brl(line.total_cents),
            f"{line.paid_count}/{line.paid_count + line.due_count}",
            format_brl(line.paid_cents),
            format_brl(line.due_cents),
            f"{line.next_due:%d/%m/%Y}" if line.next_due else "—",
        )
    console.print(table)
    if xlsx is not None:
        console.print(f"Planilha gravada em {xlsx} ({len(lines)} acordos).", markup=False)


AgreementOption = Annotated[int, typer.Option("--acordo", help="Número do acordo.")]


def acordo_cancelar(
    ctx: typer.Context,
    agreement: AgreementOption,
    reason: Annotated[str, typer.Option("--motivo", help="Por que o acordo é cancelado.")],
    by: ByOption = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cancela um acordo ativo: os títulos originais voltam à cobrança, menos o que foi pago."""
    if not reason.strip():
        raise InputError("informe o motivo do cancelamento", field="--motivo")
    regua, creditor_id = _context(ctx, db)
    owed = agreements_review.cancel_agreement(
        regua.uow,
        creditor_id,
        agreement,
        reason=reason.strip(),
        by=by,
        today=_today(regua, creditor_id),
        now=regua.now(),
    )
    if json_output:
        print_json({"agreement_id": agreement, "status": "cancelled", "owed_cents": owed})
        return
    console.print(
        f"Acordo {agreement} cancelado; os títulos originais voltam à cobrança com "
        f"{format_brl(owed)} de principal.",
        markup=False,
    )


def acordo_quitar(
    ctx: typer.Context,
    agreement: AgreementOption,
    by: ByOption = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cota a quitação antecipada de um acordo, sem os juros futuros (CDC art. 52 §2), com o PIX
    do valor; pago até a validade, o acordo é quitado na rotina diária."""
    regua, creditor_id = _context(ctx, db)
    quote = agreements_payoff.issue_payoff(
        regua.uow,
        creditor_id,
        agreement,
        today=_today(regua, creditor_id),
        now=regua.now(),
        by=by,
    )
    if json_output:
        print_json(vars(quote))
        return
    console.print(
        f"Acordo {agreement}: parcelas a vencer somam {format_brl(quote.remaining_cents)}; "
        f"quitando hoje, {format_brl(quote.payoff_cents)} (juros futuros descontados).",
        markup=False,
    )
    if quote.valid_until is not None:
        console.print(
            f"Válida até {quote.valid_until:%d/%m/%Y}: pago esse valor até lá (PIX abaixo ou "
            "qualquer pagamento das parcelas), o acordo é quitado e os títulos originais baixados.",
            markup=False,
        )
    if quote.pix_code:
        console.print(f"PIX copia e cola: {quote.pix_code}", markup=False)


def promessa_criar(
    ctx: typer.Context,
    customer: CustomerOption,
    amount: Annotated[str, typer.Option("--valor", help="Valor prometido (ex.: 150,00).")],
    promised_for: Annotated[str, typer.Option("--data", help="Data prometida (AAAA-MM-DD).")],
    channel: Annotated[str, typer.Option("--canal", help="Onde a promessa foi feita.")] = "phone",
    invoice: Annotated[
        str | None, typer.Option("--titulo", help="Só este título (padrão: a dívida toda).")
    ] = None,
    by: ByOption = "operador",
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Registra uma promessa de pagamento: a régua aguarda até a data prometida."""
    cents = _money(amount, "--valor")
    day = parse_day(promised_for, "--data")
    regua, creditor_id = _context(ctx, db)
    made = promises.record_promise(
        regua.uow,
        creditor_id,
        customer,
        amount_cents=cents,
        promised_for=day,
        channel=channel,
        recorded_by=by,
        invoice=invoice,
        today=_today(regua, creditor_id),
        now=regua.now(),
    )
    if json_output:
        print_json(vars(made))
        return
    console.print(
        f"Promessa {made.promise_id} registrada: {format_brl(cents)} até {day:%d/%m/%Y}; "
        "a régua aguarda até lá.",
        markup=False,
    )


def promessa_listar(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="aberta, cumprida ou quebrada; repita.")
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lista as promessas de pagamento e como terminaram."""
    chosen = _statuses(status, {**PROMISE_STATUSES, **{v: v for v in PROMISE_STATUSES.values()}})
    regua, creditor_id = _context(ctx, db)
    lines = promises.list_promises(regua.uow, creditor_id, chosen)
    if json_output:
        print_json([vars(line) for line in lines])
        return
    table = Table()
    for header in ("nº", "cliente", "valor", "data", "situação", "pago", "canal", "por"):
        table.add_column(header, overflow="fold")
    for line in lines:
        table.add_row(
            str(line.promise_id),
            f"{line.customer} {line.name}",
            format_brl(line.amount_cents),
            f"{line.promised_for:%d/%m/%Y}",
            PROMISE_LABELS.get(line.status, line.status),
            "—" if line.paid_cents is None else format_brl(line.paid_cents),
            line.channel or "—",
            line.recorded_by or "—",
        )
    console.print(table)
