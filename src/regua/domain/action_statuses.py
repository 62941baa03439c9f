"""The statuses of an action, as a collections user reads them (pt-BR), in one place.

Code, the database and `--json` keep the raw values ("planned", "skipped"...); every table and
summary a person reads shows `status_label(status)`.
"""

from __future__ import annotations

from collections.abc import Mapping

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
