"""staff answers to what debtors ask on the portal

`disputes`: who settled a dispute, when, and the note they left (`status` goes from "open" to
"accepted" or "rejected"); an index by customer, for the portal page that shows the answer and
the staff's list scoped to a creditor. `callback_requests`: who made the call, when, and how it
went (`status` goes from "open" to "done").

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch_op:
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("resolved_by", sa.String(80)))
        batch_op.add_column(sa.Column("resolution_note", sa.String(500)))
        batch_op.create_index("ix_disputes_customer_id", ["customer_id"])
    with op.batch_alter_table("callback_requests") as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("done_by", sa.String(80)))
        batch_op.add_column(sa.Column("result", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("callback_requests") as batch_op:
        batch_op.drop_column("result")
        batch_op.drop_column("done_by")
        batch_op.drop_column("done_at")
    with op.batch_alter_table("disputes") as batch_op:
        batch_op.drop_index("ix_disputes_customer_id")
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolved_at")
