"""Brazilian identity documents and contacts, normalised through well-kept libraries.

CPF and CNPJ go through python-stdnum (which knows the alphanumeric CNPJ of IN RFB 2.229/2024),
phones through phonenumbers (E.164), e-mails through email-validator. They are always strings:
CPFs have leading zeros and CNPJs carry letters from July 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError

DocumentKind = Literal["cpf", "cnpj"]


class DocumentError(ValueError):
    """A document, phone or e-mail that cannot be normalised; the message is pt-BR."""


@dataclass(frozen=True)
class TaxId:
    kind: DocumentKind
    number: str  # compact: 11 digits (CPF) or 14 characters (CNPJ), upper case

    @property
    def formatted(self) -> str:
        if self.kind == "cpf":
            return str(stdnum_cpf.format(self.number))
        return str(stdnum_cnpj.format(self.number))

    @property
    def is_company(self) -> bool:
        return self.kind == "cnpj"


def parse_tax_id(text: str) -> TaxId:
    """Validate a CPF or CNPJ written with or without punctuation; alphanumeric CNPJ included."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if not compact:
        raise DocumentError("CPF/CNPJ vazio")
    if len(set(compact)) == 1:
        # 111.111.111-11 passes the check-digit arithmetic but the Receita never issues it.
        raise DocumentError(f"CPF/CNPJ inválido: {text.strip()}")
    if len(compact) <= 11 and compact.isdigit():
        # Spreadsheets drop leading zeros of CPFs stored as numbers.
        candidate = compact.zfill(11)
        try:
            return TaxId("cpf", str(stdnum_cpf.validate(candidate)))
        except ValidationError:
            raise DocumentError(f"CPF inválido: {text.strip()}") from None
    if len(compact) <= 14:
        candidate = compact.zfill(14) if compact.isdigit() else compact
        try:
            return TaxId("cnpj", str(stdnum_cnpj.validate(candidate)).upper())
        except ValidationError:
            raise DocumentError(f"CNPJ inválido: {text.strip()}") from None
    raise DocumentError(f"CPF/CNPJ inválido: {text.strip()}")


def normalize_phone(text: str, region: str = "BR") -> str:
    """Any common Brazilian way of writing a phone -> E.164 (``+5511987654321``)."""
    raw = text.strip()
    if not raw:
        raise DocumentError("telefone vazio")
    digits = "".join(ch for ch in raw if ch.isdigit())
    # "0 XX 11 98765-4321" (carrier selection code) and "011 98765-4321" (trunk prefix)
    if not raw.startswith("+") and digits.startswith("0"):
        digits = digits.lstrip("0")
        if len(digits) in (12, 13) and not digits.startswith("55"):
            digits = digits[2:]  # drop the two-digit carrier code
        raw = digits
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise DocumentError(f"telefone inválido: {text.strip()}") from None
    if not phonenumbers.is_valid_number(number):
        raise DocumentError(f"telefone inválido: {text.strip()}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def is_mobile(e164: str) -> bool:
    """True when the number can receive SMS/WhatsApp (a Brazilian mobile)."""
    number = phonenumbers.parse(e164, None)
    kind = phonenumbers.number_type(number)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def format_phone(e164: str) -> str:
    """``+5511987654321`` -> ``(11) 98765-4321`` for people to read."""
    number = phonenumbers.parse(e164, None)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def normalize_email(text: str) -> str:
    """Syntax-check an e-mail address (no DNS lookup: regua runs offline) and normalise it."""
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise DocumentError(f"e-mail inválido: {text.strip()}") from None
    return str(result.normalized).lower()
