"""One-line text: what a name, a city or a number may hold once read from a spreadsheet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.text_cleaning import one_line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Maria da Conceição", "Maria da Conceição"),
        ("  Maria   da  Silva ", "Maria da Silva"),
        ("Maria da\r\nConceição", "Maria da Conceição"),  # Alt+Enter
        ("Ana\tPaula\x00Souza\x0b", "Ana Paula Souza"),
        ("Ana\u2028Paula\u2029Souza\x85", "Ana Paula Souza"),
        ("=?utf-8?q?x=0D=0ABcc:_a@b.c?=", "=?utf-8?q?x=0D=0ABcc:_a@b.c?="),  # not decoded
        ("\u00a0José\u00a0", "José"),
        ("", ""),
    ],
)
def test_one_line(raw: str, clean: str) -> None:
    assert one_line(raw) == clean


@given(st.text())
def test_nothing_breaks_a_line_or_controls_afterwards(raw: str) -> None:
    clean = one_line(raw)
    assert len(f"a{clean}a".splitlines()) == 1
    assert all(ch == " " or ch.isprintable() or not ch.isspace() for ch in clean)
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in clean)
    assert clean == clean.strip() and "  " not in clean
