"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, column, insert, table

from regua.store import creditors as creditor_store
from regua.store import migrate
from regua.store.tables import metadata
from tests.builders import NOW


def test_migrations_match_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_0007_clears_the_example_companys_details_from_real_creditors(engine: Engine) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    old = table(
        "creditors",
        *(
            column(name)
            for name in ("id", "name", "document", "pix_key", "email", "phone", "whatsapp")
        ),
        *(column(name) for name in ("address", "city", "uf", "website", "created_at")),
    )
    example = {
        "pix_key": "11222333000181",
        "email": "financeiro@exemplo.com.br",
        "phone": "+551130000000",
        "whatsapp": "+5511930000000",
        "address": "Av. Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100",
        "city": "São Paulo",
        "uf": "SP",
        "website": "https://www.exemplo.com.br",
        "created_at": NOW,
    }
    with engine.begin() as connection:
        # What `regua init --nome ... --cnpj ...` stored before: the example's details.
        connection.execute(
            insert(old).values(id=1, name="Comercial Ipê", document="06990590000123", **example)
        )
        connection.execute(
            insert(old).values(
                id=2,
                name="Loja Própria",
                document="52998224725",
                **{**example, "pix_key": "loja@propria.com.br", "phone": "+554133224455"},
            )
        )
        connection.execute(
            insert(old).values(id=3, name="Empresa Exemplo", document="11222333000181", **example)
        )
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as connection:
        real, own, demo = (
            creditor_store.profile(connection, creditor_id) for creditor_id in (1, 2, 3)
        )
    assert real is not None and own is not None and demo is not None
    assert (real.pix_key, real.email, real.phone, real.whatsapp) == (None, None, None, None)
    assert (real.address, real.city, real.uf, real.website) == (None, None, None, None)
    assert (own.pix_key, own.phone, own.email) == ("loja@propria.com.br", "+554133224455", None)
    assert demo.pix_key == "11222333000181" and demo.postal_code == "01310100"
    assert demo.full_address == "Av. Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100"
