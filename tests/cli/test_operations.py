"""Running regua in production from the command line: a database behind this version's schema
is refused with the command that fixes it, and a worker without its database does not start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regua.cli.main import app
from regua.services.operations_status import alembic_revisions, head_revision, shipped_revisions
from regua.store import migrate
from regua.store.db import make_engine
from tests.cli.test_bad_inputs import assert_one_line_error
from tests.servers import SmtpServer, smtp_server

__all__ = ["smtp_server"]

runner = CliRunner()
DOWN = "postgresql://regua@127.0.0.1:1/regua"  # nothing listens on port 1


@pytest.fixture
def old_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0003")
    engine.dispose()
    return url


def test_the_quick_reading_of_the_migrations_agrees_with_alembic() -> None:
    assert shipped_revisions() == alembic_revisions()
    assert head_revision() == migrate.head_revision()


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


# --- configuration: bad values, `regua config`, `regua doctor` ------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("REGUA_RATE_LIMITS", "email=5", "REGUA_RATE_LIMITS=email=5 inválido: use JSON"),
        ("REGUA_RATE_LIMITS", '{"fax": 3}', "canais: email, sms, whatsapp, letter"),
        (
            "REGUA_SMTP_SECURITY",
            "tls",
            "REGUA_SMTP_SECURITY=tls inválido: use none, starttls ou ssl",
        ),
        ("REGUA_TIMEZONE", "Brasil/Lua", "REGUA_TIMEZONE=Brasil/Lua inválido: use um fuso IANA"),
        ("REGUA_SMTP_PORT", "vinte", "REGUA_SMTP_PORT=vinte inválido: use um número inteiro"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_what_it_takes(
    variable: str, value: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["segments"])
    assert_one_line_error(result, "configuração inválida", words)


def test_a_bad_secret_value_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGUA_BROKER_TRANSPORT_OPTIONS", "nao-json")
    result = runner.invoke(app, ["config"])
    assert_one_line_error(result, "REGUA_BROKER_TRANSPORT_OPTIONS=nao-json inválido")


def test_config_masks_secrets_and_url_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGUA_DATABASE_URL", "postgresql://eu:s3nha-do-banco@db.local/regua")
    monkeypatch.setenv("REGUA_BROKER_URL", "amqp://fila:s3nha-da-fila@mq.local//")
    monkeypatch.setenv("REGUA_SMTP_PASSWORD", "s3nha-do-smtp")
    monkeypatch.setenv("REGUA_WEBHOOK_SECRET", "s3gredo-do-webhook")
    monkeypatch.setenv("REGUA_RATE_LIMITS", '{"email": 5}')
    text = runner.invoke(app, ["config"])
    as_json = runner.invoke(app, ["config", "--json"])
    assert text.exit_code == 0 and as_json.exit_code == 0, text.output
    for output in (text.stdout, as_json.stdout):
        assert "s3nha" not in output and "s3gredo" not in output
    assert "REGUA_DATABASE_URL=postgresql://eu:***@db.local/regua" in text.stdout
    assert "REGUA_SMTP_PASSWORD=***" in text.stdout
    assert 'REGUA_RATE_LIMITS={"email": 5.0}' in text.stdout
    shown = json.loads(as_json.stdout)
    assert shown["REGUA_BROKER_URL"] == "amqp://fila:***@mq.local//"
    assert shown["REGUA_WEBHOOK_SECRET"] == "***"
    assert shown["REGUA_PIX_WEBHOOK_SECRET"] == ""  # empty stays visibly empty
    assert shown["REGUA_RATE_LIMITS"] == {"email": 5.0}


@pytest.fixture
def current_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'regua.db'}"
    result = runner.invoke(
        app,
        [
            "init",
            "--db",
            url,
            "--nome",
            "Comercial Ipê Distribuidora Ltda",
            "--cnpj",
            "06.990.590/0001-23",
        ],
    )
    assert result.exit_code == 0, result.output
    return url


def doctor(url: str, *extra: str) -> tuple[int, dict[str, dict[str, object]]]:
    result = runner.invoke(app, ["doctor", "--db", url, "--json", *extra])
    assert "Traceback" not in result.output
    body = json.loads(result.stdout)
    return result.exit_code, {c["name"]: c for c in body["checks"]}


def test_doctor_passes_on_a_fresh_embedded_installation(current_database: str) -> None:
    code, checks = doctor(current_database)
    assert code == 0, checks
    assert checks["banco"]["ok"] and checks["esquema"]["ok"]
    assert checks["segredo dos links"]["detail"] == "guardado no banco"
    assert checks["links"]["ok"]  # this machine's address is fine while all goes to the outbox
    text = runner.invoke(app, ["doctor", "--db", current_database])
    assert text.exit_code == 0
    assert "ok     banco: acessível" in text.stdout


def test_doctor_talks_to_the_smtp_server(
    current_database: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REGUA_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("REGUA_PORTAL_BASE_URL", "https://cobranca.example.com.br/p")
    monkeypatch.setenv("REGUA_UNSUBSCRIBE_BASE_URL", "https://cobranca.example.com.br/descadastro")
    code, checks = doctor(current_database)
    assert code == 0, checks
    assert checks["links"]["detail"] == "endereços públicos"
    assert checks["smtp"]["detail"] == f"127.0.0.1:{smtp_server.port} respondeu ao EHLO"
    assert smtp_server.handler.received == []  # nothing was sent


def test_doctor_fails_each_problem_with_its_reason(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REGUA_SMTP_PORT", "1")
    monkeypatch.setenv("REGUA_SMS_BASE_URL", "https://sms.example.com/api")
    monkeypatch.setenv("REGUA_WHATSAPP_BASE_URL", "graph.facebook.com")
    monkeypatch.setenv("REGUA_BROKER_URL", "redis://127.0.0.1:1/0")
    code, checks = doctor(old_database)
    assert code == 1
    assert checks["banco"]["ok"]
    assert str(checks["esquema"]["detail"]).startswith("o banco está na versão 0003; rode")
    assert str(checks["broker"]["detail"]).startswith("broker inacessível")
    assert str(checks["smtp"]["detail"]).startswith("127.0.0.1:1 inacessível")
    assert checks["sms"]["detail"] == "https://sms.example.com/api sem REGUA_SMS_TOKEN"
    assert checks["whatsapp"]["detail"] == "'graph.facebook.com' não é um endereço http(s)"
    assert checks["segredo do webhook"]["ok"] is False
    # Real messages with links to this machine: the customer could not open them.
    assert checks["links"]["ok"] is False
    detail = str(checks["links"]["detail"])
    assert detail.startswith("REGUA_PORTAL_BASE_URL=http://127.0.0.1:8000/p, ")
    assert "apontam para esta máquina: o cliente não abre o link" in detail


def test_doctor_reports_a_database_that_is_down() -> None:
    code, checks = doctor(DOWN)
    assert code == 1
    assert str(checks["banco"]["detail"]).startswith("banco inacessível")
    assert "esquema" not in checks


def test_doctor_fails_when_the_installation_and_the_creditor_disagree_on_the_time_zone(
    current_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_TIMEZONE", "America/Manaus")
    code, checks = doctor(current_database)
    assert code == 1
    assert "difere do fuso do credor (America/Sao_Paulo)" in str(checks["fuso"]["detail"])
