"""The statuses of an action, as a collections user reads them (pt-BR), in one place.

Code, the database and `--json` keep the raw values ("planned", "skipped"...); every table and
summary a person reads shows `status_label(status)`.
"""

from __future__ import annotations

import unicodedata
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


def _plain(name: str) -> str:
    """ "Com falha" -> "comfalha": what a person may type for a label, compared loosely."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if c.isalnum())


# Besides the raw names and the labels, the words a collections user types for them.
_ALSO_NAMED: Mapping[str, str] = {
    "falha": "failed",
    "falhou": "failed",
    "falharam": "failed",
    "retido": "held",
    "retidas": "held",
    "pulado": "skipped",
    "puladas": "skipped",
    "adiado": "deferred",
    "adiadas": "deferred",
    "cancelado": "cancelled",
    "canceladas": "cancelled",
    "descartado": "dropped",
    "descartadas": "dropped",
    "enviado": "sent",
    "enviadas": "sent",
    "planejado": "planned",
    "planejadas": "planned",
}


def status_named(name: str) -> str | None:
    """The raw status a person named, in English ("failed") or pt-BR ("com falha", "retida",
    "puladas"), accents and case aside; None when it names none."""
    wanted = _plain(name)
    for status in ACTION_STATUSES:
        if wanted in (status, _plain(ACTION_STATUS_LABELS[status])):
            return status
    return _ALSO_NAMED.get(wanted)
