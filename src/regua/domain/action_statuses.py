"""The statuses of an action, as a collections user reads them (pt-BR), in one place.

Code, the database and `--json` keep the raw values ("planned", "skipped"...); every table and
summary a person reads shows `status_label(status)`.
"""

from __future__ import annotations

from collections.abc import Mapping

ACTION_STATUSES: tuple[str, ...] = (
    "planned",  # waiting for dispatch on its date
    "deferred",  # moved to a later day (closed day or weekly cap); a new row holds the new date
    "skipped",  # nothing could be sent (no reachable channel); kept so a manager sees who
    "dropped",  # over the weekly cap with policy over_limit=drop
    "cancelled",  # invoice settled / paused before it was sent
    "held",  # not sent: the creditor's profile lacks what the message needs (its PIX key...)
    "sending",  # claimed by a dispatcher
    "sent",
    "failed",  # permanent failure, or retries exhausted
)

ACTION_STATUS_LABELS: Mapping[str, str] = {
    "planned": "planejada",
    "deferred": "adiada",
    "skipped": "pulada",
    "dropped": "descartada",
    "cancelled": "cancelada",
    "held": "retida",
    "sending": "em envio",
    "sent": "enviada",
    "failed": "com falha",
}


def status_label(status: str) -> str:
    """The pt-BR name of an action's status ("planejada", "pulada"), for what a person reads."""
    return ACTION_STATUS_LABELS.get(status, status)
