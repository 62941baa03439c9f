"""payments.bank_fee_cents and payments.credited_cents: what a bank return file says the bank
kept and credited, beside what the payer paid (amount_cents)

A boleto paid in full settles its invoice by the payer's payment; the bank's tarifa and the
amount credited to the account are recorded apart, for the reconciliation with the bank
statement. NULL: the payment came from a source that does not report them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_fee_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("credited_cents", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("credited_cents")
        batch_op.drop_column("bank_fee_cents")
