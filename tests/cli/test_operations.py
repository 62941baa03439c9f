"""Running regua in production from the command line: a database behind this version's schema
is refused with the command that fixes it, and a worker without its database does not start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regua.cli.main import app
from regua.services.operations_status import head_revision
from regua.store import migrate
from regua.store.db import make_engine
from tests.cli.test_bad_inputs import assert_one_line_error

runner = CliRunner()
DOWN = "postgresql://regua@127.0.0.1:1/regua"  # nothing listens on port 1


@pytest.fixture
def old_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0003")
    engine.dispose()
    return url


@pytest.mark.parametrize("command", ["run", "segments", "resumo", "dispatch", "payments"])
def test_a_database_behind_the_head_names_the_upgrade(command: str, old_database: str) -> None:
    result = runner.invoke(app, ["--db", old_database, command])
    assert_one_line_error(result, "o banco está na versão 0003; rode `regua db upgrade`")


def test_db_upgrade_then_the_same_command_works(old_database: str) -> None:
    upgraded = runner.invoke(app, ["--db", old_database, "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"0003 -> {head_revision()}" in upgraded.stdout
    result = runner.invoke(app, ["--db", old_database, "segments"])
    assert "versão" not in result.output
    assert "regua db upgrade" not in result.output


def test_a_database_of_a_newer_regua_is_refused(old_database: str) -> None:
    engine = make_engine(old_database)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    result = runner.invoke(app, ["--db", old_database, "run"])
    assert_one_line_error(result, "o banco está na versão 9999", "atualize o regua")


def test_a_worker_without_its_database_refuses_to_start() -> None:
    result = runner.invoke(app, ["worker", "--db", DOWN])
    assert_one_line_error(result, "o worker não inicia: banco inacessível")
    assert "ready" not in result.output


def test_a_celery_worker_without_its_database_exits_2(tmp_path: Path) -> None:
    # Started with `celery -A` (not `regua worker`): it still refuses, before saying ready.
    env = {**os.environ, "REGUA_DATABASE_URL": DOWN, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "regua.worker.celery_app", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "erro: o worker não inicia: banco inacessível" in done.stderr
    assert "ready" not in done.stdout + done.stderr
