"""One real customer's message, for people to read (`regua templates render`): a step of the
customer's régua, its thank-you, or any template, with the customer's open invoices."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from regua.channels.rendering import TemplateRenderer, default_renderer
from regua.domain.planning import (
    ContactPoint,
    OpenInvoice,
    choose_channel,
    planned_selection,
    still_collectable,
)
from regua.domain.policy import Policy, Step, select_policy
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound
from regua.services.message_context import PortalLinks, build_context
from regua.services.messages import held_reason
from regua.services.policies import active_policies
from regua.store.contacts import contact_states
from regua.store.message_context import (
    load_creditors,
    open_invoices,
    planned_invoice_ids,
    preview_customer,
)
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class CustomerPreview:
    """What `regua templates render` shows: one step's message for one real customer."""

    customer_external_id: str
    customer_name: str
    step_id: str
    template: str
    channel: str
    to: str | None
    context: dict[str, Any] = field(repr=False)
    # Why the real message would be held, not sent (the creditor's profile lacks what it
    # needs: "falta a chave Pix do credor"...), or None.
    held: str | None = None


PREVIEW_TXID = "***"  # a preview's PIX code identifies no action; the real message gets one


def customer_preview(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    customer_external_id: str,
    step_or_template: str,
    *,
    day: date,
    now: datetime,
    channel: str | None = None,
    portal: PortalLinks | None = None,
    renderer: TemplateRenderer | None = None,
    default_sender: str | None = None,
) -> CustomerPreview:
    """The context and channel of `step_or_template` for one customer on `day`.

    `step_or_template` is a step id of the customer's régua ("atraso-3"), ``agradecimento``
    (the régua's thank-you), or a template name. Without `channel`, the step's first channel
    the customer can be reached on. Invoices: those the plan puts in the step's action
    (`_planned_rows`), with charges at `day`. `held` says why the real message would be held
    (`default_sender`: the deployment's From, as in `messages.prepare_messages`). Reads only
    (the active régua may be stored on first use: run it in a transaction that is rolled back
    to leave nothing behind).
    """
    with uow() as work:  # never committed: a preview writes nothing
        connection = work.connection
        customer = preview_customer(connection, creditor_id, customer_external_id)
        if customer is None:
            raise NotFound(
                f"cliente {customer_external_id!r} não encontrado", code=ErrorCode.NO_CUSTOMER
            )
        renderer = renderer or default_renderer()
        policy = select_policy(
            active_policies(connection, creditor_id, now),
            customer.segment or "novo",
            tuple(t for t in (customer.tags or "").split(",") if t),
        )
        purpose = "collection"
        step_ids = {step.id for step in policy.steps}
        if step_or_template in step_ids:
            step = policy.step(step_or_template)
            template = step.template or step.script or ""
            channels: tuple[str, ...] = step.channels
            offset = step.offset
        elif step_or_template == "agradecimento" and policy.thank_you is not None:
            template, channels, offset = policy.thank_you.template, policy.thank_you.channels, 0
            purpose = "thank_you"
        elif step_or_template in renderer.template_names():
            template, offset = step_or_template, 0
            channels = tuple(renderer.channels_of(step_or_template))
        else:
            raise NotFound(
                f"{step_or_template!r} não é etapa da régua {policy.name} nem modelo conhecido; "
                f"etapas: {', '.join(sorted(step_ids))}",
                code=ErrorCode.NO_STEP,
            )
        points: dict[str, list[ContactPoint]] = defaultdict(list)
        for name, value, opted_out_at, invalid_at in contact_states(connection, customer.id):
            points[name].append(
                ContactPoint(value, opted_out_at is not None, invalid_at is not None)
            )
        reach = {name: tuple(found) for name, found in points.items()}
        if channel is None:
            chosen, to, _tried = choose_channel(channels, reach)
            channel = chosen or (channels[0] if channels else "email")
        else:
            to = next((p.value for p in reach.get(channel, ()) if p.reachable), None)
        if channel not in channels and channel != "phone":
            raise InputError(
                f"o modelo {template} não tem versão para {channel}; use: {', '.join(channels)}",
                field="--channel",
            )
        rows = open_invoices(connection, customer.id, day)
        if not rows:
            raise NotFound(
                f"cliente {customer_external_id} sem títulos em aberto",
                code=ErrorCode.NO_OPEN_INVOICES,
            )
        if purpose == "collection":
            rows, offset = _planned_rows(
                connection,
                rows,
                customer,
                policy,
                day,
                step=policy.step(step_or_template) if step_or_template in step_ids else None,
            )
        creditor = load_creditors(connection, {int(customer.creditor_id)})[
            int(customer.creditor_id)
        ]
        context = build_context(
            today=day,
            customer=customer,
            creditor=creditor,
            invoice_rows=rows,
            step_id=step_or_template if purpose == "collection" else "agradecimento",
            step_offset=offset,
            purpose=purpose,
            txid=PREVIEW_TXID,
            portal=portal,
        )
        return CustomerPreview(
            customer_external_id=customer.external_id,
            customer_name=customer.name,
            step_id=step_or_template,
            template=template,
            channel=channel,
            to=to,
            context=context,
            held=held_reason(creditor, channel, purpose == "collection", default_sender),
        )


def _planned_rows(
    connection: Connection,
    rows: list[Any],
    customer: Any,
    policy: Policy,
    day: date,
    *,
    step: Step | None,
) -> tuple[list[Any], int]:
    """The rows of the invoices the planner puts in the customer's action on `day`
    (`domain.planning.planned_selection`), and the offset of the step that speaks.

    A step the plan sent earlier speaks of that action's invoices still to collect, as its
    dispatch would. A step the plan would not send that day is refused with the day it would,
    rather than shown over invoices it would never name. A template outside the régua speaks
    of the day's action.
    """
    if _paused(customer.paused, customer.paused_until, day):
        raise NotFound(
            f"a cobrança do cliente {customer.external_id} está pausada em {day:%d/%m/%Y}: "
            "a régua não lhe envia mensagem",
            code=ErrorCode.NO_STEP,
        )
    candidates = [
        OpenInvoice(
            int(row.id),
            int(customer.id),
            row.due_date,
            int(row.balance_cents),
            # A step planned on the day itself is the one previewed: the memory before it.
            row.last_offset
            if row.last_planned_for is not None and row.last_planned_for < day
            else None,
            # an installment follows the installment steps, as in the plan
            row.agreement_id,
        )
        for row in rows
        if not row.held
    ]
    tags = tuple(t for t in (customer.tags or "").split(",") if t)
    chosen = planned_selection(policy, customer.segment or "novo", tags, candidates, day)
    if step is not None and (chosen is None or chosen.step.id != step.id):
        earlier = planned_invoice_ids(connection, int(customer.id), step.id, day)
        if earlier is not None:
            kept = set(earlier)
            found = still_collectable([row for row in rows if int(row.id) in kept], day)
            if found:
                return found, step.offset
    if chosen is None or (step is not None and chosen.step.id != step.id):
        sent = f"a etapa {chosen.step.id}" if chosen else "etapa nenhuma"
        verb = "enviaria" if chosen else "não enviaria"
        hint = ""
        if step is not None:
            when = _next_day_of(step, candidates, day)
            hint = f"; a etapa {step.id} cabe a ele em {when:%d/%m/%Y} (use --date)" if when else ""
        raise NotFound(
            f"em {day:%d/%m/%Y} a régua {policy.name} {verb} {sent} ao cliente "
            f"{customer.external_id}{hint}",
            code=ErrorCode.NO_STEP,
        )
    wanted = set(chosen.invoice_ids)
    return [row for row in rows if int(row.id) in wanted], chosen.step.offset


def _next_day_of(step: Step, invoices: list[OpenInvoice], day: date) -> date | None:
    """The first day from `day` on which `step` falls for one of the invoices."""
    days = [inv.due_date + timedelta(days=step.offset) for inv in invoices]
    later = [d for d in days if d > day]
    return min(later) if later else None


def _paused(flag: Any, until: date | None, day: date) -> bool:
    return bool(flag) and (until is None or until >= day)
