"""creditor profile: trade name, PIX key kind, sender and reply-to, CEP, service hours, boleto
wallet; and the example company's details cleared from real creditors

Before this revision `regua init` stored the example company's PIX key, e-mail, phones,
address and website on every creditor it created. They are cleared here on every creditor that
is not the example company itself (CNPJ 11.222.333/0001-81): a message then waits for the
creditor's own details instead of sending someone else's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("trade_name", sa.String(length=200)),
    ("pix_key_kind", sa.String(length=10)),
    ("sender_email", sa.String(length=320)),
    ("reply_to", sa.String(length=320)),
    ("postal_code", sa.String(length=8)),
    ("service_hours", sa.String(length=120)),
    ("boleto_bank", sa.String(length=3)),
    ("boleto_agency", sa.String(length=6)),
    ("boleto_account", sa.String(length=13)),
    ("boleto_wallet", sa.String(length=3)),
    ("boleto_agreement", sa.String(length=20)),
    ("updated_at", sa.DateTime(timezone=True)),
)

EXAMPLE_DOCUMENT = "11222333000181"
_EXAMPLE_VALUES = {
    "pix_key": "11222333000181",
    "email": "financeiro@exemplo.com.br",
    "phone": "+551130000000",
    "whatsapp": "+5511930000000",
    "address": "Av. Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100",
    "website": "https://www.exemplo.com.br",
}


def upgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        for name, type_ in _NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    creditors = sa.table(
        "creditors",
        sa.column("document", sa.String),
        sa.column("city", sa.String),
        sa.column("uf", sa.String),
        *(sa.column(name, sa.String) for name in _EXAMPLE_VALUES),
    )
    real = creditors.c.document != EXAMPLE_DOCUMENT
    for name, value in _EXAMPLE_VALUES.items():
        column = creditors.c[name]
        extra = {"city": None, "uf": None} if name == "address" else {}
        op.execute(creditors.update().where(real, column == value).values({name: None, **extra}))
    # The example company keeps its full example profile (the demo's).
    op.execute(
        sa.text(
            "UPDATE creditors SET trade_name = 'Exemplo', pix_key_kind = 'cnpj', "
            "address = 'Av. Paulista, 1000, Bela Vista', postal_code = '01310100', "
            "sender_email = 'cobranca@exemplo.com.br', "
            "service_hours = 'de segunda a sexta, das 8h às 18h' "
            "WHERE document = :example AND address = :old_address"
        ).bindparams(example=EXAMPLE_DOCUMENT, old_address=_EXAMPLE_VALUES["address"])
    )


def downgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        for name, _type in reversed(_NEW_COLUMNS):
            batch_op.drop_column(name)
