"""What a dispatch writes on the customer's timeline, in pt-BR: a message sent, a retry and
when, a failure and why, a message held or not sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from regua.domain.channels import channel_label
from regua.services.messages import NotSendable, PreparedMessage
from regua.store.transitions import TimelineEntry


def timeline_entry(
    item: PreparedMessage, at: datetime, kind: str, detail: str, data: Mapping[str, Any]
) -> TimelineEntry:
    return TimelineEntry(
        customer_id=item.customer_id,
        action_id=item.action_id,
        channel=item.channel,
        at=at,
        kind=kind,
        detail=detail,
        data=data,
    )


def not_sent_entry(item: NotSendable, at: datetime) -> TimelineEntry:
    """Held (the creditor's profile lacks a field) or cancelled, with the reason."""
    return TimelineEntry(
        customer_id=item.customer_id,
        action_id=item.action_id,
        channel=item.channel,
        at=at,
        kind="held" if item.held else "cancelled",
        detail=(
            f"Mensagem retida: {item.reason} (complete com `regua credor editar`)."
            if item.held
            else f"Mensagem não enviada: {item.reason}."
        ),
    )


def sent_detail(item: PreparedMessage) -> str:
    where = f"(etapa {item.step_id}, modelo {item.template})"
    if item.channel == "letter":
        return f"Carta gerada para impressão e envio a {item.to} {where}."
    label = channel_label(item.channel)
    return f"Mensagem enviada por {label} para {item.to} {where}."


def exhausted_reason(attempts: int, reason: str) -> str:
    return f"{attempts} tentativas sem sucesso; a última: {reason}"


def duration_pt(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h".replace(".", ",")
