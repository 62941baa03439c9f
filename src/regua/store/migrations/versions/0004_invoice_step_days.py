"""The planner's state: each invoice's next step day in invoice_steps, the runs in plan_runs

`invoice_steps.next_step_on` replaces `invoices.next_step_on`: advancing a few percent of a large
portfolio every day rewrites rows of that narrow table, not of `invoices`, where each changed row
costs an entry in every index. An invoice written since the last run (`invoices.updated_at`,
now indexed) is looked at whatever its day, which is how a new, changed or reopened invoice
reaches the planner. The planned actions no longer enter the index of provider message ids,
which only sent messages have, and the planner's link and memory tables (`action_invoices`,
`invoice_steps`) drop their foreign keys, whose checks cost eight times the rows' inserts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # No day is copied: with no run recorded, the next run looks at every open invoice once
    # (the step memory stays, so no step is sent twice) and gives each its day here.
    # The planner's link and memory tables lose their foreign keys (see `store.tables`).
    with op.batch_alter_table("action_invoices", schema=None) as batch_op:
        batch_op.drop_constraint("fk_action_invoices_action_id_actions", type_="foreignkey")
        batch_op.drop_constraint("fk_action_invoices_invoice_id_invoices", type_="foreignkey")
    with op.batch_alter_table("invoice_steps", schema=None) as batch_op:
        batch_op.drop_constraint("fk_invoice_steps_invoice_id_invoices", type_="foreignkey")
        batch_op.add_column(sa.Column("next_step_on", sa.Date(), nullable=True))
        batch_op.alter_column("last_offset", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("last_step_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("last_planned_for", existing_type=sa.Date(), nullable=True)
        batch_op.create_index("ix_invoice_steps_next_step", ["next_step_on"], unique=False)
    # Not in batch mode: SQLite drops a column in place (3.35 and later), where rebuilding the
    # table would trip over the foreign keys that point at it.
    op.drop_index("ix_invoices_next_step", table_name="invoices")
    op.drop_column("invoices", "next_step_on")
    op.create_index("ix_invoices_updated_at", "invoices", ["updated_at"], unique=False)
    op.drop_index("ix_actions_provider_message_id", table_name="actions")
    op.create_index(
        "ix_actions_provider_message_id",
        "actions",
        ["provider_message_id"],
        unique=False,
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        sqlite_where=sa.text("provider_message_id IS NOT NULL"),
    )
    op.create_table(
        "plan_runs",
        sa.Column("id", Id, nullable=False),
        sa.Column("creditor_id", Id, nullable=False),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policies_digest", sa.String(length=64), nullable=False),
        sa.Column("examined", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name=op.f("fk_plan_runs_creditor_id_creditors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_runs")),
    )
    with op.batch_alter_table("plan_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_runs_creditor_started", ["creditor_id", "started_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("plan_runs")
    op.drop_index("ix_actions_provider_message_id", table_name="actions")
    op.create_index(
        "ix_actions_provider_message_id", "actions", ["provider_message_id"], unique=False
    )
    # Every open invoice asks for a look again, as the earlier planner read it.
    op.drop_index("ix_invoices_updated_at", table_name="invoices")
    op.add_column(
        "invoices",
        sa.Column("next_step_on", sa.Date(), server_default="1900-01-01", nullable=False),
    )
    op.create_index("ix_invoices_next_step", "invoices", ["status", "next_step_on"], unique=False)
    op.execute("DELETE FROM invoice_steps WHERE last_offset IS NULL")
    with op.batch_alter_table("invoice_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_steps_next_step")
        batch_op.alter_column("last_planned_for", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("last_step_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("last_offset", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("next_step_on")
        batch_op.create_foreign_key(
            "fk_invoice_steps_invoice_id_invoices", "invoices", ["invoice_id"], ["id"]
        )
    with op.batch_alter_table("action_invoices", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_action_invoices_action_id_actions", "actions", ["action_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_action_invoices_invoice_id_invoices", "invoices", ["invoice_id"], ["id"]
        )
