"""Duplicates an import flags: an invoice number billed twice to one customer under two ERP
ids, and one CPF/CNPJ under two customer ids. The user chooses the rule (`--duplicados`):
`avisar` imports the row and lists it as a warning; `rejeitar` leaves the second one out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection

from regua.error_codes import ErrorCode
from regua.services.import_row_errors import RowInvalid
from regua.store import invoices as invoice_store

DuplicateRule = Literal["avisar", "rejeitar"]
DUPLICATE_RULES: tuple[DuplicateRule, ...] = ("avisar", "rejeitar")


@dataclass
class InvoiceNumbers:
    """(customer id, number) -> the ERP id first seen with it, in the file or stored."""

    seen: dict[tuple[int, str], str] = field(default_factory=dict)

    def load(self, conn: Connection, creditor_id: int, wanted: Iterable[tuple[int, str]]) -> None:
        pairs = [pair for pair in wanted if pair not in self.seen]
        if not pairs:
            return
        for customer_id, number, external_id in invoice_store.numbers_of_customers(
            conn, creditor_id, {c for c, _n in pairs}, {n for _c, n in pairs}
        ):
            self.seen.setdefault((customer_id, number), external_id)

    def check(self, customer_id: int, number: str, external_id: str) -> RowInvalid | None:
        """The flag for an invoice numbered like another of the customer's, else None (and
        the number is noted)."""
        first = self.seen.setdefault((customer_id, number), external_id)
        if first == external_id:
            return None
        return RowInvalid(
            "number",
            f"número {number} já cobrado deste cliente no título {first}: cobrança em dobro?",
            ErrorCode.DUPLICATE_NUMBER,
        )


def document_flag(document: str, external_id: str, first: str | None) -> RowInvalid | None:
    """The flag for a customer whose CPF/CNPJ another customer id has (`first`), else None."""
    if first is None or first == external_id:
        return None
    return RowInvalid(
        "document",
        f"CPF/CNPJ {document} já é do cliente {first}: o mesmo cliente com dois códigos?",
        ErrorCode.DUPLICATE_DOCUMENT,
    )
