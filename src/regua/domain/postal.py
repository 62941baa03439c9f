"""A customer's postal address as a letter prints it: the lines of the recipient block, with
the CEP the Correios sort by."""

from __future__ import annotations

from dataclasses import dataclass

from regua.domain.creditor_profile import format_cep


class PostalError(ValueError):
    """A CEP that is not 8 digits; the message is the reason, in pt-BR."""


def parse_cep(text: str) -> str:
    """``80010-000`` / ``80.010-000`` / ``80010000`` -> ``80010000``.

    A spreadsheet that stored the CEP as a number drops its leading zero (``1310100`` for
    01310-100): seven digits get it back.
    """
    raw = text.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    rest = "".join(ch for ch in raw if not ch.isdigit() and ch not in "-. ")
    if len(digits) == 7 and not rest:
        digits = "0" + digits
    if len(digits) != 8 or rest:
        raise PostalError(f"CEP inválido: {raw} (8 dígitos, ex.: 80010-000)")
    return digits


@dataclass(frozen=True)
class PostalAddress:
    street: str  # logradouro, número and complemento, as one line
    district: str | None = None
    city: str | None = None
    uf: str | None = None
    postal_code: str | None = None  # 8 digits

    def lines(self) -> list[str]:
        """The recipient block under the name, the way the Correios ask for it: street line,
        bairro, then CEP with city and UF."""
        place = " - ".join(p for p in (self.city, self.uf) if p)
        last = " ".join(
            p for p in (format_cep(self.postal_code) if self.postal_code else "", place) if p
        )
        return [line for line in (self.street, self.district or "", last) if line]

    def block(self) -> str:
        return "\n".join(self.lines())


def street_line(street: str, number: str = "", complement: str = "") -> str:
    """``Rua das Flores``, ``120``, ``apto 31`` -> ``Rua das Flores, 120, apto 31``."""
    return ", ".join(part for part in (street.strip(), number.strip(), complement.strip()) if part)
