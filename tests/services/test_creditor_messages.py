"""Every message speaks with the creditor's own details, and a message that needs one the
creditor never gave is held, not sent with someone else's: through a real SMTP server and an
HTTP SMS provider on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, select

from regua.channels.registry import ChannelRegistry
from regua.clock import FixedClock
from regua.payments.pix import decode
from regua.services.creditors import new_profile
from regua.services.setup import create_creditor
from regua.store.contacts import opt_out
from regua.store.tables import customers
from tests.builders import NOW
from tests.servers import HttpProvider, SmtpServer, http_provider, smtp_server
from tests.services.test_dispatching import (
    AT_9_IN_SAO_PAULO,
    MONDAY,
    action_rows,
    dispatcher,
    http_registry,
    load,
    plan_day,
    smtp_settings,
    text_of,
    timeline,
)

__all__ = ["http_provider", "smtp_server"]  # fixtures used below

IPE = {
    "nome": "Comercial Ipê Distribuidora Ltda",
    "fantasia": "Ipê Distribuidora",
    "cnpj": "06.990.590/0001-23",
    "pix": "financeiro@ipedistribuidora.com.br",
    "email-envio": "cobranca@ipedistribuidora.com.br",
    "responder-para": "financeiro@ipedistribuidora.com.br",
    "email": "atendimento@ipedistribuidora.com.br",
    "telefone": "(41) 3322-4455",
    "whatsapp": "(41) 99876-5432",
    "endereco": "Rua XV de Novembro, 700, Centro",
    "cidade": "Curitiba",
    "uf": "PR",
    "cep": "80020-310",
    "site": "www.ipedistribuidora.com.br",
    "horario": "de segunda a sexta, das 8h às 17h",
}
EXAMPLE_DETAILS = (
    "11222333000181",
    "11.222.333/0001-81",
    "exemplo.com.br",
    "3000-0000",
    "Paulista",
    "example.com",
)


def ipe(engine: Engine, **changes: str | None) -> int:
    given: Mapping[str, str | None] = {**IPE, **changes}
    with engine.begin() as connection:
        return create_creditor(connection, new_profile(given), NOW)


def test_an_email_carries_the_creditors_own_pix_phones_address_and_sender(
    engine: Engine, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    creditor_id = ipe(engine)
    load(
        engine,
        creditor_id,
        tmp_path,
        [("M1", "Maria da Conceição Souza", "maria@cliente.com.br", "", "PR")],
        [("F-77", "M1", "20/11/2026", "99,90")],
    )
    assert [a.channel for a in plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)] == [
        "email"
    ]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    # The deployment's default sender is someone else's: the creditor's own address wins.
    settings = smtp_settings(smtp_server, tmp_path).model_copy(
        update={"smtp_sender": "nao-usar@provedor.net"}
    )
    registry = ChannelRegistry.from_settings(settings, clock=clock)
    with registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert result.sent == {"email": 1}
    [mail] = smtp_server.handler.received
    [row] = action_rows(engine)
    message = mail.message
    assert mail.mail_from == "cobranca@ipedistribuidora.com.br"
    # The name customers know; the legal name and CNPJ sign the message.
    assert message["From"] == "Ipê Distribuidora <cobranca@ipedistribuidora.com.br>"
    assert message["Reply-To"] == "financeiro@ipedistribuidora.com.br"
    assert message["Message-ID"] == f"<regua-act-{row.id}@ipedistribuidora.com.br>"
    assert row.provider_message_id == f"regua-act-{row.id}@ipedistribuidora.com.br"
    plain = text_of(message, "plain")
    html = text_of(message, "html")
    for text in (plain, html):
        assert "(41) 3322-4455" in text
        assert "(41) 99876-5432" in text
        assert "atendimento@ipedistribuidora.com.br" in text
        assert "de segunda a sexta, das 8h às 17h" in text
        assert "06.990.590/0001-23" in text
        assert "Rua XV de Novembro, 700, Centro, Curitiba - PR, 80020-310" in text
        assert "https://www.ipedistribuidora.com.br" in text
        for example in EXAMPLE_DETAILS:
            assert example not in text
    pix = decode(next(line for line in plain.splitlines() if line.startswith("000201")))
    assert (pix.key, pix.amount_cents, pix.city) == (
        "financeiro@ipedistribuidora.com.br",
        9990,
        "Curitiba",
    )


def test_an_sms_carries_the_creditors_own_name_and_pix_key(
    engine: Engine, http_provider: HttpProvider, tmp_path: Path
) -> None:
    creditor_id = ipe(engine, pix="+55 41 99876-5432", whatsapp="", email="")
    load(
        engine,
        creditor_id,
        tmp_path,
        [("S1", "Rita Souza", "", "(41) 96666-5555", "PR")],
        [("U1", "S1", "20/11/2026", "60,00")],
    )
    with engine.begin() as connection:
        customer = connection.execute(select(customers.c.id)).scalar_one()
        opt_out(connection, customer_id=customer, channel="whatsapp", reason="SAIR", at=NOW)
    assert [a.channel for a in plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)] == ["sms"]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    with http_registry(http_provider, tmp_path, clock) as registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
    assert result.sent == {"sms": 1}
    [request] = http_provider.requests
    text = request.json()["text"]
    assert "Comercial Ipe Distribuidora Ltda (CNPJ 06.990.590/0001-23)" in text  # GSM-7
    for example in EXAMPLE_DETAILS:
        assert example not in text
    found = re.search(r"PIX copia e cola: (000201.*?6304[0-9A-F]{4})", text)
    assert found is not None, text
    pix = decode(found.group(1))
    assert (pix.key, pix.amount_cents) == ("+5541998765432", 6000)


def test_without_a_pix_key_a_collection_message_is_held_and_counted(
    engine: Engine, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    creditor_id = ipe(engine, pix=None)
    load(
        engine,
        creditor_id,
        tmp_path,
        [
            ("M1", "Maria Souza", "maria@cliente.com.br", "", "PR"),
            ("M2", "José Lima", "jose@cliente.com.br", "", "PR"),
        ],
        [("F-1", "M1", "20/11/2026", "99,90"), ("F-2", "M2", "20/11/2026", "50,00")],
    )
    plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert smtp_server.handler.received == []
    assert result.sent == {}
    assert result.held == {"email": 2}
    assert result.held_reasons == {"falta a chave Pix do credor": 2}
    assert result.to_dict()["held_reasons"] == {"falta a chave Pix do credor": 2}
    assert [(r.status, r.reason) for r in action_rows(engine)] == [
        ("held", "falta a chave Pix do credor"),
        ("held", "falta a chave Pix do credor"),
    ]
    assert timeline(engine, "M1") == [
        (
            "held",
            "email",
            "Mensagem retida: falta a chave Pix do credor (complete com `regua credor editar`).",
        )
    ]


def test_without_a_sender_address_an_email_is_held_and_counted(
    engine: Engine, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    creditor_id = ipe(engine, **{"email-envio": None})
    load(
        engine,
        creditor_id,
        tmp_path,
        [("M1", "Maria Souza", "maria@cliente.com.br", "", "PR")],
        [("F-1", "M1", "20/11/2026", "99,90")],
    )
    plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    # Neither the creditor nor the deployment (REGUA_SMTP_SENDER) gives a From.
    settings = smtp_settings(smtp_server, tmp_path).model_copy(update={"smtp_sender": ""})
    with ChannelRegistry.from_settings(settings, clock=clock) as registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert smtp_server.handler.received == []
    assert (result.sent, result.failed, result.held) == ({}, {}, {"email": 1})
    assert result.held_reasons == {"falta o e-mail de envio do credor": 1}
    assert [(r.status, r.reason) for r in action_rows(engine)] == [
        ("held", "falta o e-mail de envio do credor")
    ]


def test_without_its_own_sender_an_email_goes_from_the_deployments(
    engine: Engine, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    creditor_id = ipe(engine, **{"email-envio": None})
    load(
        engine,
        creditor_id,
        tmp_path,
        [("M1", "Maria Souza", "maria@cliente.com.br", "", "PR")],
        [("F-1", "M1", "20/11/2026", "99,90")],
    )
    plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert result.sent == {"email": 1}
    [mail] = smtp_server.handler.received
    assert mail.message["From"] == "Ipê Distribuidora <cobranca@exemplo.com.br>"
