"""A customer row's ways of being reached, as ERPs export them: every phone and e-mail column,
several numbers or addresses in one cell (``a@x.com; b@y.com``, ``(11) 3333-4444 / 98888-7777``),
and the postal address split in logradouro, número, complemento, bairro, cidade, UF and CEP.

A contact that cannot be read is dropped with a warning (`RowInvalid` values returned beside
the contacts): the customer and their invoices are still imported."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from regua.domain.documents import DocumentError, is_mobile, normalize_email, normalize_phone
from regua.domain.postal import PostalAddress, PostalError, parse_cep, street_line
from regua.error_codes import ErrorCode
from regua.services.import_row_errors import RowInvalid

# What separates several e-mails in one cell: ; , / | or spaces.
_EMAIL_SEPARATORS = re.compile(r"[;,/|\s]+")
# What separates several phones: ; , / | or the words "e" and "ou"; never a space, which is
# inside a number ("11 98765 4321").
_PHONE_SEPARATORS = re.compile(r"[;,/|]|\s+(?:e|ou)\s+", re.IGNORECASE)
_LOCAL_NUMBER = re.compile(r"^\D*\d{4,5}\D?\d{4}\D*$")


@dataclass
class FoundContacts:
    contacts: list[tuple[str, str]] = field(default_factory=list)  # (channel, value)
    dropped: list[RowInvalid] = field(default_factory=list)

    def add(self, channel: str, value: str) -> None:
        if (channel, value) not in self.contacts:
            self.contacts.append((channel, value))


def contact_fields(values: Mapping[str, object], prefix: str, kind: str) -> list[str]:
    """The fields of `kind` ("phone" or "email") the row has: the named ones, then the extra
    columns in the order of the header."""
    base = prefix + kind
    return [name for name in values if name == base or name.startswith(base)]


def read_contacts(
    get: Callable[[str], str], values: Mapping[str, object], prefix: str
) -> FoundContacts:
    found = FoundContacts()
    for name in contact_fields(values, prefix, "email"):
        for piece in _EMAIL_SEPARATORS.split(get(name[len(prefix) :])):
            if not piece:
                continue
            try:
                found.add("email", normalize_email(piece))
            except DocumentError as exc:
                found.dropped.append(_dropped(name, str(exc), ErrorCode.INVALID_EMAIL))
    for name in contact_fields(values, prefix, "phone"):
        area: str | None = None  # the DDD of the cell's previous number
        for raw in _PHONE_SEPARATORS.split(get(name[len(prefix) :])):
            piece = raw.strip()
            if not piece:
                continue
            # "(11) 3333-4444 / 98888-7777": the second number is in the first one's area.
            if area is not None and _LOCAL_NUMBER.match(piece):
                piece = f"({area}) {piece}"
            try:
                e164 = normalize_phone(piece)
            except DocumentError as exc:
                reason = str(exc)
                if _LOCAL_NUMBER.match(piece):
                    reason = f"telefone sem DDD: {piece}"
                found.dropped.append(_dropped(name, reason, ErrorCode.INVALID_PHONE))
                continue
            area = e164[3:5] if e164.startswith("+55") else None
            channels = ("whatsapp", "sms", "phone") if is_mobile(e164) else ("phone",)
            for channel in channels:
                found.add(channel, e164)
    return found


def _dropped(field_name: str, reason: str, code: ErrorCode) -> RowInvalid:
    return RowInvalid(field_name, f"{reason} (contato ignorado; o cliente foi importado)", code)


@dataclass(frozen=True)
class AddressIn:
    street: str | None  # logradouro, número, complemento
    district: str | None
    postal_code: str | None


def read_address(
    get: Callable[[str], str], city: str | None, uf: str | None, found: FoundContacts, prefix: str
) -> AddressIn:
    """The customer's address columns; with a street, a letter contact (the recipient block,
    CEP included). A CEP that cannot be read is dropped with a warning."""
    street = street_line(get("address"), get("address_number"), get("complement")) or None
    district = get("district") or None
    postal_code = None
    if get("postal_code"):
        try:
            postal_code = parse_cep(get("postal_code"))
        except PostalError as exc:
            found.dropped.append(
                RowInvalid(
                    prefix + "postal_code",
                    f"{exc} (CEP ignorado; o cliente foi importado)",
                    ErrorCode.INVALID_POSTAL_CODE,
                )
            )
    if street:
        found.add("letter", PostalAddress(street, district, city, uf, postal_code).block())
    return AddressIn(street, district, postal_code)
