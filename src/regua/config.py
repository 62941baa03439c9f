"""Settings: read once from the environment (REGUA_ prefix) or arguments, validated, passed down.

Nothing imports a global settings object; `bootstrap.build_app` builds the one `Settings` of a
process and hands it to whoever needs it (the CLI, the web app, the Celery workers).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regua.domain.amount_limits import DEFAULT_MAX_INVOICE_CENTS, HARD_MAX_CENTS
from regua.domain.calendar import DEFAULT_TIMEZONE

DEFAULT_DATABASE_URL = "sqlite:///regua.db"
# Seconds after which Redis gives an unacknowledged task to another worker; keep it at least the
# claim lease, or a slow send would be given to a second worker while the first still holds it.
DEFAULT_VISIBILITY_TIMEOUT = 3600


class Settings(BaseSettings):
    # An empty variable (REGUA_TODAY= in a crontab) means "not set", not an invalid value.
    model_config = SettingsConfigDict(env_prefix="REGUA_", extra="ignore", env_ignore_empty=True)

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    outbox_dir: Path = Path("outbox")
    broker_url: str = "redis://127.0.0.1:6379/0"
    # One secret per purpose; an empty webhook secret means the endpoint refuses every call
    # (no silent default secret). `webhook_secret`: HMAC key of the SMS/WhatsApp providers'
    # calls. `pix_webhook_secret`: HMAC key of the PSP's Pix calls. `whatsapp_verify_token`:
    # the token Meta echoes when it checks the WhatsApp webhook subscription.
    webhook_secret: str = ""
    pix_webhook_secret: str = ""
    whatsapp_verify_token: str = ""
    # Signs the customers' portal and unsubscribe links. Empty: the secret kept in the database
    # (made by `regua init`, `regua demo` and the migration), so links work with no variable.
    link_secret: str = ""
    # Days a link in a message stays good; an older link shows a page saying it expired.
    link_valid_days: int = Field(default=60, ge=1, le=3650)
    portal_base_url: str = "http://127.0.0.1:8000/p"
    # Where the unsubscribe links point (the web app's /descadastro, behind HTTPS in production).
    unsubscribe_base_url: str = "http://127.0.0.1:8000/descadastro"
    # Largest webhook body accepted, in bytes (a Pix call of the BCB API is a few KB).
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The largest amount an invoice or payment may carry, in centavos (REGUA_MAX_INVOICE_CENTS):
    # imports, return files and PIX notifications refuse more (`domain.amount_limits`).
    max_invoice_cents: int = Field(default=DEFAULT_MAX_INVOICE_CENTS, gt=0, le=HARD_MAX_CENTS)

    # Channels: left empty, the embedded default writes every message to the outbox folder.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    # The deployment's default From, for creditors without a sender address of their own.
    smtp_sender: str = ""
    sms_base_url: str = ""
    sms_token: str = ""
    sms_sender: str = "regua"
    whatsapp_base_url: str = ""
    whatsapp_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_api_version: str = "v21.0"
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"email": 50.0, "sms": 20.0, "whatsapp": 20.0}
    )
    # REGUA_TODAY: run as if it were this date (a clock fixed at noon there), to rerun a missed
    # day or rehearse a future one. Empty: the system clock.
    today: date | None = None

    # Distributed mode (Celery workers). `claim_lease_seconds`: after how long a "sending" claim
    # of a dead worker may be taken over (longer than any provider call; empty: the
    # dispatcher's default). `broker_visibility_timeout`: after how long Redis gives an
    # unacknowledged task to another worker. `enqueue_every_seconds`: how often the beat
    # schedule publishes due actions and retries.
    claim_lease_seconds: float | None = None
    broker_visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    enqueue_every_seconds: float = 60.0
    # More kombu transport options, as JSON in REGUA_BROKER_TRANSPORT_OPTIONS (for example
    # {"global_keyprefix": "loja1:"} to share one Redis between installations).
    broker_transport_options: dict[str, Any] = Field(default_factory=dict)
    worker_concurrency: int = 0  # 0: Celery's default (one process per CPU)

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        if value not in ("none", "starttls", "ssl"):
            raise ValueError("smtp_security must be none, starttls or ssl")
        return value

    @property
    def lease(self) -> timedelta | None:
        """The claim lease of distributed mode; None leaves the dispatcher's default."""
        if self.claim_lease_seconds is None:
            return None
        return timedelta(seconds=self.claim_lease_seconds)
