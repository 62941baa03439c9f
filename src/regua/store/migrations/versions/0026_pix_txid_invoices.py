"""a Pix code shown for several invoices names each of them

`pix_txid_invoices`: txid -> the invoices its code was shown for, also those that already had a
txid of their own (`invoices.pix_txid` holds one per invoice), so that a Pix with it is spread
over them all. `payments.external_id` grows to 120 characters: a devolução of one part of such
a Pix is ``<endToEndId>:parte:<n>:devolucao:<id>``, up to 93.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pix_txid_invoices",
        sa.Column("txid", sa.String(35), nullable=False),
        sa.Column("invoice_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("txid", "invoice_id", name="pk_pix_txid_invoices"),
    )
    with op.batch_alter_table("payments") as batch_op:
        batch_op.alter_column(
            "external_id",
            existing_type=sa.String(80),
            type_=sa.String(120),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.alter_column(
            "external_id",
            existing_type=sa.String(120),
            type_=sa.String(80),
            existing_nullable=False,
        )
    op.drop_table("pix_txid_invoices")
