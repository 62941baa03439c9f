"""What the debtor sees on the portal once staff answered, over HTTP on SQLite and PostgreSQL: a
dispute settled with `regua contestacao resolver` shows its decision for 30 days instead of "Em
análise", and a call marked made with `regua ligacao feita` is no longer announced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.services.portal import portal_view
from regua.store.tables import callback_requests, disputes
from regua.web.app import create_app
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv
from tests.web.test_portal import C1_TOTAL, INVOICES, SECRET, csrf_of, customer_id, link, sign_in

TODAY = NOW.date()  # Monday 23/11/2026
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
runner = CliRunner()


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


@pytest.fixture
def client(engine: Engine, portfolio: int, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        link_secret=SECRET,
        receipts_dir=tmp_path / "comprovantes",
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as test_client:
        yield test_client


def staff(db_url: str, *args: str) -> str:
    result = runner.invoke(app, ["--db", db_url, "--today", TODAY.isoformat(), *args])
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _option(html: str, number: str) -> str:
    found = re.search(rf'<option value="(\d+)"[^>]*>{number}:', html)
    assert found, html
    return found.group(1)


def _dispute(client: TestClient, path: str, csrf: str, number: str, reason: str) -> None:
    invoice = _option(client.get(f"{path}/contestar").text, number)
    files: Any = (
        {"comprovante": ("pix.png", PNG, "image/png")} if reason == "already_paid" else None
    )
    done = client.post(
        f"{path}/contestar",
        data={"csrf": csrf, "titulo": invoice, "motivo": reason},
        files=files,
    )
    assert done.status_code == 200, done.text


def _id_of(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(table.c.id).order_by(table.c.id.desc())).first()[0])


def test_the_page_shows_the_decision_instead_of_under_review_and_forgets_a_call_made(
    client: TestClient, engine: Engine, portfolio: int, db_url: str
) -> None:
    path = link(engine, portfolio, "C1")
    csrf = csrf_of(sign_in(client, path, "52998"))
    _dispute(client, path, csrf, "NF-9002", "already_paid")
    asked = client.post(
        f"{path}/ligacao", data={"csrf": csrf, "data": "2026-11-24", "horario": "14:00-18:00"}
    )
    assert asked.status_code == 200
    before = client.get(path).text
    assert "Em análise" in before and "Ligação pedida para 24/11/2026" in before
    assert "foi analisada" not in before

    staff(
        db_url,
        "contestacao",
        "resolver",
        str(_id_of(engine, disputes)),
        "--decisao",
        "improcede",
        "--nota",
        "o Pix do comprovante é de outro título",
    )
    staff(db_url, "ligacao", "feita", str(_id_of(engine, callback_requests)))

    after = client.get(path).text
    assert (
        "Sua contestação do título NF-9002 foi analisada: não procede, e o título voltou a ser "
        "cobrado." in after
    )
    assert "Em análise" not in after
    assert "Ligação pedida para" not in after
    # The staff's note is theirs: the debtor reads the decision only.
    assert "outro título" not in after
    # The invoice is owed again: in the total (as before the dispute), and open to a dispute.
    assert C1_TOTAL not in before and C1_TOTAL in after.replace("\xa0", " ")
    _option(client.get(f"{path}/contestar").text, "NF-9002")

    # 30 days later the answer is gone from the page.
    later = portal_view(
        units(engine),
        customer_id(engine, portfolio, "C1"),
        today=TODAY + timedelta(days=31),
        now=NOW + timedelta(days=31),
    )
    assert later is not None and later.answered == []


def test_an_accepted_dispute_says_the_invoice_was_cancelled(
    client: TestClient, engine: Engine, portfolio: int, db_url: str
) -> None:
    path = link(engine, portfolio, "C3")
    csrf = csrf_of(sign_in(client, path, "39053"))
    _dispute(client, path, csrf, "NF-9003", "not_recognized")
    staff(
        db_url,
        "contestacao",
        "resolver",
        str(_id_of(engine, disputes)),
        "--decisao",
        "procede",
        "--nota",
        "cobrança indevida",
    )
    page = client.get(path).text
    assert (
        "Sua contestação do título NF-9003 foi analisada: procede. O título foi cancelado e não "
        "será mais cobrado." in page
    )
    assert "Você não tem pendências em aberto" in page
