"""actions lose their foreign keys to creditors and customers

The day's plan inserts tens of thousands of actions (hundreds of thousands on a first run), and
PostgreSQL checked each one's creditor and customer by locking those rows: 0.2 s of the 0.44 s
that 17,000 actions took to insert. regua never deletes a creditor or a customer (erasure
anonymises), and the planner and the thank-yous write only ids they have just read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_actions_creditor_id_creditors", type_="foreignkey")
        batch_op.drop_constraint("fk_actions_customer_id_customers", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_actions_creditor_id_creditors", "creditors", ["creditor_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_actions_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
