"""The portal's pages: GET /p/{token} and the forms it posts.

Nothing about the customer is shown or read before the identity check: a bad link and a good
one without a session answer the same kind of page (a link's validity is no secret, its data
is). Forms are plain HTML posts with a CSRF token, so every path (see the debt, copy the PIX
code, accept an offer, promise a date, ask for a new due date, dispute an invoice with a
receipt, ask for a call, rate the service after paying) needs no JavaScript. Responses are never
cached and never send the URL (it holds the token) as a referrer.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from regua.bootstrap import App
from regua.domain.channels import CHANNELS
from regua.domain.money import MoneyFormatError, format_brl, parse_brl
from regua.domain.receipts import ACCEPTED_NAMES
from regua.errors import ReguaError
from regua.payments.pix import PixError, decode
from regua.services import portal
from regua.services import portal_requests as asks
from regua.services.customer_links import link_secret
from regua.web.deps import AppDep
from regua.web.portal import session as sessions

router = APIRouter(prefix="/p", tags=["portal"], include_in_schema=False)
STATIC_PATH = "/portal-estatico"
UPLOAD_SUFFIX = "/contestar"  # the one form with a file: the request guard lets it be larger
static_files = StaticFiles(directory=Path(__file__).parent / "static")

_env = Environment(
    loader=PackageLoader("regua.web.portal", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # packaged templates do not change under a running server
)
# An amount never breaks between "R$" and its figure; in attributes, plain text (brl_text).
_env.filters["brl"] = lambda cents: Markup('<span class="money">%s</span>') % format_brl(cents)
_env.filters["brl_text"] = format_brl
_env.filters["dia"] = lambda day: f"{day:%d/%m/%Y}"
_env.filters["pct"] = lambda value: f"{value:.2f}".replace(".", ",") + "%"
# An offer's line ("entrada de R$ 59,95 + 3x de R$ 187,06"), capitalised, amounts unbroken.
_env.filters["sentence"] = lambda text: (text[:1].upper() + text[1:]).replace("R$ ", "R$\u00a0")
_env.globals["static"] = STATIC_PATH

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

_LINK_PAGES = {
    "expired": (
        410,
        "Este link expirou",
        "Por segurança, os links das mensagens valem por um tempo limitado. Use o link da "
        "mensagem mais recente ou fale com a empresa pelos contatos da mensagem.",
    ),
    "invalid": (
        404,
        "Link não reconhecido",
        "Confira se o link foi copiado inteiro, ou use o link da mensagem mais recente.",
    ),
    "locked": (
        429,
        "Acesso bloqueado por segurança",
        "Houve muitas tentativas erradas de confirmar a identidade. Tente de novo amanhã pelo "
        "link da mensagem, ou fale com a empresa pelos contatos da mensagem.",
    ),
    "gone": (
        404,
        "Nada a mostrar",
        "Não encontramos pendências para este link. Fale com a empresa se tiver dúvidas.",
    ),
}


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _message(kind: str) -> HTMLResponse:
    status, title, text = _LINK_PAGES[kind]
    return _page("message.html", status, title=title, text=text)


def _address(request: Request) -> str:
    return request.client.host if request.client else "desconhecido"


def _agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:200]


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qs(body, max_num_fields=20)
    except ValueError:  # more fields than any of the portal's forms has: not one of them
        return {}
    return {k: v[0] for k, v in fields.items()}


class _Visit:
    """A request to a link: its secret, customer and session, checked once."""

    def __init__(self, regua: App, request: Request, token: str, secret: str) -> None:
        self.regua, self.request, self.token, self.secret = regua, request, token, secret
        self.link = portal.check_portal_link(secret, token, regua.today())
        self.session = sessions.load(secret, request.cookies.get(sessions.COOKIE))

    @property
    def customer_id(self) -> int:
        return self.link.customer_id or 0

    @property
    def verified(self) -> bool:
        return self.session is not None and self.session.verified_for(
            self.customer_id, self.regua.now()
        )

    def with_cookie(self, response: Response, session: sessions.Session) -> Response:
        response.set_cookie(
            sessions.COOKIE,
            sessions.dump(self.secret, session),
            max_age=sessions.SESSION_MINUTES * 60,
            path="/p/",
            httponly=True,
            samesite="lax",
            # Behind HTTPS (uvicorn --proxy-headers) the cookie never travels in clear.
            secure=self.request.url.scheme == "https",
        )
        return response


# The signing secret `regua init` stores is made once and never changed: each process reads
# it once, not on every page.
_secrets: WeakKeyDictionary[App, str] = WeakKeyDictionary()


async def _visit(regua: App, request: Request, token: str) -> _Visit:
    secret = _secrets.get(regua)
    if secret is None:
        secret = await run_in_threadpool(link_secret, regua.uow, regua.settings)
        if secret:  # none yet: read again next time
            _secrets[regua] = secret
    return _Visit(regua, request, token, secret)


async def _identity_page(visit: _Visit, status: int = 200, error: str | None = None) -> Response:
    session = visit.session or sessions.new_session(0, visit.regua.now())
    question = await run_in_threadpool(portal.identity_question, visit.regua.uow, visit.customer_id)
    response = _page(
        "identity.html",
        status,
        token=visit.token,
        csrf=session.csrf(visit.secret),
        error=error,
        digits=portal.ANSWER_DIGITS,
        question=question,
    )
    return visit.with_cookie(response, session) if visit.session is None else response


@router.get("/{token}", response_class=HTMLResponse)
async def debt_page(token: str, request: Request, regua: AppDep) -> Response:
    """The identity check, then the debt, the PIX and the offers."""
    visit = await _visit(regua, request, token)
    if visit.link.status != "valid":
        return _message(visit.link.status)
    if not visit.verified:
        locked = await run_in_threadpool(
            portal.is_locked,
            regua.uow,
            customer_id=visit.customer_id,
            token=token,
            address=_address(request),
            now=regua.now(),
        )
        return _message("locked") if locked else await _identity_page(visit)
    view = await run_in_threadpool(
        portal.portal_view,
        regua.uow,
        visit.customer_id,
        today=regua.today(),
        now=regua.now(),
        address=_address(request),
        user_agent=_agent(request),
    )
    if view is None:
        return _message("gone")
    assert visit.session is not None
    return _page(
        "debt.html", view=view, token=token, csrf=visit.session.csrf(visit.secret), notice=None
    )


@router.post("/{token}/identidade", response_class=HTMLResponse)
async def identity(token: str, request: Request, regua: AppDep) -> Response:
    visit = await _visit(regua, request, token)
    if visit.link.status != "valid":
        return _message(visit.link.status)
    form = await _form(request)
    if not sessions.csrf_ok(visit.secret, visit.session, form.get("csrf", "")):
        return _refused()
    checked = await run_in_threadpool(
        portal.check_identity,
        regua.uow,
        customer_id=visit.customer_id,
        token=token,
        answer=form.get("documento", "")[:40],
        address=_address(request),
        user_agent=_agent(request),
        now=regua.now(),
    )
    if checked.status == "locked":
        return _message("locked")
    if checked.status == "wrong":
        left = checked.tries_left
        return await _identity_page(
            visit,
            400,
            error=f"A resposta não confere. {left} tentativa{'s' if left > 1 else ''} "
            f"restante{'s' if left > 1 else ''}.",
        )
    response = RedirectResponse(f"/p/{token}", status_code=303)
    return visit.with_cookie(response, sessions.new_session(visit.customer_id, regua.now()))


def _refused() -> HTMLResponse:
    return _page(
        "message.html",
        403,
        title="Formulário expirado",
        text="Por segurança, abra de novo o link da mensagem e repita a operação.",
    )


async def _verified_visit(regua: App, request: Request, token: str) -> _Visit | Response:
    visit = await _visit(regua, request, token)
    if visit.link.status != "valid":
        return _message(visit.link.status)
    if not visit.verified:
        return RedirectResponse(f"/p/{token}", status_code=303)
    return visit


async def _posted(
    regua: App, request: Request, token: str
) -> tuple[_Visit, dict[str, str]] | Response:
    """A verified visit's form, its CSRF token checked; else the page to answer with."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    form = await _form(request)
    if not sessions.csrf_ok(visit.secret, visit.session, form.get("csrf", "")):
        return _refused()
    return visit, form


def _sentence(refused: ReguaError) -> str:
    """A service's refusal as a sentence of the page."""
    return refused.message[:1].upper() + refused.message[1:] + "."


@router.get("/{token}/qr.svg")
async def pix_qr(token: str, request: Request, regua: AppDep, codigo: str = "") -> Response:
    """The QR code of a PIX code the page showed, as an image, for verified visitors only."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    try:
        decode(codigo)
    except PixError:
        return Response(status_code=404)
    svg = await run_in_threadpool(portal.qr_svg, codigo)
    return Response(
        svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get("/{token}/oferta/{number}", response_class=HTMLResponse)
async def offer_page(token: str, number: int, request: Request, regua: AppDep) -> Response:
    """One offer's schedule and disclosure, with the button that accepts it."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    offer = await run_in_threadpool(
        portal.offer_of, regua.uow, visit.customer_id, number, today=regua.today(), now=regua.now()
    )
    if offer is None:
        return RedirectResponse(f"/p/{token}", status_code=303)
    assert visit.session is not None
    return _page(
        "offer.html",
        offer=offer,
        number=number,
        token=token,
        csrf=visit.session.csrf(visit.secret),
        error=None,
    )


@router.post("/{token}/oferta/{number}", response_class=HTMLResponse)
async def accept(token: str, number: int, request: Request, regua: AppDep) -> Response:
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    try:
        offered_on = date.fromisoformat(form.get("feita_em", ""))
    except ValueError:
        return RedirectResponse(f"/p/{token}/oferta/{number}", status_code=303)
    try:
        made = await run_in_threadpool(
            portal.accept_offer,
            regua.uow,
            visit.customer_id,
            number,
            offered_on=offered_on,
            today=regua.today(),
            now=regua.now(),
            address=_address(request),
            user_agent=_agent(request),
        )
    except ReguaError as refused:
        return _page(
            "message.html", 409, title="Não foi possível fechar o acordo", text=refused.message
        )
    first = made.installments[0]
    return _page("agreement.html", made=made, first=first, token=token)


@router.post("/{token}/parar", response_class=HTMLResponse)
async def stop(token: str, request: Request, regua: AppDep) -> Response:
    """Stop collection messages on one channel, at once."""
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    channel = form.get("canal", "")
    if channel not in CHANNELS:
        return RedirectResponse(f"/p/{token}", status_code=303)
    await run_in_threadpool(
        portal.stop_channel,
        regua.uow,
        visit.customer_id,
        channel,
        now=regua.now(),
        address=_address(request),
        user_agent=_agent(request),
    )
    return _page(
        "message.html",
        title="Pronto: pedido registrado",
        text="Você não receberá mais mensagens de cobrança por este canal.",
        back=f"/p/{token}",
    )


# --- what else a debtor may ask -----------------------------------------------------------------


def _visitor(request: Request) -> asks.Visitor:
    return asks.Visitor(_address(request), _agent(request))


def _form_page(visit: _Visit, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    assert visit.session is not None
    return _page(
        name,
        status,
        token=visit.token,
        csrf=visit.session.csrf(visit.secret),
        today=visit.regua.today(),
        **{"error": None, "values": {}} | context,
    )


async def _owing(visit: _Visit) -> portal.PortalView | None:
    """The debt's figures for a form (the promise's amount, the invoices to dispute): read only,
    not recorded as a view of the debt."""
    regua = visit.regua
    return await run_in_threadpool(
        portal.portal_view,
        regua.uow,
        visit.customer_id,
        today=regua.today(),
        now=regua.now(),
        shown=False,
    )


async def _limits(visit: _Visit) -> asks.DateLimits:
    regua = visit.regua
    return await run_in_threadpool(
        asks.date_limits, regua.uow, visit.customer_id, today=regua.today(), now=regua.now()
    )


@router.get("/{token}/promessa", response_class=HTMLResponse)
async def promise_page(token: str, request: Request, regua: AppDep) -> Response:
    """A date (and amount) the debtor promises to pay by."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    view = await _owing(visit)
    if view is None or not view.invoices:
        return RedirectResponse(f"/p/{token}", status_code=303)
    limits = await _limits(visit)
    return _form_page(
        visit,
        "promise.html",
        limits=limits,
        values={"valor": format_brl(view.totals["total_cents"]).removeprefix("R$").strip()},
    )


@router.post("/{token}/promessa", response_class=HTMLResponse)
async def promise(token: str, request: Request, regua: AppDep) -> Response:
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    limits = await _limits(visit)
    values = {"valor": form.get("valor", "")[:30], "data": form.get("data", "")[:20]}
    day = portal.typed_day(values["data"])
    try:
        cents = parse_brl(values["valor"])
    except MoneyFormatError:
        cents = 0
    error = None
    if day is None:
        error = "Informe a data em que vai pagar (dia/mês/ano)."
    elif cents <= 0:
        error = "Informe o valor que vai pagar, como 150,00."
    if error is None and day is not None:
        try:
            made = await run_in_threadpool(
                asks.promise_to_pay,
                regua.uow,
                visit.customer_id,
                amount_cents=cents,
                promised_for=day,
                today=regua.today(),
                now=regua.now(),
                visitor=_visitor(request),
            )
        except ReguaError as refused:
            error = _sentence(refused)
        else:
            return _page(
                "message.html",
                title="Promessa registrada",
                text=(
                    f"Anotamos: você vai pagar {format_brl(made.amount_cents)} até "
                    f"{made.promised_for:%d/%m/%Y}. Até lá, não enviaremos cobranças desta "
                    "dívida. Use o PIX desta página para pagar."
                ),
                back=f"/p/{token}",
            )
    return _form_page(visit, "promise.html", 400, limits=limits, values=values, error=error)


@router.get("/{token}/nova-data", response_class=HTMLResponse)
async def extension_page(token: str, request: Request, regua: AppDep) -> Response:
    """A new due date for the overdue debt (prorrogação), within the terms."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    return _form_page(visit, "extension.html", limits=await _limits(visit))


@router.post("/{token}/nova-data", response_class=HTMLResponse)
async def extension(token: str, request: Request, regua: AppDep) -> Response:
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    values = {"data": form.get("data", "")[:20]}
    day = portal.typed_day(values["data"])
    error = "Informe a nova data (dia/mês/ano)."
    if day is not None:
        try:
            made = await run_in_threadpool(
                asks.ask_new_due_date,
                regua.uow,
                visit.customer_id,
                pay_on=day,
                today=regua.today(),
                now=regua.now(),
                visitor=_visitor(request),
            )
        except ReguaError as refused:
            error = _sentence(refused)
        else:
            first = made.installments[0]
            return _page("agreement.html", made=made, first=first, token=token, extension=True)
    return _form_page(
        visit, "extension.html", 400, limits=await _limits(visit), values=values, error=error
    )


def _dispute_page(
    visit: _Visit, view: portal.PortalView, status: int = 200, **context: Any
) -> HTMLResponse:
    settings = visit.regua.settings
    return _form_page(
        visit,
        "dispute.html",
        status,
        invoices=view.disputable,
        accepted=",".join(ACCEPTED_NAMES),
        max_size=asks.size_pt(settings.receipt_max_bytes),
        **context,
    )


@router.get("/{token}" + UPLOAD_SUFFIX, response_class=HTMLResponse)
async def dispute_page(token: str, request: Request, regua: AppDep) -> Response:
    """Dispute an invoice: not recognised, or already paid (with the receipt)."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    view = await _owing(visit)
    if view is None or not view.disputable:
        return RedirectResponse(f"/p/{token}", status_code=303)
    return _dispute_page(visit, view)


@router.post("/{token}" + UPLOAD_SUFFIX, response_class=HTMLResponse)
async def dispute(token: str, request: Request, regua: AppDep) -> Response:
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    settings = regua.settings
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    except StarletteHTTPException:  # a malformed body, too many parts, a field too large
        return _refused()
    if not sessions.csrf_ok(visit.secret, visit.session, str(form.get("csrf", ""))):
        return _refused()
    upload = form.get("comprovante")
    receipt = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        # One byte past the limit is enough to refuse; the guard capped the body already.
        content = await upload.read(settings.receipt_max_bytes + 1)
        receipt = asks.Receipt(upload.filename[:200], content)
    values = {
        "titulo": str(form.get("titulo", ""))[:20],
        "motivo": str(form.get("motivo", ""))[:20],
        "comentario": str(form.get("comentario", ""))[: asks.COMMENT_CHARS],
    }
    await form.close()
    try:
        invoice_id = int(values["titulo"])
    except ValueError:
        invoice_id = 0
    try:
        done = await run_in_threadpool(
            asks.dispute_invoice,
            regua.uow,
            visit.customer_id,
            invoice_id,
            reason=values["motivo"],
            comment=values["comentario"],
            receipt=receipt,
            receipts_dir=settings.receipts_dir,
            max_bytes=settings.receipt_max_bytes,
            now=regua.now(),
            visitor=_visitor(request),
        )
    except ReguaError as refused:
        view = await _owing(visit)
        if view is None:
            return _message("gone")
        too_large = receipt is not None and len(receipt.content) > settings.receipt_max_bytes
        return _dispute_page(
            visit,
            view,
            413 if too_large else 400,
            values=values,
            error=_sentence(refused),
        )
    received = " Recebemos o comprovante." if done.receipt_file else ""
    return _page(
        "message.html",
        title="Contestação registrada",
        text=(
            f"O título {done.invoice_number} está em análise.{received} Enquanto isso, não "
            "enviaremos cobranças dele. A empresa vai responder pelos contatos cadastrados."
        ),
        back=f"/p/{token}",
    )


@router.get("/{token}/ligacao", response_class=HTMLResponse)
async def call_page(token: str, request: Request, regua: AppDep) -> Response:
    """Ask for a call on a chosen day and hours."""
    visit = await _verified_visit(regua, request, token)
    if not isinstance(visit, _Visit):
        return visit
    return _call_form(visit)


def _call_form(visit: _Visit, status: int = 200, **context: Any) -> HTMLResponse:
    today = visit.regua.today()
    return _form_page(
        visit,
        "call.html",
        status,
        windows=[f"{a}-{b}" for a, b in asks.CALL_WINDOWS],
        last_day=today + timedelta(days=asks.CALL_DAYS_AHEAD),
        **context,
    )


@router.post("/{token}/ligacao", response_class=HTMLResponse)
async def call(token: str, request: Request, regua: AppDep) -> Response:
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    values = {"data": form.get("data", "")[:20], "horario": form.get("horario", "")[:20]}
    day = portal.typed_day(values["data"])
    error = "Informe o dia da ligação (dia/mês/ano)."
    if day is not None:
        try:
            asked = await run_in_threadpool(
                asks.ask_for_a_call,
                regua.uow,
                visit.customer_id,
                day=day,
                window=values["horario"],
                now=regua.now(),
                visitor=_visitor(request),
            )
        except ReguaError as refused:
            error = _sentence(refused)
        else:
            return _page(
                "message.html",
                title="Ligação agendada",
                text=(
                    f"Vamos ligar em {asked.day:%d/%m/%Y}, entre {asked.starts} e {asked.ends}, "
                    "para o telefone cadastrado."
                ),
                back=f"/p/{token}",
            )
    return _call_form(visit, 400, values=values, error=error)


@router.post("/{token}/avaliacao", response_class=HTMLResponse)
async def feedback(token: str, request: Request, regua: AppDep) -> Response:
    """The one question after paying: a score from 1 to 5 and an optional comment."""
    posted = await _posted(regua, request, token)
    if not isinstance(posted, tuple):
        return posted
    visit, form = posted
    score = form.get("nota", "")
    try:
        await run_in_threadpool(
            asks.give_feedback,
            regua.uow,
            visit.customer_id,
            score=int(score) if score.isdigit() and len(score) == 1 else 0,
            comment=form.get("comentario", "")[: asks.COMMENT_CHARS],
            now=regua.now(),
            visitor=_visitor(request),
        )
    except ReguaError as refused:
        return _page(
            "message.html",
            400,
            title="Avaliação não registrada",
            text=refused.message,
            back=f"/p/{token}",
        )
    return _page(
        "message.html",
        title="Obrigado pela avaliação",
        text="Sua resposta ajuda a empresa a atender melhor.",
        back=f"/p/{token}",
    )
