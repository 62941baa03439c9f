"""Delivery receipts, replies and opt-outs applied to the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from regua.channels.registry import ChannelRegistry
from regua.clock import FixedClock
from regua.errors import Unauthorized, WebhookNotConfigured
from regua.payments.webhooks import sign
from regua.services.daily_cycle import plan
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.inbound import opt_out_word, receive_webhook
from regua.services.setup import create_creditor
from regua.store.tables import actions, contacts, customers
from tests.builders import units
from tests.servers import HttpProvider, Reply, http_provider
from tests.services.test_dispatching import (
    AT_9_IN_SAO_PAULO,
    MONDAY,
    action_rows,
    as_utc,
    dispatcher,
    http_registry,
    load,
    plan_day,
    timeline,
)

__all__ = ["http_provider"]

SECRET = "segredo-dos-webhooks"
PHONE = "+5511987654321"


def whatsapp_statuses(*statuses: dict[str, Any]) -> dict[str, Any]:
    """A WhatsApp Cloud API webhook with message statuses."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "5511930000000"},
                            "statuses": list(statuses),
                        },
                    }
                ],
            }
        ],
    }


def status(
    message_id: str, kind: str, at: datetime, key: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": kind,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": PHONE.lstrip("+"),
        **({"biz_opaque_callback_data": key} if key else {}),
        **extra,
    }


def whatsapp_reply(message_id: str, text: str, at: datetime, sender: str = PHONE) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "contacts": [{"wa_id": sender.lstrip("+")}],
                            "messages": [
                                {
                                    "from": sender.lstrip("+"),
                                    "id": message_id,
                                    "timestamp": str(int(at.timestamp())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def deliver(engine: Engine, channel: str, payload: dict[str, Any], now: datetime) -> Any:
    body = json.dumps(payload).encode()
    return receive_webhook(units(engine), channel, body, sign(body, SECRET), secret=SECRET, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("SAIR", "SAIR"),
        ("sair", "SAIR"),
        ("  Sair! ", "SAIR"),
        ("SAÍR.", "SAIR"),
        ("Pare", "PARE"),
        ("stop", "STOP"),
        ("Cancelar 🙏", "CANCELAR"),
        ("quero sair", None),
        ("Não vou pagar", None),
        ("parei", None),
        ("", None),
    ],
)
def test_only_a_whole_message_of_one_opt_out_word_opts_out(text: str, word: str | None) -> None:
    assert opt_out_word(text) == word


@pytest.fixture
def sent_on_whatsapp(
    engine: Engine, creditor_id: int, tmp_path: Path, http_provider: HttpProvider
) -> Iterator[tuple[int, FixedClock, ChannelRegistry]]:
    """One WhatsApp message sent through the loopback provider, its id "wamid.M1"."""
    load(
        engine,
        creditor_id,
        tmp_path,
        [("W1", "João Pereira", "", "(11) 98765-4321", "SP")],
        [("X1", "W1", "20/11/2026", "120,00")],
    )
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    plan_day(engine, creditor_id, MONDAY, clock.instant)
    registry = http_registry(http_provider, tmp_path, clock)
    http_provider.replies = [Reply(200, {"messages": [{"id": "wamid.M1"}]})]
    assert dispatcher(engine, clock, registry).dispatch_due(today=MONDAY).sent == {"whatsapp": 1}
    [row] = action_rows(engine)
    yield row.id, clock, registry
    registry.close()


def test_delivered_and_read_receipts_update_the_action_once(
    engine: Engine, sent_on_whatsapp: tuple[int, FixedClock, ChannelRegistry]
) -> None:
    action_id, clock, _registry = sent_on_whatsapp
    delivered_at = AT_9_IN_SAO_PAULO + timedelta(seconds=5)
    read_at = AT_9_IN_SAO_PAULO + timedelta(minutes=3)
    payload = whatsapp_statuses(
        status("wamid.M1", "sent", delivered_at),
        status("wamid.M1", "delivered", delivered_at, key=f"regua-act-{action_id}"),
        status("wamid.M1", "read", read_at),
    )

    first = deliver(engine, "whatsapp", payload, clock.instant)
    again = deliver(engine, "whatsapp", payload, clock.instant)

    assert (first.events, first.delivered, first.read, first.duplicates) == (2, 1, 1, 0)
    assert (again.delivered, again.read, again.duplicates) == (0, 0, 2)
    with engine.connect() as connection:
        row = connection.execute(
            select(actions.c.status, actions.c.delivered_at, actions.c.read_at)
        ).one()
    assert (row.status, as_utc(row.delivered_at), as_utc(row.read_at)) == (
        "sent",
        delivered_at,
        read_at,
    )
    assert timeline(engine, "W1")[1:] == [
        ("delivered", "whatsapp", f"Mensagem de WhatsApp entregue no aparelho de {PHONE}."),
        ("read", "whatsapp", f"Mensagem de WhatsApp lida por {PHONE}."),
    ]


def test_a_failed_delivery_fails_the_action_and_flags_a_number_without_whatsapp(
    engine: Engine, sent_on_whatsapp: tuple[int, FixedClock, ChannelRegistry]
) -> None:
    _action_id, clock, _registry = sent_on_whatsapp
    payload = whatsapp_statuses(
        status(
            "wamid.M1",
            "failed",
            clock.instant,
            errors=[{"code": 131026, "title": "Message undeliverable"}],
        )
    )

    result = deliver(engine, "whatsapp", payload, clock.instant)

    assert (result.failed, result.contacts_flagged) == (1, 1)
    [row] = action_rows(engine)
    assert (row.status, row.reason) == (
        "failed",
        "O provedor não conseguiu entregar a mensagem de WhatsApp: Message undeliverable.",
    )
    with engine.connect() as connection:
        flagged = connection.execute(
            select(contacts.c.channel).where(contacts.c.invalid_at.is_not(None))
        ).scalars()
        assert list(flagged) == ["whatsapp"]


def test_sair_opts_the_contact_out_at_once_and_stops_that_channel(
    engine: Engine,
    creditor_id: int,
    sent_on_whatsapp: tuple[int, FixedClock, ChannelRegistry],
    http_provider: HttpProvider,
) -> None:
    _action_id, clock, _registry = sent_on_whatsapp
    clock.instant += timedelta(minutes=10)

    result = deliver(
        engine, "whatsapp", whatsapp_reply("wamid.IN1", "Sair.", clock.instant), clock.instant
    )
    repeated = deliver(
        engine, "whatsapp", whatsapp_reply("wamid.IN1", "Sair.", clock.instant), clock.instant
    )

    assert (result.replies, result.opted_out) == (1, 1)
    assert (repeated.replies, repeated.opted_out, repeated.duplicates) == (0, 0, 1)
    with engine.connect() as connection:
        opted = connection.execute(
            select(contacts.c.channel, contacts.c.opted_out_at).where(
                contacts.c.opted_out_at.is_not(None)
            )
        ).all()
    assert [(channel, as_utc(at)) for channel, at in opted] == [("whatsapp", clock.instant)]
    assert timeline(engine, "W1")[1:] == [
        ("replied", "whatsapp", f"Resposta por WhatsApp de {PHONE}: Sair."),
        (
            "opted_out",
            "whatsapp",
            f"respondeu SAIR por WhatsApp: não recebe mais mensagens por WhatsApp em {PHONE}",
        ),
    ]
    # The next step (D+10 on 30/11) goes by SMS: the opt-out holds for WhatsApp only.
    with engine.begin() as connection:
        later = plan(connection, creditor_id, date(2026, 11, 30), clock.instant).actions
    assert [(a.status, a.channel) for a in later] == [("planned", "sms")]
    assert later[0].evidence["channels_tried"]["whatsapp"] == "descadastrado"
    assert len(http_provider.requests) == 1  # only the first message, before SAIR


def test_a_reply_lands_on_the_timeline_without_opting_out(
    engine: Engine, sent_on_whatsapp: tuple[int, FixedClock, ChannelRegistry]
) -> None:
    _action_id, clock, _registry = sent_on_whatsapp
    payload = {
        "events": [
            {
                "type": "reply",
                "id": "sms-in-1",
                "from": PHONE,
                "text": "Vou pagar na sexta, pode ser?",
                "at": "2026-11-23T10:15:00-03:00",
            },
            {"type": "reply", "id": "sms-in-2", "from": "+5521999990000", "text": "SAIR", "at": 1},
        ]
    }

    result = deliver(engine, "sms", payload, clock.instant)

    assert (result.replies, result.opted_out, result.unmatched) == (1, 0, 1)
    assert timeline(engine, "W1")[-1] == (
        "replied",
        "sms",
        f"Resposta por SMS de {PHONE}: Vou pagar na sexta, pode ser?",
    )
    with engine.connect() as connection:
        assert (
            connection.execute(
                select(contacts.c.id).where(contacts.c.opted_out_at.is_not(None))
            ).all()
            == []
        )


def test_a_reply_to_one_creditors_message_stays_with_that_creditor(
    engine: Engine,
    tmp_path: Path,
    sent_on_whatsapp: tuple[int, FixedClock, ChannelRegistry],
) -> None:
    """Another creditor of the installation has a customer W1 with the same number: the SAIR
    answering the first creditor's message opts out, and lands, at the first creditor only."""
    _action_id, clock, _registry = sent_on_whatsapp
    with engine.begin() as connection:
        other = create_creditor(
            connection, replace(EXAMPLE_CREDITOR, document="11444777000161"), clock.instant
        )
    (tmp_path / "outro").mkdir()
    load(
        engine,
        other,
        tmp_path / "outro",
        [("W1", "João Pereira", "", "(11) 98765-4321", "SP")],
        [("X1", "W1", "20/11/2026", "700,00")],
    )
    reply = whatsapp_reply("wamid.IN9", "SAIR", clock.instant)
    reply["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = {"id": "wamid.M1"}

    result = deliver(engine, "whatsapp", reply, clock.instant)

    assert (result.replies, result.opted_out) == (1, 1)
    with engine.connect() as connection:
        opted = connection.execute(
            select(customers.c.creditor_id)
            .join(contacts, contacts.c.customer_id == customers.c.id)
            .where(contacts.c.opted_out_at.is_not(None))
        ).scalars()
        assert list(opted) == [_owner_of(connection, "wamid.M1")]


def _owner_of(connection: Any, message_id: str) -> int:
    return int(
        connection.execute(
            select(actions.c.creditor_id).where(actions.c.provider_message_id == message_id)
        ).scalar_one()
    )


def test_unsigned_or_unconfigured_webhooks_are_refused(engine: Engine) -> None:
    body = json.dumps({"events": []}).encode()
    with pytest.raises(Unauthorized, match="assinatura do webhook inválida"):
        receive_webhook(
            units(engine),
            "sms",
            body,
            sign(body, "outro-segredo"),
            secret=SECRET,
            now=datetime.now(UTC),
        )
    with pytest.raises(WebhookNotConfigured, match="REGUA_WEBHOOK_SECRET"):
        receive_webhook(
            units(engine), "sms", body, sign(body, SECRET), secret="", now=datetime.now(UTC)
        )
