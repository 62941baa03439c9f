"""The portal in a real browser: Debian's Chromium, driven by Playwright, at phone size, against
a real uvicorn server on loopback over a demo database, from the link the demo prints to a
confirmed 3x agreement. Skipped when Chromium or Playwright is missing, unless
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

from regua.bootstrap import build_app
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.money import format_brl
from regua.services import negotiation
from regua.services.customer_page import customer_page
from regua.services.demo import build_demo, demo_database_url
from regua.web.app import web_app
from tests.builders import NOW
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

    def __init__(self, app: Any) -> None:
        self.port = free_port()
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
