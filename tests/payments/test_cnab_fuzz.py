"""Whatever bytes arrive, the CNAB reader answers with a file or a `CnabError`, never a traceback,
and an import it refuses writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from regua.payments.cnab import CnabError, SettlementLine, cnab240, cnab400, parse_return
from regua.payments.cnab.registry import LAYOUTS_400
from regua.services.cnab_returns import import_return_file
from regua.store.tables import interactions, payments
from tests.builders import NOW, units

DAY = date(2026, 11, 20)
TITLES = [
    SettlementLine(
        nosso_numero=str(1000 + n),
        seu_numero=f"F{n}",
        due_date=DAY,
        face_cents=1000 * n,
        paid_cents=1000 * n,
        fee_cents=150,
        paid_on=DAY,
        credited_on=DAY + timedelta(days=1),
        occurrence=occurrence,
    )
    for n, occurrence in ((1, "06"), (2, "02"), (3, "09"))
]
SAMPLES = [
    cnab240.write_return(
        bank_code=bank,
        company_document="11444777000161",
        company_name="Loja",
        generated_on=DAY,
        records=TITLES,
    )
    for bank in ("001", "033", "104", "748")
] + [
    cnab400.write_return(
        company_code="1",
        company_document="11444777000161",
        company_name="Loja",
        generated_on=DAY,
        records=TITLES,
        bank_code=bank,
    )
    for bank in sorted(LAYOUTS_400)
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        what = draw(st.sampled_from(["set", "cut", "insert", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        byte = draw(st.sampled_from([0, 9, 10, 13, 26, 32, 48, 49, 50, 55, 57, 65, 178, 255]))
        if what == "set":
            data[at] = byte
        elif what == "cut":
            del data[at]
        elif what == "insert":
            data.insert(at, byte)
        else:
            del data[at:]
        if not data:
            break
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(data=damaged())
def test_damaged_files_are_read_or_refused_never_crash(data: bytes) -> None:
    try:
        parsed = parse_return(data, filename="x.ret")
    except CnabError as error:
        assert str(error).startswith("x.ret")
        return
    for record in parsed.records:
        assert record.paid_cents >= 0 and record.fee_cents >= 0
        assert record.occurrence.isdigit()


@pytest.fixture
def counted(engine: Engine, creditor_id: int) -> tuple[Engine, int]:
    return engine, creditor_id


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(payments)).scalar_one(),
            connection.execute(select(func.count()).select_from(interactions)).scalar_one(),
        )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=damaged())
def test_a_refused_import_changes_nothing(
    counted: tuple[Engine, int], tmp_path: Path, data: bytes
) -> None:
    engine, creditor_id = counted
    path = tmp_path / "fuzz.ret"
    path.write_bytes(data)
    before = _counts(engine)
    try:
        import_return_file(units(engine), path, creditor_id, NOW)
    except CnabError:
        assert _counts(engine) == before
