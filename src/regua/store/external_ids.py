"""The creditor's customers or invoices by the ERP's id: both tables carry the creditor and the
ERP's `external_id` under one unique key, and the import reads them alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, select
from sqlalchemy.sql.expression import ColumnElement


def _stored(
    table: Table, creditor_id: int, external_ids: Sequence[str]
) -> list[ColumnElement[bool]]:
    return [table.c.creditor_id == creditor_id, table.c.external_id.in_(list(external_ids))]


def stored_rows(
    connection: Connection,
    table: Table,
    creditor_id: int,
    external_ids: Sequence[str],
    columns: Sequence[str],
) -> dict[str, Row[Any]]:
    """External id -> the row (`columns`, ``external_id`` among them) of each of `external_ids`
    the creditor has in `table`."""
    return {
        row.external_id: row
        for row in connection.execute(
            select(*(table.c[name] for name in columns)).where(
                *_stored(table, creditor_id, external_ids)
            )
        )
    }


def stored_ids(
    connection: Connection, table: Table, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """External id -> regua's id, for those of `external_ids` the creditor has in `table`."""
    return {
        external_id: row_id
        for external_id, row_id in connection.execute(
            select(table.c.external_id, table.c.id).where(
                *_stored(table, creditor_id, external_ids)
            )
        )
    }
