"""the early-payment discount an invoice was offered, and the one it was granted

`invoices.early_discount_cents` / `early_discount_until`: the discount the régua's preventive
reminder offers (the policy's `negotiation.early_payment`), written when the reminder is
planned: a payment of at least the balance less it, made by that day, settles the invoice.
`invoices.discount_cents`: the discount granted when it did.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("early_discount_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("early_discount_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("discount_cents", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("discount_cents")
        batch_op.drop_column("early_discount_until")
        batch_op.drop_column("early_discount_cents")
