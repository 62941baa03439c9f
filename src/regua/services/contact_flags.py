"""Flagging a contact invalid when a provider says it does not exist (at send time or in a
later delivery report), so the next plan uses another channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from regua.domain.channels import channel_label
from regua.store.contacts import mark_invalid


def flag_invalid_contact(
    connection: Connection,
    customer_id: int,
    channel: str,
    value: str,
    at: datetime,
    *,
    action_id: int | None = None,
    why: str = "o provedor informou que o endereço ou número não existe",
) -> bool:
    """Mark the contact invalid so the next plan uses another channel; True if it changed."""
    label = channel_label(channel)
    return mark_invalid(
        connection,
        customer_id,
        channel,
        value,
        at,
        action_id=action_id,
        detail=f"Contato de {label} {value} marcado como inválido: {why}. "
        "Os próximos contatos usam outro canal.",
    )
