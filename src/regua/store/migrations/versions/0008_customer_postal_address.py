"""customer postal address: the CEP and the bairro an ERP exports beside the street

Letters are posted to the customer's address; without its CEP the Correios do not deliver it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("district", sa.String(length=100)),
    ("postal_code", sa.String(length=8)),
)


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, type_ in _NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name, _type in reversed(_NEW_COLUMNS):
            batch_op.drop_column(name)
