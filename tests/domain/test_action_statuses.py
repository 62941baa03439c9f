"""Every status an action can have is shown to a person in pt-BR."""

from __future__ import annotations

from regua.domain.action_statuses import ACTION_STATUS_LABELS, ACTION_STATUSES, status_label


def test_every_status_has_one_pt_br_name() -> None:
    assert list(ACTION_STATUS_LABELS) == list(ACTION_STATUSES)
    assert status_label("held") == "retida"
    assert status_label("desconhecido") == "desconhecido"
