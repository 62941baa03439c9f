"""The debtor portal over HTTP: no data before the identity check, locks, CSRF, one customer
per link, and the figures the services compute (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regua.channels.rendering import default_renderer
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.customer_links import LinkPurpose, make_link_token
from regua.domain.money import format_brl
from regua.payments.pix import decode
from regua.services import negotiation
from regua.services.customer_links import portal_links
from regua.services.customer_preview import customer_preview
from regua.store import customers as customer_store
from regua.store.tables import agreements, contacts, interactions, portal_attempts
from regua.web.app import create_app
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

SECRET = "segredo-do-portal-de-teste"
TODAY = NOW.date()  # Monday 23/11/2026
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9001;NF-9001;C1;Mensalidade setembro;20/09/2026;500,00;aberto
9002;NF-9002;C1;Mensalidade outubro;20/10/2026;300,00;aberto
9003;NF-9003;C3;Parcela;10/11/2026;200,00;aberto
"""
# What C1 (José, CPF 529.982.247-25) owes today: R$ 800,00, multa 2 % (16,00), juros 1 % a.m.
# (10,67 + 3,40): the figure the agreements tests work out by hand.
C1_TOTAL = "R$ 830,07"
C1_SECRETS = ("José", "529", "830,07", "500,00", "Empresa Exemplo")


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


@pytest.fixture
def client(engine: Engine, portfolio: int) -> Iterator[TestClient]:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    settings = settings.model_copy(update={"link_secret": SECRET})
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as test_client:
        yield test_client


def customer_id(engine: Engine, creditor_id: int, external_id: str) -> int:
    with engine.connect() as connection:
        found = customer_store.id_by_external(connection, creditor_id, external_id)
    assert found is not None
    return found


def link(engine: Engine, creditor_id: int, external_id: str, **kwargs: object) -> str:
    args: dict = {"today": TODAY} | kwargs
    token = make_link_token(
        SECRET, LinkPurpose.PORTAL, customer_id(engine, creditor_id, external_id), **args
    )
    return f"/p/{token}"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, path: str, answer: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    answered = client.post(
        f"{path}/identidade",
        data={"csrf": csrf_of(page.text), "documento": answer},
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    shown = client.get(path)
    assert shown.status_code == 200
    return shown.text


def assert_no_data(html: str) -> None:
    for secret in C1_SECRETS:
        assert secret not in html, secret


def test_a_bad_link_gets_a_friendly_page_and_no_data(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    good = link(engine, portfolio, "C1")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired = link(engine, portfolio, "C1", today=TODAY - timedelta(days=40), days=30)
    unsubscribe = make_link_token(
        SECRET, LinkPurpose.UNSUBSCRIBE, customer_id(engine, portfolio, "C1"), TODAY
    )
    other_secret = make_link_token(
        "outro-segredo", LinkPurpose.PORTAL, customer_id(engine, portfolio, "C1"), TODAY
    )
    cases = [
        (tampered, 404, "Link não reconhecido"),
        (expired, 410, "Este link expirou"),
        (f"/p/{unsubscribe}", 404, "Link não reconhecido"),
        (f"/p/{other_secret}", 404, "Link não reconhecido"),
        ("/p/1.abcdef", 404, "Link não reconhecido"),
    ]
    for path, status, title in cases:
        page = client.get(path)
        assert (page.status_code, title in page.text) == (status, True), path
        assert_no_data(page.text)
        # Posting to a bad link does nothing either.
        posted = client.post(f"{path}/identidade", data={"documento": "52998"})
        assert posted.status_code == status
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(portal_attempts)).scalar() == 0


def test_nothing_is_shown_before_the_identity_check(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    page = client.get(path)
    assert page.status_code == 200
    assert "5 primeiros números" in page.text
    assert_no_data(page.text)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/p/" in cookie
    # Pages behind the check send back to it.
    offer = client.get(f"{path}/oferta/1", follow_redirects=False)
    assert (offer.status_code, offer.headers["location"]) == (303, path)

    wrong = client.post(
        f"{path}/identidade", data={"csrf": csrf_of(page.text), "documento": "12345"}
    )
    assert wrong.status_code == 400
    assert "4 tentativas restantes" in wrong.text
    assert_no_data(wrong.text)

    html = sign_in(client, path, "529.98")
    assert "José da Conceição" in html
    assert C1_TOTAL in html
    assert "Empresa Exemplo" in html and "11.222.333/0001-81" in html
    # Each invoice: original amount, multa and juros today, total, due date and days late.
    for original, late_fee, interest, total, due, late in (
        ("R$ 500,00", "R$ 10,00", "R$ 10,67", "R$ 520,67", "20/09/2026", "64 dias de atraso"),
        ("R$ 300,00", "R$ 6,00", "R$ 3,40", "R$ 309,40", "20/10/2026", "34 dias de atraso"),
    ):
        for figure in (original, late_fee, interest, total, due, late):
            assert figure in html, figure
    code = re.search(r'<textarea id="pix"[^>]*>([^<]+)</textarea>', html)
    assert code is not None
    assert decode(code.group(1)).amount_cents == 83_007
    # The QR code is an image of its own, drawn when asked, of that same code.
    qr = re.search(r'<img src="([^"]+/qr\.svg\?codigo=[^"]+)"', html)
    assert qr is not None
    image = client.get(qr.group(1).replace("&amp;", "&"))
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in image.text
    assert client.get(f"{path}/qr.svg?codigo=qualquer-coisa").status_code == 404
    with engine.connect() as connection:
        rows = connection.execute(
            select(portal_attempts.c.succeeded).order_by(portal_attempts.c.id)
        ).all()
    assert [row.succeeded for row in rows] == [False, True]


def test_the_check_locks_a_link_then_the_customer_after_repeated_failures(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    csrf = csrf_of(client.get(path).text)
    statuses = []
    for _ in range(5):
        answer = client.post(f"{path}/identidade", data={"csrf": csrf, "documento": "00000"})
        statuses.append(answer.status_code)
    assert statuses == [400, 400, 400, 400, 429]
    # Locked: even the right answer is refused, and no data is shown.
    right = client.post(f"{path}/identidade", data={"csrf": csrf, "documento": "52998"})
    assert right.status_code == 429
    assert "Acesso bloqueado" in right.text
    assert_no_data(right.text)
    assert client.get(path).status_code == 429
    # A new message brings a new link: it gets its own tries, up to the customer's limit.
    fresh = link(engine, portfolio, "C1")
    for _ in range(5):
        client.post(f"{fresh}/identidade", data={"csrf": csrf, "documento": "11111"})
    newest = link(engine, portfolio, "C1")
    locked = client.post(f"{newest}/identidade", data={"csrf": csrf, "documento": "52998"})
    assert locked.status_code == 429
    # Another customer is not locked by C1's failures (the test client's address aside).
    with engine.connect() as connection:
        failures = connection.execute(
            select(func.count()).where(portal_attempts.c.succeeded.is_(False))
        ).scalar()
    assert failures == 10


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    client.get(path)
    no_token = client.post(f"{path}/identidade", data={"documento": "52998"})
    assert no_token.status_code == 403
    flood = client.post(f"{path}/identidade", content="&".join(f"x{i}=1" for i in range(500)))
    assert flood.status_code == 403
    assert_no_data(no_token.text)
    html = sign_in(client, path, "52998")
    good = csrf_of(html)
    for form_path, data in (
        (f"{path}/oferta/1", {"feita_em": TODAY.isoformat()}),
        (f"{path}/oferta/1", {"feita_em": TODAY.isoformat(), "csrf": good[:-2] + "xx"}),
        (f"{path}/parar", {"canal": "sms"}),
    ):
        refused = client.post(form_path, data=data)
        assert refused.status_code == 403, form_path
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(agreements)).scalar() == 0
        opted = connection.execute(
            select(func.count()).where(contacts.c.opted_out_at.is_not(None))
        ).scalar()
    assert opted == 0


def test_one_customers_session_never_opens_another_customers_link(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    sign_in(client, link(engine, portfolio, "C1"), "52998")
    other = link(engine, portfolio, "C3")
    page = client.get(other)
    assert "5 primeiros números" in page.text
    assert "Maria" not in page.text and "200,00" not in page.text
    offer = client.get(f"{other}/oferta/1", follow_redirects=False)
    assert offer.status_code == 303
    # C1's answer is not C3's.
    wrong = client.post(
        f"{other}/identidade", data={"csrf": csrf_of(page.text), "documento": "52998"}
    )
    assert wrong.status_code == 400
    assert "Maria" not in wrong.text


def test_accepting_an_offer_makes_the_services_agreement_with_its_first_pix(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    html = sign_in(client, path, "52998")
    offers = negotiation.customer_offers(units(engine), portfolio, "C1", today=TODAY, now=NOW)
    three = next(i for i, o in enumerate(offers.offers, 1) if o.count == 3)
    chosen = offers.offers[three - 1]
    assert format_brl(chosen.total_cents) in html
    page = client.get(f"{path}/oferta/{three}")
    assert page.status_code == 200
    for payment in chosen.payments:
        assert f"{payment.due_date:%d/%m/%Y}" in page.text
        assert format_brl(payment.amount_cents) in page.text
    assert f"{chosen.monthly_rate:.2f}".replace(".", ",") + "% a.m." in page.text
    made_on = re.search(r'name="feita_em" value="([^"]+)"', page.text)
    assert made_on is not None
    done = client.post(
        f"{path}/oferta/{three}", data={"csrf": csrf_of(page.text), "feita_em": made_on.group(1)}
    )
    assert done.status_code == 200
    assert "Acordo confirmado" in done.text
    assert format_brl(chosen.total_cents) in done.text
    first = chosen.payments[0]
    code = re.search(r'<textarea id="pix"[^>]*>([^<]+)</textarea>', done.text)
    assert code is not None
    assert decode(code.group(1)).amount_cents == first.amount_cents
    with engine.connect() as connection:
        row = connection.execute(select(agreements.c.channel, agreements.c.total_cents)).one()
    assert (row.channel, row.total_cents) == ("portal", chosen.total_cents)
    assert portal_events(engine, "accept") == [("testclient", "testclient")]
    # Accepting twice is refused with the services' reason, and nothing more is written.
    again = client.post(
        f"{path}/oferta/{three}", data={"csrf": csrf_of(page.text), "feita_em": made_on.group(1)}
    )
    assert again.status_code in (303, 409)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(agreements)).scalar() == 1


def test_stopping_a_channel_opts_out_at_once(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    html = sign_in(client, path, "52998")
    stopped = client.post(f"{path}/parar", data={"csrf": csrf_of(html), "canal": "sms"})
    assert stopped.status_code == 200
    with engine.connect() as connection:
        rows = connection.execute(
            select(contacts.c.channel, contacts.c.opted_out_at).where(
                contacts.c.customer_id == customer_id(engine, portfolio, "C1")
            )
        ).all()
    states = {row.channel: row.opted_out_at is not None for row in rows}
    assert states["sms"] is True
    assert states["email"] is False
    assert portal_events(engine, "stop") == [("testclient", "testclient")]


def portal_events(engine: Engine, event: str) -> list[tuple[str, str]]:
    """(address, user agent) of the portal's timeline entries of `event`."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(interactions.c.data)
            .where(interactions.c.kind == "portal")
            .order_by(interactions.c.id)
        ).all()
    found = [row.data for row in rows if row.data and row.data.get("event") == event]
    return [(str(data["address"]), str(data["ua"])) for data in found]


@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp"])
def test_collection_messages_carry_a_link_that_opens_the_portal(
    client: TestClient, engine: Engine, portfolio: int, channel: str
) -> None:
    settings = Settings(link_secret=SECRET, portal_base_url="https://pagar.exemplo.com.br/p")
    preview = customer_preview(
        units(engine),
        portfolio,
        "C1",
        "atraso_amigavel",
        day=TODAY,
        now=NOW,
        channel=channel,
        portal=portal_links(units(engine), settings),
    )
    text = default_renderer().render("atraso_amigavel", channel, preview.context).text
    found = re.search(r"https://pagar\.exemplo\.com\.br(/p/[A-Za-z0-9_-]{35})\b", text)
    assert found, text
    page = client.get(found.group(1))
    assert page.status_code == 200
    assert "5 primeiros números" in page.text
