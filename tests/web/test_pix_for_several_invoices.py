"""A Pix code shown for several invoices (the portal's "pagar tudo", a grouped e-mail) settles
all of them when paid, over the real webhook endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.channels.registry import ChannelRegistry
from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.customer_links import LinkPurpose, make_link_token
from regua.payments.pix import decode
from regua.payments.webhooks import sign
from regua.services.daily_cycle import plan
from regua.services.dispatching import Dispatcher
from regua.store import customers as customer_store
from regua.store.tables import actions, customers, interactions, invoices
from regua.web.app import create_app
from tests.builders import CUSTOMERS_CSV, NOW, run_import, stored_payments, write_csv
from tests.servers import SmtpServer, smtp_server

__all__ = ["smtp_server"]  # fixture used below

WEBHOOK_SECRET = "segredo-de-teste-do-webhook"
LINK_SECRET = "segredo-do-portal-de-teste"
TODAY = NOW.date()  # Monday 23/11/2026
# José (C1) owes R$ 830,07 today: NF-9001 R$ 520,67 (500,00 + multa 10,00 + juros 10,67) and
# NF-9002 R$ 309,40 (300,00 + multa 6,00 + juros 3,40), as the portal shows them.
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9002;NF-9002;C1;Mensalidade outubro;20/10/2026;300,00;aberto
9001;NF-9001;C1;Mensalidade setembro;20/09/2026;500,00;aberto
9003;NF-9003;C3;Parcela;10/11/2026;200,00;aberto
"""


def e2e(n: int) -> str:
    return f"E18236120202611231015{n:011d}"


def pix_body(n: int, txid: str, amount_cents: int, *refunds: tuple[str, int]) -> bytes:
    item: dict[str, Any] = {
        "endToEndId": e2e(n),
        "txid": txid,
        "valor": f"{amount_cents // 100}.{amount_cents % 100:02d}",
        "horario": "2026-11-23T10:15:30.000-03:00",
    }
    if refunds:
        item["devolucoes"] = [
            {
                "id": refund_id,
                "rtrId": f"D18236120202611231015{n:011d}",
                "valor": f"{amount // 100}.{amount % 100:02d}",
                "horario": {
                    "solicitacao": "2026-11-23T14:00:00.000-03:00",
                    "liquidacao": "2026-11-23T14:00:05.000-03:00",
                },
                "status": "DEVOLVIDO",
            }
            for refund_id, amount in refunds
        ]
    return json.dumps({"pix": [item]}).encode()


def post(client: TestClient, body: bytes) -> httpx.Response:
    headers = {"X-Regua-Signature": sign(body, WEBHOOK_SECRET), "Content-Type": "application/json"}
    response = client.post("/api/v1/webhooks/pix", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def invoice_state(engine: Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as connection:
        return {
            row.external_id: (row.status, row.balance_cents)
            for row in connection.execute(
                select(invoices.c.external_id, invoices.c.status, invoices.c.balance_cents)
            )
        }


def thank_yous(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(customers.c.external_id, actions.c.status)
                .join(customers, customers.c.id == actions.c.customer_id)
                .where(actions.c.purpose == "thank_you")
            )
        ]


# --------------------------------------------------------------------------- the portal


@pytest.fixture
def client(engine: Engine, creditor_id: int, tmp_path: Path) -> Iterator[TestClient]:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        pix_webhook_secret=WEBHOOK_SECRET,
    ).model_copy(update={"link_secret": LINK_SECRET})
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as test_client:
        yield test_client


def portal_pix(client: TestClient, engine: Engine, creditor_id: int) -> tuple[str, int]:
    """Signs José in to the portal; the txid and amount of its "pagar tudo por PIX" code."""
    with engine.begin() as connection:  # the régua runs: money arriving now is thanked
        plan(connection, creditor_id, TODAY, NOW)
    with engine.connect() as connection:
        customer = customer_store.id_by_external(connection, creditor_id, "C1")
    assert customer is not None
    token = make_link_token(LINK_SECRET, LinkPurpose.PORTAL, customer, today=TODAY)
    path = f"/p/{token}"
    page = client.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answered = client.post(
        f"{path}/identidade",
        data={"csrf": csrf.group(1), "documento": "529.98"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    html = client.get(path).text
    code = re.search(r'<textarea id="pix"[^>]*>([^<]+)</textarea>', html)
    assert code is not None
    decoded = decode(code.group(1))
    assert decoded.txid is not None and decoded.amount_cents is not None
    return decoded.txid, decoded.amount_cents


def test_the_portals_pix_for_everything_settles_every_invoice_oldest_first(
    client: TestClient, engine: Engine, creditor_id: int
) -> None:
    txid, amount = portal_pix(client, engine, creditor_id)
    assert amount == 83_007

    answer = post(client, pix_body(1, txid, amount)).json()

    [applied] = answer["applied"]
    assert (applied["amount_cents"], applied["applied_cents"], applied["fees_cents"]) == (
        83_007,
        83_007,
        3_007,
    )
    assert (applied["credit_cents"], applied["balance_cents"]) == (0, 0)
    assert [
        (p["invoice_number"], p["amount_cents"], p["fees_cents"], p["invoice_status"])
        for p in applied["parts"]
    ] == [("NF-9001", 52_067, 2_067, "paid"), ("NF-9002", 30_940, 940, "paid")]
    assert invoice_state(engine) == {
        "9001": ("paid", 0),
        "9002": ("paid", 0),
        "9003": ("open", 20_000),
    }
    assert stored_payments(engine) == [
        (e2e(1), "9001", 52_067, 52_067, 2_067, 0, "applied"),
        (f"{e2e(1)}:parte:2", "9002", 30_940, 30_940, 940, 0, "applied"),
    ]
    # One thank-you for José, not one per invoice.
    assert thank_yous(engine) == [("C1", "planned")]
    with engine.connect() as connection:
        paid = connection.execute(
            select(interactions.c.detail)
            .where(interactions.c.kind == "paid")
            .order_by(interactions.c.id)
        ).scalars()
        assert [detail.split(", título ")[-1] for detail in paid] == [
            "NF-9001: quitado; multa e juros pagos: R$ 20,67",
            "NF-9002: quitado; multa e juros pagos: R$ 9,40",
        ]

    # The PSP sends it again: nothing is applied twice, neither part.
    again = post(client, pix_body(1, txid, amount)).json()
    assert [d["end_to_end_id"] for d in again["duplicates"]] == [e2e(1)]
    assert again["applied"] == [] and len(stored_payments(engine)) == 2

    # `regua payments` lists both parts, each against its invoice, saying what it is part of,
    # and counts the money once.
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["payments", "--days", "3660", "--json", "--db", url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["received_cents"], report["settled_invoices"]) == (83_007, 2)
    assert sorted(
        (line["invoice_number"], line["amount_cents"], line["note"]) for line in report["payments"]
    ) == [
        ("NF-9001", 52_067, f"parte 1 de 2 de R$ 830,07 ({txid})"),
        ("NF-9002", 30_940, f"parte 2 de 2 de R$ 830,07 ({txid})"),
    ]


def test_a_smaller_pix_pays_the_oldest_invoice_first(
    client: TestClient, engine: Engine, creditor_id: int
) -> None:
    txid, _ = portal_pix(client, engine, creditor_id)

    answer = post(client, pix_body(2, txid, 60_000)).json()

    [applied] = answer["applied"]
    assert [(p["invoice_number"], p["amount_cents"]) for p in applied["parts"]] == [
        ("NF-9001", 52_067),
        ("NF-9002", 7_933),
    ]
    # NF-9002: 79,33 paid on 309,40 owed today: multa and juros (9,40) first, 69,93 principal.
    assert invoice_state(engine)["9001"] == ("paid", 0)
    assert invoice_state(engine)["9002"] == ("open", 30_000 - 6_993)
    assert stored_payments(engine) == [
        (e2e(2), "9001", 52_067, 52_067, 2_067, 0, "applied"),
        (f"{e2e(2)}:parte:2", "9002", 7_933, 7_933, 940, 0, "applied"),
    ]

    # The portal's code for what is left keeps the txid: paying it settles NF-9002.
    txid_left, left = portal_pix(client, engine, creditor_id)
    assert txid_left == txid
    post(client, pix_body(7, txid, left))
    assert invoice_state(engine)["9002"] == ("paid", 0)

    # Too little even for the oldest open one: it alone gets it.
    with engine.begin() as connection:
        connection.execute(
            invoices.update().where(invoices.c.external_id == "9003").values(pix_txid=txid)
        )
    answer = post(client, pix_body(8, txid, 5_000)).json()
    assert [(p["invoice_number"], p["amount_cents"]) for p in answer["applied"][0]["parts"]] == []
    assert answer["applied"][0]["invoice_number"] == "NF-9003"
    assert invoice_state(engine)["9003"][1] < 20_000


def test_more_than_owed_leaves_the_rest_as_credit_on_the_newest(
    client: TestClient, engine: Engine, creditor_id: int
) -> None:
    txid, _ = portal_pix(client, engine, creditor_id)
    post(client, pix_body(3, txid, 90_000))
    assert stored_payments(engine) == [
        (e2e(3), "9001", 52_067, 52_067, 2_067, 0, "applied"),
        (f"{e2e(3)}:parte:2", "9002", 37_933, 30_940, 940, 6_993, "applied"),
    ]


def test_a_devolucao_of_the_whole_pix_reopens_both_invoices(
    client: TestClient, engine: Engine, creditor_id: int
) -> None:
    txid, amount = portal_pix(client, engine, creditor_id)
    post(client, pix_body(4, txid, amount))
    thanked = thank_yous(engine)

    # Part of it first: taken from the newest part (NF-9002), principal before fees.
    answer = post(client, pix_body(4, txid, amount, ("D1", 10_000))).json()
    [refunded] = answer["refunded"]
    assert (refunded["end_to_end_id"], refunded["amount_cents"]) == (e2e(4), 10_000)
    assert refunded["balance_cents"] == 10_000  # open on the two invoices after it
    assert invoice_state(engine)["9001"] == ("paid", 0)
    assert invoice_state(engine)["9002"] == ("open", 10_000)

    # Then the rest: both invoices are open for what they were, nothing stays paid.
    post(client, pix_body(4, txid, amount, ("D1", 10_000), ("D2", amount - 10_000)))
    assert invoice_state(engine) == {
        "9001": ("open", 50_000),
        "9002": ("open", 30_000),
        "9003": ("open", 20_000),
    }
    rows = stored_payments(engine)
    assert rows[:2] == [
        (e2e(4), "9001", 52_067, 52_067, 2_067, 0, "reversed"),
        (f"{e2e(4)}:parte:2", "9002", 30_940, 30_940, 940, 0, "reversed"),
    ]
    assert sorted(rows[2:]) == sorted(
        [
            (f"{e2e(4)}:parte:2:devolucao:D1", "9002", -10_000, -10_000, 0, 0, "reversal"),
            (f"{e2e(4)}:parte:2:devolucao:D2", "9002", -20_940, -20_940, -940, 0, "reversal"),
            (f"{e2e(4)}:devolucao:D2", "9001", -52_067, -52_067, -2_067, 0, "reversal"),
        ]
    )
    assert sum(row[2] for row in rows) == 0
    assert thanked == [("C1", "planned")] and thank_yous(engine) == [("C1", "cancelled")]

    # The same devoluções reported again give nothing back twice.
    again = post(client, pix_body(4, txid, amount, ("D1", 10_000), ("D2", amount - 10_000)))
    assert again.json()["refunded"] == [] and len(stored_payments(engine)) == 5
    assert invoice_state(engine)["9001"] == ("open", 50_000)


def test_an_agreements_installments_keep_one_invoice_per_txid(
    client: TestClient, engine: Engine
) -> None:
    # A txid naming one invoice behaves as before: its Pix goes to that invoice alone.
    with engine.begin() as connection:
        connection.execute(
            invoices.update().where(invoices.c.external_id == "9003").values(pix_txid="PARCELA1")
        )
    answer = post(client, pix_body(5, "PARCELA1", 20_000)).json()
    [applied] = answer["applied"]
    assert (applied["invoice"], applied["parts"]) == ("9003", [])
    # Due 10/11: multa and juros (4,87) first, as for any late payment.
    assert invoice_state(engine)["9003"] == ("open", 487)


# --------------------------------------------------------------------------- a grouped e-mail


@pytest.mark.parametrize("own_txid", [None, "PROPRIO77"])
def test_the_pix_of_a_grouped_email_settles_all_its_invoices(
    engine: Engine, creditor_id: int, smtp_server: SmtpServer, tmp_path: Path, own_txid: str | None
) -> None:
    monday = date(2026, 11, 23)
    people = (
        "codigo_cliente;nome;cpf_cnpj;email;celular;uf\n"
        "M1;Maria Souza;52998224725;maria@exemplo.com.br;;SP"
    )
    # Both due Friday 20/11 (a holiday): payable on Monday without charges, one e-mail for both.
    bills = (
        "id;codigo_cliente;descricao;vencimento;valor\n"
        "F-77;M1;Mensalidade internet;20/11/2026;99,90\n"
        "F-78;M1;Mensalidade TV;20/11/2026;150,00"
    )
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", people), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", bills), creditor_id)
    with engine.begin() as connection:
        # With one: F-77 went out alone in an earlier message, whose code it keeps.
        connection.execute(
            invoices.update().where(invoices.c.external_id == "F-77").values(pix_txid=own_txid)
        )
        planned = plan(connection, creditor_id, monday, NOW).actions
    assert [a.channel for a in planned] == ["email"]
    clock = FixedClock(NOW)
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_sender="cobranca@exemplo.com.br",
        outbox_dir=tmp_path / "outbox",
    )
    registry = ChannelRegistry.from_settings(settings, clock=clock)
    with registry:
        Dispatcher(engine, registry, clock=clock, jitter=lambda: 0.0).dispatch_due(today=monday)
    [mail] = smtp_server.handler.received
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    line = next(x for x in str(body.get_content()).splitlines() if x.startswith("000201"))
    code = decode(line)
    assert code.amount_cents == 24_990 and code.txid is not None

    web = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        pix_webhook_secret=WEBHOOK_SECRET,
    )
    with TestClient(create_app(web, clock=clock)) as client:
        answer = post(client, pix_body(6, code.txid, 24_990)).json()

    [applied] = answer["applied"]
    assert [(p["invoice"], p["amount_cents"]) for p in applied["parts"]] == [
        ("F-77", 9_990),
        ("F-78", 15_000),
    ]
    assert invoice_state(engine) == {"F-77": ("paid", 0), "F-78": ("paid", 0)}
    assert thank_yous(engine) == [("M1", "planned")]
    assert (code.txid == own_txid) is False


def test_a_pix_first_unmatched_is_spread_when_its_txid_is_known_later(
    client: TestClient, engine: Engine
) -> None:
    first = post(client, pix_body(9, "GRUPO1", 83_007)).json()
    assert [u["end_to_end_id"] for u in first["unmatched"]] == [e2e(9)]
    with engine.begin() as connection:
        connection.execute(
            invoices.update()
            .where(invoices.c.external_id.in_(["9001", "9002"]))
            .values(pix_txid="GRUPO1")
        )

    post(client, pix_body(9, "GRUPO1", 83_007))  # the PSP's retry

    assert stored_payments(engine) == [
        (e2e(9), "9001", 52_067, 52_067, 2_067, 0, "applied"),
        (f"{e2e(9)}:parte:2", "9002", 30_940, 30_940, 940, 0, "applied"),
    ]
    assert invoice_state(engine)["9001"] == ("paid", 0)
    assert invoice_state(engine)["9002"] == ("paid", 0)


def test_the_early_payment_discount_offered_is_honoured_for_each_invoice(
    client: TestClient, engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    bills = (
        "id;numero;codigo_cliente;descricao;vencimento;valor;txid\n"
        "7002;NF-7002;C2;Pães de dezembro;05/12/2026;200,00;GRUPO2\n"
        "7001;NF-7001;C2;Pães de novembro;30/11/2026;100,00;GRUPO2"
    )
    run_import(engine, "invoices", write_csv(tmp_path / "g.csv", bills), creditor_id)
    with engine.begin() as connection:
        connection.execute(
            invoices.update()
            .where(invoices.c.external_id == "7001")
            .values(early_discount_cents=500, early_discount_until=date(2026, 11, 25))
        )

    post(client, pix_body(10, "GRUPO2", 29_500))

    # NF-7001 settled for R$ 95,00 (its R$ 5,00 discount), NF-7002 for its R$ 200,00.
    assert stored_payments(engine) == [
        (e2e(10), "7001", 9_500, 9_500, 0, 0, "applied"),
        (f"{e2e(10)}:parte:2", "7002", 20_000, 20_000, 0, 0, "applied"),
    ]
    assert invoice_state(engine)["7001"] == ("paid", 0)
    assert invoice_state(engine)["7002"] == ("paid", 0)


def test_an_invoice_with_a_txid_of_its_own_is_still_paid_by_the_portals_pix(
    client: TestClient, engine: Engine, creditor_id: int
) -> None:
    # NF-9001 went out alone in an earlier message, with its own code.
    with engine.begin() as connection:
        connection.execute(
            invoices.update().where(invoices.c.external_id == "9001").values(pix_txid="PROPRIO1")
        )
    txid, amount = portal_pix(client, engine, creditor_id)
    assert txid != "PROPRIO1" and amount == 83_007

    post(client, pix_body(11, txid, amount))

    assert stored_payments(engine) == [
        (e2e(11), "9001", 52_067, 52_067, 2_067, 0, "applied"),
        (f"{e2e(11)}:parte:2", "9002", 30_940, 30_940, 940, 0, "applied"),
    ]
    with engine.connect() as connection:
        own = connection.execute(
            select(invoices.c.pix_txid).where(invoices.c.external_id == "9001")
        ).scalar_one()
    assert own == "PROPRIO1"  # the earlier message's code still finds it


def test_the_portal_asks_less_the_early_payment_discount_and_its_pix_settles_everything(
    client: TestClient, engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    # José also has December's bill, R$ 100,00, whose reminder offered R$ 5,00 off until 25/11.
    bill = (
        "id;numero;codigo_cliente;descricao;vencimento;valor\n"
        "9004;NF-9004;C1;Dezembro;05/12/2026;100,00"
    )
    run_import(engine, "invoices", write_csv(tmp_path / "d.csv", bill), creditor_id)
    with engine.begin() as connection:
        connection.execute(
            invoices.update()
            .where(invoices.c.external_id == "9004")
            .values(early_discount_cents=500, early_discount_until=date(2026, 11, 25))
        )

    txid, amount = portal_pix(client, engine, creditor_id)

    # R$ 830,07 overdue + R$ 100,00 = R$ 930,07 today; by 25/11, R$ 5,00 less.
    assert amount == 92_507
    with engine.connect() as connection:
        customer = customer_store.id_by_external(connection, creditor_id, "C1")
    assert customer is not None
    page = client.get(
        f"/p/{make_link_token(LINK_SECRET, LinkPurpose.PORTAL, customer, today=TODAY)}"
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)).replace("\xa0", " ")
    assert "R$ 930,07" in text
    assert "Pagando até 25/11/2026: R$ 925,07 , com desconto de R$ 5,00" in text
    assert "PIX copia e cola ( R$ 925,07 , com o desconto, para pagar até 25/11/2026)" in text
    assert "Desconto até 25/11/2026 R$ 5,00 Pagando até 25/11/2026 R$ 95,00" in text

    post(client, pix_body(20, txid, amount))

    # Oldest first; December's bill settled in full by its discounted R$ 95,00.
    assert [row[:3] for row in stored_payments(engine)] == [
        (e2e(20), "9001", 52_067),
        (f"{e2e(20)}:parte:2", "9002", 30_940),
        (f"{e2e(20)}:parte:3", "9004", 9_500),
    ]
    assert {k: v for k, v in invoice_state(engine).items() if k != "9003"} == {
        "9001": ("paid", 0),
        "9002": ("paid", 0),
        "9004": ("paid", 0),
    }
