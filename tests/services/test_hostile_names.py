"""Names as careless ERPs and attackers write them, from the import to the SMTP server, on SQLite
and PostgreSQL: a line break (Alt+Enter in Excel) or an encoded word with encoded CR/LF is text
on one line, the e-mail goes out with regua's headers and body, and the address stays valid."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select, update

from regua.channels.registry import ChannelRegistry
from regua.clock import FixedClock
from regua.config import Settings
from regua.services.daily_cycle import plan
from regua.services.dispatching import Dispatcher
from regua.store.tables import contacts, customers
from tests.builders import run_import
from tests.servers import SmtpServer, smtp_server

__all__ = ["smtp_server"]

MONDAY = date(2026, 11, 23)
AT_9_IN_SAO_PAULO = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ENCODED = "=?utf-8?q?x=0D=0AReply-To:_golpe@evil.example=0D=0A=0D=0APague_o_PIX?="


def write_customers(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """(code, name, CPF, e-mail) as quoted CSV cells: a name may hold a line break."""
    lines = ["codigo_cliente;nome;cpf_cnpj;email;uf"]
    lines += [f'{code};"{name}";{cpf};{email};SP' for code, name, cpf, email in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_names_are_imported_on_one_line_and_encoded_words_stay_text(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    people = [
        ("A1", "Maria da\r\nConceição", "529.982.247-25", "maria@exemplo.com.br"),
        ("A2", ENCODED, "390.533.447-05", "jose@exemplo.com.br"),
        ("A3", "Ana\tPaula\x00  Souza", "111.444.777-35", "ana@exemplo.com.br"),
    ]
    result = run_import(
        engine, "customers", write_customers(tmp_path / "c.csv", people), creditor_id
    )

    assert (result.inserted, result.rejected) == (3, 0)
    with engine.connect() as connection:
        names = dict(connection.execute(select(customers.c.external_id, customers.c.name)).all())
    assert names == {"A1": "Maria da Conceição", "A2": ENCODED, "A3": "Ana Paula Souza"}


def test_a_line_break_left_in_a_stored_name_no_longer_disables_the_email(
    engine: Engine, creditor_id: int, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    people = [
        ("M1", "Maria", "529.982.247-25", "maria@exemplo.com.br"),
        ("M2", "José", "390.533.447-05", "jose@exemplo.com.br"),
    ]
    run_import(engine, "customers", write_customers(tmp_path / "c.csv", people), creditor_id)
    bills = tmp_path / "t.csv"
    bills.write_text(
        "id;codigo_cliente;vencimento;valor\r\nF1;M1;20/11/2026;99,90\r\nF2;M2;20/11/2026;50,00\r\n"
    )
    run_import(engine, "invoices", bills, creditor_id)
    # Names written before the import cleaned them, or by another program.
    with engine.begin() as connection:
        connection.execute(
            update(customers).where(customers.c.external_id == "M1").values(name="Maria\nSouza")
        )
        connection.execute(
            update(customers).where(customers.c.external_id == "M2").values(name=ENCODED)
        )
        planned = plan(connection, creditor_id, MONDAY, AT_9_IN_SAO_PAULO).actions
    assert [a.channel for a in planned] == ["email", "email"]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_sender="cobranca@exemplo.com.br",
        outbox_dir=tmp_path / "outbox",
    )
    registry = ChannelRegistry.from_settings(settings, clock=clock)
    with registry:
        result = Dispatcher(engine, registry, clock=clock, jitter=lambda: 0.0).dispatch_due(
            today=MONDAY
        )

    assert result.sent == {"email": 2} and result.contacts_flagged == 0
    by_rcpt = {mail.rcpt_tos[0]: mail for mail in smtp_server.handler.received}
    assert by_rcpt["maria@exemplo.com.br"].message["To"].addresses[0].display_name == (
        "Maria Souza"
    )
    forged = by_rcpt["jose@exemplo.com.br"]
    head = forged.content.split(b"\r\n\r\n", 1)[0]
    header_names = [
        line.split(b":", 1)[0].lower()
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    ]
    assert header_names.count(b"reply-to") == 1 and b"bcc" not in header_names
    assert forged.message["Reply-To"] == "financeiro@exemplo.com.br"
    plain = forged.message.get_body(("plain",))
    assert plain is not None and "Pague o PIX" not in str(plain.get_content())
    with engine.connect() as connection:
        invalid = connection.execute(
            select(contacts.c.value).where(contacts.c.invalid_at.is_not(None))
        ).all()
    assert invalid == []
