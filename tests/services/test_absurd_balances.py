"""Balances no import accepts any more (two near 2^63 centavos, written before the ceiling or by
another program) do not break the day for the whole portfolio: `regua segments`, `preview` and
`run` answer, on SQLite and PostgreSQL, and the other customers are planned."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, update
from typer.testing import CliRunner

from regua.cli.main import app
from regua.store.tables import invoices
from tests.builders import run_import, write_csv

NEAR_INT64 = 9_000_000_000_000_000_000


def test_two_absurd_balances_do_not_stop_run_preview_or_segments(
    engine: Engine, creditor_id: int, tmp_path: Path, db_url: str
) -> None:
    customers_csv = """
    codigo_cliente;nome;cpf_cnpj;email;uf
    C1;Ana Lima;390.533.447-05;ana@exemplo.com.br;SP
    C2;Bia Reis;529.982.247-25;bia@exemplo.com.br;SP
    """
    invoices_csv = """
    id;codigo_cliente;vencimento;valor
    T1;C1;20/10/2026;10,00
    T2;C1;20/10/2026;20,00
    T3;C2;20/11/2026;80,00
    """
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", customers_csv), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", invoices_csv), creditor_id)
    with engine.begin() as connection:
        connection.execute(
            update(invoices)
            .where(invoices.c.external_id.in_(["T1", "T2"]))
            .values(amount_cents=NEAR_INT64, balance_cents=NEAR_INT64)
        )
    runner = CliRunner(env={"REGUA_OUTBOX_DIR": str(tmp_path / "saida")})
    base = ["--today", "2026-11-23"]

    segments = runner.invoke(app, [*base, "segments", "--db", db_url])
    preview = runner.invoke(app, [*base, "preview", "--db", db_url, "--json"])
    run = runner.invoke(app, [*base, "run", "--db", db_url])

    assert segments.exit_code == 0, segments.output
    assert preview.exit_code == 0, preview.output
    planned = json.loads(preview.output)["actions"]
    assert ("bia@exemplo.com.br", "atraso-3") in {(a["contact"], a["step"]) for a in planned}
    assert run.exit_code == 0, run.output
    assert list((tmp_path / "saida").rglob("*.eml"))  # the e-mail to Bia went out
