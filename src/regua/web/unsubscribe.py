"""The unsubscribe page of the e-mails: GET /descadastro/{token} and POST (one click).

Every e-mail carries ``List-Unsubscribe: <https://.../descadastro/TOKEN>`` with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): the mail client POSTs to
the link and the customer stops receiving e-mails. A person who opens the link gets a page
with a button (GET never changes anything: mail scanners open links). A link that expired,
or an old link from before links had tokens, gets a page saying what to do, never an error.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from regua.services.customer_links import (
    Unsubscribed,
    check_unsubscribe_link,
    link_secret,
    unsubscribe_by_link,
)
from regua.web.deps import AppDep

router = APIRouter(prefix="/descadastro", tags=["descadastro"], include_in_schema=False)

_PAGE = """<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:40px auto;
padding:0 16px;color:#1d2329;line-height:1.5">
<h1 style="font-size:22px">{title}</h1>{body}</body></html>"""

_MESSAGES = {
    "opted_out": (
        200,
        "Pronto: você não receberá mais e-mails de cobrança",
        "<p>Seu pedido foi registrado. Se tiver dúvidas sobre um pagamento, fale com a empresa "
        "pelos contatos da mensagem que recebeu.</p>",
    ),
    "already": (
        200,
        "Você já tinha pedido para não receber e-mails",
        "<p>Nada mais precisa ser feito.</p>",
    ),
    "expired": (
        410,
        "Este link expirou",
        "<p>Por segurança, os links dos e-mails valem por um tempo limitado. Use o link do "
        "e-mail mais recente ou responda a ele pedindo para não receber mais mensagens.</p>",
    ),
    "invalid": (
        404,
        "Link não reconhecido",
        "<p>Este link não é válido ou é de uma versão antiga das mensagens. Use o link do "
        "e-mail mais recente ou responda a ele pedindo para não receber mais mensagens.</p>",
    ),
}


def _page(outcome: Unsubscribed) -> HTMLResponse:
    status, title, body = _MESSAGES[outcome.status]
    return HTMLResponse(_PAGE.format(title=escape(title), body=body), status_code=status)


@router.get("/{token}", response_class=HTMLResponse)
async def unsubscribe_page(token: str, regua: AppDep) -> HTMLResponse:
    """The page of the link: a button that confirms (nothing changes on GET)."""
    secret = await run_in_threadpool(link_secret, regua.uow, regua.settings)
    checked = check_unsubscribe_link(secret, token, regua.today())
    if checked.status != "valid":
        return _page(checked)
    form = (
        f'<form method="post" action="{escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<p>Confirme para não receber mais e-mails de cobrança desta empresa.</p>"
        '<button type="submit" style="font-size:16px;padding:10px 18px">'
        "Não quero mais receber e-mails</button></form>"
    )
    return HTMLResponse(_PAGE.format(title="Descadastrar este e-mail", body=form), status_code=200)


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe(token: str, regua: AppDep) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058) and the page's button: e-mail opted out, once."""
    secret = await run_in_threadpool(link_secret, regua.uow, regua.settings)
    outcome = await run_in_threadpool(
        unsubscribe_by_link, regua.uow, secret, token, regua.today(), regua.now()
    )
    return _page(outcome)
