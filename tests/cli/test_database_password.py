"""A database URL is printed without its password: `regua init` in text and JSON, on PostgreSQL
(the test server trusts loopback, so the password is carried and ignored), and the refusal of a
URL that does not parse."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from regua.cli.main import app

runner = CliRunner()
PASSWORD = "S3cretXyz"
INIT = ["--nome", "Comercial Ipê Distribuidora Ltda", "--cnpj", "06.990.590/0001-23"]


@pytest.fixture
def url_with_password(engine: Engine) -> str:
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite URL has no password")
    user = engine.url.username or "postgres"
    return engine.url.set(username=user, password=PASSWORD).render_as_string(hide_password=False)


def test_init_never_prints_the_password(url_with_password: str) -> None:
    text = runner.invoke(app, ["init", "--db", url_with_password, *INIT])
    as_json = runner.invoke(app, ["init", "--db", url_with_password, "--json", *INIT])

    assert text.exit_code == 0, text.output
    assert as_json.exit_code == 0, as_json.output
    assert PASSWORD not in text.output and PASSWORD not in as_json.output
    assert ":***@" in text.output
    assert json.loads(as_json.output)["database_url"].count(":***@") == 1


def test_a_url_that_does_not_parse_is_refused_without_its_password() -> None:
    result = runner.invoke(app, ["init", "--db", f"postgresql://ana:{PASSWORD}@db:porta/x", *INIT])

    assert result.exit_code == 2
    assert PASSWORD not in result.output
    assert "endereço de banco inválido: 'postgresql://ana:***@db:porta/x'" in result.output
