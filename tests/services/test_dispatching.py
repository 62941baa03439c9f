"""Dispatch on SQLite and PostgreSQL, against real servers on loopback: what the debtor receives,
what the store records, what the customer's timeline shows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from regua.bootstrap import build_app
from regua.channels.http_sms import HttpSmsChannel
from regua.channels.http_whatsapp import WhatsAppCloudChannel
from regua.channels.registry import ChannelRegistry, build_channels
from regua.channels.rendering import TemplateRenderer
from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.pacing import TokenBucket
from regua.domain.planning import StartChoice
from regua.domain.retries import backoff_delay
from regua.payments.pix import decode
from regua.services.daily_cycle import plan
from regua.services.demo import build_demo, demo_database_url
from regua.services.dispatch_run import DispatchOptions, DispatchResult
from regua.services.dispatching import Dispatcher
from regua.store.contacts import opt_out
from regua.store.db import make_engine
from regua.store.tables import action_invoices, actions, contacts, customers, interactions, invoices
from tests.builders import run_import, write_csv
from tests.servers import HttpProvider, Reply, SmtpServer, http_provider, smtp_server

__all__ = ["http_provider", "smtp_server"]  # fixtures used below

SENDER = "cobranca@exemplo.com.br"
MONDAY = date(2026, 11, 23)
AT_9_IN_SAO_PAULO = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def cpf(n: int) -> str:
    """A valid CPF from a 9-digit base (mod 11 check digits)."""
    digits = [int(d) for d in f"{n:09d}"]
    for size in (9, 10):
        total = sum(d * (size + 1 - i) for i, d in enumerate(digits[:size]))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def customers_csv(rows: list[tuple[str, str, str, str, str]]) -> str:
    """(code, name, e-mail, mobile, UF) -> the CSV a business exports."""
    lines = ["codigo_cliente;nome;cpf_cnpj;email;celular;uf;endereco"]
    for n, (code, name, email, mobile, uf) in enumerate(rows, start=1):
        address = f"Rua das Flores, {n}, Centro, São Paulo - {uf}, 01010-000"
        lines.append(f"{code};{name};{cpf(100_000_000 + n)};{email};{mobile};{uf};{address}")
    return "\n".join(lines)


def invoices_csv(rows: list[tuple[str, str, str, str]]) -> str:
    """(id, customer code, due date dd/mm/yyyy, amount) -> CSV."""
    lines = ["id;codigo_cliente;descricao;vencimento;valor"]
    lines += [f"{i};{c};Mensalidade internet;{due};{amount}" for i, c, due, amount in rows]
    return "\n".join(lines)


def load(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    people: list[tuple[str, str, str, str, str]],
    bills: list[tuple[str, str, str, str]],
) -> None:
    run_import(
        engine, "customers", write_csv(tmp_path / "c.csv", customers_csv(people)), creditor_id
    )
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", invoices_csv(bills)), creditor_id)


def plan_day(
    engine: Engine,
    creditor_id: int,
    day: date,
    now: datetime,
    start: StartChoice | None = None,
) -> list[Any]:
    with engine.begin() as connection:
        return plan(connection, creditor_id, day, now, start=start).actions


def dispatcher(
    engine: Engine, clock: FixedClock, registry: ChannelRegistry, **kwargs: Any
) -> Dispatcher:
    return Dispatcher(engine, registry, clock=clock, jitter=lambda: 0.0, **kwargs)


def smtp_settings(server: SmtpServer, tmp_path: Path) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security="none",
        smtp_sender=SENDER,
        outbox_dir=tmp_path / "outbox",
    )


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands instants back without their zone; regua stores them in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def action_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                actions.c.id,
                customers.c.external_id,
                actions.c.status,
                actions.c.channel,
                actions.c.attempts,
                actions.c.next_attempt_at,
                actions.c.sent_at,
                actions.c.provider_message_id,
                actions.c.idempotency_key,
                actions.c.reason,
            )
            .join(customers, customers.c.id == actions.c.customer_id)
            .order_by(actions.c.id)
        ).all()
    return [
        SimpleNamespace(
            **{
                **row._mapping,
                "next_attempt_at": as_utc(row.next_attempt_at),
                "sent_at": as_utc(row.sent_at),
            }
        )
        for row in rows
    ]


def timeline(engine: Engine, code: str) -> list[tuple[str, str | None, str]]:
    with engine.connect() as connection:
        return [
            (kind, channel, detail)
            for kind, channel, detail in connection.execute(
                select(interactions.c.kind, interactions.c.channel, interactions.c.detail)
                .join(customers, customers.c.id == interactions.c.customer_id)
                .where(customers.c.external_id == code)
                .order_by(interactions.c.id)
            )
        ]


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


# --- pacing and backoff, as plain calculations -----------------------------------------------


def test_a_bucket_of_n_allows_n_immediate_sends_then_paces_at_the_rate() -> None:
    bucket = TokenBucket(rate=4)
    waits = [bucket.take(100.0) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 0.0, 0.25, 0.25]
    assert bucket.take(100.25) == 0.0  # a quarter second later, one more token


def test_backoff_doubles_with_jitter_and_honours_retry_after() -> None:
    base = timedelta(minutes=1)
    assert [backoff_delay(n, base=base).total_seconds() for n in (1, 2, 3, 4)] == [
        60,
        120,
        240,
        480,
    ]
    assert backoff_delay(2, base=base, jitter=1.0) == timedelta(seconds=150)
    assert backoff_delay(1, base=base, retry_after=600) == timedelta(minutes=10)
    assert backoff_delay(30, base=base) == timedelta(hours=2)  # capped


# --- e-mail over SMTP --------------------------------------------------------------------------


@pytest.fixture
def one_email_customer(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    # Due Friday 20/11 (a holiday: Consciência Negra) -> payable on Monday 23/11 without charges;
    # the D+3 step falls on Monday.
    load(
        engine,
        creditor_id,
        tmp_path,
        [("M1", "MARIA DA CONCEIÇÃO SOUZA", "maria@exemplo.com.br", "", "SP")],
        [("F-77", "M1", "20/11/2026", "99,90")],
    )
    planned = plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO)
    assert [(a.status, a.channel, a.step.id) for a in planned] == [("planned", "email", "atraso-3")]
    return creditor_id


def test_email_reaches_the_smtp_server_in_portuguese_with_both_parts_and_pix(
    engine: Engine, one_email_customer: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert result.sent == {"email": 1}
    [mail] = smtp_server.handler.received
    message = mail.message
    [row] = action_rows(engine)
    assert mail.rcpt_tos == ["maria@exemplo.com.br"]
    assert message["To"] == "MARIA DA CONCEIÇÃO SOUZA <maria@exemplo.com.br>"
    assert message["From"] == f"Exemplo <{SENDER}>"  # the trade name the customer knows
    assert message["Subject"] == "Não identificamos o pagamento da fatura de 20/11/2026"
    assert message["Message-ID"] == f"<regua-act-{row.id}@exemplo.com.br>"
    assert message["Reply-To"] == "financeiro@exemplo.com.br"
    plain, html = text_of(message, "plain"), text_of(message, "html")
    assert plain.startswith("Olá, Maria.\n")
    assert "R$ 99,90" in plain and "CNPJ 11.222.333/0001-81" in plain
    assert "<p>Olá, Maria.</p>" in html
    pix_line = next(line for line in plain.splitlines() if line.startswith("000201"))
    pix = decode(pix_line)
    assert (pix.amount_cents, pix.txid, pix.key) == (9990, f"REGUA{row.id}", "11222333000181")

    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, AT_9_IN_SAO_PAULO)
    assert row.provider_message_id == f"regua-act-{row.id}@exemplo.com.br"
    with engine.connect() as connection:
        txid = connection.execute(select(invoices.c.pix_txid)).scalar_one()
    assert txid == f"REGUA{row.id}"  # a PIX webhook with this txid finds the invoice
    assert timeline(engine, "M1") == [
        (
            "sent",
            "email",
            "Mensagem enviada por e-mail para maria@exemplo.com.br "
            "(etapa atraso-3, modelo atraso_amigavel).",
        )
    ]
    again = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
    assert again.sent == {} and len(smtp_server.handler.received) == 1


def test_smtp_4xx_is_retried_later_with_the_same_message_id(
    engine: Engine, one_email_customer: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.handler.data_replies = ["451 4.3.0 Sistema ocupado, tente mais tarde"]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        first = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
        [row] = action_rows(engine)
        assert first.retrying == {"email": 1} and smtp_server.handler.received == []
        assert (row.status, row.attempts) == ("planned", 1)
        assert row.next_attempt_at == AT_9_IN_SAO_PAULO + timedelta(minutes=1)

        not_yet = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
        assert (not_yet.sent, not_yet.waiting, not_yet.retries_pending) == ({}, 0, 1)

        clock.instant += timedelta(minutes=1)
        second = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert second.sent == {"email": 1}
    [mail] = smtp_server.handler.received
    [row] = action_rows(engine)
    assert mail.message["Message-ID"] == f"<regua-act-{row.id}@exemplo.com.br>"
    assert (row.status, row.attempts) == ("sent", 2)
    assert [(kind, detail[:60]) for kind, _c, detail in timeline(engine, "M1")] == [
        ("retry", "Falha temporária no envio por e-mail (tentativa 1): O servid"),
        ("sent", "Mensagem enviada por e-mail para maria@exemplo.com.br (etapa"),
    ]


def test_transient_failures_end_in_failed_after_the_last_attempt(
    engine: Engine, one_email_customer: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.handler.data_replies = ["421 4.7.0 Tente mais tarde"] * 3
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        for _ in range(3):
            dispatcher(
                engine, clock, registry, options=DispatchOptions(max_attempts=3)
            ).dispatch_due(today=MONDAY)
            clock.instant += timedelta(hours=1)

    [row] = action_rows(engine)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.reason.startswith("3 tentativas sem sucesso; a última: O servidor de e-mail")
    assert [kind for kind, _c, _d in timeline(engine, "M1")] == ["retry", "retry", "failed"]
    assert smtp_server.handler.received == []


def test_a_claim_abandoned_by_a_dead_dispatcher_is_sent_again_with_the_same_key(
    engine: Engine, one_email_customer: int, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    [row] = action_rows(engine)
    with engine.begin() as connection:
        # What a worker killed inside the provider call leaves behind.
        connection.execute(
            update(actions)
            .where(actions.c.id == row.id)
            .values(
                status="sending",
                attempts=1,
                claimed_by="morto:1/abc",
                claimed_at=AT_9_IN_SAO_PAULO - timedelta(minutes=1),
                idempotency_key=f"regua-act-{row.id}",
            )
        )
    registry = ChannelRegistry.from_settings(smtp_settings(smtp_server, tmp_path), clock=clock)
    with registry:
        within_lease = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
        assert within_lease.sent == {} and smtp_server.handler.received == []
        clock.instant += timedelta(minutes=5)
        after_lease = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert after_lease.sent == {"email": 1}
    [mail] = smtp_server.handler.received
    assert mail.message["Message-ID"] == f"<regua-act-{row.id}@exemplo.com.br>"
    [row] = action_rows(engine)
    assert (row.status, row.attempts) == ("sent", 2)


# --- the contact window, the rate limit ----------------------------------------------------


def test_only_customers_inside_their_window_are_sent(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    load(
        engine,
        creditor_id,
        tmp_path,
        [
            ("SP1", "Ana Paula", "ana@exemplo.com.br", "", "SP"),
            ("AM1", "Bruno Lima", "bruno@exemplo.com.br", "", "AM"),
        ],
        [("1", "SP1", "20/11/2026", "50,00"), ("2", "AM1", "20/11/2026", "50,00")],
    )
    # 11:30 UTC: 08:30 in São Paulo, 07:30 in Manaus (AM: weekdays 08-19, Lei 306/2016).
    clock = FixedClock(datetime(2026, 11, 23, 11, 30, tzinfo=UTC))
    plan_day(engine, creditor_id, MONDAY, clock.instant)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)

    early = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert (early.sent, early.waiting) == ({"email": 1}, 1)
    assert [(r.external_id, r.status) for r in action_rows(engine)] == [
        ("SP1", "sent"),
        ("AM1", "planned"),
    ]
    clock.instant += timedelta(hours=1)  # 08:30 in Manaus
    later = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
    assert (later.sent, later.waiting) == ({"email": 1}, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"2026-11-23_regua-act-{r.id}.email.eml" for r in action_rows(engine)
    ]


def test_rate_limit_paces_sends_on_the_dispatch_clock(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    people = [(f"R{n}", f"Cliente {n}", f"r{n}@exemplo.com.br", "", "SP") for n in range(5)]
    load(
        engine,
        creditor_id,
        tmp_path,
        people,
        [(f"T{n}", f"R{n}", "20/11/2026", "10,00") for n in range(5)],
    )
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    plan_day(engine, creditor_id, MONDAY, clock.instant)

    def sleep(seconds: float) -> None:  # time passes only when the dispatcher waits
        clock.instant += timedelta(seconds=seconds)

    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)
    # One sender thread: each wait moves the shared clock once.
    result = dispatcher(
        engine,
        clock,
        registry,
        rate_limits={"email": 2},
        sleep=sleep,
        options=DispatchOptions(senders=1),
    ).dispatch_due(today=MONDAY)

    assert result.sent == {"email": 5}
    offsets = sorted((r.sent_at - AT_9_IN_SAO_PAULO).total_seconds() for r in action_rows(engine))
    assert offsets == [0.0, 0.0, 0.5, 1.0, 1.5]  # a bucket of 2, then 2 a second


# --- WhatsApp and SMS against a loopback provider -----------------------------------------


def http_registry(provider: HttpProvider, tmp_path: Path, clock: FixedClock) -> ChannelRegistry:
    channels = build_channels(Settings(outbox_dir=tmp_path / "out"), clock=clock)
    channels["whatsapp"] = WhatsAppCloudChannel(
        phone_number_id="5511930000000",
        token="token-de-teste",
        base_url=provider.url,
        timeout=0.3,
        clock=clock,
    )
    channels["sms"] = HttpSmsChannel(provider.url, "token-sms", "regua", timeout=0.3, clock=clock)
    return ChannelRegistry(channels)


@pytest.fixture
def registry_over_http(
    http_provider: HttpProvider, tmp_path: Path
) -> Iterator[tuple[ChannelRegistry, FixedClock]]:
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = http_registry(http_provider, tmp_path, clock)
    yield registry, clock
    registry.close()


def test_whatsapp_500_and_timeout_are_retried_with_backoff_and_the_same_key(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    http_provider: HttpProvider,
    registry_over_http: tuple[ChannelRegistry, FixedClock],
) -> None:
    registry, clock = registry_over_http
    load(
        engine,
        creditor_id,
        tmp_path,
        [("W1", "João Pereira", "", "(11) 98765-4321", "SP")],
        [("X1", "W1", "20/11/2026", "120,00")],
    )
    plan_day(engine, creditor_id, MONDAY, clock.instant)
    http_provider.replies = [
        Reply(500, {"error": {"code": 1, "message": "erro interno"}}),
        Reply(200, {"messages": [{"id": "wamid.tarde"}]}, delay=1.0),  # answers after timeout
        Reply(200, {"messages": [{"id": "wamid.OK1"}]}),
    ]
    steps = []
    for wait in (timedelta(0), timedelta(minutes=1), timedelta(minutes=2)):
        clock.instant += wait
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
        [row] = action_rows(engine)
        steps.append((dict(result.sent), dict(result.retrying), row.status, row.next_attempt_at))

    start = AT_9_IN_SAO_PAULO
    assert steps == [
        ({}, {"whatsapp": 1}, "planned", start + timedelta(minutes=1)),
        ({}, {"whatsapp": 1}, "planned", start + timedelta(minutes=1 + 2)),
        ({"whatsapp": 1}, {}, "sent", None),
    ]
    [row] = action_rows(engine)
    assert (row.attempts, row.provider_message_id) == (3, "wamid.OK1")
    bodies = [request.json() for request in http_provider.requests]
    assert [b["biz_opaque_callback_data"] for b in bodies] == [f"regua-act-{row.id}"] * 3
    assert {b["template"]["name"] for b in bodies} == {"regua_atraso_amigavel"}
    assert bodies[0]["to"] == "5511987654321"
    assert [kind for kind, _c, _d in timeline(engine, "W1")] == ["retry", "retry", "sent"]


def test_sms_429_waits_for_retry_after_and_500_backs_off_with_the_same_key(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    http_provider: HttpProvider,
    registry_over_http: tuple[ChannelRegistry, FixedClock],
) -> None:
    registry, clock = registry_over_http
    load(
        engine,
        creditor_id,
        tmp_path,
        [("S9", "Rita Souza", "", "(11) 96666-5555", "SP")],
        [("U1", "S9", "20/11/2026", "60,00")],
    )
    with engine.begin() as connection:
        customer = connection.execute(select(customers.c.id)).scalar_one()
        opt_out(
            connection, customer_id=customer, channel="whatsapp", reason="SAIR", at=clock.instant
        )
    assert [a.channel for a in plan_day(engine, creditor_id, MONDAY, clock.instant)] == ["sms"]
    http_provider.replies = [
        Reply(429, {"error": {"code": "rate_limited"}}, headers={"Retry-After": "600"}),
        Reply(503, {"error": {"code": "unavailable"}}),
        Reply(200, {"id": "sms-123"}),
    ]
    next_attempts = []
    for wait in (timedelta(0), timedelta(minutes=10), timedelta(minutes=2)):
        clock.instant += wait
        dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
        next_attempts.append(action_rows(engine)[0].next_attempt_at)

    start = AT_9_IN_SAO_PAULO
    assert next_attempts == [start + timedelta(minutes=10), start + timedelta(minutes=12), None]
    [row] = action_rows(engine)
    assert (row.status, row.provider_message_id, row.attempts) == ("sent", "sms-123", 3)
    keys = [request.headers["Idempotency-Key"] for request in http_provider.requests]
    assert keys == [f"regua-act-{row.id}"] * 3
    assert http_provider.requests[0].json()["to"] == "+5511966665555"


def test_a_long_sms_is_recorded_at_the_price_of_each_segment(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    http_provider: HttpProvider,
    registry_over_http: tuple[ChannelRegistry, FixedClock],
) -> None:
    registry, clock = registry_over_http
    load(
        engine,
        creditor_id,
        tmp_path,
        [("S8", "Rita Souza", "", "(11) 96666-5555", "SP")],
        [("U2", "S8", "20/11/2026", "60,00")],
    )
    with engine.begin() as connection:
        customer = connection.execute(select(customers.c.id)).scalar_one()
        opt_out(
            connection, customer_id=customer, channel="whatsapp", reason="SAIR", at=clock.instant
        )
    [action] = plan_day(engine, creditor_id, MONDAY, clock.instant)
    assert (action.channel, action.cost_cents) == ("sms", 9)  # the régua's price of one SMS
    # A creditor's own SMS of 358 GSM-7 characters: 153 per part when concatenated, 3 parts.
    folder = tmp_path / "modelos" / "messages" / "atraso_amigavel"
    folder.mkdir(parents=True)
    text = "Loja Teste: " + "a" * 309 + " Responda SAIR para nao receber mais."
    assert len(text) == 358
    (folder / "sms.j2").write_text(text, encoding="utf-8")
    http_provider.replies = [Reply(200, {"id": "sms-358"})]

    result = dispatcher(
        engine, clock, registry, renderer=TemplateRenderer(tmp_path / "modelos")
    ).dispatch_due(today=MONDAY)

    assert result.sent == {"sms": 1}
    assert http_provider.requests[0].json()["text"] == text
    with engine.connect() as connection:
        assert connection.execute(select(actions.c.cost_cents)).scalar_one() == 3 * 9


def test_invalid_numbers_flag_the_contact_and_the_next_plans_skip_it(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    http_provider: HttpProvider,
    registry_over_http: tuple[ChannelRegistry, FixedClock],
) -> None:
    registry, clock = registry_over_http
    load(
        engine,
        creditor_id,
        tmp_path,
        [("N1", "Carla Dias", "", "(11) 97777-1234", "SP")],
        [("Y1", "N1", "16/11/2026", "80,00")],
    )
    d3, d10 = date(2026, 11, 19), date(2026, 11, 26)  # Thursdays: steps atraso-3, atraso-10
    clock.instant = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
    plan_day(engine, creditor_id, d3, clock.instant)
    http_provider.replies = [
        Reply(400, {"error": {"code": 131026, "message": "Message undeliverable"}}),
        Reply(400, {"error": {"code": "invalid_number", "message": "número inexistente"}}),
    ]
    first = dispatcher(engine, clock, registry).dispatch_due(today=d3)
    clock.instant = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    second_plan = plan_day(engine, creditor_id, d10, clock.instant)
    second = dispatcher(engine, clock, registry).dispatch_due(today=d10)
    third_plan = plan_day(engine, creditor_id, date(2026, 12, 7), clock.instant)

    assert (first.failed, first.contacts_flagged) == ({"whatsapp": 1}, 1)
    assert [(a.status, a.channel) for a in second_plan] == [("planned", "sms")]
    assert second_plan[0].evidence["channels_tried"] == {
        "email": "sem contato",
        "whatsapp": "contato inválido",
        "sms": "usado",
    }
    assert (second.failed, second.contacts_flagged) == ({"sms": 1}, 1)
    assert [(a.status, a.channel) for a in third_plan] == [("skipped", None)]
    assert third_plan[0].reason == (
        "sem canal disponível: whatsapp: contato inválido; email: sem contato; "
        "sms: contato inválido"
    )
    assert [r.path for r in http_provider.requests] == [
        "/v21.0/5511930000000/messages",
        "/messages",
    ]
    with engine.connect() as connection:
        flagged = connection.execute(
            select(contacts.c.channel).where(contacts.c.invalid_at.is_not(None))
        ).scalars()
        assert sorted(flagged) == ["sms", "whatsapp"]
    assert [(kind, channel) for kind, channel, _d in timeline(engine, "N1")] == [
        ("failed", "whatsapp"),
        ("contact_invalid", "whatsapp"),
        ("failed", "sms"),
        ("contact_invalid", "sms"),
    ]


# --- what must not go out ------------------------------------------------------------------


def test_an_invoice_paid_after_the_plan_cancels_the_message(
    engine: Engine, one_email_customer: int, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        connection.execute(update(invoices).values(status="paid", balance_cents=0))
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)

    result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert (result.sent, result.cancelled) == ({}, {"email": 1})
    assert [r.status for r in action_rows(engine)] == ["cancelled"]
    assert timeline(engine, "M1") == [
        (
            "cancelled",
            "email",
            "Mensagem não enviada: títulos pagos, encerrados ou pausados antes do envio.",
        )
    ]
    assert not (tmp_path / "out").exists()


def test_an_older_unsent_action_is_superseded_by_the_newer_step(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    load(
        engine,
        creditor_id,
        tmp_path,
        [("S1", "Sara Nunes", "sara@exemplo.com.br", "", "SP")],
        [("Z1", "S1", "16/11/2026", "30,00")],
    )
    plan_day(engine, creditor_id, date(2026, 11, 19), AT_9_IN_SAO_PAULO)  # D+3, never sent
    plan_day(engine, creditor_id, date(2026, 11, 26), AT_9_IN_SAO_PAULO)  # D+10
    clock = FixedClock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)

    result = dispatcher(engine, clock, registry).dispatch_due(today=date(2026, 11, 26))

    assert (result.sent, result.superseded) == ({"email": 1}, 1)
    assert [r.status for r in action_rows(engine)] == ["cancelled", "sent"]


# --- thank-you, letters, phone -------------------------------------------------------------


def test_thank_you_and_letter_actions_go_out_like_the_others(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    load(
        engine,
        creditor_id,
        tmp_path,
        [
            ("P1", "Pedro Alves", "pedro@exemplo.com.br", "", "SP"),
            ("L1", "Lúcia Prado", "", "", "SP"),
        ],
        [("Q1", "P1", "10/11/2026", "75,00"), ("Q2", "L1", "20/10/2026", "300,00")],
    )
    with engine.begin() as connection:
        connection.execute(
            update(invoices)
            .where(invoices.c.external_id == "Q1")
            .values(status="paid", balance_cents=0)
        )
        ids = dict(connection.execute(select(customers.c.external_id, customers.c.id)).all())
        invoice_q1 = connection.execute(
            select(invoices.c.id).where(invoices.c.external_id == "Q1")
        ).scalar_one()
        thank_you = connection.execute(
            actions.insert()
            .values(
                creditor_id=creditor_id,
                customer_id=ids["P1"],
                purpose="thank_you",
                planned_for=MONDAY,
                policy_name="padrao",
                policy_version="x",
                step_id="agradecimento",
                step_offset=0,
                channel="email",
                contact_value="pedro@exemplo.com.br",
                template="agradecimento",
                status="planned",
                created_at=AT_9_IN_SAO_PAULO,
            )
            .returning(actions.c.id)
        ).scalar_one()
        connection.execute(
            action_invoices.insert().values(
                action_id=thank_you, invoice_id=invoice_q1, step_id="agradecimento"
            )
        )
    # Q2: D+34, its letter (D+30) caught up
    planned = plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO, start="recuperar")
    assert [(a.channel, a.step.id) for a in planned] == [("letter", "aviso-negativacao")]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)

    result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert result.sent == {"email": 1, "letter": 1}
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    letter_id = action_rows(engine)[-1].id
    assert files == [
        f"2026-11-23_regua-act-{thank_you}.email.eml",
        f"2026-11-23_regua-act-{letter_id}.letter.pdf",
    ]
    eml = (tmp_path / "out" / files[0]).read_text(encoding="utf-8")
    assert "Subject: =?utf-8?" in eml or "Subject:" in eml
    assert (tmp_path / "out" / files[1]).read_bytes().startswith(b"%PDF")
    assert [kind for kind, _c, _d in timeline(engine, "P1")] == ["sent"]


def test_every_channel_goes_out_when_the_pool_has_fewer_connections_than_senders(
    engine: Engine, creditor_id: int, tmp_path: Path, db_url: str
) -> None:
    # Three channels with three messages each: drained at once with four sender threads each,
    # they would want more connections than a pool of three, and wait for one until it fails.
    load(
        engine,
        creditor_id,
        tmp_path,
        [(f"E{n}", f"Eva {n}", f"eva{n}@exemplo.com.br", "", "SP") for n in range(3)]
        + [(f"W{n}", f"Wagner {n}", "", f"(11) 98765-432{n}", "SP") for n in range(3)]
        + [(f"L{n}", f"Lia {n}", "", "", "SP") for n in range(3)],
        [(f"X{c}{n}", f"{c}{n}", "20/11/2026", "120,00") for c in "EW" for n in range(3)]
        + [(f"XL{n}", f"L{n}", "20/10/2026", "300,00") for n in range(3)],
    )
    planned = plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO, start="recuperar")
    assert sorted(a.channel for a in planned) == ["email"] * 3 + ["letter"] * 3 + ["whatsapp"] * 3
    small = make_engine(db_url, pool_size=1, max_overflow=2, pool_timeout=5)
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    try:
        with ChannelRegistry.from_settings(
            Settings(outbox_dir=tmp_path / "out"), clock=clock
        ) as registry:
            result = dispatcher(small, clock, registry).dispatch_due(today=MONDAY)
    finally:
        small.dispose()

    assert result.sent == {"email": 3, "whatsapp": 3, "letter": 3}
    assert len(list((tmp_path / "out").iterdir())) == 9
    assert {row.status for row in action_rows(engine)} == {"sent"}


def test_phone_actions_are_the_call_list_not_sent(
    engine: Engine, creditor_id: int, tmp_path: Path, db_url: str
) -> None:
    load(
        engine,
        creditor_id,
        tmp_path,
        [("K1", "Kátia Rocha", "", "(92) 99111-2222", "AM")],
        [("V1", "K1", "06/11/2026", "500,00")],  # D+17 on Monday: the call step (D+15)
    )
    planned = plan_day(engine, creditor_id, MONDAY, AT_9_IN_SAO_PAULO, start="recuperar")
    assert [(a.channel, a.step.id) for a in planned] == [("phone", "ligacao")]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)
    result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)
    assert (result.sent, result.calls) == ({}, 1)

    out = tmp_path / "ligacoes.csv"
    cli = CliRunner().invoke(
        app, ["calls", "--db", db_url, "--date", "2026-11-23", "--csv", str(out)]
    )

    assert cli.exit_code == 0, cli.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    [row] = rows
    assert {k: row[k] for k in ("cliente", "nome", "telefone", "uf", "titulos")} == {
        "cliente": "K1",
        "nome": "Kátia Rocha",
        "telefone": "+5592991112222",
        "uf": "AM",
        "titulos": "V1",
    }
    # 17 days late: multa 2 % (R$ 10,00) + juros 1 % a.m. pro rata (R$ 2,83).
    assert (row["valor_original"], row["multa_e_juros"], row["total"]) == (
        "500,00",
        "12,83",
        "512,83",
    )
    assert (row["roteiro"], row["etapa"], row["horario"], row["fuso"]) == (
        "roteiro_negociacao",
        "ligacao",
        "08:00-19:00",
        "America/Manaus",
    )


# --- the command line ----------------------------------------------------------------------


def test_templates_render_shows_a_real_customers_message(
    engine: Engine, one_email_customer: int, db_url: str
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "templates",
            "render",
            "atraso-3",
            "--customer",
            "M1",
            "--date",
            "2026-11-25",
            "--db",
            db_url,
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["channel"], shown["to"], shown["template"]) == (
        "email",
        "maria@exemplo.com.br",
        "atraso_amigavel",
    )
    # Late since 20/11 (paying on 23/11 was still on time): multa R$ 2,00, juros of 5 days.
    assert (
        "Fatura F-77: Mensalidade internet (vencimento em 20/11/2026)\n"
        "  Valor original: R$ 99,90\n"
        "  Multa: R$ 2,00\n"
        "  Juros de mora: R$ 0,17\n"
        "  Total: R$ 102,07\n"
    ) in shown["text"]
    assert shown["subject"] == "Não identificamos o pagamento da fatura de 20/11/2026"
    with engine.connect() as connection:  # a preview writes nothing
        assert connection.execute(select(invoices.c.pix_txid)).scalar_one() is None


def test_run_plans_and_dispatches_inline(
    engine: Engine, one_email_customer: int, db_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    result = CliRunner().invoke(app, ["run", "--db", db_url, "--date", "2026-11-23", "--json"])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    # The real clock decides whether São Paulo is inside its contact window right now.
    sent = shown["dispatch"]["sent"].get("email", 0)
    [row] = action_rows(engine)
    files = sorted(p.name for p in (tmp_path / "caixa").glob("*")) if sent else []
    if sent:
        assert row.status == "sent"
        assert files == [f"{row.sent_at:%Y-%m-%d}_regua-act-{row.id}.email.eml"]
    else:
        assert (row.status, files) == ("planned", [])


def test_dispatch_result_is_plain_data() -> None:
    result = DispatchResult()
    result.sent["sms"] += 2
    assert result.to_dict()["sent"] == {"sms": 2}


def test_the_demo_leaves_its_simulated_days_messages_in_the_outbox(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    demo_app = build_app(Settings(), database_url=demo_database_url(folder))
    try:
        result = build_demo(
            folder,
            uow=demo_app.uow,
            settings=demo_app.settings,
            customers=40,
            seed=3,
            today=date(2026, 11, 23),
            now=AT_9_IN_SAO_PAULO,
            days=4,
        )
    finally:
        demo_app.close()

    files = sorted(p.name for p in result.outbox.iterdir())
    sent = sum(sum(day.sent.values()) for day in result.days)
    assert result.outbox == tmp_path / "demo" / "outbox"
    assert sent > 0 and len(files) == result.outbox_files == sent
    kinds = {name.split(".", 1)[1] for name in files}
    assert kinds <= {"email.eml", "sms.json", "whatsapp.json", "letter.pdf"}
    assert all(
        name[:10] in {"2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"} for name in files
    )
