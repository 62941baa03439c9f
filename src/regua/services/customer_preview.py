"""One real customer's message, for people to read (`regua templates render`): a step of the
customer's régua, its thank-you, or any template, with the customer's open invoices."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from regua.channels.rendering import TemplateRenderer, default_renderer
from regua.domain.planning import ContactPoint, choose_channel
from regua.domain.policy import select_policy
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound
from regua.services.message_context import PortalLinks, build_context
from regua.services.policies import active_policies
from regua.store.contacts import contact_states
from regua.store.message_context import load_creditors, open_invoices, preview_customer
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
) -> CustomerPreview:
    """The context and channel of `step_or_template` for one customer on `day`.

    `step_or_template` is a step id of the customer's régua ("atraso-3"), ``agradecimento``
    (the régua's thank-you), or a template name. Without `channel`, the step's first channel
    the customer can be reached on. Invoices: the customer's open ones, with charges at `day`.
    Reads only (the active régua may be stored on first use: run it in a transaction that is
    rolled back to leave nothing behind).
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
        rows = open_invoices(connection, customer.id)
        if not rows:
            raise NotFound(
                f"cliente {customer_external_id} sem títulos em aberto",
                code=ErrorCode.NO_OPEN_INVOICES,
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
        )
