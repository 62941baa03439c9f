"""What a CNAB return file says, whatever its layout: the records, the file, the error, the
writer's input, and the lookup of an occurrence code in a bank's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

from regua.error_codes import ErrorCode
from regua.errors import InputError

Layout = Literal["cnab240", "cnab400"]
RecordKind = Literal[
    "settlement",
    # A baixa that says the title was paid ("baixa por ter sido liquidado"): money only when no
    # settlement of the same title came before it; otherwise the same payment told twice.
    "settled_written_off",
    "reversal",
    "entry_confirmed",
    "entry_rejected",
    "written_off",
    "protest",
    "other",
    "unknown",  # a code missing from the bank's table: listed in the report, never settles
]
SETTLING_KINDS = frozenset({"settlement", "settled_written_off"})


class CnabError(InputError):
    """A return file that cannot be read; ``file`` and ``row`` (1-based line) say where."""

    code = ErrorCode.INVALID_CNAB

    def __init__(self, message: str, *, file: str, line: int | None) -> None:
        super().__init__(message, file=file, row=line, code=self.code)
        self.line = line


class ReturnRecord(NamedTuple):
    """One occurrence about one título, as the bank reported it.

    Amounts are centavos; ``paid_on`` is the data da ocorrência (the payment date for a
    liquidação), ``credited_on`` the date the money reaches the account. A named tuple: a
    return file holds 100,000 of them, built at a fraction of a frozen dataclass's cost.
    """

    line: int  # 1-based line of the first record of the title (segment T in CNAB 240)
    occurrence: str
    occurrence_text: str
    kind: RecordKind
    nosso_numero: str  # as the bank wrote it, spaces stripped (leading zeros kept)
    seu_numero: str
    company_ref: str  # uso da empresa / nº de controle do participante: the sender's own id
    due_date: date | None
    face_cents: int
    paid_cents: int
    interest_cents: int  # juros + multa paid
    discount_cents: int
    rebate_cents: int  # abatimento
    fee_cents: int  # tarifa / despesas de cobrança
    net_cents: int  # credited to the account: what the payer paid less the bank's fee
    paid_on: date | None
    credited_on: date | None
    reasons: tuple[str, ...] = ()
    iof_cents: int = 0
    # The nosso número as the creditor's system may hold it besides ``nosso_numero``: with its
    # check digit (kept apart by some banks) or without the convênio prefix (Banco do Brasil).
    nosso_numero_forms: tuple[str, ...] = ()
    pix_txid: str = ""  # Santander CNAB 400 record 2 / CNAB 240 segment Y-03

    @property
    def nosso_numero_digits(self) -> str:
        """Nosso número without leading zeros, for matching against numbers stored as typed."""
        stripped = self.nosso_numero.lstrip("0")
        return stripped or ("0" if self.nosso_numero else "")

    @property
    def is_settlement(self) -> bool:
        return self.kind in SETTLING_KINDS

    @property
    def credited_cents(self) -> int:
        return self.net_cents


@dataclass(frozen=True)
class ReturnFile:
    layout: Layout
    bank_code: str
    company_document: str
    generated_on: date | None
    records: list[ReturnRecord] = field(default_factory=list)
    bank_name: str = ""
    # What in the file departs from the bank's layout but was read unambiguously (pt-BR, one
    # line per kind of deviation, not per line of the file).
    warnings: tuple[str, ...] = ()
    variant: str = ""  # e.g. "CBR643" for Banco do Brasil's CNAB 400 with record 7


@dataclass(frozen=True, kw_only=True)
class SettlementLine:
    """Writer input: one title in a return file built by ``cnab240.write_return`` or
    ``cnab400.write_return`` (tests, demo data, benchmarks)."""

    nosso_numero: str
    seu_numero: str = ""
    company_ref: str = ""
    due_date: date | None
    face_cents: int
    paid_cents: int
    interest_cents: int = 0
    discount_cents: int = 0
    rebate_cents: int = 0
    fee_cents: int = 0
    net_cents: int | None = None  # None: paid - fee (the tarifa is taken from the payment)
    paid_on: date | None
    credited_on: date | None
    occurrence: str = "06"
    reasons: tuple[str, ...] = ()

    @property
    def net(self) -> int:
        if self.net_cents is not None:
            return self.net_cents
        return self.paid_cents - self.fee_cents


Occurrences = dict[str, tuple[str, RecordKind]]


def describe(table: Occurrences, code: str, bank_code: str) -> tuple[str, RecordKind]:
    """Text and kind of an occurrence code.

    A code missing from the bank's table does not refuse the file: it is reported as "unknown",
    so it is never taken for a payment, and its text says it is not catalogued.
    """
    found = table.get(code)
    if found is not None:
        return found
    return (f"ocorrência {code} não catalogada para o banco {bank_code}", "unknown")
