"""invoice_steps.next_step_on: the planner's next step day per invoice, off the invoices table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing invoices keep their day on `invoices.next_step_on`; the planner moves each one
    # over the first time it looks at it, so no data is copied here.
    with op.batch_alter_table("invoice_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step_on", sa.Date(), nullable=True))
        batch_op.alter_column("last_offset", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("last_step_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("last_planned_for", existing_type=sa.Date(), nullable=True)
        batch_op.create_index("ix_invoice_steps_next_step", ["next_step_on"], unique=False)


def downgrade() -> None:
    # Invoices whose day lives here get theirs computed again by the next run.
    op.execute(
        "UPDATE invoices SET next_step_on = '1900-01-01' WHERE id IN "
        "(SELECT invoice_id FROM invoice_steps WHERE next_step_on IS NOT NULL)"
    )
    op.execute("DELETE FROM invoice_steps WHERE last_offset IS NULL")
    with op.batch_alter_table("invoice_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_steps_next_step")
        batch_op.alter_column("last_planned_for", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("last_step_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("last_offset", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("next_step_on")
