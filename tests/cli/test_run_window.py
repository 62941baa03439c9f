"""`regua run` before the contact window opens: the messages wait, the run says when the window
opens and what sends them then; letters, printed and posted, do not wait for it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from regua.bootstrap import build_app
from regua.cli.dispatch_commands import dispatch_embedded
from regua.cli.plan_commands import sending_of
from regua.clock import FixedClock
from regua.domain.calendar import DEFAULT_CONTACT_WINDOW, next_opening
from regua.services import daily_cycle
from regua.store.tables import actions
from tests.builders import write_csv
from tests.cli.analyst_portfolio import cli

SP = ZoneInfo("America/Sao_Paulo")

CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email;endereco;uf;cidade
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;Rua das Flores 10, Centro;SP;São Paulo
C2;Maria Antônia;39053344705;maria@exemplo.com.br;;SP;Santos
"""
# Due 24/10/2026: on Mon 23/11 the step of D+30 (aviso-negativacao: letter, else e-mail).
INVOICES = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-10-24;150,00
T2;NF-2;C2;Mensalidade;2026-10-24;80,00
"""


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 6, 0), datetime(2026, 11, 23, 8, 0)),  # Monday, before 08:00
        (datetime(2026, 11, 23, 9, 30), datetime(2026, 11, 23, 9, 30)),  # open: now
        (datetime(2026, 11, 23, 21, 0), datetime(2026, 11, 24, 8, 0)),  # closed for the day
        (datetime(2026, 11, 19, 22, 0), datetime(2026, 11, 21, 8, 0)),  # Fri 20/11 a holiday
    ],
)
def test_next_opening(local: datetime, expected: datetime) -> None:
    now = local.replace(tzinfo=SP).astimezone(UTC)
    opens = next_opening(DEFAULT_CONTACT_WINDOW, "America/Sao_Paulo", now)
    assert opens is not None
    assert opens.replace(tzinfo=None) == expected


def test_a_run_at_six_sends_the_letter_and_says_when_the_emails_go(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    cli(db_url, "init", "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23")
    cli(
        db_url,
        "credor",
        "editar",
        "--pix",
        "06990590000123",
        "--telefone",
        "(11) 3333-4444",
        "--endereco",
        "Rua do Comércio 100, Centro",
        "--cidade",
        "Curitiba",
        "--uf",
        "PR",
        "--cep",
        "80010-000",
    )
    cli(db_url, "import", "customers", str(write_csv(tmp_path / "clientes.csv", CUSTOMERS)))
    cli(db_url, "import", "invoices", str(write_csv(tmp_path / "titulos.csv", INVOICES)))

    six = datetime(2026, 11, 23, 6, 0, tzinfo=SP).astimezone(UTC)
    app = build_app(database_url=db_url, outbox_dir=tmp_path / "caixa", clock=FixedClock(six))
    try:
        ran = daily_cycle.run_day(
            app.uow, 1, date(2026, 11, 23), six, dispatch=lambda: dispatch_embedded(app)
        )
        opens = daily_cycle.window_opens(app.uow, 1, six)
    finally:
        app.close()
    assert ran.dispatched is not None
    assert dict(ran.dispatched.sent) == {"letter": 1}
    assert ran.dispatched.waiting == 1
    with engine.connect() as connection:
        statuses = dict(connection.execute(select(actions.c.channel, actions.c.status)).all())
    assert statuses == {"letter": "sent", "email": "planned"}
    assert opens == datetime(2026, 11, 23, 8, 0, tzinfo=SP)

    [line] = sending_of(ran.plan, ran.dispatched, opens, six).lines()
    assert line.startswith(
        "1 mensagens aguardam a janela de contato, que abre hoje às 08:00 (horário de Brasília)."
    )
    assert "`regua dispatch` as envia então" in line
    assert "`regua worker --beat`" in line
    assert "Cartas não esperam a janela" in line
    # At noon the window is open: nothing to say.
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=SP)
    assert sending_of(ran.plan, ran.dispatched, noon, noon).lines() == []
    # Planned without dispatch on Saturday night: sent on Monday.
    saturday = datetime(2026, 11, 21, 22, 0, tzinfo=SP)
    opens_monday = next_opening(DEFAULT_CONTACT_WINDOW, "America/Sao_Paulo", saturday)
    [later] = sending_of(ran.plan, None, opens_monday, saturday).lines()
    assert "o envio fica para `regua dispatch`; a janela de contato abre segunda, 23/11" in later
