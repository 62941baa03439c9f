"""Alembic environment: runs against the connection regua passes in (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from regua.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - regua always passes a connection
    raise RuntimeError("regua migrations run through `regua db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
