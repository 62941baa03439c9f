"""Creditors as stored: the one that owns the portfolio, its profile (`CreditorProfile`), its
time zone and its fee terms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from regua.domain.creditor_choice import CreditorName
from regua.domain.creditor_profile import BoletoWallet, CreditorProfile
from regua.domain.fees import FeeTerms
from regua.store.tables import creditors


def first_id(connection: Connection) -> int | None:
    """The id of the first creditor created, if any."""
    found = connection.execute(select(func.min(creditors.c.id))).scalar()
    return None if found is None else int(found)


def names(connection: Connection) -> list[CreditorName]:
    """Every creditor, by id, as a person can name it."""
    rows = connection.execute(
        select(
            creditors.c.id, creditors.c.name, creditors.c.document, creditors.c.trade_name
        ).order_by(creditors.c.id)
    ).all()
    return [CreditorName(int(r.id), r.name, r.document, r.trade_name) for r in rows]


def find_by_pix_key(connection: Connection, key: str) -> int | None:
    """The creditor whose PIX key is `key` (canonical form), if one is."""
    found = connection.execute(select(creditors.c.id).where(creditors.c.pix_key == key)).scalar()
    return None if found is None else int(found)


def insert(connection: Connection, row: Mapping[str, Any]) -> int:
    """Store a creditor; its id."""
    result = connection.execute(creditors.insert().values(dict(row)).returning(creditors.c.id))
    return int(result.scalar_one())


def timezone(connection: Connection, creditor_id: int) -> str | None:
    found = connection.execute(
        select(creditors.c.timezone).where(creditors.c.id == creditor_id)
    ).scalar()
    return None if found is None else str(found)


def fee_terms(connection: Connection, creditor_id: int) -> FeeTerms | None:
    """The creditor's late fee and default interest, as fee terms; None: no such creditor."""
    row = connection.execute(
        select(creditors.c.late_fee_bp, creditors.c.interest_monthly_bp).where(
            creditors.c.id == creditor_id
        )
    ).first()
    if row is None:
        return None
    return FeeTerms(late_fee_bp=row.late_fee_bp, interest_monthly_bp=row.interest_monthly_bp)


# --- the profile --------------------------------------------------------------------------------

_PROFILE_COLUMNS = {
    "legal_name": creditors.c.name,
    "document": creditors.c.document,
    "trade_name": creditors.c.trade_name,
    "pix_key": creditors.c.pix_key,
    "pix_key_kind": creditors.c.pix_key_kind,
    "sender_email": creditors.c.sender_email,
    "reply_to": creditors.c.reply_to,
    "email": creditors.c.email,
    "phone": creditors.c.phone,
    "whatsapp": creditors.c.whatsapp,
    "address": creditors.c.address,
    "city": creditors.c.city,
    "uf": creditors.c.uf,
    "postal_code": creditors.c.postal_code,
    "website": creditors.c.website,
    "service_hours": creditors.c.service_hours,
    "late_fee_bp": creditors.c.late_fee_bp,
    "interest_monthly_bp": creditors.c.interest_monthly_bp,
    "timezone": creditors.c.timezone,
}
_WALLET_COLUMNS = {
    "bank": creditors.c.boleto_bank,
    "agency": creditors.c.boleto_agency,
    "account": creditors.c.boleto_account,
    "wallet": creditors.c.boleto_wallet,
    "agreement": creditors.c.boleto_agreement,
}


def profile_row(profile: CreditorProfile) -> dict[str, Any]:
    """The columns of `profile`, as `insert` and `save_profile` write them."""
    row: dict[str, Any] = {
        column.name: getattr(profile, attribute) for attribute, column in _PROFILE_COLUMNS.items()
    }
    wallet = profile.boleto
    for attribute, column in _WALLET_COLUMNS.items():
        row[column.name] = getattr(wallet, attribute) if wallet else None
    return row


def profile(connection: Connection, creditor_id: int) -> CreditorProfile | None:
    """The creditor's profile; None: no such creditor."""
    row = connection.execute(
        select(
            *(c.label(a) for a, c in _PROFILE_COLUMNS.items()),
            *(c.label(f"boleto_{a}") for a, c in _WALLET_COLUMNS.items()),
        ).where(creditors.c.id == creditor_id)
    ).first()
    if row is None:
        return None
    values = row._asdict()
    wallet = {a: values.pop(f"boleto_{a}") for a in _WALLET_COLUMNS}
    return CreditorProfile(
        **values,
        boleto=BoletoWallet(**wallet) if wallet["bank"] else None,
    )


def save_profile(
    connection: Connection, creditor_id: int, profile: CreditorProfile, now: datetime
) -> bool:
    """Write `profile` over the creditor's; False: no such creditor."""
    result = connection.execute(
        update(creditors)
        .where(creditors.c.id == creditor_id)
        .values(**profile_row(profile), updated_at=now)
    )
    return result.rowcount == 1


def find_by_document(connection: Connection, document: str) -> int | None:
    found = connection.execute(
        select(creditors.c.id).where(creditors.c.document == document)
    ).scalar()
    return None if found is None else int(found)
