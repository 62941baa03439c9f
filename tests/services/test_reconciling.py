"""Reconciliation on SQLite and PostgreSQL: return files and payments settle, cancel, thank."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from regua.payments.cnab import CnabError, SettlementLine, cnab240, cnab400
from regua.payments.webhooks import PixReceived
from regua.services.cnab_returns import CnabImportResult, UnmatchedLine, import_return_file
from regua.services.daily_cycle import plan
from regua.services.pix_receipts import receive_pix
from regua.services.reconciling import IncomingPayment, reconcile
from regua.store import payments as payment_store
from regua.store.tables import (
    action_invoices,
    actions,
    creditors,
    customers,
    interactions,
    invoices,
    payments,
)
from tests.builders import (
    CUSTOMERS_CSV,
    NOW,
    invoice_row,
    pointing_at_nothing,
    run_import,
    stored_payments,
    units,
    write_csv,
)

MONDAY = NOW.date()  # 23/11/2026
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor;nosso_numero
T1;1001;C1;Mensalidade internet fibra - nov/2026;10/11/2026;99,90;00012345
T2;1002;C2;Material de escritório;05/11/2026;1.234,56;12345-6
T3;1003;C3;Parcela de móveis planejados;19/11/2026;500,00;
T4;1004;C1;Instalação;23/11/2026;299,00;777
"""


@pytest.fixture(params=["few", "many"])
def balances_beside(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test as for a few payments, then as for many: from `OVERLAP_FROM` balances on,
    PostgreSQL updates them in a thread while the rows of the payments and thank-yous are made.
    """
    if request.param == "many":
        monkeypatch.setattr(payment_store, "OVERLAP_FROM", 1)


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def paid(
    nosso: str,
    cents: int,
    on: date,
    *,
    occurrence: str = "06",
    seu: str = "",
    ref: str = "",
) -> SettlementLine:
    return SettlementLine(
        nosso_numero=nosso,
        seu_numero=seu,
        company_ref=ref,
        due_date=None,
        face_cents=cents,
        paid_cents=cents,
        paid_on=on,
        credited_on=on + timedelta(days=1),
        occurrence=occurrence,
    )


def return_240(path: Path, *titles: SettlementLine) -> Path:
    path.write_bytes(
        cnab240.write_return(
            bank_code="001",
            company_document="11444777000161",
            company_name="Loja Exemplo Ltda",
            generated_on=MONDAY,
            records=titles,
        )
    )
    return path


def import_file(engine: Engine, path: Path, creditor_id: int) -> CnabImportResult:
    return import_return_file(units(engine), path, creditor_id, NOW)


def stored_actions(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(
                    customers.c.external_id,
                    actions.c.purpose,
                    actions.c.planned_for,
                    actions.c.status,
                    actions.c.step_id,
                    actions.c.channel,
                    actions.c.template,
                )
                .join(customers, customers.c.id == actions.c.customer_id)
                .order_by(customers.c.external_id, actions.c.purpose)
            )
        ]


def thanked_for(engine: Engine) -> dict[str, list[str]]:
    """Customer -> the invoices each thank-you action thanks for."""
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for customer, invoice in connection.execute(
            select(customers.c.external_id, invoices.c.external_id)
            .select_from(
                actions.join(action_invoices, action_invoices.c.action_id == actions.c.id)
                .join(invoices, invoices.c.id == action_invoices.c.invoice_id)
                .join(customers, customers.c.id == actions.c.customer_id)
            )
            .where(actions.c.purpose == "thank_you")
            .order_by(customers.c.external_id, invoices.c.external_id)
        ):
            found.setdefault(customer, []).append(invoice)
    return found


def timeline(engine: Engine, kind: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (invoice, detail)
            for invoice, detail in connection.execute(
                select(invoices.c.external_id, interactions.c.detail)
                .join(invoices, invoices.c.id == interactions.c.invoice_id)
                .where(interactions.c.kind == kind)
                .order_by(interactions.c.id)
            )
        ]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_payment_date_decides_fees_partial_stays_open_and_overpayment_is_credit(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # T1: R$ 99,90 due 10/11, paid ON 10/11 though the file arrives on 23/11: no fees, settled.
    # T3: R$ 500,00 due Thu 19/11, paid Mon 23/11, 4 days late: multa 10,00 (2 %) + juros 0,67
    #     (500,00 * 1 % * 4/30) are paid first (CC art. 354), so 10,67 of principal stays open.
    # T2: R$ 1.234,56 paid with 1.300,00 on time: 65,44 of credit for the customer.
    # T4: R$ 299,00 due today, 100,00 paid: 199,00 open, the régua goes on for it.
    path = return_240(
        tmp_path / "retorno.ret",
        paid("00012345", 9990, date(2026, 11, 10)),
        paid("", 50000, MONDAY, seu="1003"),
        paid("0000123456", 130000, date(2026, 11, 5)),
        paid("777", 10000, MONDAY),
        paid("99999", 4200, MONDAY),
    )

    result = import_file(engine, path, portfolio)

    assert (result.settlements, result.applied, result.settled, result.partial) == (5, 4, 2, 2)
    assert (result.amount_cents, result.credit_cents, result.unmatched_cents) == (
        9990 + 50000 + 130000 + 10000 + 4200,
        6544,
        4200,
    )
    assert result.unmatched == [
        UnmatchedLine(
            11, "06", "liquidação", "settlement", "99999", "", 4200, "título não encontrado"
        )
    ]
    t1, t2, t3, t4 = (invoice_row(engine, x) for x in ("T1", "T2", "T3", "T4"))
    assert (t1.status, t1.balance_cents, t1.settled_on) == ("paid", 0, date(2026, 11, 10))
    assert (t2.status, t2.balance_cents, t2.settled_on) == ("paid", 0, date(2026, 11, 5))
    assert (t3.status, t3.balance_cents, t3.settled_on) == ("open", 1067, None)
    assert (t4.status, t4.balance_cents) == ("open", 19900)
    assert stored_payments(engine) == [
        ("cnab:001:00012345:06:2026-11-10", "T1", 9990, 9990, 0, 0, "applied"),
        ("cnab:001:0000123456:06:2026-11-05", "T2", 130000, 123456, 0, 6544, "applied"),
        ("cnab:001:1003:06:2026-11-23", "T3", 50000, 50000, 1067, 0, "applied"),
        ("cnab:001:777:06:2026-11-23", "T4", 10000, 10000, 0, 0, "applied"),
        # Money nobody could match is kept, visible, without an invoice.
        ("cnab:001:99999:06:2026-11-23", None, 4200, 0, 0, 0, "unmatched"),
    ]
    assert timeline(engine, "paid") == [
        ("T1", "Pagamento de R$ 99,90 (boleto) em 10/11/2026, título 1001: quitado"),
        (
            "T2",
            "Pagamento de R$ 1.300,00 (boleto) em 05/11/2026, título 1002: quitado; "
            "crédito de R$ 65,44 para o cliente",
        ),
        (
            "T3",
            "Pagamento de R$ 500,00 (boleto) em 23/11/2026, título 1003: restam R$ 10,67 em "
            "aberto; multa e juros pagos: R$ 10,67",
        ),
        (
            "T4",
            "Pagamento de R$ 100,00 (boleto) em 23/11/2026, título 1004: restam R$ 199,00 em "
            "aberto",
        ),
    ]


def test_a_late_consumer_pays_the_capped_multa_and_a_late_company_the_agreed_one(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # The creditor charges 10 % of multa. C1 is a person (CDC art. 52 §1: at most 2 %), C2 a
    # company (the contract's 10 %). Both pay their principal on 23/11, after the due date:
    # the fees are paid first and stay open as principal. T4 (C1) is paid on time: no fees.
    with engine.begin() as connection:
        connection.execute(update(creditors).values(late_fee_bp=1000))
    path = return_240(
        tmp_path / "retorno.ret",
        paid("00012345", 9990, MONDAY),  # T1, due 10/11: 13 days late
        paid("0000123456", 123456, MONDAY),  # T2, due 05/11: 18 days late
        paid("777", 29900, MONDAY),  # T4, due today
    )

    import_file(engine, path, portfolio)

    # multa + juros (1 % a month, pro rata die), each rounded to the centavo
    assert [row[4] for row in stored_payments(engine)] == [200 + 43, 12346 + 741, 0]
    assert [invoice_row(engine, x).balance_cents for x in ("T1", "T2", "T4")] == [243, 13087, 0]


@pytest.mark.usefixtures("balances_beside")
def test_each_payment_is_stored_at_the_import_instant_with_its_figures_on_the_timeline(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = return_240(
        tmp_path / "retorno.ret",
        paid("00012345", 9990, date(2026, 11, 10)),
        paid("777", 10000, MONDAY),
    )
    later = NOW + timedelta(hours=3)  # the invoices were imported at NOW

    import_return_file(units(engine), path, portfolio, later)

    with engine.connect() as connection:
        entries = connection.execute(
            select(customers.c.external_id, invoices.c.external_id, interactions.c.data)
            .join(customers, customers.c.id == interactions.c.customer_id)
            .join(invoices, invoices.c.id == interactions.c.invoice_id)
            .where(interactions.c.kind == "paid")
            .order_by(interactions.c.id)
        ).all()
        # Compared in SQL: an instant must be stored in the form every other writer uses.
        at_now = [
            connection.execute(select(func.count()).where(condition)).scalar_one()
            for condition in (
                interactions.c.at == later,
                payments.c.received_at == later,
                invoices.c.updated_at == later,
            )
        ]
    assert [tuple(entry) for entry in entries] == [
        (
            "C1",
            "T1",
            {
                "source": "cnab",
                "external_id": "cnab:001:00012345:06:2026-11-10",
                "amount_cents": 9990,
                "fees_cents": 0,
                "credit_cents": 0,
                "balance_cents": 0,
                "paid_on": "2026-11-10",
            },
        ),
        (
            "C1",
            "T4",
            {
                "source": "cnab",
                "external_id": "cnab:001:777:06:2026-11-23",
                "amount_cents": 10000,
                "fees_cents": 0,
                "credit_cents": 0,
                "balance_cents": 19900,
                "paid_on": "2026-11-23",
            },
        ),
    ]
    assert at_now == [2, 2, 2]


def test_importing_the_same_file_twice_creates_no_second_payment(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = return_240(
        tmp_path / "retorno.ret",
        paid("00012345", 9990, MONDAY - timedelta(days=13)),
        paid("42", 500, MONDAY),
    )
    import_file(engine, path, portfolio)
    before = (count(engine, payments), count(engine, interactions), count(engine, actions))

    again = import_file(engine, path, portfolio)

    assert (again.applied, again.duplicates, again.settled) == (0, 2, 0)
    assert (count(engine, payments), count(engine, interactions), count(engine, actions)) == before
    assert invoice_row(engine, "T1").balance_cents == 0


def test_a_broken_line_refuses_the_whole_file_and_names_the_line(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    data = cnab240.write_return(
        bank_code="001",
        company_document="11444777000161",
        company_name="Loja Exemplo Ltda",
        generated_on=MONDAY,
        records=[paid("00012345", 9990, MONDAY), paid("777", 29900, MONDAY)],
    )
    lines = data.decode("latin-1").split("\r\n")
    lines[5] = lines[5][:77] + "12345678901234X" + lines[5][92:]  # valor pago of the 2nd title
    path = tmp_path / "retorno.ret"
    path.write_bytes("\r\n".join(lines).encode("latin-1"))

    with pytest.raises(CnabError, match=r"^retorno\.ret:6: ") as refused:
        import_file(engine, path, portfolio)

    assert refused.value.line == 6
    assert count(engine, payments) == 0
    assert invoice_row(engine, "T1").balance_cents == 9990


def test_titles_are_found_by_nosso_numero_digits_then_seu_numero_then_company_reference(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = return_240(
        tmp_path / "retorno.ret",
        paid("12345", 9990, date(2026, 11, 10)),  # stored 00012345: same digits, no zeros
        paid("0000123456", 123456, date(2026, 11, 5)),  # stored typed as 12345-6
        paid("", 50000, MONDAY, seu="1003"),  # no nosso número: the invoice number
        paid("", 29900, MONDAY, ref="T4"),  # the company's own id, as sent in the remessa
    )

    result = import_file(engine, path, portfolio)

    assert (result.applied, result.settled, result.unmatched) == (4, 3, [])
    assert [invoice_row(engine, x).status for x in ("T1", "T2", "T3", "T4")] == [
        "paid",
        "paid",
        "open",  # paid 4 days late: the fees came first
        "paid",
    ]


def test_other_occurrences_go_to_the_invoice_timeline_once(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = return_240(
        tmp_path / "retorno.ret",
        paid("00012345", 0, date(2026, 11, 3), occurrence="02"),
        paid("777", 0, MONDAY, occurrence="09"),
        paid("0000123456", 0, date(2026, 11, 20), occurrence="19"),
        paid("31337", 0, MONDAY, occurrence="03"),
    )

    result = import_file(engine, path, portfolio)
    again = import_file(engine, path, portfolio)

    assert dict(result.occurrences) == {"entry_confirmed": 1, "written_off": 1, "protest": 1}
    assert dict(again.occurrences) == {}
    assert [(u.line, u.occurrence, u.nosso_numero) for u in result.unmatched] == [
        (9, "03", "31337")
    ]
    assert timeline(engine, "bank") == [
        ("T1", "Banco 001, ocorrência 02: entrada confirmada em 03/11/2026"),
        ("T4", "Banco 001, ocorrência 09: baixa em 23/11/2026"),
        (
            "T2",
            "Banco 001, ocorrência 19: confirmação recebimento instrução de protesto em 20/11/2026",
        ),
    ]
    assert count(engine, payments) == 0
    assert invoice_row(engine, "T4").status == "open"
    assert pointing_at_nothing(engine) == []


@pytest.mark.usefixtures("balances_beside")
def test_settlement_cancels_pending_actions_and_plans_one_thank_you(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = """
    id;codigo_cliente;descricao;vencimento;valor;nosso_numero
    A;C1;Mensalidade internet;23/11/2026;99,90;1
    B;C1;Instalação;20/11/2026;299,00;2
    C;C3;Parcela de móveis;23/11/2026;450,00;3
    D;C3;Parcela de móveis;23/12/2026;450,00;4
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)
    with engine.begin() as connection:
        plan(connection, creditor_id, MONDAY, NOW)
    assert [a[:5] for a in stored_actions(engine)] == [
        ("C1", "collection", MONDAY, "planned", "atraso-3"),  # A and B together
        ("C3", "collection", MONDAY, "planned", "vence-hoje"),  # C
    ]
    # C3 pays C (and D early): nothing is left for the action. C1 pays A only: B still open.
    path = return_240(
        tmp_path / "retorno.ret",
        paid("3", 45000, MONDAY),
        paid("4", 45000, MONDAY),
        paid("1", 9990, MONDAY),
    )

    result = import_file(engine, path, creditor_id)

    assert (result.settled, result.cancelled_actions, result.thank_you_actions) == (3, 1, 2)
    assert stored_actions(engine) == [
        ("C1", "collection", MONDAY, "planned", "atraso-3", "whatsapp", "atraso_amigavel"),
        ("C1", "thank_you", MONDAY, "planned", "agradecimento", "whatsapp", "agradecimento"),
        ("C3", "collection", MONDAY, "cancelled", "vence-hoje", "whatsapp", "vence_hoje"),
        ("C3", "thank_you", MONDAY, "planned", "agradecimento", "whatsapp", "agradecimento"),
    ]
    with engine.connect() as connection:
        reason = connection.execute(
            select(actions.c.reason).where(actions.c.status == "cancelled")
        ).scalar_one()
        thank_yous = connection.execute(
            select(customers.c.external_id, actions.c.evidence, actions.c.policy_version)
            .join(customers, customers.c.id == actions.c.customer_id)
            .where(actions.c.purpose == "thank_you")
            .order_by(customers.c.external_id)
        ).all()
        ids = dict(connection.execute(select(invoices.c.external_id, invoices.c.id)).all())
    assert reason == "título pago antes do envio"

    def thanks(version: str, *invoice_ids: int) -> dict[str, object]:
        # the shape of the plan's evidence: the régua, the step, the invoices, the channels
        return {
            "policy": "padrao",
            "policy_version": version,
            "step": "agradecimento",
            "step_offset": 0,
            "segment": "novo",
            "invoices": [{"id": i, "step": "agradecimento"} for i in invoice_ids],
            "channels_tried": {"whatsapp": "usado"},
        }

    assert {external: evidence for external, evidence, _v in thank_yous} == {
        external: thanks(version, *invoice_ids)
        for (external, _e, version), invoice_ids in zip(
            thank_yous, ([ids["A"]], [ids["C"], ids["D"]]), strict=True
        )
    }
    # A second settlement the same day joins the same thank-you instead of a second message.
    more = import_file(
        engine, return_240(tmp_path / "r2.ret", paid("2", 29900, MONDAY)), creditor_id
    )
    assert more.thank_you_actions == 0
    assert [a[1] for a in stored_actions(engine) if a[0] == "C1"] == ["collection", "thank_you"]
    assert stored_actions(engine)[0][3] == "cancelled"
    assert thanked_for(engine) == {"C1": ["A", "B"], "C3": ["C", "D"]}
    assert pointing_at_nothing(engine) == []


def test_partial_payment_keeps_the_action_and_an_old_payment_gets_no_thank_you(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    text = """
    id;codigo_cliente;vencimento;valor;nosso_numero
    C;C3;23/11/2026;450,00;3
    E;C2;01/11/2026;80,00;5
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", text), creditor_id)
    with engine.begin() as connection:
        # E's latest step (D+20, passed) is caught up: an action to cancel.
        plan(connection, creditor_id, MONDAY, NOW, start="recuperar")
    path = return_240(
        tmp_path / "retorno.ret",
        paid("3", 20000, MONDAY),
        paid("5", 8000, date(2026, 11, 1)),  # settled, but three weeks ago
    )

    result = import_file(engine, path, creditor_id)

    assert (result.settled, result.partial, result.thank_you_actions) == (1, 1, 0)
    assert invoice_row(engine, "C").balance_cents == 25000
    assert [a[:4] for a in stored_actions(engine)] == [
        ("C2", "collection", MONDAY, "cancelled"),  # E is paid, however long ago
        ("C3", "collection", MONDAY, "planned"),  # C still has R$ 250,00 open
    ]


def test_reversal_reopens_what_it_settled_and_withdraws_the_thank_you(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    with engine.begin() as connection:  # the régua runs: money arriving now is thanked
        plan(connection, portfolio, MONDAY, NOW)
    import_file(engine, return_240(tmp_path / "r1.ret", paid("777", 29900, MONDAY)), portfolio)
    assert invoice_row(engine, "T4").status == "paid"
    reversal = return_240(
        tmp_path / "r2.ret",
        paid("777", 29900, MONDAY, occurrence="44"),  # cheque devolvido
        paid("00012345", 9990, MONDAY, occurrence="44"),  # nothing was paid on T1
    )

    result = import_file(engine, reversal, portfolio)
    again = import_file(engine, reversal, portfolio)

    assert result.reversals == 1
    assert [(u.line, u.reason) for u in result.unmatched] == [
        (5, "nenhum pagamento deste título a estornar")
    ]
    assert again.reversals == 0
    t4 = invoice_row(engine, "T4")
    assert (t4.status, t4.balance_cents, t4.settled_on) == ("open", 29900, None)
    assert stored_payments(engine) == [
        ("cnab:001:777:06:2026-11-23", "T4", 29900, 29900, 0, 0, "reversed"),
        ("cnab:001:777:44:2026-11-23", "T4", -29900, -29900, 0, 0, "reversal"),
    ]
    thanks = [(a[1], a[3]) for a in stored_actions(engine) if a[1] == "thank_you"]
    assert thanks == [("thank_you", "cancelled")]
    assert timeline(engine, "payment_reversed") == [
        (
            "T4",
            "Pagamento de R$ 299,00 de 23/11/2026 estornado pelo banco (ocorrência 44: título "
            "pago com cheque devolvido): título reaberto, R$ 299,00 em aberto",
        )
    ]
    assert pointing_at_nothing(engine) == []


def test_reversal_of_a_late_payment_reopens_the_principal_only(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # T3 paid 4 days late: 10,67 of the 500,00 paid fees, so 489,33 of principal is reopened.
    import_file(
        engine, return_240(tmp_path / "r1.ret", paid("", 50000, MONDAY, seu="1003")), portfolio
    )
    reversal = SettlementLine(
        nosso_numero="",
        seu_numero="1003",
        due_date=None,
        face_cents=50000,
        paid_cents=50000,
        paid_on=MONDAY,
        credited_on=MONDAY,
        occurrence="44",
    )
    import_file(engine, return_240(tmp_path / "r2.ret", reversal), portfolio)

    t3 = invoice_row(engine, "T3")
    assert (t3.status, t3.balance_cents) == ("open", 1067 + 48933)


def test_a_late_partial_payment_settles_the_fees_once_and_its_reversal_restores_them(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    # T3 (500,00 due 19/11) paid 100,00 on 23/11, 4 days late: multa 10,00 + juros 0,67 first,
    # 89,33 of principal; 410,67 left, its multa and juros up to 23/11 settled.
    import_file(
        engine, return_240(tmp_path / "r1.ret", paid("", 10000, MONDAY, seu="1003")), portfolio
    )
    t3 = invoice_row(engine, "T3")
    assert (t3.balance_cents, t3.fees_paid_through, t3.fees_unpaid_cents) == (41067, MONDAY, 0)

    reversal = SettlementLine(
        nosso_numero="",
        seu_numero="1003",
        due_date=None,
        face_cents=10000,
        paid_cents=10000,
        paid_on=MONDAY,
        credited_on=MONDAY,
        occurrence="44",
    )
    import_file(engine, return_240(tmp_path / "r2.ret", reversal), portfolio)
    # Given back: no fees settled any more, the whole principal open again.
    t3 = invoice_row(engine, "T3")
    assert (t3.balance_cents, t3.fees_paid_through, t3.fees_unpaid_cents) == (50000, None, 0)


def test_unmatched_money_is_applied_when_a_later_import_can_match_it(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    path = return_240(tmp_path / "retorno.ret", paid("555", 12000, MONDAY))
    first = import_file(engine, path, portfolio)
    assert [u.nosso_numero for u in first.unmatched] == ["555"]
    text = """
    id;codigo_cliente;vencimento;valor;nosso_numero
    T5;C3;30/11/2026;120,00;555
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t5.csv", text), portfolio)

    second = import_file(engine, path, portfolio)

    assert (second.applied, second.settled, second.unmatched) == (1, 1, [])
    assert stored_payments(engine) == [
        ("cnab:001:555:06:2026-11-23", "T5", 12000, 12000, 0, 0, "applied")
    ]
    assert invoice_row(engine, "T5").status == "paid"


def test_cnab_400_bradesco_settlement_and_payment_cancelled(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    def bradesco(*titles: SettlementLine) -> Path:
        path = tmp_path / f"CB{len(list(tmp_path.iterdir()))}.RET"
        path.write_bytes(
            cnab400.write_return(
                company_code="4321000",
                company_document="11444777000161",
                company_name="Loja Exemplo Ltda",
                generated_on=MONDAY,
                records=titles,
            )
        )
        return path

    first = import_file(engine, bradesco(paid("12345", 9990, date(2026, 11, 9))), portfolio)
    assert (first.layout, first.bank_code, first.settled) == ("cnab400", "237", 1)
    assert invoice_row(engine, "T1").settled_on == date(2026, 11, 9)

    undo = import_file(
        engine, bradesco(paid("12345", 9990, date(2026, 11, 20), occurrence="40")), portfolio
    )

    assert undo.reversals == 1
    assert (invoice_row(engine, "T1").status, invoice_row(engine, "T1").balance_cents) == (
        "open",
        9990,
    )


def test_two_payments_to_one_invoice_apply_in_payment_date_order(
    engine: Engine, portfolio: int
) -> None:
    # The later one arrives first in the list; applied by date, the first one settles T4 and
    # the second becomes the customer's credit.
    with engine.begin() as connection:
        t4 = connection.execute(
            select(invoices.c.id).where(invoices.c.external_id == "T4")
        ).scalar_one()
        result = reconcile(
            connection,
            portfolio,
            [
                IncomingPayment("late", 5000, date(2026, 11, 23), invoice_id=t4),
                IncomingPayment("early", 29900, date(2026, 11, 22), invoice_id=t4),
                IncomingPayment("early", 29900, date(2026, 11, 22), invoice_id=t4),
            ],
            source="manual",
            now=NOW,
        )

    assert [
        (p.external_id, p.status, p.applied_cents, p.credit_cents) for p in result.payments
    ] == [
        ("late", "applied", 0, 5000),
        ("early", "applied", 29900, 0),
        ("early", "duplicate", 0, 0),
    ]
    assert invoice_row(engine, "T4").settled_on == date(2026, 11, 22)


# One reference, two invoices: A1 paid and A2 open; B1 and B2 open, B2 written later but due
# first. Every way money arrives picks A2 and B2.
SHARED_REFERENCES = """
id;numero;codigo_cliente;vencimento;valor;situacao;nosso_numero;txid
A1;5001;C1;01/10/2026;100,00;pago;900;TXA
A2;5001;C1;01/11/2026;100,00;aberto;900;TXA
B1;6001;C2;20/11/2026;100,00;aberto;901;TXB
B2;6001;C2;05/11/2026;100,00;aberto;901;TXB
"""


def _pay_by_spreadsheet(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    text = """
    id;numero;data_pagamento;valor
    PA;5001;01/11/2026;100,00
    PB;6001;01/11/2026;100,00
    """
    result = run_import(engine, "payments", write_csv(tmp_path / "p.csv", text), creditor_id)
    assert (result.inserted, result.rejected) == (2, 0)


def _pay_by_return_file(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    on = date(2026, 11, 1)
    path = return_240(tmp_path / "r.ret", paid("900", 10000, on), paid("901", 10000, on))
    assert import_file(engine, path, creditor_id).applied == 2


def _pay_by_pix(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    at = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    received = [PixReceived(f"E{txid}", txid, 10000, at, None) for txid in ("TXA", "TXB")]
    result = receive_pix(units(engine), creditor_id, received, now=NOW)
    assert [item.status for item in result.items] == ["applied", "applied"]


@pytest.mark.parametrize(
    "pay",
    [_pay_by_spreadsheet, _pay_by_return_file, _pay_by_pix],
    ids=["spreadsheet", "cnab", "pix"],
)
def test_a_reference_shared_by_two_invoices_pays_the_open_one_then_the_one_due_first(
    engine: Engine, creditor_id: int, tmp_path: Path, pay: Any
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    invoices_csv = write_csv(tmp_path / "t.csv", SHARED_REFERENCES)
    assert run_import(engine, "invoices", invoices_csv, creditor_id).inserted == 4

    pay(engine, creditor_id, tmp_path)

    assert sorted(invoice for _payment, invoice, *_rest in stored_payments(engine)) == [
        "A2",
        "B2",
    ]
    statuses = {x: invoice_row(engine, x).status for x in ("A1", "A2", "B1", "B2")}
    assert statuses == {"A1": "paid", "A2": "paid", "B1": "open", "B2": "paid"}
