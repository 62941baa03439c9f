"""The creditor's customers or invoices by the ERP's id: both tables carry the creditor and the
ERP's `external_id` under one unique key, and the import reads them alike.

The import looks each batch up right after writing the previous one, in one transaction. On
PostgreSQL the lookups are planned for each execution (`plan_each_execution`), never by a
generic plan costed while the table still looked empty, which compared every stored row with
each id of the batch (an import of 300,000 invoices: 1,206 s instead of about 70); and the
import's writes refresh the table's statistics as it grows (`bulk.note_rows_written`), so those
plans know how many rows the creditor has. The ids go as ONE parameter (`one_of`): planning and
sending 5,000 parameters cost more than the lookup itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, select
from sqlalchemy.sql.expression import ColumnElement

from regua.store.batch import plan_each_execution
from regua.store.sql import one_of


def _stored(
    connection: Connection, table: Table, creditor_id: int, external_ids: Sequence[str]
) -> list[ColumnElement[bool]]:
    plan_each_execution(connection)
    return [
        table.c.creditor_id == creditor_id,
        one_of(connection, table.c.external_id, list(external_ids)),
    ]


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
                *_stored(connection, table, creditor_id, external_ids)
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
                *_stored(connection, table, creditor_id, external_ids)
            )
        )
    }
