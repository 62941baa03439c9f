"""The portal's accessibility in a real browser: axe-core (npm, `npm ci` at the repository root)
injected into every page a debtor can reach, at phone width (360x800) and at 200 % zoom (the
same phone's 180 CSS pixels), and the core path done with the keyboard alone (Tab to the PIX
copy button, to an offer, to the confirmation).

A serious or critical axe violation fails the test; every violation found is printed with the
elements it names. Skipped when Chromium, Playwright or node_modules/axe-core is missing,
unless REGUA_TEST_REQUIRE_BROWSER=1 (CI), where their absence fails.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from regua.domain.customer_links import LinkPurpose, make_link_token, read_link_token
from regua.services.customer_links import link_secret
from regua.web.app import web_app
from tests.builders import NOW
from tests.web.test_portal_browser import CHROMIUM, Server, _browser_or_skip, demo

__all__ = ["demo"]  # the fixture, shared with the browser test

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
REQUIRE = os.environ.get("REGUA_TEST_REQUIRE_BROWSER") == "1"
TODAY = NOW.date()
PHONE = {"width": 360, "height": 800}
ZOOM_200 = {"width": 180, "height": 400}  # the same phone at 200 % zoom, in CSS pixels
BLOCKING = ("serious", "critical")
# The focus ring every control draws (portal.css); a control without one is lost to a keyboard.
FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""

# The innermost elements that stick out past the page's right edge (what makes it scroll).
WIDER_THAN_PAGE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > width + 0.5))
    .slice(0, 5)
    .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
      + " " + (e.textContent || "").trim().slice(0, 30));
}"""


def _axe_or_skip() -> str:
    if not AXE.exists():
        if REQUIRE:
            pytest.fail(f"REGUA_TEST_REQUIRE_BROWSER=1 but {AXE} is missing (npm ci)")
        pytest.skip(f"{AXE} is missing (run npm ci at the repository root)")
    return AXE.read_text(encoding="utf-8")


class Audit:
    """Runs axe on each page at both sizes and keeps what it finds."""

    def __init__(self, page: Any, axe: str, folder: Path) -> None:
        self.page, self.axe, self.folder = page, axe, folder
        self.blocking: list[str] = []
        self.pages: list[str] = []

    def check(self, name: str) -> None:
        self.pages.append(name)
        for label, size in (("360px", PHONE), ("zoom-200", ZOOM_200)):
            self.page.set_viewport_size(size)
            if not self.page.evaluate("typeof window.axe !== 'undefined'"):
                # Evaluated through the DevTools protocol: the page's CSP (no inline script)
                # stays on, as a debtor's browser has it.
                self.page.evaluate(self.axe)
            results = self.page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            assert results["passes"], f"axe checked nothing on {name}"
            found = results["violations"]
            for violation in found:
                targets = [", ".join(node["target"]) for node in violation["nodes"]]
                line = (
                    f"{name} @ {label}: [{violation['impact']}] {violation['id']}: "
                    f"{violation['help']} -> {json.dumps(targets[:5], ensure_ascii=False)}"
                )
                print(line)
                if violation["impact"] in BLOCKING:
                    self.blocking.append(line)
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                wide = self.page.evaluate(WIDER_THAN_PAGE)
                self.blocking.append(f"{name} @ {label}: scrolls sideways by {overflow} px: {wide}")
            self.page.screenshot(path=str(self.folder / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(PHONE)


def _tab_to(page: Any, wanted: str, limit: int = 60) -> list[str]:
    """Press Tab until the focused element matches the CSS selector `wanted`; the elements
    passed on the way (each must show its focus ring)."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').trim()"
            ".slice(0, 40); }"
        )
        passed.append(here)
        assert page.evaluate(FOCUS_RING), f"no visible focus on {here}"
        if page.evaluate("(s) => document.activeElement.matches(s)", wanted):
            return passed
    raise AssertionError(f"Tab never reached {wanted}; passed {passed}")


def test_every_portal_page_passes_axe_and_the_core_path_needs_only_a_keyboard(
    demo: Any, tmp_path: Path
) -> None:
    sync_playwright = _browser_or_skip()
    axe = _axe_or_skip()
    regua, result = demo
    assert result.portal is not None
    with Server(web_app(regua)) as server:
        base = f"http://127.0.0.1:{server.port}"
        url = result.portal.url.replace("{port}", str(server.port))
        secret = link_secret(regua.uow, regua.settings)
        customer = read_link_token(secret, LinkPurpose.PORTAL, url.rsplit("/", 1)[1], TODAY)
        expired = make_link_token(
            secret, LinkPurpose.PORTAL, customer, TODAY - timedelta(days=90), days=1
        )
        wrong = "99999" if result.portal.answer != "99999" else "11111"

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="pt-BR")
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            audit = Audit(page, axe, tmp_path)

            page.goto(f"{base}/p/nao-e-um-link")
            audit.check("link-invalido")
            page.goto(f"{base}/p/{expired}")
            audit.check("link-expirado")

            page.goto(url)
            audit.check("identidade")
            page.get_by_label("5 primeiros números do CPF ou CNPJ").fill(wrong)
            page.get_by_role("button", name="Continuar").click()
            page.wait_for_selector("text=A resposta não confere")
            audit.check("identidade-erro")

            # From here on, the keyboard alone.
            page.goto(url)
            _tab_to(page, "#documento")
            page.keyboard.type(result.portal.answer)
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Total hoje")
            audit.check("divida")

            _tab_to(page, "button[data-copy]")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Código copiado").wait_for(timeout=5000)
            assert (
                page.evaluate("navigator.clipboard.readText()")
                == page.locator("#pix").input_value()
            )
            _tab_to(page, "a[href*='/oferta/']")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Informações do acordo")
            audit.check("oferta")

            # Stopping a channel, then back (the agreement comes last: it ends the offers).
            page.goto(url)
            _tab_to(page, "#canal")
            _tab_to(page, "button[type=submit]")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Pronto: pedido registrado")
            audit.check("parar-mensagens")

            # The debtor's other requests, each a page of its own form.
            for path, name in (
                ("promessa", "promessa"),
                ("nova-data", "nova-data"),
                ("contestar", "contestacao"),
                ("ligacao", "ligacao"),
            ):
                page.goto(f"{url}/{path}")
                audit.check(name)

            # The QR code, opened from the keyboard.
            page.goto(url)
            _tab_to(page, "details.qr summary")
            page.keyboard.press("Enter")
            page.wait_for_selector("details.qr[open] img")
            audit.check("divida-qr")

            page.goto(url)
            _tab_to(page, "a[href*='/oferta/']")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Informações do acordo")
            _tab_to(page, "button[type=submit]")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Acordo confirmado")
            audit.check("acordo")
            _tab_to(page, "button[data-copy]")
            browser.close()

    print(f"axe: {len(audit.pages)} páginas, 2 tamanhos cada: {', '.join(audit.pages)}")
    assert not audit.blocking, "\n".join(audit.blocking)
