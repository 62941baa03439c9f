"""Webhook signatures (HMAC-SHA256) and the BCB Pix API notification payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from regua.errors import InputError, Unauthorized
from regua.payments import webhooks
from regua.payments.webhooks import PixReceived, PixRefund

SECRET = "s3gr3d0-do-webhook"


def test_sign_matches_the_published_hmac_sha256_vector() -> None:
    body = b"The quick brown fox jumps over the lazy dog"
    assert webhooks.sign(body, "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_verify_accepts_the_right_signature_in_either_case() -> None:
    body = b'{"pix": []}'
    header = webhooks.sign(body, SECRET)
    webhooks.verify_signature(body, header, SECRET)
    webhooks.verify_signature(body, "  " + header.upper().replace("SHA256=", "sha256="), SECRET)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "assinatura do webhook ausente"),
        ("", "assinatura do webhook ausente"),
        ("md5=abc", "assinatura do webhook malformada"),
        ("sha256=xyz", "assinatura do webhook malformada"),
        ("sha256=" + "0" * 64, "assinatura do webhook inválida"),
    ],
)
def test_verify_refuses(header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        webhooks.verify_signature(b'{"pix": []}', header, SECRET)


def test_signature_of_another_body_or_secret_is_refused() -> None:
    header = webhooks.sign(b'{"pix": []}', SECRET)
    with pytest.raises(Unauthorized, match="inválida"):
        webhooks.verify_signature(b'{"pix": [] }', header, SECRET)
    with pytest.raises(Unauthorized, match="inválida"):
        webhooks.verify_signature(b'{"pix": []}', header, SECRET + "x")


def test_empty_secret_is_a_configuration_error_not_an_open_door() -> None:
    with pytest.raises(ValueError, match="secret is empty"):
        webhooks.verify_signature(b"{}", webhooks.sign(b"{}", "x"), "")


BCB_EXAMPLE = b"""{
  "pix": [
    {
      "endToEndId": "E12345678202009091221abcdef12345",
      "txid": "cd1fe328c875481285a6f233ae41b662",
      "valor": "100.00",
      "horario": "2020-09-10T13:03:33.902Z",
      "infoPagador": "Reforma da casa",
      "devolucoes": [
        {
          "id": "000AAA111",
          "rtrId": "D12345678202009091000abcde123456",
          "valor": "11.00",
          "horario": {"solicitacao": "2020-09-10T13:03:33.902Z"},
          "status": "EM_PROCESSAMENTO"
        }
      ]
    },
    {
      "endToEndId": "E12345678202009091221ghijk789012",
      "valor": "110.00",
      "horario": "2020-09-09T20:15:00.358-03:00"
    }
  ]
}"""


def test_parses_the_bcb_notification() -> None:
    assert webhooks.parse_pix_webhook(BCB_EXAMPLE) == [
        PixReceived(
            end_to_end_id="E12345678202009091221abcdef12345",
            txid="cd1fe328c875481285a6f233ae41b662",
            amount_cents=10000,
            paid_at=datetime(2020, 9, 10, 13, 3, 33, 902000, tzinfo=UTC),
            payer_info="Reforma da casa",
            refunded_cents=0,
            refunds=(PixRefund("000AAA111", 1100, "EM_PROCESSAMENTO"),),
        ),
        PixReceived(
            end_to_end_id="E12345678202009091221ghijk789012",
            txid=None,
            amount_cents=11000,
            paid_at=datetime(2020, 9, 9, 23, 15, 0, 358000, tzinfo=UTC),
            payer_info=None,
            refunded_cents=0,
        ),
    ]


def test_settled_refunds_are_summed() -> None:
    body = {
        "pix": [
            {
                "endToEndId": "E" + "1" * 31,
                "valor": "50.00",
                "horario": "2026-03-02T12:00:00Z",
                "devolucoes": [
                    {"id": "a", "valor": "10.00", "status": "DEVOLVIDO"},
                    {"id": "b", "valor": "5.50", "status": "DEVOLVIDO"},
                    {"id": "c", "valor": "1.00", "status": "NAO_REALIZADO"},
                ],
            }
        ]
    }
    [received] = webhooks.parse_pix_webhook(json.dumps(body).encode())
    assert received.refunded_cents == 1550
    assert [(r.id, r.amount_cents, r.settled) for r in received.refunds] == [
        ("a", 1000, True),
        ("b", 550, True),
        ("c", 100, False),
    ]
    assert received.paid_at.tzinfo is UTC


def test_empty_notification() -> None:
    assert webhooks.parse_pix_webhook(b'{"pix": []}') == []


def _one(**fields: object) -> bytes:
    item: dict[str, object] = {
        "endToEndId": "E" + "1" * 31,
        "valor": "10.00",
        "horario": "2026-03-02T12:00:00Z",
    }
    item.update(fields)
    item = {k: v for k, v in item.items() if v is not ...}
    return json.dumps({"pix": [item]}).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "^JSON inválido"),
        (b"\xff", "^JSON inválido"),
        (b"[]", "^pix: campo ausente"),
        (b'{"pix": {}}', "^pix: lista esperada"),
        (b'{"pix": [1]}', r"^pix\[0\]: objeto esperado"),
        (_one(valor="110,00"), r"^pix\[0\]\.valor: valor inválido: '110,00'"),
        (_one(valor=110.0), r"^pix\[0\]\.valor: valor inválido: 110\.0"),
        (_one(valor="0.00"), r"^pix\[0\]\.valor: valor deve ser maior que zero"),
        (_one(valor="100000000.01"), r"^pix\[0\]\.valor: valor acima do limite de R\$"),
        (_one(valor=...), r"^pix\[0\]\.valor: campo ausente"),
        (_one(horario="09/09/2020"), r"^pix\[0\]\.horario: data e hora inválida"),
        (_one(horario="2020-09-09T20:15:00"), r"^pix\[0\]\.horario: data e hora sem fuso"),
        (_one(horario=...), r"^pix\[0\]\.horario: campo ausente"),
        (_one(endToEndId="E123"), r"^pix\[0\]\.endToEndId: identificador inválido"),
        (_one(txid="abc-123"), r"^pix\[0\]\.txid: txid inválido"),
        (_one(txid=12), r"^pix\[0\]\.txid: texto esperado"),
        (_one(infoPagador=["x"]), r"^pix\[0\]\.infoPagador: texto esperado"),
        (_one(devolucoes={}), r"^pix\[0\]\.devolucoes: lista esperada"),
        (
            _one(devolucoes=[{"valor": "x", "status": "DEVOLVIDO"}]),
            r"^pix\[0\]\.devolucoes\[0\]\.valor: valor inválido",
        ),
    ],
)
def test_malformed_payloads_name_the_field(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        webhooks.parse_pix_webhook(body)
