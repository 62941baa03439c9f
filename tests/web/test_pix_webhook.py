"""The PIX webhook over HTTP, on SQLite and PostgreSQL: signed, idempotent, settles and thanks."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.services.daily_cycle import plan
from regua.store.tables import actions, customers, interactions, invoices, payments
from regua.web.app import create_app
from tests.builders import CUSTOMERS_CSV, NOW, invoice_row, run_import, write_csv

SECRET = "segredo-de-teste-do-webhook"
URL = "/api/v1/webhooks/pix"
TXID_A = "cobranca0000000000000000A1"
TXID_B = "cobranca0000000000000000B2"
INVOICES = f"""
id;numero;codigo_cliente;descricao;vencimento;valor;txid
A;501;C1;Mensalidade internet;23/11/2026;99,90;{TXID_A}
B;502;C3;Parcela de móveis;23/11/2026;450,00;{TXID_B}
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def make_client(db_url: str, secret: str = SECRET) -> TestClient:
    settings = Settings(database_url=db_url, pix_webhook_secret=secret)
    return TestClient(create_app(settings, clock=FixedClock(NOW)))


@pytest.fixture
def client(db_url: str, portfolio: int) -> Iterator[TestClient]:
    with make_client(db_url) as test_client:
        yield test_client


def e2e(n: int) -> str:
    return f"E18236120202611231015{n:011d}"


def pix(*items: tuple[int, str | None, str]) -> bytes:
    """Body of a BCB Pix API notification: (n, txid, valor) per Pix."""
    return json.dumps(
        {
            "pix": [
                {
                    "endToEndId": e2e(n),
                    **({"txid": txid} if txid else {}),
                    "valor": valor,
                    "horario": "2026-11-23T10:15:30.000-03:00",
                    "infoPagador": "pagamento da mensalidade",
                }
                for n, txid, valor in items
            ]
        }
    ).encode()


def pix_refunded(n: int, txid: str, valor: str, *refunds: tuple[str, str, str]) -> bytes:
    """One Pix as the PSP reports it again with its devoluções: (id, valor, status) each."""
    return json.dumps(
        {
            "pix": [
                {
                    "endToEndId": e2e(n),
                    "txid": txid,
                    "valor": valor,
                    "horario": "2026-11-23T10:15:30.000-03:00",
                    "devolucoes": [
                        {
                            "id": refund_id,
                            "rtrId": f"D18236120202611231015{n:011d}",
                            "valor": amount,
                            "horario": {
                                "solicitacao": "2026-11-23T14:00:00.000-03:00",
                                "liquidacao": "2026-11-23T14:00:05.000-03:00",
                            },
                            "status": status,
                        }
                        for refund_id, amount, status in refunds
                    ],
                }
            ]
        }
    ).encode()


def post(client: TestClient, body: bytes, url: str = URL, **headers: str) -> httpx.Response:
    signed = {"X-Regua-Signature": sign(body, SECRET), "Content-Type": "application/json"}
    return client.post(url, content=body, headers={**signed, **headers})


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(
                    payments.c.external_id,
                    payments.c.source,
                    invoices.c.external_id,
                    payments.c.amount_cents,
                    payments.c.status,
                    payments.c.paid_on,
                )
                .select_from(payments.outerjoin(invoices, invoices.c.id == payments.c.invoice_id))
                .order_by(payments.c.id)
            )
        ]


def test_signed_pix_settles_the_invoice_of_its_txid(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    with engine.begin() as connection:  # the régua runs: money arriving now is thanked
        plan(connection, portfolio, NOW.date(), NOW)

    response = post(client, pix((1, TXID_A, "99.90")))

    assert response.status_code == 200
    assert response.json() == {
        "received": 1,
        "applied": [
            {
                "end_to_end_id": e2e(1),
                "txid": TXID_A,
                "status": "applied",
                "amount_cents": 9990,
                "invoice": "A",
                "invoice_number": "501",
                "applied_cents": 9990,
                "fees_cents": 0,
                "credit_cents": 0,
                "balance_cents": 0,
                "invoice_status": "paid",
                "parts": [],
            }
        ],
        "unmatched": [],
        "duplicates": [],
        "refunded": [],
        "cancelled_actions": 1,  # the day's reminder about A
        "thank_you_actions": 1,
    }
    a = invoice_row(engine, "A")
    assert (a.status, a.balance_cents, str(a.settled_on)) == ("paid", 0, "2026-11-23")
    assert stored(engine) == [(e2e(1), "pix", "A", 9990, "applied", NOW.date())]


def test_the_pix_api_suffix_is_accepted(client: TestClient, engine: Engine) -> None:
    response = post(client, pix((1, TXID_A, "99.90")), url=URL + "/pix")

    assert response.status_code == 200
    assert invoice_row(engine, "A").status == "paid"


def test_unsigned_call_is_refused_and_nothing_is_stored(client: TestClient, engine: Engine) -> None:
    response = client.post(URL, content=pix((1, TXID_A, "99.90")))

    assert response.status_code == 401
    assert response.json() == {
        "code": "webhook_signature_missing",
        "message": "assinatura do webhook ausente",
    }
    assert stored(engine) == []


def test_bad_signature_is_refused(client: TestClient, engine: Engine) -> None:
    body = pix((1, TXID_A, "99.90"))
    forged = sign(body.replace(b"99.90", b"9.90"), SECRET)

    response = client.post(URL, content=body, headers={"X-Regua-Signature": forged})

    assert response.status_code == 401
    assert response.json()["code"] == "webhook_signature_invalid"
    assert invoice_row(engine, "A").balance_cents == 9990


def test_without_a_configured_secret_every_call_is_refused(
    db_url: str, portfolio: int, engine: Engine
) -> None:
    with make_client(db_url, secret="") as unconfigured:
        response = post(unconfigured, pix((1, TXID_A, "99.90")))

    assert response.status_code == 503
    assert response.json() == {
        "code": "webhook_not_configured",
        "message": "webhook PIX desativado: defina REGUA_PIX_WEBHOOK_SECRET para aceitar chamadas",
    }
    assert stored(engine) == []


def test_a_malformed_payload_says_which_field(client: TestClient) -> None:
    response = post(client, json.dumps({"pix": [{"endToEndId": e2e(1), "valor": 10}]}).encode())

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook"
    assert "pix[0].valor" in response.json()["message"]


def test_replayed_end_to_end_id_creates_one_payment(client: TestClient, engine: Engine) -> None:
    body = pix((1, TXID_B, "100.00"))
    post(client, body)

    replay = post(client, body)

    assert replay.status_code == 200
    assert [item["end_to_end_id"] for item in replay.json()["duplicates"]] == [e2e(1)]
    assert replay.json()["applied"] == []
    assert stored(engine) == [(e2e(1), "pix", "B", 10000, "applied", NOW.date())]
    assert invoice_row(engine, "B").balance_cents == 35000


def test_unknown_txid_is_kept_as_unmatched_money_and_still_answers_200(
    client: TestClient, engine: Engine
) -> None:
    response = post(client, pix((1, "txidquenaoexiste000000000000", "37.50"), (2, None, "5.00")))

    assert response.status_code == 200
    assert response.json()["applied"] == []
    assert [(i["end_to_end_id"], i["txid"]) for i in response.json()["unmatched"]] == [
        (e2e(1), "txidquenaoexiste000000000000"),
        (e2e(2), None),
    ]
    assert stored(engine) == [
        (e2e(1), "pix", None, 3750, "unmatched", NOW.date()),
        (e2e(2), "pix", None, 500, "unmatched", NOW.date()),
    ]


def test_partial_amount_leaves_the_rest_open(client: TestClient, engine: Engine) -> None:
    response = post(client, pix((1, TXID_B, "150.00")))

    [item] = response.json()["applied"]
    assert (item["applied_cents"], item["balance_cents"], item["invoice_status"]) == (
        15000,
        30000,
        "open",
    )
    b = invoice_row(engine, "B")
    assert (b.status, b.balance_cents, b.settled_on) == ("open", 30000, None)


def test_settlement_cancels_the_planned_action_and_plans_a_thank_you(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    with engine.begin() as connection:
        plan(connection, portfolio, NOW.date(), NOW)

    response = post(client, pix((1, TXID_B, "450.00")))

    assert (response.json()["cancelled_actions"], response.json()["thank_you_actions"]) == (1, 1)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                customers.c.external_id,
                actions.c.purpose,
                actions.c.status,
                actions.c.channel,
                actions.c.template,
            )
            .join(customers, customers.c.id == actions.c.customer_id)
            .order_by(customers.c.external_id, actions.c.purpose)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("C1", "collection", "planned", "whatsapp", "vence_hoje"),
        ("C3", "collection", "cancelled", "whatsapp", "vence_hoje"),
        ("C3", "thank_you", "planned", "whatsapp", "agradecimento"),
    ]


@contextmanager
def loopback_server(db_url: str) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1; yields its base URL."""
    settings = Settings(database_url=db_url, pix_webhook_secret=SECRET)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, clock=FixedClock(NOW)), log_level="warning")
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def post_signed(base: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{base}{URL}/pix",
        content=body,
        headers={"X-Regua-Signature": sign(body, SECRET)},
        timeout=10,
    )


def test_real_server_on_loopback(db_url: str, portfolio: int, engine: Engine) -> None:
    with loopback_server(db_url) as base:
        response = post_signed(base, pix((7, TXID_A, "99.90")))

    assert response.status_code == 200
    assert response.json()["applied"][0]["invoice_status"] == "paid"
    assert invoice_row(engine, "A").status == "paid"


def thank_you_statuses(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (customer, status)
            for customer, status in connection.execute(
                select(customers.c.external_id, actions.c.status)
                .join(customers, customers.c.id == actions.c.customer_id)
                .where(actions.c.purpose == "thank_you")
                .order_by(customers.c.external_id)
            )
        ]


def reversal_timeline(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(interactions.c.detail)
                .where(interactions.c.kind == "payment_reversed")
                .order_by(interactions.c.id)
            ).scalars()
        )


def test_a_refund_reported_after_the_pix_was_applied_reopens_the_invoice_once(
    db_url: str, portfolio: int, engine: Engine
) -> None:
    with engine.begin() as connection:  # the régua runs: money arriving now is thanked
        plan(connection, portfolio, NOW.date(), NOW)
    with loopback_server(db_url) as base:
        applied = post_signed(base, pix((1, TXID_A, "99.90")))
        assert applied.json()["applied"][0]["invoice_status"] == "paid"
        pending = post_signed(
            base, pix_refunded(1, TXID_A, "99.90", ("D1", "99.90", "EM_PROCESSAMENTO"))
        )
        refund = pix_refunded(1, TXID_A, "99.90", ("D1", "99.90", "DEVOLVIDO"))
        refunded = post_signed(base, refund)
        replayed = post_signed(base, refund)

    # Still being processed by the PSP: nothing given back yet.
    assert [i["status"] for i in pending.json()["duplicates"]] == ["duplicate"]
    assert refunded.status_code == 200
    [item] = refunded.json()["refunded"]
    assert (item["amount_cents"], item["balance_cents"], item["invoice_status"]) == (
        9990,
        9990,
        "open",
    )
    assert (item["invoice"], item["invoice_number"]) == ("A", "501")
    assert [i["status"] for i in replayed.json()["duplicates"]] == ["duplicate"]
    assert replayed.json()["refunded"] == []
    a = invoice_row(engine, "A")
    assert (a.status, a.balance_cents, a.settled_on) == ("open", 9990, None)
    assert stored(engine) == [
        (e2e(1), "pix", "A", 9990, "reversed", NOW.date()),
        (e2e(1) + ":devolucao:D1", "pix", "A", -9990, "reversal", NOW.date()),
    ]
    # The thank-you planned for the payment would thank for money given back.
    assert thank_you_statuses(engine) == [("C1", "cancelled")]
    assert reversal_timeline(engine) == [
        "Devolução de R$ 99,90 do pagamento de R$ 99,90 (PIX) de 23/11/2026, título 501 "
        "(devolução Pix D1): título reaberto, R$ 99,90 em aberto"
    ]


def test_refunds_take_the_credit_first_then_reopen_principal(
    client: TestClient, engine: Engine
) -> None:
    # B: R$ 450,00; paid 500,00: 50,00 of credit.
    post(client, pix((1, TXID_B, "500.00")))

    first = post(client, pix_refunded(1, TXID_B, "500.00", ("D1", "30.00", "DEVOLVIDO")))
    second = post(
        client,
        pix_refunded(
            1, TXID_B, "500.00", ("D1", "30.00", "DEVOLVIDO"), ("D2", "40.00", "DEVOLVIDO")
        ),
    )

    [one] = first.json()["refunded"]
    assert (one["amount_cents"], one["balance_cents"], one["invoice_status"]) == (3000, 0, "paid")
    [two] = second.json()["refunded"]
    # 20,00 of credit was left: the other 20,00 of D2 reopens principal.
    assert (two["amount_cents"], two["balance_cents"], two["invoice_status"]) == (
        4000,
        2000,
        "open",
    )
    assert stored(engine) == [
        (e2e(1), "pix", "B", 50000, "applied", NOW.date()),
        (e2e(1) + ":devolucao:D1", "pix", "B", -3000, "reversal", NOW.date()),
        (e2e(1) + ":devolucao:D2", "pix", "B", -4000, "reversal", NOW.date()),
    ]
    with engine.connect() as connection:
        credit, applied = connection.execute(
            select(func.sum(payments.c.credit_cents), func.sum(payments.c.applied_cents))
        ).one()
    assert (credit, applied) == (0, 43000)
    b = invoice_row(engine, "B")
    assert (b.status, b.balance_cents) == ("open", 2000)


def test_a_pix_partly_refunded_when_first_seen_applies_what_stayed(
    client: TestClient, engine: Engine
) -> None:
    response = post(client, pix_refunded(1, TXID_B, "450.00", ("D1", "50.00", "DEVOLVIDO")))

    [item] = response.json()["applied"]
    assert (item["amount_cents"], item["applied_cents"], item["credit_cents"]) == (40000, 40000, 0)
    assert (item["balance_cents"], item["invoice_status"]) == (5000, "open")
    assert response.json()["thank_you_actions"] == 0
    assert invoice_row(engine, "B").balance_cents == 5000
    again = post(client, pix_refunded(1, TXID_B, "450.00", ("D1", "50.00", "DEVOLVIDO")))
    assert [i["status"] for i in again.json()["duplicates"]] == ["duplicate"]
    assert invoice_row(engine, "B").balance_cents == 5000


def test_a_pix_refunded_whole_before_it_was_applied_is_recorded_as_given_back(
    client: TestClient, engine: Engine
) -> None:
    body = pix_refunded(1, TXID_A, "99.90", ("D1", "99.90", "DEVOLVIDO"))

    response = post(client, body)

    [item] = response.json()["refunded"]
    assert (item["status"], item["amount_cents"], item["invoice"]) == ("refunded", 9990, "A")
    assert response.json()["applied"] == []
    # Kept, applying nothing: the Pix and its devolução, so a later notification is known.
    assert [(row[0], row[3], row[4]) for row in stored(engine)] == [
        (e2e(1), 9990, "reversed"),
        (f"{e2e(1)}:devolucao:D1", -9990, "reversal"),
    ]
    a = invoice_row(engine, "A")
    assert (a.status, a.balance_cents) == ("open", 9990)


@pytest.mark.parametrize("refund_first", [True, False], ids=["refund-first", "payment-first"])
def test_a_full_devolucao_and_its_pix_leave_the_invoice_open_in_either_order(
    client: TestClient, engine: Engine, refund_first: bool
) -> None:
    original = pix((1, TXID_A, "99.90"))
    refunded = pix_refunded(1, TXID_A, "99.90", ("D1", "99.90", "DEVOLVIDO"))
    calls = [refunded, original] if refund_first else [original, refunded]

    answers = [post(client, body) for body in calls]

    assert all(answer.status_code == 200 for answer in answers)
    a = invoice_row(engine, "A")
    # The money went back: whatever the order, the invoice is still owed in full.
    assert (a.status, a.balance_cents, a.settled_on) == ("open", 9990, None)
    if refund_first:
        assert [i["status"] for i in answers[1].json()["duplicates"]] == ["duplicate"]
        assert answers[1].json()["applied"] == []
    with engine.connect() as connection:
        net = connection.execute(
            select(func.sum(payments.c.amount_cents), func.sum(payments.c.applied_cents))
        ).one()
    assert tuple(net) == (0, 0)
    # No thank-you stays planned for money given back.
    assert all(status == "cancelled" for _, status in thank_you_statuses(engine))


@pytest.mark.parametrize("refund_first", [True, False], ids=["refund-first", "payment-first"])
def test_a_partial_devolucao_and_its_pix_leave_what_stayed_in_either_order(
    client: TestClient, engine: Engine, refund_first: bool
) -> None:
    original = pix((1, TXID_B, "450.00"))
    refunded = pix_refunded(1, TXID_B, "450.00", ("D1", "50.00", "DEVOLVIDO"))
    calls = [refunded, original] if refund_first else [original, refunded]

    answers = [post(client, body) for body in calls]

    assert all(answer.status_code == 200 for answer in answers)
    b = invoice_row(engine, "B")
    assert (b.status, b.balance_cents) == ("open", 5000)
    # Replays of either change nothing.
    for body in calls:
        post(client, body)
    assert invoice_row(engine, "B").balance_cents == 5000
    with engine.connect() as connection:
        net = connection.execute(select(func.sum(payments.c.amount_cents))).scalar_one()
    assert net == 40000


def test_one_end_to_end_id_listed_twice_is_answered_as_one_applied_one_duplicate(
    client: TestClient, engine: Engine
) -> None:
    response = post(client, pix((1, TXID_A, "99.90"), (1, TXID_A, "99.90")))

    answer = response.json()
    assert [i["status"] for i in answer["applied"]] == ["applied"]
    assert [i["status"] for i in answer["duplicates"]] == ["duplicate"]
    assert len(stored(engine)) == 1


def test_a_pix_given_back_whole_listed_twice_is_one_refund_one_duplicate(
    client: TestClient, engine: Engine
) -> None:
    one = json.loads(pix_refunded(1, TXID_A, "99.90", ("D1", "99.90", "DEVOLVIDO")))
    body = json.dumps({"pix": one["pix"] * 2}).encode()

    answer = post(client, body).json()

    assert [i["status"] for i in answer["refunded"]] == ["refunded"]
    assert [i["status"] for i in answer["duplicates"]] == ["duplicate"]
    assert len(stored(engine)) == 2
