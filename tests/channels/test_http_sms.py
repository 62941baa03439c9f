"""HttpSmsChannel against a loopback HTTP server playing the SMS provider."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from regua.channels.base import (
    ChannelPermanentError,
    ChannelTransientError,
    InboundEvent,
    OutgoingMessage,
    Receipt,
)
from regua.channels.http_sms import HttpSmsChannel, parse_sms_webhook
from regua.clock import FixedClock
from regua.errors import InputError
from tests.servers import HttpProvider, Reply, free_port

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
SMS = OutgoingMessage(
    channel="sms",
    to="+5511987654321",
    text="Conecta Fibra Ltda (CNPJ 11.222.333/0001-81): Ola, Maria! Responda SAIR",
    idempotency_key="act-7",
)


def sms_channel(url: str, timeout: float = 2.0) -> HttpSmsChannel:
    return HttpSmsChannel(url, "tok-123", "CONECTA", timeout, clock=FixedClock(NOW))


def test_posts_the_message_with_auth_and_idempotency_key(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(201, {"id": "msg-42"}))

    receipt = sms_channel(http_provider.url + "/v1/").send(SMS)

    assert receipt == Receipt("msg-42", NOW)
    [request] = http_provider.requests
    assert request.path == "/v1/messages"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Idempotency-Key"] == "act-7"
    assert request.json() == {
        "to": "+5511987654321",
        "from": "CONECTA",
        "text": "Conecta Fibra Ltda (CNPJ 11.222.333/0001-81): Ola, Maria! Responda SAIR",
        "reference": "act-7",
    }


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(http_provider: HttpProvider, status: int) -> None:
    http_provider.replies.append(Reply(status, {"error": {"code": "internal"}}))
    with pytest.raises(ChannelTransientError, match=f"HTTP {status}"):
        sms_channel(http_provider.url).send(SMS)


def test_rate_limit_is_transient_with_retry_after(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(429, {"error": "slow down"}, headers={"Retry-After": "30"}))
    with pytest.raises(ChannelTransientError, match="HTTP 429") as info:
        sms_channel(http_provider.url).send(SMS)
    assert info.value.retry_after == 30.0


def test_timeout_is_transient(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(200, {"id": "late"}, delay=1.0))
    with pytest.raises(ChannelTransientError, match="Tempo esgotado"):
        sms_channel(http_provider.url, timeout=0.2).send(SMS)


def test_connection_refused_is_transient() -> None:
    with pytest.raises(ChannelTransientError, match="Falha de conexão"):
        sms_channel(f"http://127.0.0.1:{free_port()}").send(SMS)


def test_invalid_number_is_permanent_and_flags_the_recipient(http_provider: HttpProvider) -> None:
    http_provider.replies.append(
        Reply(400, {"error": {"code": "invalid_number", "message": "not a mobile number"}})
    )
    with pytest.raises(ChannelPermanentError, match="Número de celular inválido") as info:
        sms_channel(http_provider.url).send(SMS)
    assert info.value.invalid_recipient is True
    assert info.value.provider_code == "invalid_number"


def test_other_validation_errors_do_not_flag_the_recipient(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(422, {"code": "text_too_long", "message": "max 3 parts"}))
    with pytest.raises(ChannelPermanentError, match="text_too_long") as info:
        sms_channel(http_provider.url).send(SMS)
    assert info.value.invalid_recipient is False


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_permanent(http_provider: HttpProvider, status: int) -> None:
    http_provider.replies.append(Reply(status, {"error": {"code": "unauthorized"}}))
    with pytest.raises(ChannelPermanentError, match="credenciais") as info:
        sms_channel(http_provider.url).send(SMS)
    assert info.value.invalid_recipient is False


def test_accepted_without_an_id_is_not_resent(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(202, b"queued"))
    assert sms_channel(http_provider.url).send(SMS).provider_message_id == "ref:act-7"


def test_parses_delivery_failure_and_reply_events() -> None:
    body = {
        "events": [
            {"type": "delivered", "id": "msg-42", "reference": "act-7", "from": "+5511987654321",
             "at": "2026-11-23T13:00:05Z"},
            {"type": "failed", "id": "msg-43", "from": "5511912345678", "at": 1795438805,
             "error": {"code": "unreachable_number", "message": "handset off"}},
            {"type": "reply", "id": "in-9", "in_reply_to": "msg-42", "from": "+5511987654321",
             "text": "SAIR", "at": "2026-11-23T13:10:00+00:00"},
            {"type": "queued", "id": "msg-44", "from": "+5511987654321"},
        ]
    }  # fmt: skip

    assert parse_sms_webhook(body) == [
        InboundEvent("delivered", "msg-42", "+5511987654321", "",
                     datetime(2026, 11, 23, 13, 0, 5, tzinfo=UTC), reference="act-7"),
        InboundEvent("failed", "msg-43", "+5511912345678", "",
                     datetime.fromtimestamp(1795438805, UTC),
                     error_code="unreachable_number", error_message="handset off"),
        InboundEvent("reply", "in-9", "+5511987654321", "SAIR",
                     datetime(2026, 11, 23, 13, 10, tzinfo=UTC), in_reply_to="msg-42"),
    ]  # fmt: skip


def test_webhook_without_a_time_zone_is_rejected() -> None:
    body = {"type": "reply", "id": "in-1", "from": "+5511987654321", "at": "2026-11-23T13:00"}
    with pytest.raises(InputError, match="sem fuso horário"):
        parse_sms_webhook(body)
