"""agreements (acordos) and the invoices they hold; who recorded a promise and how it ended

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", Id, nullable=False),
        sa.Column("creditor_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("offer_number", sa.Integer(), nullable=False),
        sa.Column("accepted_by", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("approved_by_role", sa.String(length=10), nullable=False),
        sa.Column("within_terms", sa.Boolean(), nullable=False),
        sa.Column("principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("interest_cents", sa.BigInteger(), nullable=False),
        sa.Column("debt_cents", sa.BigInteger(), nullable=False),
        sa.Column("discount_cents", sa.BigInteger(), nullable=False),
        sa.Column("down_payment_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("installment_count", sa.Integer(), nullable=False),
        sa.Column("interest_kind", sa.String(length=8), nullable=False),
        sa.Column("interest_monthly_bp", sa.Integer(), nullable=False),
        sa.Column("monthly_rate", sa.String(length=12), nullable=False),
        sa.Column("annual_rate", sa.String(length=12), nullable=False),
        sa.Column("break_days_late", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'broken', 'cancelled')",
            name=op.f("ck_agreements_status"),
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name=op.f("fk_agreements_creditor_id_creditors")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_agreements_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index("ix_agreements_creditor_status", "agreements", ["creditor_id", "status"])
    op.create_index("ix_agreements_customer", "agreements", ["customer_id"])
    op.create_table(
        "agreement_invoices",
        sa.Column("agreement_id", Id, nullable=False),
        sa.Column("invoice_id", Id, nullable=False),
        sa.Column("held_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "invoice_id", name=op.f("pk_agreement_invoices")),
    )
    op.create_index("ix_agreement_invoices_invoice", "agreement_invoices", ["invoice_id"])
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("paid_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("decided_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_column("decided_on")
        batch_op.drop_column("paid_cents")
        batch_op.drop_column("recorded_by")
    op.drop_index("ix_agreement_invoices_invoice", table_name="agreement_invoices")
    op.drop_table("agreement_invoices")
    op.drop_index("ix_agreements_customer", table_name="agreements")
    op.drop_index("ix_agreements_creditor_status", table_name="agreements")
    op.drop_table("agreements")
