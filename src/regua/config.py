"""Settings: read once from the environment (REGUA_ prefix) or arguments, validated, passed down.

Nothing imports a global settings object; `bootstrap.build_app` builds the one `Settings` of a
process and hands it to whoever needs it (the CLI, the web app, the Celery workers).

Every field has a description: docs/configuration.md is generated from them
(`settings_reference`), and a test fails when the two disagree. `ACCEPTED` says, in pt-BR, what
a variable takes, for the one-line error a bad value gets (`config_problem`).
"""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from regua.domain.amount_limits import DEFAULT_MAX_INVOICE_CENTS, HARD_MAX_CENTS
from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.domain.channels import MESSAGE_CHANNELS
from regua.error_codes import ErrorCode
from regua.errors import ReguaError

DEFAULT_DATABASE_URL = "sqlite:///regua.db"
# Seconds after which Redis gives an unacknowledged task to another worker; keep it at least the
# claim lease, or a slow send would be given to a second worker while the first still holds it.
DEFAULT_VISIBILITY_TIMEOUT = 3600
ENV_PREFIX = "REGUA_"
SMTP_SECURITY = ("none", "starttls", "ssl")

# Fields whose values are secrets: `regua config` shows them masked.
SECRET_FIELDS = frozenset(
    {
        "webhook_secret",
        "pix_webhook_secret",
        "whatsapp_verify_token",
        "link_secret",
        "smtp_password",
        "sms_token",
        "whatsapp_token",
    }
)
# Fields holding URLs that may carry a password (postgresql://user:password@host/db).
URL_FIELDS = frozenset({"database_url", "broker_url", "rate_limit_redis_url"})


class ConfigError(ReguaError):
    """A REGUA_* variable whose value cannot be used."""

    code = ErrorCode.INVALID_CONFIG


class Settings(BaseSettings):
    # An empty variable (REGUA_TODAY= in a crontab) means "not set", not an invalid value.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="Banco de dados (URL do SQLAlchemy): sqlite:///arquivo.db ou "
        "postgresql://usuario:senha@servidor/banco.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Conexões ao banco mantidas abertas por processo: o aplicativo web atende "
        "até esse número de pedidos ao mesmo tempo sem abrir conexões novas (com 5, o portal "
        "abria e fechava conexões ao PostgreSQL a partir de 6 visitantes simultâneos). Até 10 "
        "a mais são abertas quando preciso e fechadas depois.",
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="Fuso da instalação (IANA): o meio-dia de REGUA_TODAY e o dia do envio "
        "distribuído. O dia da régua é o do fuso do credor; o horário de contato, o do estado "
        "do cliente (veja 'Fusos horários').",
    )
    outbox_dir: Path = Field(
        default=Path("outbox"),
        description="Pasta onde as mensagens são gravadas quando nenhum provedor está "
        "configurado (modo embutido) e onde ficam as cartas.",
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Broker do modo distribuído (Celery): redis://... ou amqp://... "
        "Usado por `regua worker` e `regua dispatch --distributed`.",
    )
    webhook_secret: str = Field(
        default="",
        description="Chave HMAC das chamadas dos provedores de SMS e WhatsApp. Vazia: o "
        "webhook recusa toda chamada.",
    )
    pix_webhook_secret: str = Field(
        default="",
        description="Chave HMAC das chamadas de Pix do PSP. Vazia: o webhook de Pix recusa "
        "toda chamada.",
    )
    whatsapp_verify_token: str = Field(
        default="",
        description="Token que a Meta devolve ao verificar a assinatura do webhook do WhatsApp.",
    )
    link_secret: str = Field(
        default="",
        description="Assina os links do portal e do descadastro. Vazio: o segredo guardado "
        "no banco (criado por `regua init`).",
    )
    link_valid_days: int = Field(
        default=60,
        ge=1,
        le=3650,
        description="Dias que um link de mensagem vale; depois mostra uma página de link expirado.",
    )
    portal_base_url: str = Field(
        default="http://127.0.0.1:8000/p",
        description="Endereço público do portal do cliente (HTTPS em produção).",
    )
    unsubscribe_base_url: str = Field(
        default="http://127.0.0.1:8000/descadastro",
        description="Endereço público da página de descadastro (/descadastro da API).",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Maior corpo de requisição aceito pela API, em bytes.",
    )
    receipts_dir: Path = Field(
        default=Path("comprovantes"),
        description="Pasta onde ficam os comprovantes enviados pelo portal do cliente (fora "
        "das páginas servidas; cada arquivo com um nome aleatório).",
    )
    receipt_max_bytes: int = Field(
        default=5_000_000,
        ge=1024,
        le=50_000_000,
        description="Maior comprovante aceito pelo portal (PDF, JPEG ou PNG), em bytes.",
    )
    max_invoice_cents: int = Field(
        default=DEFAULT_MAX_INVOICE_CENTS,
        gt=0,
        le=HARD_MAX_CENTS,
        description="Maior valor de um título ou pagamento, em centavos: importações, arquivos "
        "de retorno e notificações de Pix recusam mais.",
    )

    smtp_host: str = Field(
        default="",
        description="Servidor SMTP. Vazio: os e-mails vão para a pasta REGUA_OUTBOX_DIR.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Porta do servidor SMTP.")
    smtp_security: str = Field(
        default="none",
        description="Segurança da conexão SMTP: none, starttls ou ssl.",
    )
    smtp_username: str = Field(default="", description="Usuário do SMTP (vazio: sem login).")
    smtp_password: str = Field(default="", description="Senha do SMTP.")
    smtp_sender: str = Field(
        default="",
        description="Remetente (From) padrão, para credores sem endereço próprio.",
    )
    sms_base_url: str = Field(
        default="", description="URL da API do provedor de SMS. Vazio: SMS vão para a pasta."
    )
    sms_token: str = Field(default="", description="Token da API do provedor de SMS.")
    sms_sender: str = Field(default="regua", description="Remetente dos SMS.")
    whatsapp_base_url: str = Field(
        default="",
        description="URL da API do WhatsApp (Cloud API da Meta). Vazio: mensagens vão para a "
        "pasta.",
    )
    whatsapp_token: str = Field(default="", description="Token da API do WhatsApp.")
    whatsapp_phone_number_id: str = Field(
        default="", description="Id do número de telefone do WhatsApp Business."
    )
    whatsapp_api_version: str = Field(
        default="v21.0", description="Versão da Graph API usada para o WhatsApp."
    )
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"email": 50.0, "sms": 20.0, "whatsapp": 20.0},
        description="Mensagens por segundo por canal, em JSON: o limite da instalação, "
        "dividido entre os workers pelo Redis (veja REGUA_RATE_LIMIT_REDIS_URL).",
    )
    rate_limit_redis_url: str = Field(
        default="",
        description="Redis onde todos os workers (e `regua dispatch`) dividem os limites de "
        "REGUA_RATE_LIMITS de cada canal. Vazio: no modo distribuído, o broker quando é Redis; "
        "com RabbitMQ, cada processo de worker envia a limite/concorrência (aviso no log); no "
        "modo embutido, o limite é do processo.",
    )
    today: date | None = Field(
        default=None,
        description="Roda como se hoje fosse esta data (AAAA-MM-DD; relógio parado ao "
        "meio-dia), para refazer um dia perdido ou ensaiar um futuro. Vazio: o relógio do "
        "sistema.",
    )
    creditor: str | None = Field(
        default=None,
        description="Com mais de um credor no banco, o credor em que os comandos atuam (id, "
        "CNPJ ou nome), como --credor. Vazio: o único credor; com vários, o comando pede "
        "--credor.",
    )
    claim_lease_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Segundos após os quais uma ação presa em 'enviando' (worker morto) pode "
        "ser retomada. Vazio: 300.",
    )
    broker_visibility_timeout: int = Field(
        default=DEFAULT_VISIBILITY_TIMEOUT,
        ge=1,
        description="Segundos após os quais o Redis entrega a outro worker uma tarefa não "
        "confirmada; mantenha acima da concessão (REGUA_CLAIM_LEASE_SECONDS).",
    )
    enqueue_every_seconds: float = Field(
        default=60.0,
        gt=0,
        description="De quanto em quanto tempo o worker com --beat publica as ações devidas "
        "e as novas tentativas.",
    )
    broker_transport_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Mais opções de transporte do kombu, em JSON (por exemplo "
        '{"global_keyprefix": "loja1:"} para dividir um Redis entre instalações).',
    )
    worker_concurrency: int = Field(
        default=0,
        ge=0,
        description="Processos de envio de um worker (definido por `regua worker "
        "--concurrency`); 0: um por CPU.",
    )

    scheduler: bool = Field(
        default=True,
        description="Se `regua serve` roda o agendador: o dia (`regua run`) no horário "
        "REGUA_DAILY_RUN_AT e, no modo embutido, os envios durante a janela de contato. "
        "false: o dia fica com o cron (`regua run`) ou outro processo.",
    )
    daily_run_at: time = Field(
        default=time(7, 30),
        description="Hora (HH:MM, no fuso do credor) em que o agendador de `regua serve` roda "
        "o dia; se o processo sobe depois dessa hora e o dia ainda não rodou, roda na hora.",
    )
    scheduler_dispatch_every_seconds: float = Field(
        default=300.0,
        gt=0,
        description="De quanto em quanto tempo o agendador de `regua serve` envia o que está "
        "devido, enquanto a janela de contato está aberta (modo embutido; com "
        "REGUA_BROKER_URL o envio é do worker com --beat).",
    )
    web_workers: int = Field(
        default=1,
        ge=1,
        description="Processos do aplicativo web de `regua serve` (--workers), para o portal "
        "usar os núcleos da máquina; o agendador roda uma vez, no processo principal. Mais de "
        "1 é para o PostgreSQL: no SQLite os processos esperam a vez de escrever no mesmo "
        "arquivo. Cada processo responde /metrics por si.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Formato dos logs da linha de comando, dos workers e da API: text, ou json "
        "(um objeto por linha: time, level, logger, message e os campos do evento; sem dados "
        "pessoais).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Nível dos logs em JSON (REGUA_LOG_FORMAT=json): DEBUG, INFO, WARNING ou "
        "ERROR.",
    )

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        if value not in SMTP_SECURITY:
            raise ValueError("smtp_security must be none, starttls or ssl")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value}") from None
        return value

    @field_validator("rate_limits")
    @classmethod
    def _known_channels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [name for name in value if name not in MESSAGE_CHANNELS]
        if unknown or any(rate <= 0 for rate in value.values()):
            raise ValueError("rate_limits: known channels, positive rates")
        return value

    @property
    def lease(self) -> timedelta | None:
        """The claim lease of distributed mode; None leaves the dispatcher's default."""
        if self.claim_lease_seconds is None:
            return None
        return timedelta(seconds=self.claim_lease_seconds)


# What each variable takes, in pt-BR, where its type does not say it plainly.
ACCEPTED: dict[str, str] = {
    "smtp_security": "use none, starttls ou ssl",
    "timezone": "use um fuso IANA, como America/Sao_Paulo ou America/Manaus",
    "rate_limits": "use JSON com canais e mensagens por segundo, como "
    '{"email": 50, "sms": 20} (canais: ' + ", ".join(MESSAGE_CHANNELS) + ")",
    "broker_transport_options": 'use um objeto JSON, como {"global_keyprefix": "loja1:"}',
    "today": "use uma data AAAA-MM-DD",
    "link_valid_days": "use um número inteiro de 1 a 3650",
    "max_body_bytes": "use um número inteiro a partir de 1024",
    "receipt_max_bytes": "use um número inteiro de 1024 a 50000000",
    "smtp_port": "use um número inteiro de 1 a 65535",
    "claim_lease_seconds": "use um número de segundos maior que zero",
    "enqueue_every_seconds": "use um número de segundos maior que zero",
    "broker_visibility_timeout": "use um número inteiro de segundos maior que zero",
    "worker_concurrency": "use um número inteiro (0: um processo por CPU)",
    "scheduler": "use true ou false",
    "daily_run_at": "use uma hora HH:MM, como 07:30",
    "scheduler_dispatch_every_seconds": "use um número de segundos maior que zero",
    "web_workers": "use um número inteiro a partir de 1",
    "db_pool_size": "use um número inteiro de 1 a 500",
    "log_format": "use text ou json",
    "log_level": "use DEBUG, INFO, WARNING ou ERROR",
}


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The REGUA_* variables that give another process (a web worker) these same settings.

    Only the fields set or different from their default: a default never becomes a variable,
    because some code reads a variable's presence (REGUA_BROKER_URL means distributed mode).
    """
    dumped = settings.model_dump(mode="json")
    variables: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        value = getattr(settings, name)
        default = info.get_default(call_default_factory=True)
        if value is None or (name not in settings.model_fields_set and value == default):
            continue
        shown = dumped[name]
        variables[env_name(name)] = shown if isinstance(shown, str) else json.dumps(shown)
    return variables


def _field_of(text: str) -> str | None:
    """The settings field a pydantic-settings message names (`"rate_limits"`), if any."""
    for name in Settings.model_fields:
        if f'"{name}"' in text or f"'{name}'" in text:
            return name
    return None


def config_problem(exc: Exception, environ: dict[str, str]) -> ConfigError:
    """One pt-BR line naming the variable, its value and what it accepts."""
    fields: list[str] = []
    if isinstance(exc, ValidationError):
        fields = [str(error["loc"][0]) for error in exc.errors() if error["loc"]]
    else:  # pydantic-settings' SettingsError: a JSON variable that does not parse
        named = _field_of(str(exc))
        fields = [named] if named else []
    if not fields:
        return ConfigError(f"configuração inválida: {str(exc).splitlines()[0]}")
    parts = []
    for name in dict.fromkeys(fields):
        variable = env_name(name)
        value = environ.get(variable)
        shown = "" if value is None or name in SECRET_FIELDS else f"={value}"
        accepted = ACCEPTED.get(name) or _accepted_by_type(name)
        parts.append(f"{variable}{shown} inválido: {accepted}")
    return ConfigError("configuração inválida: " + "; ".join(parts))


def _accepted_by_type(name: str) -> str:
    annotation = str(Settings.model_fields[name].annotation)
    if "int" in annotation:
        return "use um número inteiro"
    if "float" in annotation:
        return "use um número"
    return "veja docs/configuration.md"


def masked_url(url: str) -> str:
    """A URL without its password (``postgresql://eu:***@servidor/banco``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def effective_settings(settings: Settings) -> dict[str, Any]:
    """Every setting as `regua config` shows it: secrets masked, URL passwords hidden."""
    shown: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            value = "***" if value else ""
        elif name in URL_FIELDS and isinstance(value, str):
            value = masked_url(value)
        elif isinstance(value, time):
            value = value.isoformat("minutes")
        elif isinstance(value, Path | date):
            value = str(value)
        shown[env_name(name)] = value
    return shown


def settings_reference() -> str:
    """docs/configuration.md: every variable, its default and meaning, from `Settings`."""
    lines = [
        "# Configuração",
        "",
        "<!-- Gerado a partir de `regua.config.Settings` (`settings_reference`); "
        "tests/test_configuration_docs.py falha quando diverge. -->",
        "",
        "Toda configuração vem de variáveis de ambiente com o prefixo `REGUA_` (ou de um "
        "arquivo `.env` carregado pelo seu gerenciador de processos; veja `.env.example`). "
        "Uma variável vazia vale como não definida. `regua config` mostra os valores em vigor "
        "(segredos mascarados) e `regua doctor` verifica banco, broker, SMTP, provedores e "
        "segredos. Um valor inválido faz o comando parar com uma linha que nomeia a variável e "
        "o que ela aceita (código de saída 2).",
        "",
        "| Variável | Padrão | Descrição |",
        "| --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, dict):
            default_text = json.dumps(default) if default else "{}"
        elif default is None or default == "":
            default_text = "(vazio)"
        elif isinstance(default, time):
            default_text = default.isoformat("minutes")
        elif isinstance(default, bool):
            default_text = str(default).lower()
        else:
            default_text = str(default)
        secret = " Segredo: mascarado em `regua config`." if name in SECRET_FIELDS else ""
        description = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{env_name(name)}` | `{default_text}` | {description}{secret} |")
    lines += ["", TIMEZONE_RULE]
    return "\n".join(lines) + "\n"


TIMEZONE_RULE = """## Fusos horários

Há três fusos, e cada um decide uma coisa só:

1. **O fuso do credor** (guardado no banco com o credor; `regua init` grava
   America/Sao_Paulo) decide **que dia é** para a régua: o dia que `regua run`, `regua preview`,
   `regua resumo`, `regua cliente`, `regua acoes` e os acordos usam quando não recebem `--date`.
2. **O fuso do estado do cliente** (pela UF do cadastro) decide **a hora do contato**: a janela
   de contato da régua (por exemplo 8h às 20h em dias úteis) vale no horário local do cliente.
   O campo `timezone` da régua (YAML) vale só para clientes **sem UF** conhecida.
3. **`REGUA_TIMEZONE`**, o fuso da instalação, decide o meio-dia do relógio parado de
   `REGUA_TODAY` e o dia dos comandos que não olham um credor: `regua dispatch`, `regua calls`,
   `regua templates render` e os workers (inclusive o `--beat`) do modo distribuído.

A regra: para **o dia**, o credor vence a instalação; para **a hora do contato**, o estado do
cliente vence a régua. Mantenha `REGUA_TIMEZONE` igual ao fuso do credor: `regua doctor` falha
quando eles diferem, porque então o envio e a régua poderiam discordar sobre que dia é perto da
meia-noite.
"""
