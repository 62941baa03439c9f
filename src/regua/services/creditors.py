"""The creditor's profile: read what a person typed, show it, change it.

`new_profile` and `check_options` validate before anything is stored (`regua init` refuses a
bad CNPJ without leaving a database behind); `show_profile` and `edit_profile` each run in a
unit of work of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from regua.domain import creditor_profile as rules
from regua.domain.creditor_profile import CreditorProfile, Problem
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound
from regua.services.setup import create_creditor
from regua.store import creditors
from regua.store.uow import UnitOfWorkFactory

# Fields `regua init` asks for on a terminal, in this order (the rest: `regua credor editar`).
ASKED_AT_INIT = (
    "nome",
    "fantasia",
    "cnpj",
    "pix",
    "email-envio",
    "email",
    "telefone",
    "whatsapp",
    "endereco",
    "cidade",
    "uf",
    "cep",
    "site",
    "horario",
)


def _refuse(problems: list[Problem]) -> InputError:
    first = problems[0]
    message = "; ".join(str(p) for p in problems)
    error = InputError(message, code=ErrorCode.INVALID_CREDITOR)
    error.field = first.field
    error.fields["field"] = first.field
    error.fields["problems"] = [{"field": p.field, "message": p.message} for p in problems]
    return error


def check_option(option: str, value: str) -> str | None:
    """Why `value` does not do for the field `option` alone, or None (for prompts)."""
    spec = rules.FIELDS_BY_OPTION[option]
    if not value.strip():
        return "não pode ficar vazio" if spec.required else None
    try:
        if option == "pix":
            rules.read_pix_key(value)
        else:
            spec.read(value)
    except ValueError as exc:
        return str(exc)
    return None


def check_options(given: Mapping[str, str | None]) -> None:
    """Refuse (InputError naming every bad field) what cannot be right whatever else is given."""
    problems = [
        Problem(option, why)
        for option, value in given.items()
        if value is not None and option in rules.FIELDS_BY_OPTION
        for why in [check_option(option, value)]
        if why is not None
    ]
    problems += [Problem(o, "campo desconhecido") for o in given if o not in rules.FIELDS_BY_OPTION]
    if problems:
        raise _refuse(problems)


def new_profile(given: Mapping[str, str | None]) -> CreditorProfile:
    """A new creditor's profile from option name -> text; InputError names every problem."""
    profile, problems = rules.read_profile(given)
    if profile is None:
        raise _refuse(problems)
    return profile


def show_profile(uow: UnitOfWorkFactory, creditor_id: int) -> CreditorProfile:
    with uow() as work:
        found = creditors.profile(work.connection, creditor_id)
    if found is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return found


@dataclass(frozen=True)
class ProfileEdit:
    before: CreditorProfile
    after: CreditorProfile
    changed: tuple[str, ...]  # option names whose shown value changed


def edit_profile(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    changes: Mapping[str, str | None],
    now: datetime,
) -> ProfileEdit:
    """Apply `changes` (option name -> text; empty clears an optional field) and store."""
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        raise InputError(
            "nada para alterar: informe ao menos um campo (ex.: --pix CHAVE)",
            code=ErrorCode.INVALID_CREDITOR,
        )
    with uow() as work:
        before = creditors.profile(work.connection, creditor_id)
        if before is None:
            raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
        after, problems = rules.edit_profile(before, given)
        if after is None:
            raise _refuse(problems)
        if after.document != before.document:
            other = creditors.find_by_document(work.connection, after.document)
            if other is not None and other != creditor_id:
                raise InputError(
                    f"já existe outro credor com o documento {after.formatted_document}",
                    field="cnpj",
                    code=ErrorCode.CREDITOR_EXISTS,
                )
        creditors.save_profile(work.connection, creditor_id, after, now)
        work.commit()
    old = dict((o, v) for o, _l, v in rules.profile_lines(before))
    changed = tuple(o for o, _l, v in rules.profile_lines(after) if old.get(o) != v)
    return ProfileEdit(before, after, changed)


def add_creditor(uow: UnitOfWorkFactory, profile: CreditorProfile, now: datetime) -> int:
    """Store another creditor in an installation that already has its schema; its id."""
    with uow() as work:
        creditor_id = create_creditor(work.connection, profile, now)
        work.commit()
    return creditor_id


def existing_profile(uow: UnitOfWorkFactory) -> CreditorProfile | None:
    """The profile of the database's creditor; None: no schema yet, or no creditor."""
    from regua.store import migrate

    with uow() as work:
        if migrate.revision_on(work.connection) is None:
            return None
        creditor_id = creditors.first_id(work.connection)
        return None if creditor_id is None else creditors.profile(work.connection, creditor_id)


def profile_dict(profile: CreditorProfile) -> dict[str, Any]:
    """The profile as raw values for `--json` (option names; amounts in basis points)."""
    wallet = profile.boleto
    return {
        "nome": profile.legal_name,
        "fantasia": profile.trade_name,
        "cnpj": profile.document,
        "pix": profile.pix_key,
        "pix_tipo": profile.pix_key_kind,
        "email_envio": profile.sender_email,
        "responder_para": profile.reply_to,
        "email": profile.email,
        "telefone": profile.phone,
        "whatsapp": profile.whatsapp,
        "endereco": profile.address,
        "cidade": profile.city,
        "uf": profile.uf,
        "cep": profile.postal_code,
        "site": profile.website,
        "horario": profile.service_hours,
        "multa_bp": profile.late_fee_bp,
        "juros_mensal_bp": profile.interest_monthly_bp,
        "fuso": profile.timezone,
        "boleto": None
        if wallet is None
        else {
            "banco": wallet.bank,
            "agencia": wallet.agency,
            "conta": wallet.account,
            "carteira": wallet.wallet,
            "convenio": wallet.agreement,
        },
    }
