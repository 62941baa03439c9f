"""segment_refreshes: when each creditor's customers were last classified, and by which rules

With the customers never classified in an index of their own, a daily refresh reads only the
customers something could have moved.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty: the first refresh after the upgrade classifies every customer, as before.
    op.create_table(
        "segment_refreshes",
        sa.Column(
            "creditor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("refreshed_on", sa.Date(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rules_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_segment_refreshes_creditor_id_creditors"),
        ),
        sa.PrimaryKeyConstraint("creditor_id", name=op.f("pk_segment_refreshes")),
    )
    op.create_index(
        "ix_customers_unclassified",
        "customers",
        ["creditor_id"],
        unique=False,
        postgresql_where=sa.text("segment IS NULL"),
        sqlite_where=sa.text("segment IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_customers_unclassified", table_name="customers")
    op.drop_table("segment_refreshes")
