"""`regua demo` never replaces what it did not make, and builds outside the source tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.services.demo import MARKER_FILE
from regua.store.db import make_engine
from regua.store.tables import customers

runner = CliRunner()
SMALL = ["--customers", "12", "--days", "0", "--today", "2026-11-23"]


def count_customers(path: Path) -> int:
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(customers)).scalar_one())
    engine.dispose()
    return count


def one_line(result_stderr: str) -> str:
    lines = [line for line in result_stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result_stderr
    return lines[0]


def test_demo_refuses_a_folder_holding_a_real_database(tmp_path: Path) -> None:
    database = tmp_path / "regua.db"
    assert (
        runner.invoke(
            app,
            [
                "init",
                "--db",
                f"sqlite:///{database}",
                "--nome",
                "Loja Real Ltda",
                "--cnpj",
                "06.990.590/0001-23",
            ],
        ).exit_code
        == 0
    )
    (tmp_path / "clientes.csv").write_text("codigo_cliente;nome\nC9;Real\n", encoding="utf-8")
    before = database.read_bytes()

    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), *SMALL])

    assert result.exit_code == 2
    assert one_line(result.stderr) == (
        f"erro: {database} já existe e não é de uma demonstração: a demonstração não o "
        "substitui (use outra pasta com --dir)"
    )
    assert database.read_bytes() == before
    assert (tmp_path / "clientes.csv").read_text(encoding="utf-8").endswith("C9;Real\n")
    assert not (tmp_path / MARKER_FILE).exists()


@pytest.mark.parametrize("name", ["outbox", "titulos.csv"])
def test_demo_refuses_other_files_it_would_replace(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    if name == "outbox":
        target.mkdir()
        (target / "carta.pdf").write_bytes(b"%PDF")
    else:
        target.write_text("id;valor\nT1;1,00\n", encoding="utf-8")

    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), *SMALL])

    assert result.exit_code == 2
    assert f"{target} já existe e não é de uma demonstração" in one_line(result.stderr)
    assert not (tmp_path / "regua.db").exists()


def test_demo_rebuilds_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["demo", "--dir", ".", *SMALL])
    assert first.exit_code == 0, first.output
    assert (tmp_path / MARKER_FILE).is_file()
    assert count_customers(tmp_path / "regua.db") == 12

    again = runner.invoke(app, ["demo", "--dir", ".", "--customers", "7", *SMALL[2:]])
    assert again.exit_code == 0, again.output
    assert count_customers(tmp_path / "regua.db") == 7


def test_demo_default_folder_is_in_the_home_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, work = tmp_path / "casa", tmp_path / "checkout"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)

    result = runner.invoke(app, ["demo", *SMALL])

    assert result.exit_code == 0, result.output
    said = "".join(result.stdout.split())  # the console wraps long lines at its width
    assert f"Demonstraçãoem{home / 'regua-demo'}/" in said
    assert count_customers(home / "regua-demo" / "regua.db") == 12
    assert list(work.iterdir()) == []
