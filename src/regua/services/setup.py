"""Creating and upgrading a database, and the creditor that owns the portfolio.

The use cases (`init_database`, `upgrade_database`, `schema_revision`, `default_creditor_id`,
`creditor_timezone`) each run in units of work of their own; `create_creditor` and
`creditor_fee_terms` work in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.domain.documents import DocumentError, parse_tax_id
from regua.domain.fees import FeeTerms
from regua.errors import InputError, NotFound
from regua.store import creditors
from regua.store.uow import UnitOfWorkFactory


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


def init_database(uow: UnitOfWorkFactory, creditor: CreditorIn, now: datetime) -> int:
    """Migrate to the newest schema and make sure a creditor exists; returns its id.

    The migration is committed before the creditor is looked for, in a transaction of its own.
    """
    from regua.store import migrate  # Alembic is only needed here, not on every command

    with uow() as work:
        migrate.upgrade_on(work.connection)
        work.commit()
        existing = creditors.first_id(work.connection)
        if existing is None:
            existing = create_creditor(work.connection, creditor, now)
            work.commit()
        return existing


def upgrade_database(uow: UnitOfWorkFactory) -> tuple[str | None, str | None]:
    """Migrate to the newest schema; the revisions (before, after), before None when empty."""
    from regua.store import migrate

    with uow() as work:
        before = migrate.revision_on(work.connection)
        migrate.upgrade_on(work.connection)
        work.commit()
        return before, migrate.revision_on(work.connection)


def schema_revision(uow: UnitOfWorkFactory) -> str | None:
    """The database's schema revision (None: never migrated)."""
    from regua.store import migrate

    with uow() as work:
        return migrate.revision_on(work.connection)


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
    return creditors.insert(connection, row)


def default_creditor_id(uow: UnitOfWorkFactory) -> int:
    """The creditor that owns the portfolio (the first one created)."""
    with uow() as work:
        creditor_id = creditors.first_id(work.connection)
    if creditor_id is None:
        raise NotFound("banco sem credor: rode `regua init` primeiro")
    return creditor_id


def creditor_timezone(uow: UnitOfWorkFactory, creditor_id: int) -> str:
    """The creditor's time zone: "today" for the régua is the date there."""
    with uow() as work:
        timezone = creditors.timezone(work.connection, creditor_id)
    if timezone is None:
        raise NotFound(f"credor {creditor_id} não existe")
    return timezone


def creditor_fee_terms(connection: Connection, creditor_id: int) -> FeeTerms:
    """The creditor's own late fee and interest (the consumer cap is applied per customer)."""
    terms = creditors.fee_terms(connection, creditor_id)
    if terms is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return terms
