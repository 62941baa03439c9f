"""the tables written in bulk keep only the foreign keys that say what money paid

PostgreSQL checks a foreign key by locking the row it points at, for every row inserted. On the
two bulk paths that cost as much as the inserts themselves:

- the day's plan: 0.2 s of the 0.44 s that 17,000 actions took to insert;
- a return file of 100,000 settlements: its payments took 2.9 s to copy with their three keys
  and 1.0 s with none, its timeline rows 1.9 s against 0.7 s; with the payments' key to the
  invoice kept, the whole file went from 11.2 s to 9.4 s.

So `actions` and `interactions` (the timeline) lose theirs, and `payments` keeps the one that
matters, to the invoice it paid: its creditor and customer are copies of the invoice's. regua
never deletes a creditor, a customer or an invoice (erasure anonymises), and these writers use
only ids they have just read.

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

# (table, constraint, referred table, column)
DROPPED = (
    ("actions", "fk_actions_creditor_id_creditors", "creditors", "creditor_id"),
    ("actions", "fk_actions_customer_id_customers", "customers", "customer_id"),
    ("interactions", "fk_interactions_customer_id_customers", "customers", "customer_id"),
    ("interactions", "fk_interactions_invoice_id_invoices", "invoices", "invoice_id"),
    ("payments", "fk_payments_creditor_id_creditors", "creditors", "creditor_id"),
    ("payments", "fk_payments_customer_id_customers", "customers", "customer_id"),
)


def upgrade() -> None:
    for table in ("actions", "interactions", "payments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in (name for owner, name, _to, _column in DROPPED if owner == table):
                batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table in ("actions", "interactions", "payments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for owner, name, referred, column in DROPPED:
                if owner == table:
                    batch_op.create_foreign_key(name, referred, [column], ["id"])
