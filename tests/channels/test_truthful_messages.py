"""Messages say what is true of every invoice they list: each due date or the range, days late
from the oldest, invoices not yet due apart; companies are spoken to as companies."""

from __future__ import annotations

from datetime import date

import pytest

from regua.channels.context_items import due_summary, split_invoices
from regua.channels.rendering import render
from regua.channels.template_samples import sample_context

TODAY = date(2026, 11, 29)  # invoices due 09/11, 17/11 and 22/11: 20, 12 and 7 days late
THREE_DATES = (20, 12, 7)


def test_due_summary_names_the_range_and_counts_from_the_oldest() -> None:
    context = sample_context(TODAY, offset=20, days_late=THREE_DATES)
    due = due_summary(context["invoices"])
    assert due["text"] == "entre 09/11/2026 e 22/11/2026"
    assert due["em_aberto"] == "em aberto, a mais antiga há 20 dias"
    one = due_summary(sample_context(TODAY, offset=20, days_late=(20, 20))["invoices"])
    assert (one["text"], one["em_aberto"]) == ("em 09/11/2026", "em aberto há 20 dias")


def test_an_overdue_step_speaks_of_overdue_invoices_and_lists_the_others_apart() -> None:
    items = sample_context(TODAY, offset=30, days_late=(40, 0, -5))["upcoming"]
    assert [i["days_late"] for i in items] == [0, -5]
    lead, later = split_invoices(
        sample_context(TODAY, offset=-3, days_late=(-3, -5))["invoices"]
        + sample_context(TODAY, offset=-3, days_late=(-3, -5))["upcoming"],
        -3,
    )
    assert [i["days_late"] for i in lead] == [-3]
    assert [i["days_late"] for i in later] == [-5]


def test_three_due_dates_email_text_sms_whatsapp_and_letter() -> None:
    context = sample_context(TODAY, offset=20, days_late=THREE_DATES)
    email = render("atraso_firme", "email", context)
    assert email.subject == "Débito em aberto desde 09/11/2026: vamos regularizar?"
    assert (
        "As 3 faturas que venceram entre 09/11/2026 e 22/11/2026 estão em aberto, a mais "
        "antiga há 20 dias." in email.text
    )
    # regua does not know whether anyone spoke with the customer (a call at D+15 may have).
    assert "conseguimos falar" not in email.text
    assert "venceram em" not in email.text
    sms = render("atraso_firme", "sms", context)
    assert (
        "suas 3 faturas vencidas entre 09/11/2026 e 22/11/2026 estao em aberto, a mais antiga "
        "ha 20 dias. Valor atualizado: R$ 266,39." in sms.text
    )
    whatsapp = render("atraso_firme", "whatsapp", context)
    assert (
        "As 3 faturas que venceram entre 09/11/2026 e 22/11/2026 estão em aberto, a mais "
        "antiga há 20 dias." in whatsapp.text
    )
    assert whatsapp.whatsapp_params[2:4] == (
        "entre 09/11/2026 e 22/11/2026",
        "20 dias (a mais antiga)",
    )
    assert whatsapp.whatsapp_template_text is not None
    assert (
        "O pagamento de 3 faturas, com vencimento entre 09/11/2026 e 22/11/2026, está em aberto "
        "há 20 dias (a mais antiga)." in whatsapp.whatsapp_template_text
    )
    letter = render("atraso_lembrete", "letter", context)
    assert "Assunto: débito em aberto desde 09/11/2026" in letter.text
    assert (
        "As faturas abaixo, com vencimento entre 09/11/2026 e 22/11/2026, continuam em aberto, "
        "a mais antiga há 20 dias." in letter.text
    )


@pytest.mark.parametrize("template", ["atraso_amigavel", "atraso_lembrete", "atraso_firme"])
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "letter"])
def test_no_grouped_message_gives_one_date_for_invoices_of_three(
    template: str, channel: str
) -> None:
    rendered = render(template, channel, sample_context(TODAY, offset=20, days_late=THREE_DATES))
    texts = [rendered.text or "", rendered.whatsapp_template_text or "", rendered.subject or ""]
    for text in texts:
        for wrong in ("venceram em 09/11", "venceram em 22/11", "de 09/11/2026 estao", "há 7 dias"):
            assert wrong not in text


def test_pre_registration_notice_counts_only_overdue_debt() -> None:
    context = sample_context(TODAY, offset=30, days_late=(40, -5))
    for channel in ("email", "letter"):
        text = render("aviso_negativacao", channel, context).text
        notice, apart = text.split("Também está em aberto, ainda a vencer (fora do total acima):")
        assert "NF-1042" in notice and "R$ 154,90" in notice
        assert "NF-1043" not in notice
        assert "Vencimento: 04/12/2026 | Valor: R$ 80,00" in apart
    email = render("aviso_negativacao", "email", context)
    assert "no valor de R$ 234,90, que quita também a fatura a vencer" in email.text
    sms = render("aviso_negativacao", "sms", context)
    assert "debito de R$ 154,90 em aberto" in sms.text
    assert "Ha ainda 1 fatura a vencer (R$ 80,00)." in sms.text
    whatsapp = render("aviso_negativacao", "whatsapp", context)
    assert "vence em 04/12/2026" in whatsapp.text
    # What the PIX code charges is said wherever it is offered: the total with the one not due.
    assert "*PIX copia e cola*, no valor de R$ 234,90, que quita também a fatura a vencer" in (
        whatsapp.text
    )
    approved = " ".join(whatsapp.whatsapp_params)
    assert "PIX copia e cola de R$ 234,90, que quita também a fatura a vencer," in approved or (
        "acesse" in approved
    )
    assert "Fatura NF-1043: Instalação do roteador Wi-Fi\n  Vencimento: 04/12/2026" in email.text


def test_several_late_invoices_on_whatsapp_add_up_to_a_stated_total() -> None:
    context = sample_context(TODAY, offset=20, days_late=(20, 14))
    text = render("atraso_firme", "whatsapp", context).text
    items = [line for line in text.splitlines() if line.startswith("NF-")]
    assert len(items) == 2
    assert "Total: *R$ 235,87*" in text  # R$ 153,90 + R$ 81,97, as listed above


def test_contacts_read_as_a_sentence_whichever_the_creditor_gave() -> None:
    context = sample_context(TODAY, offset=3)
    context["contact"] = {"phone": None, "whatsapp": None, "email": "a@b.com.br", "hours": None}
    text = render("atraso_amigavel", "email", context).text
    assert "Fale com a nossa equipe pelo e-mail a@b.com.br." in text


def test_a_company_is_spoken_to_as_a_company_and_cdc_is_cited_to_consumers_only() -> None:
    company = sample_context(TODAY, offset=30, days_late=(40,), consumer=False)
    person = sample_context(TODAY, offset=30, days_late=(40,), consumer=True)
    letter = render("aviso_negativacao", "letter", company).text
    assert "Prezado(a)" not in letter
    assert "À Pet Shop Cão Feliz Ltda\nPrezados," in letter
    for template in ("aviso_negativacao", "atraso_firme"):
        for channel in ("email", "whatsapp", "letter"):
            assert "Consumidor" not in render(template, channel, company).text
            assert "CDC" not in render(template, channel, company).text
    assert (
        "Prezado(a) Maria da Conceição Souza," in render("aviso_negativacao", "letter", person).text
    )
    assert "artigo 43, parágrafo 2º, do Código de Defesa do Consumidor" in (
        render("aviso_negativacao", "email", person).text
    )


def test_amounts_in_the_email_html_never_break_apart() -> None:
    context = sample_context(TODAY, offset=20, days_late=THREE_DATES)
    email = render("atraso_firme", "email", context)
    assert email.html is not None
    assert "R$&nbsp;266,39" in email.html and "R$ 266,39" not in email.html
    assert "R$ 266,39" in email.text  # plain text keeps the ordinary space
    sms = render("atraso_firme", "sms", context)
    assert "\u00a0" not in sms.text and "&nbsp;" not in sms.text


def test_an_invoice_without_a_description_is_named_once_and_the_notice_says_how_to_pay_once() -> (
    None
):
    context = sample_context(TODAY, offset=30, days_late=(40,))
    for item in context["invoices"]:
        item["description"] = item["number"]  # what an ERP without descriptions gives
    number = context["invoices"][0]["number"]
    email = render("aviso_negativacao", "email", context)
    assert f"Fatura {number} (vencimento em" in email.text
    assert f"Fatura {number}: {number}" not in email.text
    assert email.text.count("Como pagar:") == 1
    assert "Para pagar:" not in email.text
    assert f'<span style="color:#555;">{number}</span>' not in (email.html or "")


def test_a_reminder_of_several_invoices_says_so_in_its_subject() -> None:
    one = render("lembrete_vencimento", "email", sample_context(TODAY, offset=-3))
    two = render("lembrete_vencimento", "email", sample_context(TODAY, days_late=(-3, -3)))
    assert one.subject == "Lembrete: sua fatura vence em 02/12/2026"
    assert two.subject == "Lembrete: suas faturas vencem em 02/12/2026"
