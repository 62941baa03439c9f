"""The channels regua reaches a customer on: their names in code and in pt-BR, in one place.

Every other list of channels (the policy schema, the dispatcher's queues, the renderer's template
files, the database's check constraint) reads from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Channel = Literal["email", "sms", "whatsapp", "phone", "letter"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# Channels that carry a written message rendered from a template, in the order the renderer and
# the dispatcher list them. A phone step is the operators' call list: never sent by a dispatcher.
MESSAGE_CHANNELS: tuple[Channel, ...] = ("email", "sms", "whatsapp", "letter")

# CDC art. 43 §2: the consumer must be told *in writing* before a credit-bureau registration.
WRITTEN_CHANNELS: frozenset[Channel] = frozenset({"letter", "email"})

CHANNEL_LABELS: Mapping[str, str] = {
    "email": "e-mail",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "phone": "ligação",
    "letter": "carta",
}


def channel_label(channel: str) -> str:
    """The pt-BR name of a channel, for what a person reads ("carta", "ligação")."""
    return CHANNEL_LABELS.get(channel, channel)
