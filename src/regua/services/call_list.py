"""The operators' call list: the day's phone actions, whom to call, about what, with which
script, and in which hours; and the calls customers asked for on the portal for that day, in
the hours they chose, until an operator marks one made (`mark_call_done`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from regua.channels.context_items import invoice_totals
from regua.domain.calendar import (
    ContactWindow,
    customer_timezone,
    effective_window,
    format_hours,
    window_on,
)
from regua.domain.fees import FeeTerms
from regua.error_codes import ErrorCode
from regua.errors import NotFound, RuleViolation
from regua.services.contact_windows import scope_window
from regua.services.message_context import invoice_items
from regua.services.messages import NotSendable, prepare_messages
from regua.store import portal_requests, timeline
from regua.store.call_list import planned_calls
from regua.store.claims import Scope
from regua.store.message_context import load_creditors, open_invoices
from regua.store.portal_requests import callbacks_on
from regua.store.uow import UnitOfWorkFactory

TIMELINE_KIND = "callback"
RESULT_CHARS = 500


@dataclass(frozen=True)
class CallEntry:
    """One phone action of the day: whom to call, about what, with which script, and when."""

    action_id: int
    planned_for: date
    customer: str  # the creditor's customer code
    name: str
    phone: str
    uf: str | None
    invoices: tuple[str, ...]
    principal_cents: int
    fees_cents: int  # multa + juros at the call date
    total_cents: int
    script: str
    step: str
    hours: str | None  # the customer's contact window that day, local time ("08:00-19:00")
    timezone: str
    # A call the customer asked for on the portal (no action behind it: action_id is 0), and
    # the number `regua ligacao feita` takes to mark it made.
    asked_by_customer: bool = False
    request_id: int | None = None


ASKED_SCRIPT = "retorno_pedido_pelo_cliente"
ASKED_STEP = "pedido-no-portal"


def call_list(
    uow: UnitOfWorkFactory, day: date, now: datetime, *, creditor_id: int | None = None
) -> list[CallEntry]:
    """The calls customers asked for on `day`, earliest hours first, then the phone actions
    planned for it that may still be made, largest amounts first (one creditor's when
    `creditor_id` is given)."""
    with uow() as work:  # read only: nothing to commit
        return _asked_calls(work.connection, day, creditor_id) + _call_list(
            work.connection, day, now, creditor_id
        )


def _asked_calls(connection: Connection, day: date, creditor_id: int | None) -> list[CallEntry]:
    rows = [
        row
        for row in callbacks_on(connection, day)
        if creditor_id is None or int(row.creditor_id) == creditor_id
    ]
    if not rows:
        return []
    creditors = load_creditors(connection, {int(r.creditor_id) for r in rows})
    entries = []
    for row in rows:
        creditor = creditors[int(row.creditor_id)]
        terms = FeeTerms(
            late_fee_bp=creditor.late_fee_bp,
            interest_monthly_bp=creditor.interest_monthly_bp,
            is_consumer=bool(row.is_consumer),
        )
        owed = open_invoices(connection, int(row.customer_id), day)
        items = invoice_items(owed, today=day, terms=terms, with_charges=True)
        totals = invoice_totals(items)
        entries.append(
            CallEntry(
                action_id=0,
                planned_for=day,
                customer=str(row.external_id),
                name=str(row.name),
                phone=str(row.phone or ""),
                uf=row.uf,
                invoices=tuple(i["number"] for i in items),
                principal_cents=totals["balance_cents"],
                fees_cents=totals["late_fee_cents"] + totals["interest_cents"],
                total_cents=totals["total_cents"],
                script=ASKED_SCRIPT,
                step=ASKED_STEP,
                hours=f"{row.starts}-{row.ends}",
                timezone=customer_timezone(row.uf),
                asked_by_customer=True,
                request_id=int(row.id),
            )
        )
    return entries


def _call_list(
    connection: Connection, day: date, now: datetime, creditor_id: int | None = None
) -> list[CallEntry]:
    heads = planned_calls(connection, day, creditor_id)
    prepared, _txids = prepare_messages(connection, list(heads), now=now, on=day)
    windows: dict[Scope, tuple[ContactWindow, str]] = {}
    entries = []
    for action_id, item in prepared.items():
        if isinstance(item, NotSendable):
            continue
        head = heads[action_id]
        scope = Scope(int(head.creditor_id), head.policy_name, head.policy_version)
        if scope not in windows:
            windows[scope] = scope_window(connection, scope)
        window, policy_zone = windows[scope]
        hours = window_on(effective_window(window, head.uf), day, head.uf)
        totals = item.context["totals"]
        entries.append(
            CallEntry(
                action_id=action_id,
                planned_for=day,
                customer=item.context["customer"]["id"],
                name=item.to_name,
                phone=item.to,
                uf=head.uf,
                invoices=tuple(i["number"] for i in item.context["invoices"]),
                principal_cents=totals["balance_cents"],
                fees_cents=totals["late_fee_cents"] + totals["interest_cents"],
                total_cents=totals["total_cents"],
                script=item.template,
                step=item.step_id,
                hours=format_hours(hours) if hours else None,
                timezone=customer_timezone(head.uf, policy_zone),
            )
        )
    entries.sort(key=lambda e: (-e.total_cents, e.customer))
    return entries


@dataclass(frozen=True)
class CallDone:
    request_id: int
    customer: str
    name: str
    requested_for: date
    starts: str
    ends: str


def mark_call_done(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    request_id: int,
    *,
    result: str,
    by: str,
    now: datetime,
) -> CallDone:
    """A call a customer asked for on the portal, made: it leaves the call list and the
    customer's page, and goes on the timeline with who made it and how it went."""
    text = result.strip()[:RESULT_CHARS]
    with uow() as work:
        connection = work.connection
        row = portal_requests.callback_of(connection, request_id)
        if row is None or int(row.creditor_id) != creditor_id:
            raise NotFound(
                f"ligação pedida {request_id} não encontrada", code=ErrorCode.UNKNOWN_CALL
            )
        if row.status != "open" or not portal_requests.mark_callback_done(
            connection, request_id, at=now, by=by, result=text or None
        ):
            when = f" em {row.done_at:%d/%m/%Y}" if row.done_at is not None else ""
            who = f" por {row.done_by}" if row.done_by else ""
            raise RuleViolation(
                f"a ligação pedida {request_id} já foi marcada como feita{when}{who}",
                code=ErrorCode.CALL_DONE,
            )
        timeline.add_entry(
            connection,
            customer_id=int(row.customer_id),
            invoice_id=None,
            at=now,
            kind=TIMELINE_KIND,
            detail=(
                f"ligação pedida pelo portal para {row.requested_for:%d/%m/%Y}, das {row.starts} "
                f"às {row.ends}, feita por {by}" + (f": {text}" if text else "")
            ),
            data={"event": "callback_done", "request_id": request_id, "by": by, "result": text},
        )
        work.commit()
    return CallDone(
        request_id,
        str(row.external_id),
        str(row.name),
        row.requested_for,
        str(row.starts),
        str(row.ends),
    )
