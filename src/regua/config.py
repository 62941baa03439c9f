"""Settings: read once from the environment (REGUA_ prefix) or arguments, validated, passed down.

Nothing imports a global settings object; `bootstrap.build_context` builds one and hands it to
whoever needs it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regua.domain.calendar import DEFAULT_TIMEZONE

DEFAULT_DATABASE_URL = "sqlite:///regua.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGUA_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_TIMEZONE
    outbox_dir: Path = Path("outbox")
    broker_url: str = "redis://127.0.0.1:6379/0"
    # Webhook secrets: empty means the endpoint refuses every call (no silent default secret).
    webhook_secret: str = ""
    pix_webhook_secret: str = ""
    portal_base_url: str = "http://127.0.0.1:8000/portal"

    # Channels: left empty, the embedded default writes every message to the outbox folder.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "cobranca@example.com"
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

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        if value not in ("none", "starttls", "ssl"):
            raise ValueError("smtp_security must be none, starttls or ssl")
        return value
