"""Template lint renders its samples on the caller's day, not on a day of its own."""

from __future__ import annotations

from datetime import date

import pytest

from regua.channels.rendering import TemplateRenderer
from regua.channels.template_lint import lint_template

# Threatens the debtor on every day but 2 January 2031.
SMS_ON_A_DAY = (
    "{{ creditor.name }}, CNPJ {{ creditor.document }}: a fatura vence "
    "{{ invoices[0].due_date|data }}.{% if today|data != '02/01/2031' %} Sujeito a prisao."
    "{% endif %} Para nao receber mais mensagens, responda SAIR."
)


def test_lint_renders_the_samples_on_the_day_it_is_given() -> None:
    renderer = TemplateRenderer(texts={"messages/dia/sms.j2": SMS_ON_A_DAY})
    assert lint_template("dia", renderer=renderer, today=date(2031, 1, 2)) == []
    other_day = lint_template("dia", renderer=renderer, today=date(2026, 11, 23))
    assert [(item.channel, item.issue.code) for item in other_day] == [("sms", "ameaca")]


def test_lint_has_no_day_of_its_own() -> None:
    with pytest.raises(TypeError):
        lint_template("vence_hoje")  # type: ignore[call-arg]
