"""`regua doctor`: is this installation configured to work? Each check is one line, ok or
"falha" with the reason, in pt-BR; nothing is sent and nothing is written."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError

from regua.config import Settings
from regua.services.operations_status import broker_problem, readiness
from regua.store import creditors
from regua.store.installation_secrets import LINK_SIGNING, read_secret
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def diagnose(uow: UnitOfWorkFactory, settings: Settings, *, broker_set: bool) -> list[Check]:
    """Database, schema, broker (when `broker_set`), SMTP, providers, secrets, time zones."""
    checks: list[Check] = []
    status = readiness(uow, None)
    database = status.checks["database"]
    checks.append(Check("banco", database == "ok", "acessível" if database == "ok" else database))
    if database == "ok":
        schema = status.checks["schema"]
        checks.append(
            Check(
                "esquema", schema == "ok", f"na versão {status.head}" if schema == "ok" else schema
            )
        )
    if broker_set:
        problem = broker_problem(settings.broker_url)
        checks.append(Check("broker", problem is None, problem or "acessível"))
    checks.append(_smtp(settings))
    checks.extend(_providers(settings))
    checks.append(_public_links(settings))
    checks.extend(_secrets(uow, settings, database_ok=database == "ok"))
    if database == "ok" and status.checks.get("schema") == "ok":
        checks.append(_timezones(uow, settings))
    return checks


def _smtp(settings: Settings, timeout: float = 5.0) -> Check:
    if not settings.smtp_host:
        return Check("smtp", True, f"não configurado: e-mails vão para {settings.outbox_dir}/")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            code, _ = client.ehlo()
            if code != 250:
                return Check("smtp", False, f"{where} recusou o EHLO (código {code})")
            if settings.smtp_security == "starttls" and not client.has_extn("starttls"):
                return Check("smtp", False, f"{where} não oferece STARTTLS")
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtp", False, f"{where} inacessível: {exc}")
    return Check("smtp", True, f"{where} respondeu ao EHLO")


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} não é um endereço http(s)"
    return None


def _providers(settings: Settings) -> list[Check]:
    found: list[Check] = []
    providers = (
        ("sms", settings.sms_base_url, {"REGUA_SMS_TOKEN": settings.sms_token}),
        (
            "whatsapp",
            settings.whatsapp_base_url,
            {
                "REGUA_WHATSAPP_TOKEN": settings.whatsapp_token,
                "REGUA_WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
            },
        ),
    )
    for name, url, needed in providers:
        if not url:
            found.append(
                Check(name, True, f"não configurado: mensagens vão para {settings.outbox_dir}/")
            )
            continue
        problem = _url_problem(url)
        missing = [variable for variable, value in needed.items() if not value]
        if problem:
            found.append(Check(name, False, problem))
        elif missing:
            found.append(Check(name, False, f"{url} sem {', '.join(missing)}"))
        else:
            found.append(Check(name, True, url))
    return found


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


def _public_links(settings: Settings) -> Check:
    """Links in real messages must open on the customer's phone: a portal or unsubscribe address
    on this machine is fine while everything goes to the outbox, wrong once anything is sent."""
    local = [
        f"{variable}={url}"
        for variable, url in (
            ("REGUA_PORTAL_BASE_URL", settings.portal_base_url),
            ("REGUA_UNSUBSCRIBE_BASE_URL", settings.unsubscribe_base_url),
        )
        if (urlsplit(url).hostname or "") in _LOOPBACK_HOSTS
    ]
    sends = bool(settings.smtp_host or settings.sms_base_url or settings.whatsapp_base_url)
    if not local:
        return Check("links", True, "endereços públicos")
    if not sends:
        return Check(
            "links", True, f"nesta máquina ({', '.join(local)}): só a caixa de saída local"
        )
    return Check(
        "links",
        False,
        f"{', '.join(local)} {'aponta' if len(local) == 1 else 'apontam'} para esta máquina: "
        "o cliente não abre o link; "
        "defina o endereço público (HTTPS)",
    )


def _secrets(uow: UnitOfWorkFactory, settings: Settings, *, database_ok: bool) -> list[Check]:
    found: list[Check] = []
    if settings.link_secret:
        found.append(Check("segredo dos links", True, "REGUA_LINK_SECRET"))
    elif database_ok:
        try:
            with uow() as work:
                stored = read_secret(work.connection, LINK_SIGNING)
        except DBAPIError:
            stored = None
        found.append(
            Check(
                "segredo dos links",
                bool(stored),
                "guardado no banco"
                if stored
                else "ausente: defina REGUA_LINK_SECRET ou rode `regua db upgrade`",
            )
        )
    messaging = bool(settings.sms_base_url or settings.whatsapp_base_url)
    if settings.webhook_secret:
        found.append(Check("segredo do webhook", True, "REGUA_WEBHOOK_SECRET"))
    elif messaging:
        found.append(
            Check(
                "segredo do webhook",
                False,
                "REGUA_WEBHOOK_SECRET vazio: o webhook de SMS/WhatsApp recusa toda chamada",
            )
        )
    else:
        found.append(Check("segredo do webhook", True, "não usado (sem provedor de SMS/WhatsApp)"))
    return found


def _timezones(uow: UnitOfWorkFactory, settings: Settings) -> Check:
    with uow() as work:
        zones = [
            creditors.timezone(work.connection, c.id) for c in creditors.names(work.connection)
        ]
    other = next((zone for zone in zones if zone and zone != settings.timezone), None)
    if other is None:
        return Check("fuso", True, settings.timezone)
    return Check(
        "fuso",
        False,
        f"REGUA_TIMEZONE={settings.timezone} difere do fuso do credor ({other}): "
        "use o mesmo (veja docs/configuration.md)",
    )
