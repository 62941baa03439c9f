"""what late payments settled of an invoice's fees

`invoices.fees_paid_through`: the date of the last late payment; the multa and the juros up to
that day are settled (paid, or carried in `fees_unpaid_cents`, what that payment did not cover).
Without them the remaining principal was charged the multa and the juros from the due date again.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("fees_paid_through", sa.Date()))
        batch_op.add_column(
            sa.Column("fees_unpaid_cents", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("fees_unpaid_cents")
        batch_op.drop_column("fees_paid_through")
