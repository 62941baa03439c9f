"""Boleto codec: barcode (44 digits), linha digitável (47/48 digits), check digits, due factor.

Covers the FEBRABAN boleto de cobrança (any bank; the 25-digit campo livre is kept opaque) and,
modestly, the boleto de arrecadação/convênio (utility bills, taxes: starts with ``8``).
Field tables and the 2025-02-22 due-factor restart are described in BRAZIL.md section 2.

Pure functions: "today" is always a ``reference`` argument, never read from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from regua.error_codes import ErrorCode
from regua.errors import InputError

# Carta-Circular BCB 2.926/2000: factor = days since 1997-10-07. FEBRABAN restarted the count at
# 1000 on 2025-02-22, i.e. a new base of 2022-05-29, exactly 9,000 days after the first one; the
# count therefore repeats every 9,000 days (1000..9999).
OLD_BASE = date(1997, 10, 7)
NEW_BASE = date(2022, 5, 29)
RESTART = date(2025, 2, 22)
FACTOR_CYCLE_DAYS = 9000
MIN_FACTOR = 1000
MAX_FACTOR = 9999
# FEBRABAN: a factor is read as the date lying 3,000 days before to 5,500 days after the
# reference date (brcobranca calculo_data.rb documents the same window).
WINDOW_PAST_DAYS = 3000
WINDOW_FUTURE_DAYS = 5500

MAX_AMOUNT_CENTS = 99_999_999_99  # 10 digits in the barcode

BoletoKind = Literal["cobranca", "arrecadacao"]


class BoletoError(InputError):
    """A barcode or linha digitável that cannot be read; the message is pt-BR."""

    code = ErrorCode.INVALID_BOLETO


@dataclass(frozen=True)
class Boleto:
    """A decoded boleto.

    For ``kind == "arrecadacao"`` the bank fields do not exist: ``bank_code`` is empty,
    ``currency`` holds the segment digit (barcode position 2), ``due_date`` is None and
    ``free_field`` holds barcode positions 16-44 (company/agency identification and free data).
    """

    kind: BoletoKind
    bank_code: str
    currency: str
    due_date: date | None
    amount_cents: int | None  # None: the amount is not in the code (payer types it)
    free_field: str
    barcode: str
    line: str
    formatted_line: str


# --------------------------------------------------------------------------- check digits


def mod10(digits: str) -> int:
    """FEBRABAN módulo 10: weights 2,1,2,1... from the right, products summed digit by digit."""
    total = 0
    weight = 2
    for ch in reversed(digits):
        product = (ord(ch) - 48) * weight
        total += product - 9 if product > 9 else product
        weight = 3 - weight
    return (10 - total % 10) % 10


def _mod11_sum(digits: str) -> int:
    total = 0
    weight = 2
    for ch in reversed(digits):
        total += (ord(ch) - 48) * weight
        weight = 2 if weight == 9 else weight + 1
    return total


def mod11_general(digits43: str) -> int:
    """General DV of a boleto de cobrança over the 43 barcode digits without position 5.

    Weights 2..9 from the right; ``11 - sum % 11``, and 0, 10 or 11 become 1: the general DV of a
    cobrança barcode is never 0.
    """
    if len(digits43) != 43 or not digits43.isdigit():
        raise BoletoError("o DV geral é calculado sobre 43 dígitos")
    result = 11 - _mod11_sum(digits43) % 11
    return 1 if result in (0, 10, 11) else result


def mod11_arrecadacao(digits: str) -> int:
    """Módulo 11 of the arrecadação layout: weights 2..9 from the right; remainder 0 or 1 -> 0."""
    remainder = _mod11_sum(digits) % 11
    return 0 if remainder in (0, 1) else 11 - remainder


# --------------------------------------------------------------------------- due factor


def due_factor(d: date) -> int:
    """Fator de vencimento of a due date (old base until 2025-02-21, new base from 2025-02-22)."""
    factor = (d - OLD_BASE).days if d < RESTART else (d - NEW_BASE).days
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise BoletoError(
            f"vencimento {d:%d/%m/%Y} fora do intervalo representável pelo fator de vencimento"
        )
    return factor


def date_from_factor(factor: int, reference: date) -> date | None:
    """Due date of a factor, read in the FEBRABAN window around ``reference``.

    A factor names one date every 9,000 days. The candidate in [reference − 3,000 days,
    reference + 5,500 days] is chosen. The window is 500 days shorter than the cycle; in that
    gap no candidate is valid for payment and the candidate nearest to the window is returned,
    so an expired boleto still shows when it was due.

    Returns None for factor 0 (boleto without due date).
    """
    if factor == 0:
        return None
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise BoletoError(f"fator de vencimento inválido: {factor:04d}", field="fator")
    low = reference - timedelta(days=WINDOW_PAST_DAYS)
    high = reference + timedelta(days=WINDOW_FUTURE_DAYS)
    first = OLD_BASE + timedelta(days=factor)
    # Cycle index of the first candidate not before the window's start.
    k = -((first - low).days // FACTOR_CYCLE_DAYS)
    candidate = first + timedelta(days=k * FACTOR_CYCLE_DAYS)
    if candidate <= high:
        return candidate
    previous = candidate - timedelta(days=FACTOR_CYCLE_DAYS)
    return previous if (low - previous) < (candidate - high) else candidate


# --------------------------------------------------------------------------- conversions


def _digits(text: str, what: str) -> str:
    out = []
    for ch in text:
        if "0" <= ch <= "9":
            out.append(ch)
        elif ch.isalpha():
            raise BoletoError(f"{what} contém caractere inválido: {ch!r}")
    return "".join(out)


def _require(code: str, length: int, what: str) -> None:
    if len(code) != length:
        raise BoletoError(f"{what} deve ter {length} dígitos; encontrado {len(code)}")


def _check(field: str, expected: int, found: str) -> None:
    if str(expected) != found:
        raise BoletoError(
            f"dígito verificador inválido: esperado {expected}, encontrado {found}", field=field
        )


def _cobranca_line_to_barcode(line: str) -> str:
    """47-digit line -> 44-digit barcode, checking the three field DVs."""
    fields = ((0, 9, "campo 1"), (10, 20, "campo 2"), (21, 31, "campo 3"))
    for start, dv_pos, name in fields:
        _check(f"{name} da linha digitável", mod10(line[start:dv_pos]), line[dv_pos])
    return line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]


def _cobranca_barcode_to_line(barcode: str) -> str:
    f1 = barcode[0:4] + barcode[19:24]
    f2 = barcode[24:34]
    f3 = barcode[34:44]
    return (
        f1 + str(mod10(f1)) + f2 + str(mod10(f2)) + f3 + str(mod10(f3)) + barcode[4] + barcode[5:19]
    )


def _arrecadacao_dv(barcode_or_block: str, value_id: str) -> int:
    # FEBRABAN arrecadação layout, position 3 ("identificação do valor"): 6/7 -> módulo 10,
    # 8/9 -> módulo 11.
    if value_id in "67":
        return mod10(barcode_or_block)
    return mod11_arrecadacao(barcode_or_block)


def _check_value_id(value_id: str) -> None:
    if value_id not in "6789":
        raise BoletoError(
            f"identificação do valor inválida: {value_id} (esperado 6, 7, 8 ou 9)",
            field="posição 3",
        )


def _arrecadacao_line_to_barcode(line: str) -> str:
    value_id = line[2]
    _check_value_id(value_id)
    blocks = []
    for i in range(4):
        block = line[i * 12 : i * 12 + 11]
        _check(
            f"bloco {i + 1} da linha digitável", _arrecadacao_dv(block, value_id), line[i * 12 + 11]
        )
        blocks.append(block)
    return "".join(blocks)


def _arrecadacao_barcode_to_line(barcode: str) -> str:
    value_id = barcode[2]
    _check_value_id(value_id)
    parts = []
    for i in range(4):
        block = barcode[i * 11 : (i + 1) * 11]
        parts.append(block + str(_arrecadacao_dv(block, value_id)))
    return "".join(parts)


def line_to_barcode(line: str) -> str:
    """Linha digitável (47 digits, or 48 for arrecadação) -> 44-digit barcode.

    Punctuation and spaces are ignored; the field DVs of the line are checked.
    """
    digits = _digits(line, "linha digitável")
    if digits.startswith("8"):
        _require(digits, 48, "linha digitável de arrecadação")
        return _arrecadacao_line_to_barcode(digits)
    _require(digits, 47, "linha digitável")
    return _cobranca_line_to_barcode(digits)


def barcode_to_line(barcode: str) -> str:
    """44-digit barcode -> linha digitável (47 digits, or 48 for arrecadação), digits only."""
    digits = _digits(barcode, "código de barras")
    _require(digits, 44, "código de barras")
    if digits.startswith("8"):
        return _arrecadacao_barcode_to_line(digits)
    return _cobranca_barcode_to_line(digits)


def format_line(line: str) -> str:
    """Digits of a line -> the printed form.

    Cobrança: ``AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV``;
    arrecadação: ``XXXXXXXXXXX-X XXXXXXXXXXX-X XXXXXXXXXXX-X XXXXXXXXXXX-X``.
    """
    if len(line) == 48:
        return " ".join(f"{line[i : i + 11]}-{line[i + 11]}" for i in range(0, 48, 12))
    return (
        f"{line[0:5]}.{line[5:10]} {line[10:15]}.{line[15:21]} "
        f"{line[21:26]}.{line[26:32]} {line[32]} {line[33:47]}"
    )


# --------------------------------------------------------------------------- parse / make


def parse(text: str, *, reference: date) -> Boleto:
    """Read a linha digitável (47/48 digits) or a barcode (44 digits), validating every DV.

    Args:
        text: as pasted by a person: dots, spaces and hyphens are ignored.
        reference: the date the due factor is read around (usually today).

    Raises:
        BoletoError: pt-BR message naming the field whose check digit failed.
    """
    digits = _digits(text, "boleto")
    if len(digits) == 44:
        barcode = digits
        line = barcode_to_line(barcode)
    elif len(digits) == 47 and not digits.startswith("8"):
        line = digits
        barcode = _cobranca_line_to_barcode(line)
    elif len(digits) == 48 and digits.startswith("8"):
        line = digits
        barcode = _arrecadacao_line_to_barcode(line)
    else:
        raise BoletoError(
            "esperado código de barras (44 dígitos) ou linha digitável (47 dígitos, 48 na "
            f"arrecadação); encontrado {len(digits)} dígitos"
        )
    if barcode.startswith("8"):
        return _parse_arrecadacao(barcode, line)
    general = mod11_general(barcode[:4] + barcode[5:])
    _check("DV geral", general, barcode[4])
    factor = int(barcode[5:9])
    amount = int(barcode[9:19])
    return Boleto(
        kind="cobranca",
        bank_code=barcode[0:3],
        currency=barcode[3],
        due_date=date_from_factor(factor, reference),
        amount_cents=amount or None,
        free_field=barcode[19:44],
        barcode=barcode,
        line=line,
        formatted_line=format_line(line),
    )


def _parse_arrecadacao(barcode: str, line: str) -> Boleto:
    value_id = barcode[2]
    _check_value_id(value_id)
    _check("DV geral", _arrecadacao_dv(barcode[:3] + barcode[4:], value_id), barcode[3])
    # 6 and 8 carry the effective amount in reais; 7 and 9 a reference quantity (índice).
    amount = int(barcode[4:15]) if value_id in "68" else 0
    return Boleto(
        kind="arrecadacao",
        bank_code="",
        currency=barcode[1],
        due_date=None,
        amount_cents=amount or None,
        free_field=barcode[15:44],
        barcode=barcode,
        line=line,
        formatted_line=format_line(line),
    )


def make_barcode(
    *, bank_code: str, due_date: date | None, amount_cents: int, free_field: str
) -> str:
    """Build a boleto de cobrança barcode (currency 9 = Real) with its general DV.

    ``free_field`` is the 25-digit campo livre; its inner layout (agência, carteira, nosso número
    and their DVs) belongs to each bank and is taken as given.
    """
    if len(bank_code) != 3 or not bank_code.isdigit() or bank_code.startswith("8"):
        raise BoletoError(f"código do banco inválido: {bank_code!r}", field="banco")
    if len(free_field) != 25 or not free_field.isdigit():
        raise BoletoError("o campo livre deve ter 25 dígitos", field="campo livre")
    if not 0 <= amount_cents <= MAX_AMOUNT_CENTS:
        raise BoletoError("valor fora do intervalo do código de barras", field="valor")
    factor = 0 if due_date is None else due_factor(due_date)
    body = f"{bank_code}9{factor:04d}{amount_cents:010d}{free_field}"
    return body[:4] + str(mod11_general(body)) + body[4:]
