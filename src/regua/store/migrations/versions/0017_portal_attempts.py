"""the debtor portal's identity checks: every answer, to limit tries and lock

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "portal_attempts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("link_key", sa.String(32), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_attempts"),
    )
    op.create_index("ix_portal_attempts_link_key_at", "portal_attempts", ["link_key", "at"])
    op.create_index("ix_portal_attempts_customer_id_at", "portal_attempts", ["customer_id", "at"])
    op.create_index("ix_portal_attempts_address_at", "portal_attempts", ["address", "at"])


def downgrade() -> None:
    op.drop_table("portal_attempts")
