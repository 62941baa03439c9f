"""The portal in a real browser: Debian's Chromium, driven by Playwright, at phone size, against
a real uvicorn server on loopback: from the link the demo prints to a confirmed 3x agreement;
and from the link in a rendered collection e-mail to a 3x agreement, its PIX code copied, and
an invoice disputed with a receipt uploaded. Skipped when Chromium or Playwright is missing, unless
REGUA_TEST_REQUIRE_BROWSER=1 (CI), where their absence fails.

Screenshots of each screen go to the test's folder, and to REGUA_TEST_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from regua.bootstrap import build_app
from regua.channels.rendering import default_renderer
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.money import format_brl
from regua.payments.pix import decode
from regua.services import negotiation
from regua.services.customer_links import portal_links
from regua.services.customer_page import customer_page
from regua.services.customer_preview import customer_preview
from regua.services.demo import build_demo, demo_database_url
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.importing import import_file
from regua.services.setup import create_creditor
from regua.store.tables import disputes, invoices
from regua.web.app import web_app
from tests.builders import CUSTOMERS_CSV, NOW, write_csv
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("REGUA_TEST_REQUIRE_BROWSER") == "1"
TODAY = NOW.date()


def _browser_or_skip() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE:
            pytest.fail("REGUA_TEST_REQUIRE_BROWSER=1 but playwright is not installed")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        if REQUIRE:
            pytest.fail(f"REGUA_TEST_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return sync_playwright


class Server:
    """uvicorn in a thread on a loopback port."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Any]:
    folder = tmp_path / "demo"
    settings = Settings(
        database_url=demo_database_url(folder),
        portal_base_url="http://127.0.0.1:{port}/p",
        outbox_dir=tmp_path / "outbox",
    )
    regua = build_app(settings, clock=FixedClock(NOW))
    result = build_demo(
        folder,
        uow=regua.uow,
        settings=settings,
        customers=40,
        seed=7,
        today=TODAY,
        now=NOW,
        days=0,
    )
    try:
        yield regua, result
    finally:
        regua.close()


def _shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    wanted = os.environ.get("REGUA_TEST_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(wanted) / path.name)


def _cents(text: str) -> int:
    digits = re.sub(r"[^0-9]", "", text)
    return int(digits)


def test_a_debtor_goes_from_the_demo_link_to_a_3x_agreement_on_a_phone(
    demo: Any, tmp_path: Path
) -> None:
    sync_playwright = _browser_or_skip()
    regua, result = demo
    assert result.portal is not None
    with Server(web_app(regua)) as server:
        url = result.portal.url.replace("{port}", str(server.port))
        # What the services say this customer owes and may accept today.
        code_of = result.portal.customer_code
        # The demo's database holds one creditor, the first.
        owed = customer_page(regua.uow, 1, code_of, today=TODAY, timezone=regua.settings.timezone)
        assert owed.customer.name == result.portal.customer_name
        offers = negotiation.customer_offers(regua.uow, 1, code_of, today=TODAY, now=NOW).offers
        three = next(i for i, o in enumerate(offers, 1) if o.count == 3)
        chosen = offers[three - 1]

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="pt-BR"
            )
            context.grant_permissions(
                ["clipboard-read", "clipboard-write"], origin=f"http://127.0.0.1:{server.port}"
            )
            page = context.new_page()
            started = time.monotonic()
            taps = 0
            page.goto(url)
            _shot(page, tmp_path, "1-identidade")
            assert result.portal.customer_name not in page.content()
            page.get_by_label("5 primeiros números do CPF ou CNPJ").fill(result.portal.answer)
            page.get_by_role("button", name="Continuar").click()
            taps += 2
            page.wait_for_selector("text=Total hoje")
            _shot(page, tmp_path, "2-divida")
            total = page.locator(".total .amount")
            assert _cents(total.inner_text()) == owed.totals["total_cents"]
            assert int(total.get_attribute("data-total") or 0) == owed.totals["total_cents"]

            code = page.locator("#pix").input_value()
            assert code.startswith("000201")
            page.get_by_role("button", name="Copiar código PIX").click()
            taps += 1
            assert page.evaluate("navigator.clipboard.readText()") == code
            assert page.get_by_role("button", name="Código copiado").is_visible()

            page.get_by_role("link", name=f"Ver parcelas e aceitar a proposta {three}").click()
            taps += 1
            page.wait_for_selector("text=Informações do acordo")
            _shot(page, tmp_path, "3-oferta")
            shown = page.locator("dd[data-total]")
            assert int(shown.get_attribute("data-total") or 0) == chosen.total_cents
            assert format_brl(chosen.total_cents) in shown.inner_text()
            page.get_by_role("button", name="Confirmar acordo").click()
            taps += 1
            page.wait_for_selector("text=Acordo confirmado")
            _shot(page, tmp_path, "4-acordo")
            elapsed = time.monotonic() - started
            assert format_brl(chosen.total_cents) in page.content()
            first_pix = page.locator("#pix").input_value()
            assert first_pix.startswith("000201")
            assert format_brl(chosen.payments[0].amount_cents) in page.content()

            # 200 % zoom: the page reflows (no sideways scrolling) at the same width.
            page.set_viewport_size({"width": 195, "height": 422})
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            _shot(page, tmp_path, "5-acordo-zoom-200")
            assert overflow <= 0
            browser.close()
    print(f"portal: {taps} toques em {elapsed:.1f} s, do link ao acordo 3x")
    assert taps <= 6


PORTFOLIO_INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;situacao
9001;NF-9001;C1;Mensalidade setembro;20/09/2026;500,00;aberto
9002;NF-9002;C1;Mensalidade outubro;20/10/2026;300,00;aberto
9004;NF-9004;C1;Mensalidade dezembro;10/12/2026;300,00;aberto
"""
PORTAL_SECRET = "segredo-do-portal-no-navegador"
# A small but real PDF: what a bank app exports as a PIX receipt starts the same way.
RECEIPT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_from_a_collection_email_to_an_agreement_a_copied_pix_and_a_dispute_on_a_phone(
    sqlite_template: Path, tmp_path: Path
) -> None:
    sync_playwright = _browser_or_skip()
    database = tmp_path / "regua.db"
    shutil.copy(sqlite_template, database)
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{database}",
        link_secret=PORTAL_SECRET,
        portal_base_url=f"http://127.0.0.1:{port}/p",
        receipts_dir=tmp_path / "dados" / "comprovantes",
    )
    regua = build_app(settings, clock=FixedClock(NOW))
    with regua.uow() as work:
        creditor_id = create_creditor(work.connection, EXAMPLE_CREDITOR, NOW)
        work.commit()
    for kind, name, text in (
        ("customers", "c.csv", CUSTOMERS_CSV),
        ("invoices", "t.csv", PORTFOLIO_INVOICES),
    ):
        import_file(
            regua.uow, kind, write_csv(tmp_path / name, text), creditor_id=creditor_id, now=NOW
        )
    preview = customer_preview(
        regua.uow,
        creditor_id,
        "C1",
        "atraso_amigavel",
        day=TODAY,
        now=NOW,
        channel="email",
        portal=portal_links(regua.uow, settings),
    )
    email = default_renderer().render("atraso_amigavel", "email", preview.context)
    assert email.html is not None and f"http://127.0.0.1:{port}/p/" in email.html
    offers = negotiation.customer_offers(regua.uow, creditor_id, "C1", today=TODAY, now=NOW)
    three = next(i for i, o in enumerate(offers.offers, 1) if o.count == 3)
    chosen = offers.offers[three - 1]
    shots = tmp_path / "telas"
    shots.mkdir()
    taps: list[str] = []

    def tap(what: str) -> None:
        taps.append(what)

    try:
        with Server(web_app(regua), port) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            context = browser.new_context(
                viewport={"width": 360, "height": 800}, device_scale_factor=2, locale="pt-BR"
            )
            context.grant_permissions(
                ["clipboard-read", "clipboard-write"], origin=f"http://127.0.0.1:{server.port}"
            )
            page = context.new_page()
            page.set_content(email.html)
            _shot(page, shots, "1-email")
            started = time.monotonic()
            page.locator(f'a[href^="http://127.0.0.1:{port}/p/"]').first.click()
            tap("link do e-mail")
            page.wait_for_selector("text=Confirme sua identidade")
            _shot(page, shots, "2-identidade")
            assert "José" not in page.content()
            page.get_by_label("5 primeiros números do CPF ou CNPJ").fill("52998")
            tap("digitar os 5 números")
            page.get_by_role("button", name="Continuar").click()
            tap("Continuar")
            page.wait_for_selector("text=Total hoje")
            _shot(page, shots, "3-divida")
            assert "José da Conceição" in page.content()

            page.get_by_role("link", name=f"Ver parcelas e aceitar a proposta {three}").click()
            tap("ver a proposta 3x")
            page.wait_for_selector("text=Informações do acordo")
            _shot(page, shots, "4-oferta-3x")
            page.get_by_role("button", name="Confirmar acordo").click()
            tap("Confirmar acordo")
            page.wait_for_selector("text=Acordo confirmado")
            shown = page.locator("strong[data-total]")
            assert int(shown.get_attribute("data-total") or 0) == chosen.total_cents
            code = page.locator("#pix").input_value()
            assert decode(code).amount_cents == chosen.payments[0].amount_cents
            page.get_by_role("button", name="Copiar código PIX").click()
            tap("Copiar código PIX")
            assert page.evaluate("navigator.clipboard.readText()") == code
            assert page.get_by_role("button", name="Código copiado").is_visible()
            _shot(page, shots, "5-acordo-pix-copiado")

            page.get_by_role("link", name="Ver minhas pendências").click()
            tap("Ver minhas pendências")
            page.get_by_role("link", name="Contestar um título").click()
            tap("Contestar um título")
            page.wait_for_selector("text=Motivo")
            # Only the December invoice is left to dispute: the others are in the agreement.
            options = page.locator("#titulo option").all_inner_texts()
            assert options == ["NF-9004: Mensalidade dezembro"]
            page.get_by_label("Já paguei").check()
            tap("Já paguei")
            receipt = tmp_path / "comprovante-pix.pdf"
            receipt.write_bytes(RECEIPT_PDF)
            page.get_by_label("Comprovante (obrigatório se já pagou)").set_input_files(receipt)
            tap("escolher o comprovante")
            _shot(page, shots, "6-contestacao")
            page.get_by_role("button", name="Enviar contestação").click()
            tap("Enviar contestação")
            page.wait_for_selector("text=Contestação registrada")
            elapsed = time.monotonic() - started
            _shot(page, shots, "7-contestacao-registrada")
            assert "NF-9004" in page.content()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0
            # The other forms, for the record (outside the path timed above).
            page.get_by_role("link", name="Voltar", exact=True).click()
            page.wait_for_selector("text=Em análise")
            _shot(page, shots, "8-divida-em-analise")
            for name, shot in (
                ("Prometer uma data de pagamento", "9-promessa"),
                ("Pedir uma ligação", "10-ligacao"),
            ):
                page.get_by_role("link", name=name).click()
                page.wait_for_selector("text=Voltar às pendências")
                _shot(page, shots, shot)
                page.go_back()
            browser.close()
        with regua.uow() as work:
            status = dict(
                work.connection.execute(select(invoices.c.number, invoices.c.status)).all()
            )
            kept = work.connection.execute(select(disputes.c.receipt_file)).scalar_one()
    finally:
        regua.close()
    assert status["NF-9004"] == "disputed"
    assert status["NF-9001"] == status["NF-9002"] == "in_agreement"
    assert (settings.receipts_dir / kept).read_bytes() == RECEIPT_PDF
    print(
        f"portal: {len(taps)} toques em {elapsed:.2f} s, do e-mail ao acordo 3x, PIX copiado e "
        f"contestação com comprovante: {'; '.join(taps)}"
    )
    # Loosely: one tap per decision, no detours (the time is printed, never asserted).
    assert 10 <= len(taps) <= 14
