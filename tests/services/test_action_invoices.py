"""One customer's action names the same invoices wherever it is read: the plan, a preview of
the step (`regua templates render`) and the operators' call list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from regua.errors import NotFound
from regua.services.call_list import call_list
from regua.services.customer_preview import customer_preview
from regua.services.daily_cycle import plan
from tests.builders import run_import, units, write_csv

MONDAY = date(2026, 11, 23)
AT_9_IN_SAO_PAULO = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def caller(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    # Kátia is reached by phone only. On Monday 23/11: V1 is 15 days late (the call step),
    # V2 falls due on Monday 30/11 (the reminder, D-7), V3 on 20/12 (no step yet).
    people = write_csv(
        tmp_path / "c.csv",
        "codigo_cliente;nome;cpf_cnpj;celular;uf\nK1;Kátia Rocha;52998224725;(92) 99111-2222;AM",
    )
    bills = write_csv(
        tmp_path / "t.csv",
        "id;numero;codigo_cliente;descricao;vencimento;valor\n"
        "V1;NF-1;K1;Mensalidade;08/11/2026;500,00\n"
        "V2;NF-2;K1;Mensalidade;30/11/2026;300,00\n"
        "V3;NF-3;K1;Mensalidade;20/12/2026;200,00",
    )
    run_import(engine, "customers", people, creditor_id)
    run_import(engine, "invoices", bills, creditor_id)
    return creditor_id


def _preview(engine: Engine, creditor_id: int, step: str, day: date = MONDAY) -> dict[str, Any]:
    return customer_preview(
        units(engine), creditor_id, "K1", step, day=day, now=AT_9_IN_SAO_PAULO, channel="phone"
    ).context


def test_plan_preview_and_call_list_name_the_same_invoices_and_totals(
    engine: Engine, caller: int
) -> None:
    # Before the run, the preview already names what the plan will.
    before = _preview(engine, caller, "ligacao")
    with engine.begin() as connection:
        [action] = plan(connection, caller, MONDAY, AT_9_IN_SAO_PAULO).actions
    after = _preview(engine, caller, "ligacao")
    # Two days later the step is behind: the preview speaks of the action the plan made.
    later = _preview(engine, caller, "ligacao", date(2026, 11, 25))
    [entry] = call_list(units(engine), MONDAY, AT_9_IN_SAO_PAULO)

    assert (action.step.id, action.channel) == ("ligacao", "phone")
    assert len(action.invoices) == 2  # V3 has no step today
    for context in (before, after, later):
        # The call speaks of the late invoice and mentions, apart, the one not yet due.
        assert [i["number"] for i in context["invoices"]] == ["NF-1"]
        assert [i["number"] for i in context["upcoming"]] == ["NF-2"]
        assert context["all_totals"]["balance_cents"] == 80000  # never V3's R$ 200,00
    assert before["totals"] == after["totals"]
    totals = after["totals"]
    assert entry.invoices == ("NF-1",)
    assert (entry.principal_cents, entry.fees_cents, entry.total_cents) == (
        totals["balance_cents"],
        totals["late_fee_cents"] + totals["interest_cents"],
        totals["total_cents"],
    )
    assert entry.total_cents == 50000 + 1000 + 250  # multa 2 %, juros 1 % a.m. for 15 days


def test_a_step_the_plan_would_not_send_that_day_is_refused_with_its_day(
    engine: Engine, caller: int
) -> None:
    with pytest.raises(NotFound) as refused:
        _preview(engine, caller, "atraso-3")
    assert str(refused.value) == (
        "em 23/11/2026 a régua padrao enviaria a etapa ligacao ao cliente K1; "
        "a etapa atraso-3 cabe a ele em 03/12/2026 (use --date)"
    )
