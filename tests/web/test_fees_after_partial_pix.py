"""A partial Pix paid late, over the webhook: what the customer's page shows afterwards owes no
second multa and juros only since the Pix; given back, the full charges come back.

On SQLite and PostgreSQL. Figures by hand: R$ 300,00 due 20/10/2026, paid R$ 79,33 by Pix on
23/11 (34 days late): multa 6,00 + juros 3,40 = 9,40 of fees, 69,93 of principal, 230,07 left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from regua.payments.webhooks import sign
from tests.builders import CUSTOMERS_CSV, invoice_row, run_import, write_csv
from tests.cli.analyst_portfolio import cli
from tests.web.test_pix_webhook import SECRET, URL, make_client, pix, pix_refunded

TXID = "cobranca0000000000000000F1"
INVOICES = f"""
id;numero;codigo_cliente;descricao;vencimento;valor;txid
F;601;C1;Mensalidade da escola;20/10/2026;300,00;{TXID}
"""


def owed(db_url: str, today: str) -> tuple[int, int, int, int]:
    """(principal, multa, juros, total) of C1's open invoice on `today`, as `regua cliente`."""
    data = json.loads(cli(db_url, "cliente", "C1", "--json", today=today).output)
    [item] = data["open_invoices"]
    return (
        item["principal_cents"],
        item["late_fee_cents"],
        item["interest_cents"],
        data["totals"]["total_cents"],
    )


def post_pix(db_url: str, body: bytes) -> dict[str, Any]:
    """`body` posted, signed, to the Pix webhook of a fresh app; its JSON answer."""
    with make_client(db_url) as client:
        response = client.post(
            URL,
            content=body,
            headers={"X-Regua-Signature": sign(body, SECRET), "Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_partial_pix_is_not_charged_its_fees_again_and_a_refund_restores_them(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    # Before any payment: 300,00 + 6,00 + 3,40.
    assert owed(db_url, "2026-11-23") == (30_000, 600, 340, 30_940)

    [applied] = post_pix(db_url, pix((1, TXID, "79.33")))["applied"]
    assert (applied["fees_cents"], applied["balance_cents"]) == (940, 23_007)
    row = invoice_row(engine, "F")
    assert (row.balance_cents, str(row.fees_paid_through), row.fees_unpaid_cents) == (
        23_007,
        "2026-11-23",
        0,
    )

    # The same day: the principal left, nothing more (it showed 237,28: multa 4,60 and juros
    # 2,61 charged again).
    assert owed(db_url, "2026-11-23") == (23_007, 0, 0, 23_007)
    # 30 days later: juros of 30 days on 230,07 only (2,30), no new multa.
    assert owed(db_url, "2026-12-23") == (23_007, 0, 230, 23_237)

    # The Pix given back whole: the invoice owes the full charges from its due date again.
    post_pix(db_url, pix_refunded(1, TXID, "79.33", ("D1", "79.33", "DEVOLVIDO")))
    row = invoice_row(engine, "F")
    assert (row.balance_cents, row.fees_paid_through, row.fees_unpaid_cents) == (30_000, None, 0)
    assert owed(db_url, "2026-11-23") == (30_000, 600, 340, 30_940)


def test_fees_given_back_by_a_partial_refund_are_owed_again(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    post_pix(db_url, pix((1, TXID, "79.33")))
    # R$ 75,00 of it given back: the 69,93 of principal, then 5,07 of the fees; the 4,33 kept
    # still pays fees, so 9,40 - 4,33 = 5,07 of them are owed again.
    post_pix(db_url, pix_refunded(1, TXID, "79.33", ("D1", "75.00", "DEVOLVIDO")))
    row = invoice_row(engine, "F")
    assert (row.balance_cents, row.fees_unpaid_cents) == (30_000, 507)
    # The same day: 300,00 + 5,07, what the Pix's 4,33 left of the 9,40 of fees.
    assert owed(db_url, "2026-11-23") == (30_000, 0, 507, 30_507)
