"""Creating and upgrading a database, and the creditor that owns the portfolio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.domain.documents import DocumentError, parse_tax_id
from regua.errors import InputError, NotFound
from regua.store.tables import creditors


@dataclass(frozen=True)
class CreditorIn:
    name: str = "Empresa Exemplo Ltda"
    document: str = "11.222.333/0001-81"
    email: str | None = "financeiro@exemplo.com.br"
    phone: str | None = "+551130000000"
    whatsapp: str | None = "+5511930000000"
    address: str | None = "Av. Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100"
    city: str | None = "São Paulo"
    uf: str | None = "SP"
    website: str | None = "https://www.exemplo.com.br"
    timezone: str = DEFAULT_TIMEZONE
    pix_key: str | None = "11222333000181"
    late_fee_bp: int = 200
    interest_monthly_bp: int = 100


def init_database(engine: Engine, creditor: CreditorIn, now: datetime) -> int:
    """Migrate to the newest schema and make sure a creditor exists; returns its id."""
    from regua.store import migrate  # Alembic is only needed here, not on every command

    migrate.upgrade(engine)
    with engine.begin() as connection:
        existing = connection.execute(select(func.min(creditors.c.id))).scalar()
        if existing is not None:
            return int(existing)
        return create_creditor(connection, creditor, now)


def create_creditor(connection: Connection, creditor: CreditorIn, now: datetime) -> int:
    try:
        document = parse_tax_id(creditor.document)
    except DocumentError as exc:
        raise InputError(str(exc), field="cnpj") from None
    if not 0 <= creditor.late_fee_bp <= 10_000:
        raise InputError("multa deve estar entre 0% e 100%", field="multa")
    row = {
        "name": creditor.name,
        "document": document.number,
        "email": creditor.email,
        "phone": creditor.phone,
        "whatsapp": creditor.whatsapp,
        "address": creditor.address,
        "city": creditor.city,
        "uf": creditor.uf,
        "website": creditor.website,
        "timezone": creditor.timezone,
        "pix_key": creditor.pix_key,
        "late_fee_bp": creditor.late_fee_bp,
        "interest_monthly_bp": creditor.interest_monthly_bp,
        "interest_source": "contract",
        "created_at": now,
    }
    result = connection.execute(creditors.insert().values(row).returning(creditors.c.id))
    return int(result.scalar_one())


def default_creditor_id(engine: Engine) -> int:
    with engine.connect() as connection:
        creditor_id = connection.execute(select(func.min(creditors.c.id))).scalar()
    if creditor_id is None:
        raise NotFound("banco sem credor: rode `regua init` primeiro")
    return int(creditor_id)


def creditor_timezone(engine: Engine, creditor_id: int) -> str:
    """The creditor's time zone: "today" for the régua is the date there."""
    with engine.connect() as connection:
        timezone = connection.execute(
            select(creditors.c.timezone).where(creditors.c.id == creditor_id)
        ).scalar()
    if timezone is None:
        raise NotFound(f"credor {creditor_id} não existe")
    return str(timezone)
