"""Creditors as stored: the one that owns the portfolio, its time zone and its fee terms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select

from regua.domain.fees import FeeTerms
from regua.store.tables import creditors


def first_id(connection: Connection) -> int | None:
    """The id of the first creditor created, if any."""
    found = connection.execute(select(func.min(creditors.c.id))).scalar()
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
