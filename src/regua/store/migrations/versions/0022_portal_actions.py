"""the debtor portal's actions: disputes, calls asked for, feedback; the customer's birth date

`customers.birth_date`: what the portal's identity check asks when the ERP exported it.
`disputes`: an invoice the debtor does not recognise or says is paid (with the receipt's file);
`callback_requests`: a call asked for a day and hours, on the operators' call list that day;
`portal_feedback`: the one question after paying.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    op.create_table(
        "disputes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("invoice_id", Id, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("comment", sa.String(500)),
        sa.Column("receipt_file", sa.String(80)),
        sa.Column("receipt_type", sa.String(40)),
        sa.Column("receipt_bytes", sa.Integer()),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disputes"),
    )
    op.create_index("ix_disputes_invoice_id", "disputes", ["invoice_id"])
    op.create_table(
        "callback_requests",
        sa.Column("id", Id, primary_key=True),
        sa.Column("creditor_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("requested_for", sa.Date(), nullable=False),
        sa.Column("starts", sa.String(5), nullable=False),
        sa.Column("ends", sa.String(5), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callback_requests"),
    )
    op.create_index(
        "ix_callback_requests_requested_for", "callback_requests", ["requested_for", "status"]
    )
    op.create_table(
        "portal_feedback",
        sa.Column("id", Id, primary_key=True),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_feedback"),
    )
    op.create_index("ix_portal_feedback_customer_id", "portal_feedback", ["customer_id"])


def downgrade() -> None:
    op.drop_table("portal_feedback")
    op.drop_table("callback_requests")
    op.drop_table("disputes")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("birth_date")
