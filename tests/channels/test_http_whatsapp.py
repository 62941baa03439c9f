"""WhatsAppCloudChannel against a loopback HTTP server playing the Cloud API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from regua.channels.base import ChannelPermanentError, ChannelTransientError, InboundEvent, Receipt
from regua.channels.http_whatsapp import WhatsAppCloudChannel, parse_whatsapp_webhook
from regua.channels.rendering import render
from regua.channels.template_samples import SAMPLE_PORTAL_URL, sample_context
from regua.clock import FixedClock
from tests.servers import HttpProvider, Reply

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def wa_channel(url: str, timeout: float = 2.0) -> WhatsAppCloudChannel:
    return WhatsAppCloudChannel(
        phone_number_id="1098765",
        token="EAAG-token",
        base_url=url,
        api_version="v21.0",
        timeout=timeout,
        clock=FixedClock(NOW),
    )


def rendered_message(**metadata: str) -> Any:
    context = sample_context(date(2026, 11, 23), offset=-3)
    rendered = render("lembrete_vencimento", "whatsapp", context)
    return rendered.to_outgoing(to="+5511987654321", idempotency_key="act-9", metadata=metadata)


def test_sends_the_approved_template_with_ordered_params(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(200, {"messages": [{"id": "wamid.HBgN"}]}))

    receipt = wa_channel(http_provider.url).send(rendered_message())

    assert receipt == Receipt("wamid.HBgN", NOW)
    [request] = http_provider.requests
    assert request.path == "/v21.0/1098765/messages"
    assert request.headers["Authorization"] == "Bearer EAAG-token"
    params = [
        "Maria",
        "Plano Internet Fibra 300 Mega",
        "R$ 149,90",
        "em 26/11/2026",
        f"acesse {SAMPLE_PORTAL_URL}",
        "WhatsApp (11) 98765-4321, de segunda a sexta, das 8h às 20h, e aos sábados, das 8h às 14h",
        "Conecta Fibra Ltda, CNPJ 11.222.333/0001-81",
    ]
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "biz_opaque_callback_data": "act-9",
        "type": "template",
        "template": {
            "name": "regua_lembrete_vencimento",
            "language": {"code": "pt_BR"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ],
        },
    }


def test_sends_free_text_inside_an_open_conversation(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(200, {"messages": [{"id": "wamid.TXT"}]}))
    message = rendered_message(conversation_open="1")

    wa_channel(http_provider.url).send(message)

    body = http_provider.requests[0].json()
    assert body["type"] == "text"
    assert body["text"] == {"body": message.text, "preview_url": False}
    assert body["text"]["body"].startswith("Olá, Maria! Aqui é da Conecta Fibra.")


def cloud_error(code: int, message: str = "error", details: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, cloud_error(131026, "Message undeliverable")),
        (400, cloud_error(131030, "Recipient phone number not in allowed list")),
        (400, cloud_error(100, "Invalid parameter", "Invalid phone number in 'to'")),
    ],
)
def test_invalid_recipients_are_permanent_and_flagged(
    http_provider: HttpProvider, status: int, body: dict[str, Any]
) -> None:
    http_provider.replies.append(Reply(status, body))
    with pytest.raises(ChannelPermanentError, match="Número sem WhatsApp") as info:
        wa_channel(http_provider.url).send(rendered_message())
    assert info.value.invalid_recipient is True


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, cloud_error(130429, "Rate limit hit")),
        (400, cloud_error(131048, "Spam rate limit hit")),
        (500, cloud_error(131000, "Something went wrong")),
        (503, b"<html>bad gateway</html>"),
    ],
)
def test_rate_limits_and_server_errors_are_transient(
    http_provider: HttpProvider, status: int, body: Any
) -> None:
    http_provider.replies.append(Reply(status, body))
    with pytest.raises(ChannelTransientError, match=f"HTTP {status}"):
        wa_channel(http_provider.url).send(rendered_message())


def test_other_errors_are_permanent_without_flagging(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(400, cloud_error(132001, "Template name does not exist")))
    with pytest.raises(ChannelPermanentError, match="132001") as info:
        wa_channel(http_provider.url).send(rendered_message())
    assert info.value.invalid_recipient is False


def test_timeout_is_transient(http_provider: HttpProvider) -> None:
    http_provider.replies.append(Reply(200, {"messages": [{"id": "x"}]}, delay=1.0))
    with pytest.raises(ChannelTransientError, match="Tempo esgotado"):
        wa_channel(http_provider.url, timeout=0.2).send(rendered_message())


def test_parses_statuses_and_replies() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "551140028922", "phone_number_id": "1098765"},
            "statuses": [
                {"id": "wamid.A", "status": "sent", "timestamp": "1795438800",
                 "recipient_id": "5511987654321"},
                {"id": "wamid.A", "status": "delivered", "timestamp": "1795438805",
                 "recipient_id": "5511987654321", "biz_opaque_callback_data": "act-9"},
                {"id": "wamid.B", "status": "failed", "timestamp": "1795438806",
                 "recipient_id": "5511912345678",
                 "errors": [{"code": 131026, "title": "Message undeliverable"}]},
            ],
            "messages": [
                {"from": "5511987654321", "id": "wamid.IN", "timestamp": "1795439400",
                 "type": "text", "text": {"body": "SAIR"}, "context": {"id": "wamid.A"}},
                {"from": "5511987654321", "id": "wamid.BTN", "timestamp": "1795439401",
                 "type": "button", "button": {"text": "Quero negociar", "payload": "neg"}},
            ],
        }}]}],
    }  # fmt: skip

    def at(seconds: int) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    assert parse_whatsapp_webhook(body) == [
        InboundEvent("delivered", "wamid.A", "+5511987654321", "", at(1795438805),
                     reference="act-9"),
        InboundEvent("failed", "wamid.B", "+5511912345678", "", at(1795438806),
                     error_code="131026", error_message="Message undeliverable"),
        InboundEvent("reply", "wamid.IN", "+5511987654321", "SAIR", at(1795439400),
                     in_reply_to="wamid.A"),
        InboundEvent("reply", "wamid.BTN", "+5511987654321", "Quero negociar", at(1795439401)),
    ]  # fmt: skip
