"""Templates a gestor may edit: every way to build a huge text or loop for long is refused
quickly with a reason, and any render failure is a TemplateError (the action fails with that
reason), never a crash of the dispatch."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from regua.channels.registry import ChannelRegistry
from regua.channels.rendering import (
    MAX_TEXT,
    TemplateError,
    TemplateSecurityError,
    load_user_template_text,
)
from regua.channels.template_samples import sample_context
from regua.clock import FixedClock
from regua.config import Settings
from tests.services.test_dispatching import (
    AT_9_IN_SAO_PAULO,
    MONDAY,
    action_rows,
    dispatcher,
    one_email_customer,
)

__all__ = ["one_email_customer"]

TODAY = date(2026, 11, 23)

BIG = [
    "{{ 'x'.center(50000000) }}",
    "{{ 'x'.ljust(50000000) }}",
    "{{ 'x'.rjust(50000000) }}",
    "{{ 'x'.zfill(50000000) }}",
    "{{ 'x\\t'.expandtabs(50000000) }}",
    "{{ '{:>50000000}'.format('x') }}",
    "{{ '{:{w}}'.format('x', w=50000000) }}",
    "{{ '{0:>50000000}'.format_map({'0': 1}) }}",
    "{{ '%50000000s'|format('x') }}",
    "{{ '%*s'|format(50000000, 'x') }}",
    "{{ 'x'|center(50000000) }}",
    "{{ 'a\\nb'|indent(50000000) }}",
    "{{ ('x' * 10000).replace('x', 'y' * 10000) }}",
    "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
    "{% for i in range(10000) %}{% for j in range(10000) %}.{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{% endfor %}",
    "{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "{{ ('x' * 10000 ~ 'x' * 10000)|wordwrap(50000000) }}",
]

BROKEN = [
    "{{ '{1}'.format_map({}) }}",
    "{{ '{0}'.format() }}",
    "{{ invoices[99] }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ 1 / 0 }}",
    "{{ '%d'|format('x') }}",
]


def render_sms(text: str) -> None:
    renderer = load_user_template_text("vence_hoje", {"sms.j2": text})
    renderer.render("vence_hoje", "sms", sample_context(TODAY))


@pytest.mark.parametrize("attack", BIG)
def test_a_template_building_a_huge_text_or_loop_is_refused_quickly(attack: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateSecurityError, match="limite") as refused:
        render_sms(attack)
    assert "grande demais" in refused.value.message
    # Refused before the text is built, not after: far from the 0.4 s a 100 MB string takes.
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("template", BROKEN)
def test_a_template_that_fails_in_any_way_is_a_template_error(template: str) -> None:
    with pytest.raises(TemplateError):
        render_sms(template)


def test_ordinary_loops_and_widths_still_render() -> None:
    renderer = load_user_template_text(
        "vence_hoje",
        {
            "sms.j2": "{% for i in range(3) %}{{ i }}{% endfor %}|{{ 'x'.center(5) }}|"
            "{{ '{:>4}'.format(7) }}|{{ '%5s'|format('ab') }}|{{ 'abc'.replace('b', 'B') }}"
        },
    )
    text = renderer.render("vence_hoje", "sms", sample_context(TODAY)).text
    assert text == "012|  x  |   7|   ab|aBc"
    assert MAX_TEXT >= 100_000


def test_a_broken_template_fails_its_action_with_the_reason_and_the_rest_goes_on(
    engine: Engine, one_email_customer: int, tmp_path: Path
) -> None:
    renderer = load_user_template_text(
        "atraso_amigavel", {"email.txt.j2": "{{ '{1}'.format_map({}) }}"}
    )
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)
    with registry:
        result = dispatcher(engine, clock, registry, renderer=renderer).dispatch_due(today=MONDAY)

    [row] = action_rows(engine)
    assert result.sent == {}
    assert row.status == "failed"
    assert row.reason.startswith("modelo com erro")
    assert not list((tmp_path / "out").glob("**/*.eml"))
