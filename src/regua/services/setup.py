"""Creating and upgrading a database, and the creditor that owns the portfolio.

The use cases (`init_database`, `upgrade_database`, `schema_revision`, `default_creditor_id`,
`creditor_timezone`) each run in units of work of their own; `create_creditor` and
`creditor_fee_terms` work in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from regua.domain.creditor_choice import CreditorChoiceError, CreditorName, choose_creditor
from regua.domain.creditor_profile import CreditorProfile
from regua.domain.customer_links import new_link_secret
from regua.domain.fees import FeeTerms
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound, RuleViolation
from regua.store import creditors
from regua.store.installation_secrets import LINK_SIGNING, ensure_secret
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class InitResult:
    creditor_id: int
    created: bool  # False: the database already had its creditor
    profile: CreditorProfile  # the creditor's profile as stored


def init_database(
    uow: UnitOfWorkFactory,
    profile: CreditorProfile | None,
    now: datetime,
    *,
    compare: Collection[str] = ("legal_name", "document"),
) -> InitResult:
    """Migrate to the newest schema and make sure the creditor exists.

    With no creditor yet, `profile` (already validated) creates it; without one the database
    is left as it was and an InputError says what is missing. With a creditor already there,
    `profile` must agree with it on the attributes in `compare`: a different name or CNPJ is
    refused (after the migration, committed on its own), never silently ignored.
    """
    from regua.store import migrate  # Alembic is only needed here, not on every command

    with uow() as work:
        if profile is None and migrate.revision_on(work.connection) is None:
            raise InputError(
                "informe o nome e o CNPJ do credor: regua init --nome RAZÃO --cnpj CNPJ",
                field="nome",
                code=ErrorCode.CREDITOR_REQUIRED,
            )
        migrate.upgrade_on(work.connection)
        # The secret of the customers' links, so e-mails carry a working unsubscribe link
        # without any variable set (REGUA_LINK_SECRET, when set, is used instead).
        ensure_secret(work.connection, LINK_SIGNING, new_link_secret, now)
        work.commit()
        existing = creditors.first_id(work.connection)
        if existing is None:
            if profile is None:
                raise InputError(
                    "o banco não tem credor: informe --nome e --cnpj",
                    field="nome",
                    code=ErrorCode.CREDITOR_REQUIRED,
                )
            created = create_creditor(work.connection, profile, now)
            work.commit()
            return InitResult(created, True, profile)
        if profile is not None:
            # Several creditors: `init` naming one of them checks that one.
            existing = creditors.find_by_document(work.connection, profile.document) or existing
        stored = creditors.profile(work.connection, existing)
        assert stored is not None
    if profile is not None:
        different = [a for a in compare if getattr(profile, a) != getattr(stored, a)]
        if different:
            raise RuleViolation(
                f"o banco já tem o credor {stored.legal_name} "
                f"({stored.formatted_document}); nada foi alterado. Para mudar os dados do "
                "credor use `regua credor editar` (ex.: regua credor editar --nome ...); "
                "para outro credor, `regua credor criar`",
                code=ErrorCode.CREDITOR_EXISTS,
                fields=different,
            )
    return InitResult(existing, False, stored)


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


def create_creditor(connection: Connection, profile: CreditorProfile, now: datetime) -> int:
    """Store a new creditor with `profile` (validated by `domain.creditor_profile`)."""
    if creditors.find_by_document(connection, profile.document) is not None:
        raise RuleViolation(
            f"já existe um credor com o documento {profile.formatted_document}",
            code=ErrorCode.CREDITOR_EXISTS,
        )
    row = {
        **creditors.profile_row(profile),
        "interest_source": "contract",
        "created_at": now,
    }
    return creditors.insert(connection, row)


def default_creditor_id(uow: UnitOfWorkFactory, given: str | None = None) -> int:
    """The creditor a command works on: the one `given` names (id, CNPJ or name), else the
    installation's only one. Several and none named: an InputError lists them (never the
    lowest id silently)."""
    with uow() as work:
        stored = creditors.names(work.connection)
    if not stored:
        raise NotFound("banco sem credor: rode `regua init` primeiro")
    try:
        return choose_creditor(stored, given)
    except CreditorChoiceError as exc:
        raise InputError(str(exc), code=ErrorCode.CREDITOR_REQUIRED) from None


def creditor_names(uow: UnitOfWorkFactory) -> list[CreditorName]:
    """Every creditor of the installation, by id."""
    with uow() as work:
        return creditors.names(work.connection)


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
