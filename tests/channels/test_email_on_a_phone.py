"""Every default e-mail read in real Chromium on a 360 px phone screen: nothing runs off the side
(a PIX copia e cola is 150 characters without a space), and the preventive reminder shows the
discount, its own PIX code and the portal button."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from regua.channels.rendering import TemplateRenderer
from regua.channels.template_samples import SAMPLE_EARLY_PIX_CODE, sample_context

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("REGUA_TEST_REQUIRE_BROWSER") == "1"
TODAY = date(2026, 11, 23)
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def page() -> Any:
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
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser.new_page(viewport=PHONE)
        finally:
            browser.close()


def test_no_default_email_runs_off_a_phone_screen(page: Any) -> None:
    renderer = TemplateRenderer()
    for name in renderer.template_names():
        context = sample_context(TODAY, offset=renderer.meta(name)["offset"])
        page.set_content(renderer.render(name, "email", context).html)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def test_the_reminder_on_a_phone_shows_the_discount_its_pix_and_the_portal(page: Any) -> None:
    context = sample_context(TODAY, offset=-7)
    page.set_content(TemplateRenderer().render("lembrete_vencimento", "email", context).html)
    shown = " ".join(page.inner_text("body").split())
    assert (
        "Desconto por antecipação: pagando até 25/11/2026, você paga R$ 146,90 em vez de "
        "R$ 149,90 (desconto de R$ 3,00)."
    ) in shown
    assert "PIX copia e cola com o desconto (R$ 146,90, para pagamento até 25/11/2026)" in shown
    code = page.get_by_text(SAMPLE_EARLY_PIX_CODE[:40])
    assert code.inner_text().replace("\n", "") == SAMPLE_EARLY_PIX_CODE
    assert (
        "PIX copia e cola: copie o código abaixo e cole no aplicativo do seu banco (valor "
        "integral, R$ 149,90)."
    ) in shown
    button = page.get_by_role("link", name="Ver opções de pagamento")
    assert button.get_attribute("href") == context["payment"]["portal_url"]
    assert button.bounding_box()["x"] + button.bounding_box()["width"] <= PHONE["width"]
