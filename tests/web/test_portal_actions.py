"""What a debtor asks on the portal besides an offer, over HTTP on SQLite and PostgreSQL: a
promise, a new due date, a dispute with a receipt, a call at a chosen time, the question after
paying, and the identity check by date of birth. Each refusal in pt-BR, each form with CSRF,
each action on the customer's timeline with the address and the user agent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.fees import FeeTerms
from regua.domain.money import format_brl
from regua.domain.offers import DebtInvoice, debt_today
from regua.payments.pix import decode
from regua.payments.webhooks import sign
from regua.services.call_list import call_list
from regua.services.customer_page import customer_page
from regua.store.tables import (
    agreements,
    callback_requests,
    disputes,
    interactions,
    invoices,
    portal_feedback,
    promises,
)
from regua.web.app import create_app
from regua.web.portal.routes import static_files
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv
from tests.web.test_portal import INVOICES, SECRET, csrf_of, customer_id, link, sign_in

TODAY = NOW.date()  # Monday 23/11/2026
PIX_SECRET = "segredo-do-pix-de-teste"
MAX_RECEIPT = 10_000
UA = "Mozilla/5.0 (Linux; Android 14) teste"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


@pytest.fixture
def receipts(tmp_path: Path) -> Path:
    return tmp_path / "dados" / "comprovantes"


@pytest.fixture
def client(engine: Engine, portfolio: int, receipts: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        link_secret=SECRET,
        pix_webhook_secret=PIX_SECRET,
        receipts_dir=receipts,
        receipt_max_bytes=MAX_RECEIPT,
    )
    with TestClient(
        create_app(settings, clock=FixedClock(NOW)), headers={"User-Agent": UA}
    ) as test_client:
        yield test_client


def signed_in(client: TestClient, engine: Engine, creditor_id: int) -> tuple[str, str]:
    path = link(engine, creditor_id, "C1")
    return path, csrf_of(sign_in(client, path, "52998"))


def portal_entries(engine: Engine, event: str) -> list[Any]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(interactions.c.detail, interactions.c.data, interactions.c.invoice_id).where(
                interactions.c.kind == "portal"
            )
        ).all()
    found = []
    for row in rows:
        data = row.data if isinstance(row.data, dict) else json.loads(row.data)
        if data.get("event") == event:
            found.append((row.detail, data, row.invoice_id))
    return found


def assert_on_timeline(engine: Engine, event: str) -> str:
    entries = portal_entries(engine, event)
    assert len(entries) == 1, event
    detail, data, _ = entries[0]
    assert data["address"] == "testclient" and data["ua"] == UA
    return str(detail)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def error_of(html: str) -> str:
    found = re.search(r'<p id="erro" class="error" role="alert">([^<]+)</p>', html)
    assert found, html
    return found.group(1)


# --- promise ---------------------------------------------------------------------------------


def test_a_promise_holds_the_debt_until_its_day_and_refuses_days_outside_the_terms(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    form = client.get(f"{path}/promessa")
    assert form.status_code == 200
    # The form proposes what is owed today, and says how far the régua lets a promise go.
    assert 'value="830,07"' in form.text
    assert f"até {TODAY + timedelta(days=30):%d/%m/%Y}" in form.text

    past = client.post(
        f"{path}/promessa", data={"csrf": csrf, "data": "20/11/2026", "valor": "830,07"}
    )
    assert past.status_code == 400
    assert error_of(past.text) == "A data da promessa (20/11/2026) já passou."
    far = TODAY + timedelta(days=31)
    beyond = client.post(
        f"{path}/promessa", data={"csrf": csrf, "data": far.isoformat(), "valor": "830,07"}
    )
    assert beyond.status_code == 400
    assert "passa do prazo da régua" in error_of(beyond.text)
    assert f"até {TODAY + timedelta(days=30):%d/%m/%Y}" in error_of(beyond.text)
    no_amount = client.post(f"{path}/promessa", data={"csrf": csrf, "data": "30/11/2026"})
    assert no_amount.status_code == 400
    forged = client.post(f"{path}/promessa", data={"data": "30/11/2026", "valor": "500,00"})
    assert forged.status_code == 403
    assert count(engine, promises) == 0

    made = client.post(
        f"{path}/promessa", data={"csrf": csrf, "data": "30/11/2026", "valor": "500,00"}
    )
    assert made.status_code == 200
    assert "R$ 500,00 até 30/11/2026" in made.text.replace("\xa0", " ")
    with engine.connect() as connection:
        row = connection.execute(
            select(promises.c.amount_cents, promises.c.promised_for, promises.c.channel)
        ).one()
    assert tuple(row) == (50_000, date(2026, 11, 30), "portal")
    assert "R$ 500,00 até 30/11/2026" in assert_on_timeline(engine, "promise")


def views_of_the_debt(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(interactions)
                .where(interactions.c.detail.like("viu a dívida%"))
            ).scalar_one()
        )


def test_a_forms_page_reads_the_debt_without_recording_a_view_of_it(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path, _ = signed_in(client, engine, portfolio)
    seen = views_of_the_debt(engine)
    assert client.get(f"{path}/promessa").status_code == 200
    assert client.get(f"{path}/contestar").status_code == 200
    # The timeline says what the debtor saw: the debt page, not the forms that quote it.
    assert views_of_the_debt(engine) == seen
    client.get(path)
    assert views_of_the_debt(engine) == seen + 1


# --- new due date ----------------------------------------------------------------------------


def test_a_new_due_date_within_the_terms_is_an_extension_with_fees_up_to_that_day(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    page = client.get(f"{path}/nova-data")
    # The default régua: up to 10 days, with multa and juros running to the new day.
    assert f"até {TODAY + timedelta(days=10):%d/%m/%Y}" in page.text
    assert "A multa e os juros correm até a nova data" in page.text
    too_far = client.post(
        f"{path}/nova-data", data={"csrf": csrf, "data": (TODAY + timedelta(days=11)).isoformat()}
    )
    assert too_far.status_code == 400
    assert "A prorrogação vai no máximo até 03/12/2026 (10 dias)" in error_of(too_far.text)
    past = client.post(f"{path}/nova-data", data={"csrf": csrf, "data": "2026-11-22"})
    assert (past.status_code, error_of(past.text)) == (400, "A data 22/11/2026 já passou.")
    assert client.post(f"{path}/nova-data", data={"data": "2026-11-30"}).status_code == 403
    assert count(engine, agreements) == 0

    done = client.post(f"{path}/nova-data", data={"csrf": csrf, "data": "2026-11-30"})
    assert done.status_code == 200, done.text
    assert "Nova data confirmada" in done.text
    # What the two overdue invoices will owe on 30/11 (the fees run a week longer than today).
    owed = debt_today(
        [
            DebtInvoice(1, "NF-9001", date(2026, 9, 20), 50_000),
            DebtInvoice(2, "NF-9002", date(2026, 10, 20), 30_000),
        ],
        FeeTerms(late_fee_bp=200, interest_monthly_bp=100, is_consumer=True),
        date(2026, 11, 30),
    ).total_cents
    assert owed > 83_007
    assert format_brl(owed) in done.text
    code = re.search(r'<textarea id="pix"[^>]*>([^<]+)</textarea>', done.text)
    assert code is not None and decode(code.group(1)).amount_cents == owed
    with engine.connect() as connection:
        row = connection.execute(
            select(agreements.c.kind, agreements.c.total_cents, agreements.c.channel)
        ).one()
        held = connection.execute(
            select(invoices.c.number).where(invoices.c.status == "in_agreement")
        ).all()
    assert tuple(row) == ("extension", owed, "portal")
    assert sorted(r.number for r in held) == ["NF-9001", "NF-9002"]
    assert "30/11/2026" in assert_on_timeline(engine, "extension")


# --- disputes ----------------------------------------------------------------------------------


def _dispute(
    client: TestClient, path: str, data: dict[str, str], file: tuple[str, bytes, str] | None
) -> Any:
    files = {"comprovante": file} if file is not None else None
    return client.post(f"{path}/contestar", data=data, files=files)


def _invoice_id(html: str, number: str) -> str:
    found = re.search(rf'<option value="(\d+)"[^>]*>{number}:', html)
    assert found, html
    return found.group(1)


def test_already_paid_with_a_receipt_disputes_the_invoice_and_keeps_the_file_outside_the_site(
    client: TestClient, engine: Engine, portfolio: int, receipts: Path
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    form = client.get(f"{path}/contestar")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert "PDF, JPEG ou PNG, até 10 KB." in form.text
    invoice = _invoice_id(form.text, "NF-9002")
    fields = {"csrf": csrf, "titulo": invoice, "motivo": "already_paid", "comentario": "paguei"}
    done = _dispute(client, path, fields, ("pix 10-11.png", PNG, "image/png"))
    assert done.status_code == 200, done.text
    assert "Contestação registrada" in done.text and "Recebemos o comprovante" in done.text

    with engine.connect() as connection:
        status = connection.execute(
            select(invoices.c.number, invoices.c.status).order_by(invoices.c.number)
        ).all()
        row = connection.execute(select(disputes)).one()
    assert dict(status)["NF-9002"] == "disputed"
    assert dict(status)["NF-9001"] == "open"
    assert (row.reason, row.receipt_type, row.receipt_bytes) == ("already_paid", "image/png", 208)
    # A random name, not the sender's; inside the configured folder, nowhere the site serves.
    stored = receipts / row.receipt_file
    assert re.fullmatch(r"[0-9a-f]{32}\.png", row.receipt_file)
    assert stored.read_bytes() == PNG
    assert (stored.stat().st_mode & 0o777) == 0o600
    assert static_files.directory is not None
    assert not stored.resolve().is_relative_to(Path(str(static_files.directory)).resolve())
    assert "NF-9002" in assert_on_timeline(engine, "dispute")
    # The operator sees it on `regua cliente`, and the invoice is no longer for the régua.
    page = customer_page(units(engine), portfolio, "C1", today=TODAY, timezone="UTC")
    assert any("contestou pelo portal o título NF-9002" in line.what for line in page.timeline)
    # The debtor's page says it is under review, and no longer offers to dispute it again.
    html = client.get(path).text
    assert "Em análise" in html and "NF-9002 (Mensalidade outubro)" in html
    assert f'<option value="{invoice}"' not in client.get(f"{path}/contestar").text


def test_not_recognised_needs_no_receipt(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    invoice = _invoice_id(client.get(f"{path}/contestar").text, "NF-9001")
    fields = {"csrf": csrf, "titulo": invoice, "motivo": "not_recognized"}
    done = _dispute(client, path, fields, None)
    assert done.status_code == 200
    with engine.connect() as connection:
        row = connection.execute(select(disputes.c.reason, disputes.c.receipt_file)).one()
    assert tuple(row) == ("not_recognized", None)


@pytest.mark.parametrize(
    ("file", "status", "message"),
    [
        # A renamed executable, a PNG named .pdf, a PDF without a name: refused by content.
        (("comprovante.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"), 400, "PDF, JPEG"),
        (("comprovante.pdf", PNG, "application/pdf"), 400, "PDF, JPEG"),
        (("comprovante.txt", PDF, "text/plain"), 400, "PDF, JPEG"),
        # One byte past the setting: the route's friendly page; far past it: the guard's.
        (("grande.png", PNG + b"\x00" * (MAX_RECEIPT - len(PNG) + 1), "image/png"), 413, "limite"),
        (("enorme.png", PNG + b"\x00" * 1_200_000, "image/png"), 413, "grande demais"),
    ],
)
def test_a_receipt_of_the_wrong_type_or_too_large_is_refused_and_nothing_is_kept(
    client: TestClient,
    engine: Engine,
    portfolio: int,
    receipts: Path,
    file: tuple[str, bytes, str],
    status: int,
    message: str,
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    invoice = _invoice_id(client.get(f"{path}/contestar").text, "NF-9002")
    fields = {"csrf": csrf, "titulo": invoice, "motivo": "already_paid"}
    refused = _dispute(client, path, fields, file)
    assert refused.status_code == status
    assert message in refused.text
    assert "text/html" in refused.headers["content-type"]
    assert count(engine, disputes) == 0
    assert not receipts.exists() or not any(receipts.iterdir())
    with engine.connect() as connection:
        disputed = connection.execute(
            select(func.count()).where(invoices.c.status == "disputed")
        ).scalar()
    assert disputed == 0


def test_a_dispute_without_the_csrf_token_or_a_receipt_when_paid_is_refused(
    client: TestClient, engine: Engine, portfolio: int, receipts: Path
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    invoice = _invoice_id(client.get(f"{path}/contestar").text, "NF-9002")
    forged = _dispute(
        client, path, {"titulo": invoice, "motivo": "already_paid"}, ("a.png", PNG, "image/png")
    )
    assert forged.status_code == 403
    missing = _dispute(
        client, path, {"csrf": csrf, "titulo": invoice, "motivo": "already_paid"}, None
    )
    assert missing.status_code == 400
    assert "envie o comprovante" in missing.text.lower()
    assert count(engine, disputes) == 0 and not receipts.exists()


# --- a call at a chosen time -------------------------------------------------------------------


def test_a_call_asked_for_appears_on_the_call_list_of_that_day_in_those_hours(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path, csrf = signed_in(client, engine, portfolio)
    assert "14:00 às 18:00" in client.get(f"{path}/ligacao").text
    sunday = client.post(
        f"{path}/ligacao", data={"csrf": csrf, "data": "29/11/2026", "horario": "14:00-18:00"}
    )
    assert (sunday.status_code, "domingos" in sunday.text) == (400, True)
    past = client.post(
        f"{path}/ligacao", data={"csrf": csrf, "data": "2026-11-21", "horario": "14:00-18:00"}
    )
    assert (past.status_code, error_of(past.text)) == (400, "A data 21/11/2026 já passou.")
    assert client.post(f"{path}/ligacao", data={"data": "2026-11-24"}).status_code == 403
    assert count(engine, callback_requests) == 0

    done = client.post(
        f"{path}/ligacao", data={"csrf": csrf, "data": "2026-11-24", "horario": "14:00-18:00"}
    )
    assert done.status_code == 200
    assert "24/11/2026, entre 14:00 e 18:00" in done.text
    day = date(2026, 11, 24)
    entries = [e for e in call_list(units(engine), day, NOW) if e.asked_by_customer]
    assert [(e.customer, e.phone, e.hours, e.invoices) for e in entries] == [
        ("C1", "+5511987654321", "14:00-18:00", ("NF-9001", "NF-9002"))
    ]
    assert entries[0].total_cents > 83_007  # a day more of juros than today
    assert call_list(units(engine), TODAY, NOW) == []
    assert "24/11/2026" in assert_on_timeline(engine, "callback")
    assert "Ligação pedida para 24/11/2026" in client.get(path).text


# --- after paying --------------------------------------------------------------------------------


def test_after_a_pix_the_page_says_paid_and_asks_one_question(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    # C3 owes one invoice: its page's PIX pays it whole. (A PIX for several invoices shares one
    # txid, which the webhook applies to one invoice only: a limitation of the webhook.)
    path = link(engine, portfolio, "C3")
    html = sign_in(client, path, "39053")
    csrf = csrf_of(html)
    code = re.search(r'<textarea id="pix"[^>]*>([^<]+)</textarea>', html)
    assert code is not None
    brcode = decode(code.group(1))
    assert brcode.amount_cents is not None
    txid, amount = brcode.txid, brcode.amount_cents
    body = json.dumps(
        {
            "pix": [
                {
                    "endToEndId": "E18236120202611231015" + "1".zfill(11),
                    "txid": txid,
                    "valor": f"{amount // 100}.{amount % 100:02d}",
                    "horario": "2026-11-23T10:15:30.000-03:00",
                }
            ]
        }
    ).encode()
    paid = client.post(
        "/api/v1/webhooks/pix",
        content=body,
        headers={"X-Regua-Signature": sign(body, PIX_SECRET), "Content-Type": "application/json"},
    )
    assert paid.status_code == 200, paid.text

    after = client.get(path).text
    assert "Pagamento recebido" in after
    assert "NF-9003 (Parcela)" in after and "pago em 23/11/2026" in after
    assert "Você não tem pendências em aberto" in after
    assert "Como foi resolver sua pendência" in after
    bad = client.post(f"{path}/avaliacao", data={"csrf": csrf, "nota": "9"})
    assert bad.status_code == 400
    assert client.post(f"{path}/avaliacao", data={"nota": "5"}).status_code == 403
    rated = client.post(
        f"{path}/avaliacao", data={"csrf": csrf, "nota": "5", "comentario": "Bem fácil"}
    )
    assert rated.status_code == 200
    with engine.connect() as connection:
        row = connection.execute(select(portal_feedback.c.score, portal_feedback.c.comment)).one()
    assert tuple(row) == (5, "Bem fácil")
    assert "nota 5 de 5" in assert_on_timeline(engine, "feedback")
    # Asked once.
    assert "Como foi resolver sua pendência" not in client.get(path).text


# --- identity by date of birth -------------------------------------------------------------------


def test_the_identity_check_asks_the_date_of_birth_when_the_erp_gave_it(
    client: TestClient, engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    with_birth = (
        "codigo_cliente;nome;cpf_cnpj;data_nascimento\n"
        "C1;José da Conceição;529.982.247-25;07/03/1961\n"
    )
    run_import(engine, "customers", write_csv(tmp_path / "n.csv", with_birth), portfolio)
    path = link(engine, portfolio, "C1")
    page = client.get(path)
    assert "data de nascimento" in page.text
    assert "primeiros números" not in page.text
    csrf = csrf_of(page.text)
    # The CPF's digits no longer open it.
    wrong = client.post(f"{path}/identidade", data={"csrf": csrf, "documento": "52998"})
    assert wrong.status_code == 400 and "José" not in wrong.text
    right = client.post(
        f"{path}/identidade", data={"csrf": csrf, "documento": "07/03/1961"}, follow_redirects=False
    )
    assert right.status_code == 303
    assert "José da Conceição" in client.get(path).text
    # Another customer, without a birth date, is still asked for the CPF's digits.
    other = client.get(link(engine, portfolio, "C3"))
    assert "5 primeiros números" in other.text
    assert customer_id(engine, portfolio, "C1") != customer_id(engine, portfolio, "C3")


# --- the pages behind the check, and when something fails ----------------------------------------


def test_the_new_pages_show_nothing_before_the_identity_check(
    client: TestClient, engine: Engine, portfolio: int
) -> None:
    path = link(engine, portfolio, "C1")
    csrf = csrf_of(client.get(path).text)  # a session, not yet checked
    for page in ("promessa", "nova-data", "contestar", "ligacao"):
        shown = client.get(f"{path}/{page}", follow_redirects=False)
        assert (shown.status_code, shown.headers["location"]) == (303, path), page
    for page, data in (
        ("promessa", {"csrf": csrf, "data": "30/11/2026", "valor": "100,00"}),
        ("nova-data", {"csrf": csrf, "data": "30/11/2026"}),
        ("ligacao", {"csrf": csrf, "data": "24/11/2026", "horario": "14:00-18:00"}),
        ("avaliacao", {"csrf": csrf, "nota": "5"}),
    ):
        posted = client.post(f"{path}/{page}", data=data, follow_redirects=False)
        assert posted.status_code == 303, page
    files = {"comprovante": ("a.png", PNG, "image/png")}
    posted = client.post(
        f"{path}/contestar", data={"csrf": csrf}, files=files, follow_redirects=False
    )
    assert posted.status_code == 303
    for table in (promises, agreements, callback_requests, portal_feedback, disputes):
        assert count(engine, table) == 0


def test_a_receipt_that_cannot_be_stored_gets_a_friendly_page_and_changes_nothing(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    blocked = tmp_path / "um-arquivo"
    blocked.write_text("não é uma pasta")
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        link_secret=SECRET,
        receipts_dir=blocked / "comprovantes",
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        path, csrf = signed_in(client, engine, portfolio)
        invoice = _invoice_id(client.get(f"{path}/contestar").text, "NF-9002")
        fields = {"csrf": csrf, "titulo": invoice, "motivo": "already_paid"}
        failed = _dispute(client, path, fields, ("a.png", PNG, "image/png"))
    assert failed.status_code == 500
    assert "text/html" in failed.headers["content-type"]
    assert "Algo deu errado" in failed.text and "Traceback" not in failed.text
    assert count(engine, disputes) == 0
    with engine.connect() as connection:
        status = connection.execute(
            select(invoices.c.status).where(invoices.c.number == "NF-9002")
        ).scalar_one()
    assert status == "open"
