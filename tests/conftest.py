"""Shared fixtures: every test that touches the store runs on SQLite and on PostgreSQL.

PostgreSQL comes from REGUA_TEST_DATABASE_URL or, by default, a database of its own created for
the test session on the local server (127.0.0.1:5432) and dropped afterwards. Where it is not
reachable the PostgreSQL variants skip, unless REGUA_TEST_REQUIRE_POSTGRES=1 (CI), where that is
an error.

The distributed tests need Redis (REGUA_TEST_REDIS_URL, by default the local server's database
15): where it is not reachable they skip with the reason, unless REGUA_TEST_REQUIRE_REDIS=1 (CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text

from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.store import migrate
from regua.store.db import make_engine
from regua.store.tables import metadata

# Shared, noisy machines: a property test must fail on a wrong answer, never on a slow one.
settings.register_profile(
    "regua", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.load_profile("regua")

POSTGRES_URL = os.environ.get("REGUA_TEST_DATABASE_URL", "")
# Without an explicit URL each test session gets its own database on the local server, so two
# test runs on one machine never truncate each other's tables.
POSTGRES_ADMIN_URL = os.environ.get(
    "REGUA_TEST_POSTGRES_ADMIN_URL", "postgresql://127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("REGUA_TEST_REQUIRE_POSTGRES") == "1"
REDIS_URL = os.environ.get("REGUA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("REGUA_TEST_REQUIRE_REDIS") == "1"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    url, private = POSTGRES_URL, None
    if not url:
        private = f"regua_test_{os.getpid()}"
        try:
            admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{private}"'))
                connection.execute(text(f'CREATE DATABASE "{private}"'))
            admin.dispose()
        except Exception as exc:  # any failure here means "no PostgreSQL to test on"
            if REQUIRE_POSTGRES:
                pytest.fail(f"PostgreSQL required but unusable at {POSTGRES_ADMIN_URL}: {exc}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{private}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        engine.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required but unreachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url}")
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if private:
        admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{private}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the distributed tests use as the broker, answering a PING; else a skip."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"Redis required but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def _truncate_postgres(engine: Engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "regua.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        sqlite_engine = make_engine(f"sqlite:///{path}")
        yield sqlite_engine
        sqlite_engine.dispose()
    else:
        pg = request.getfixturevalue("postgres_engine")
        _truncate_postgres(pg)
        yield pg


@pytest.fixture
def creditor_id(engine: Engine) -> int:
    with engine.begin() as connection:
        return create_creditor(connection, EXAMPLE_CREDITOR, NOW)


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)
