"""the day a régua started: steps that fell before it are not caught up

`plan_runs.starts_on`: the first day of the régua in force when the run planned. NULL: the
régua catches up (an overdue invoice gets its latest step not yet planned); a date: the steps
of each invoice that fell before that day are passed, only those from that day on are planned.
Chosen at the first run of a portfolio or of a new régua (`regua run --inicio`), carried from
run to run.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch_op:
        batch_op.drop_column("starts_on")
