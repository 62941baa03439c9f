"""the day's run of each creditor, claimed once: the scheduler's lock

`day_runs`: one row per creditor and day, inserted by whoever starts that day's run (the
scheduler of `regua serve`, or `regua run`); the primary key makes the claim atomic on SQLite
and PostgreSQL. `finished_at` NULL: running (or its process died; taken over after a lease).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "day_runs",
        sa.Column("creditor_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("runner", sa.String(120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name="fk_day_runs_creditor_id_creditors"
        ),
        sa.PrimaryKeyConstraint("creditor_id", "day", name="pk_day_runs"),
    )


def downgrade() -> None:
    op.drop_table("day_runs")
