"""installation secrets: the link-signing secret kept in the database

Portal and unsubscribe links were signed with the provider webhook's secret. They get their own
secret, made here for every existing installation (and by `regua init` and `regua demo` for a
new one), so an e-mail carries a working unsubscribe link without any variable set.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "installation_secrets",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(
        table,
        [
            {
                "name": "link_signing",
                "value": secrets.token_urlsafe(32),
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("installation_secrets")
