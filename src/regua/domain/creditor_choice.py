"""Which creditor a command works on, in an installation that may hold several.

A person names a creditor by its id (``2``), its CNPJ/CPF (formatted or not) or its name
(``"Loja Beta"``, ``loja-beta``: the legal or trade name, accents and case aside; a part of a
name does when it fits one creditor only). With no name given, the installation's only creditor
is the one; with several, nothing is guessed: the person is told which exist.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CreditorName:
    """How a stored creditor can be named."""

    id: int
    legal_name: str
    document: str  # compact CNPJ (14) or CPF (11)
    trade_name: str | None = None

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(slug(n) for n in (self.legal_name, self.trade_name) if n)

    @property
    def shown(self) -> str:
        """`#2 Loja Beta (loja-beta)`: the id and the name a person can type."""
        return f"#{self.id} {self.trade_name or self.legal_name} ({self.slugs[-1]})"


class CreditorChoiceError(ValueError):
    """No creditor, or no single one, answers to what was given (pt-BR message)."""


def slug(text: str) -> str:
    """`Comércio Beta Ltda.` -> `comercio-beta-ltda`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


LISTED = 10  # creditors named in one error line; the rest: `regua credor listar`


def _listing(creditors: Sequence[CreditorName]) -> str:
    shown = ", ".join(c.shown for c in creditors[:LISTED])
    more = len(creditors) - LISTED
    return shown if more <= 0 else f"{shown} e mais {more} (regua credor listar)"


def choose_creditor(creditors: Sequence[CreditorName], given: str | None) -> int:
    """The id of the creditor `given` names (None: the only one there is).

    Raises:
        CreditorChoiceError: none stored, several and none given, or `given` fits none or
            several; the message lists the creditors to choose from.
    """
    if not creditors:
        raise CreditorChoiceError("banco sem credor: rode `regua init` primeiro")
    text = (given or "").strip()
    if not text:
        if len(creditors) == 1:
            return creditors[0].id
        raise CreditorChoiceError(
            f"este banco tem {len(creditors)} credores; escolha um com --credor "
            f"(id, CNPJ ou nome) ou REGUA_CREDITOR: {_listing(creditors)}"
        )
    found = _named(creditors, text)
    if len(found) == 1:
        return found[0].id
    if found:
        raise CreditorChoiceError(
            f"--credor {text} serve para mais de um credor: {_listing(found)}; use o id ou o CNPJ"
        )
    raise CreditorChoiceError(f"credor não encontrado: {text} (há: {_listing(creditors)})")


def _named(creditors: Sequence[CreditorName], text: str) -> list[CreditorName]:
    if text.isdigit() and len(text) < 11:
        return [c for c in creditors if c.id == int(text)]
    digits = re.sub(r"[.\-/\s]", "", text)
    if digits.isdigit() and len(digits) in (11, 14):
        return [c for c in creditors if c.document == digits]
    # Compared without the hyphens: "Beta SA" names "Beta S.A.".
    wanted = slug(text).replace("-", "")
    if not wanted:
        return []
    names = {c.id: [s.replace("-", "") for s in c.slugs] for c in creditors}
    exact = [c for c in creditors if wanted in names[c.id]]
    if exact:
        return exact
    return [c for c in creditors if any(wanted in s for s in names[c.id])]
