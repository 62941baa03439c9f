"""The parts of a payment spread over several invoices are found whatever their number."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from regua.services.reversing import PART_MARK, part_key
from regua.store.payments import payment_parts
from regua.store.tables import payments
from tests.builders import NOW


def test_every_part_is_found_in_order_and_reversal_rows_are_not(
    engine: Engine, creditor_id: int
) -> None:
    head = "E18236120202611231015000000000042"
    ids = [part_key(head, n) for n in range(1, 41)] + [f"{head}:devolucao:D1", "E999"]
    with engine.begin() as connection:
        connection.execute(
            payments.insert(),
            [
                {
                    "creditor_id": creditor_id,
                    "external_id": external_id,
                    "source": "pix",
                    "amount_cents": -1 if ":devolucao:" in external_id else 100,
                    "paid_on": date(2026, 11, 23),
                    "status": "reversal" if ":devolucao:" in external_id else "applied",
                    "received_at": NOW,
                }
                for external_id in reversed(ids)
            ],
        )
        found = payment_parts(connection, creditor_id, "pix", [head, "E999", "E0"], PART_MARK)
    assert [row.external_id for row in found[head]] == ids[:40]
    assert [row.external_id for row in found["E999"]] == ["E999"]
    assert "E0" not in found
