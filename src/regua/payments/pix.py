"""Pix BR Code ("copia e cola"): key normalisation, static and dynamic payloads, strict decoding.

The payload is the EMV QRCPS-MPM subset the Banco Central specifies in the *Manual do BR Code*
and the *Manual de Padrões para Iniciação do Pix*: ``ID(2) LEN(2) VALUE`` data objects, nested
templates, and a CRC-16/CCITT-FALSE over everything up to and including ``6304``. Field rules
and pitfalls are in BRAZIL.md section 1. The QR image lives in ``payments.qr``.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from regua.domain.documents import DocumentError, normalize_email, normalize_phone, parse_tax_id
from regua.domain.money import to_decimal_str
from regua.error_codes import ErrorCode
from regua.errors import InputError

PixKeyKind = Literal["cpf", "cnpj", "email", "phone", "evp"]
# "recurrence": a Pix Automático code that only asks the payer to authorise recurring payments
# (field 80, no 26-51 Pix account); a static or dynamic code may also carry one (`recurrence_url`).
Initiation = Literal["static", "dynamic", "recurrence"]

GUI = "br.gov.bcb.pix"
MCC_UNSPECIFIED = "0000"
CURRENCY_BRL = "986"  # ISO 4217
COUNTRY = "BR"
TXID_NOT_INFORMED = "***"

MAX_KEY = 77
MAX_URL = 77
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
MAX_AMOUNT_CHARS = 13
MAX_VALUE = 99  # LEN has two digits
MAX_PAYLOAD = 512  # EMV QRCPS: the whole BR Code
# Pix Automático (BCB, 2025): the recurrence's location travels in template 80, whose GUI is
# br.gov.bcb.pix, in sub-field 25 (like a dynamic code's, without the scheme).
RECURRENCE_TEMPLATE = "80"

# Templates whose value is itself a list of data objects (EMV: 26-51 merchant account
# information, 62 additional data, 80-99 unreserved).
_TEMPLATE_IDS = frozenset({*(f"{n:02d}" for n in range(26, 52)), "62"}) | frozenset(
    f"{n:02d}" for n in range(80, 100)
)
_FIELD_NAMES = {
    "00": "indicador de formato",
    "01": "método de iniciação",
    "26": "conta Pix",
    "52": "categoria do recebedor (MCC)",
    "53": "moeda",
    "54": "valor",
    "58": "país",
    "59": "nome do recebedor",
    "60": "cidade",
    "61": "CEP",
    "62": "dados adicionais",
    "63": "CRC",
    "80": "recorrência (Pix Automático)",
}
_TXID_RE = re.compile(r"^[A-Za-z0-9]{1,25}$")
_AMOUNT_RE = re.compile(r"^\d+(\.\d{1,2})?$")
_CPF_MASK_RE = re.compile(r"^\d{3}\.\d{3}\.\d{3}-\d{2}$")


class PixError(InputError):
    """A BR Code or Pix key that cannot be built or read; the message is pt-BR."""

    code = ErrorCode.INVALID_PIX


@dataclass(frozen=True)
class PixKey:
    kind: PixKeyKind
    value: str


@dataclass(frozen=True)
class BrCode:
    """A decoded BR Code. ``raw`` maps every data object id to its value, nested ones as
    ``"26.01"``, ``"62.05"``."""

    payload_format: str
    initiation: Initiation
    gui: str
    key: str | None
    description: str | None
    url: str | None
    mcc: str
    currency: str
    amount_cents: int | None
    country: str
    name: str
    city: str
    postal_code: str | None
    txid: str | None
    crc: str
    raw: dict[str, str] = field(default_factory=dict)
    # Pix Automático: where the payer's app fetches the recurrence to authorise (no scheme).
    recurrence_url: str | None = None


# --------------------------------------------------------------------------- CRC


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    ``binascii.crc_hqx`` is exactly this CRC when seeded with 0xFFFF.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def _crc_hex(payload_without_crc_value: str) -> str:
    return f"{crc16_ccitt(payload_without_crc_value.encode('ascii')):04X}"


# --------------------------------------------------------------------------- keys


def normalize_pix_key(text: str) -> PixKey:
    """Read a Pix key as people write it and return its canonical payload form.

    CPF/CNPJ lose their punctuation (alphanumeric CNPJ in upper case), phones become
    ``+55DDDNUMBER``, e-mails lower case, random keys (EVP) the lower-case hyphenated UUID.
    An 11-digit string is read as a CPF when its check digits are valid, otherwise as a phone:
    write phones with ``+55`` or ``(DDD)`` to remove the doubt.
    """
    raw = text.strip()
    if not raw:
        raise PixError("chave Pix vazia")
    if "@" in raw:
        try:
            email = normalize_email(raw)
        except DocumentError as exc:
            raise PixError(f"chave Pix inválida: {exc}") from None
        if len(email) > MAX_KEY:
            raise PixError(f"chave Pix (e-mail) com {len(email)} caracteres; máximo {MAX_KEY}")
        return PixKey("email", email)
    evp = _as_uuid(raw)
    if evp is not None:
        return PixKey("evp", evp)
    if raw.startswith("+") or "(" in raw:
        return PixKey("phone", _phone_key(raw))
    compact = "".join(ch for ch in raw.upper() if ch.isalnum())
    if not compact.isascii():
        raise PixError(f"chave Pix inválida: {raw}")
    if not compact.isdigit():
        if len(compact) == 14:
            return PixKey("cnpj", _tax_id(raw, "cnpj"))
        raise PixError(f"chave Pix inválida: {raw}")
    if len(compact) == 14 or "/" in raw:
        return PixKey("cnpj", _tax_id(raw, "cnpj"))
    if len(compact) == 11:
        if _CPF_MASK_RE.match(raw):
            return PixKey("cpf", _tax_id(raw, "cpf"))
        try:
            return PixKey("cpf", _tax_id(compact, "cpf"))
        except PixError:
            pass
        try:
            return PixKey("phone", _phone_key(compact))
        except PixError:
            raise PixError(f"chave Pix inválida: {raw} não é CPF nem telefone válido") from None
    if len(compact) in (10, 12, 13):
        return PixKey("phone", _phone_key(compact))
    raise PixError(f"chave Pix inválida: {raw}")


def _as_uuid(raw: str) -> str | None:
    if len(raw) not in (32, 36):
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _phone_key(raw: str) -> str:
    try:
        e164 = normalize_phone(raw)
    except DocumentError:
        raise PixError(f"chave Pix inválida: telefone {raw}") from None
    if not e164.startswith("+55"):
        raise PixError(f"chave Pix inválida: telefone fora do Brasil ({raw})")
    return e164


def _tax_id(raw: str, kind: str) -> str:
    try:
        tax_id = parse_tax_id(raw)
    except DocumentError as exc:
        raise PixError(f"chave Pix inválida: {exc}") from None
    if tax_id.kind != kind:
        raise PixError(f"chave Pix inválida: {raw}")
    return tax_id.number


# --------------------------------------------------------------------------- encoding


def _ascii_text(text: str, what: str) -> str:
    """Strip accents (``Brasília`` -> ``Brasilia``) and refuse what is left outside 0x20-0x7E.

    LEN counts characters while readers count bytes, so anything but printable ASCII breaks
    payment apps (BRAZIL.md 1.1).
    """
    decomposed = unicodedata.normalize("NFKD", text.strip())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    for ch in stripped:
        if not " " <= ch <= "~":
            raise PixError(f"{what}: caractere não permitido no Pix: {ch!r}")
    return stripped


@lru_cache(maxsize=1024)  # the creditor's name and city, again in every message
def _fit(text: str, limit: int, what: str, fit_text: bool) -> str:
    value = _ascii_text(text, what)
    if not value:
        raise PixError(f"{what} vazio")
    if len(value) > limit:
        if not fit_text:
            raise PixError(f"{what} com {len(value)} caracteres; máximo {limit}")
        value = value[:limit].rstrip()
    return value


def _tlv(field_id: str, value: str, what: str) -> str:
    if len(value) > MAX_VALUE:
        raise PixError(f"campo {field_id} ({what}) com {len(value)} caracteres; máximo {MAX_VALUE}")
    return f"{field_id}{len(value):02d}{value}"


def _amount_value(amount_cents: int | None) -> str | None:
    if amount_cents is None:
        return None
    if amount_cents <= 0:
        raise PixError("valor do Pix deve ser maior que zero")
    text = to_decimal_str(amount_cents)
    if len(text) > MAX_AMOUNT_CHARS:
        raise PixError(f"valor do Pix com {len(text)} caracteres; máximo {MAX_AMOUNT_CHARS}")
    return text


def _postal_value(postal_code: str | None) -> str | None:
    if postal_code is None:
        return None
    digits = postal_code.strip().replace("-", "").replace(".", "")
    if len(digits) != 8 or not digits.isdigit():
        raise PixError(f"CEP inválido: {postal_code!r} (esperado 8 dígitos)")
    return digits


def _assemble(
    *,
    dynamic: bool,
    account: str,
    name: str,
    city: str,
    amount_cents: int | None,
    postal_code: str | None,
    txid: str,
    fit_text: bool,
) -> str:
    amount = _amount_value(amount_cents)
    postal = _postal_value(postal_code)
    parts = [_tlv("00", "01", "indicador de formato")]
    if dynamic:
        parts.append(_tlv("01", "12", "método de iniciação"))
    parts.append(_tlv("26", account, "conta Pix"))
    parts.append(_tlv("52", MCC_UNSPECIFIED, "MCC"))
    parts.append(_tlv("53", CURRENCY_BRL, "moeda"))
    if amount is not None:
        parts.append(_tlv("54", amount, "valor"))
    parts.append(_tlv("58", COUNTRY, "país"))
    parts.append(_tlv("59", _fit(name, MAX_NAME, "nome do recebedor", fit_text), "nome"))
    parts.append(_tlv("60", _fit(city, MAX_CITY, "cidade", fit_text), "cidade"))
    if postal is not None:
        parts.append(_tlv("61", postal, "CEP"))
    parts.append(_tlv("62", _tlv("05", txid, "txid"), "dados adicionais"))
    body = "".join(parts) + "6304"
    if len(body) + 4 > MAX_PAYLOAD:
        raise PixError(f"código Pix com {len(body) + 4} caracteres; máximo {MAX_PAYLOAD}")
    return body + _crc_hex(body)


def encode_static(
    *,
    key: str | PixKey,
    name: str,
    city: str,
    amount_cents: int | None = None,
    txid: str = TXID_NOT_INFORMED,
    description: str | None = None,
    postal_code: str | None = None,
    fit_text: bool = True,
) -> str:
    """Static BR Code for a Pix key (no PSP contract needed).

    Args:
        key: any accepted way of writing a key (normalised with ``normalize_pix_key``) or a
            ``PixKey`` already canonical.
        name, city: accents are stripped; with ``fit_text`` (default) they are cut to 25 and 15
            characters, since company names in collections are often longer; otherwise too long
            raises.
        amount_cents: None lets the payer type the amount.
        txid: up to 25 letters/digits; ``***`` when the payment is not identified.
        description: free text shown to the payer (ASCII after accent stripping).

    Raises:
        PixError: pt-BR message naming the field.
    """
    pix_key = key if isinstance(key, PixKey) else normalize_pix_key(key)
    if len(pix_key.value) > MAX_KEY:
        raise PixError(f"chave Pix com {len(pix_key.value)} caracteres; máximo {MAX_KEY}")
    if not all(" " < ch <= "~" for ch in pix_key.value):
        raise PixError(f"chave Pix com caractere não permitido: {pix_key.value!r}")
    if txid != TXID_NOT_INFORMED and not _TXID_RE.match(txid):
        raise PixError(
            f"txid inválido: {txid!r} (até {MAX_TXID} letras e dígitos, sem espaços, ou ***)"
        )
    account = _tlv("00", GUI, "GUI") + _tlv("01", pix_key.value, "chave")
    if description:
        account += _tlv("02", _ascii_text(description, "descrição"), "descrição")
    if len(account) > MAX_VALUE:
        raise PixError(
            f"campo 26 (conta Pix) com {len(account)} caracteres; máximo {MAX_VALUE}: "
            "encurte a descrição"
        )
    return _assemble(
        dynamic=False,
        account=account,
        name=name,
        city=city,
        amount_cents=amount_cents,
        postal_code=postal_code,
        txid=txid,
        fit_text=fit_text,
    )


def encode_dynamic(
    *,
    url: str,
    name: str,
    city: str,
    amount_cents: int | None = None,
    postal_code: str | None = None,
    fit_text: bool = True,
) -> str:
    """Dynamic BR Code pointing at the PSP location URL (``https://`` is implied).

    The real txid and the charge details live in the PSP's ``cob``/``cobv``; 62-05 is ``***``.
    """
    location = url.strip()
    if location.lower().startswith("https://"):
        location = location[len("https://") :]
    if "://" in location:
        raise PixError(f"URL do Pix dinâmico deve usar https: {url}")
    if not location or len(location) > MAX_URL:
        raise PixError(f"URL do Pix dinâmico com {len(location)} caracteres; máximo {MAX_URL}")
    _ascii_text(location, "URL")
    account = _tlv("00", GUI, "GUI") + _tlv("25", location, "URL")
    return _assemble(
        dynamic=True,
        account=account,
        name=name,
        city=city,
        amount_cents=amount_cents,
        postal_code=postal_code,
        txid=TXID_NOT_INFORMED,
        fit_text=fit_text,
    )


# --------------------------------------------------------------------------- decoding


def _field_label(field_id: str, parent: str | None) -> str:
    if parent is not None:
        return f"campo {parent}-{field_id}"
    name = _FIELD_NAMES.get(field_id)
    return f"campo {field_id} ({name})" if name else f"campo {field_id}"


def _split_tlv(text: str, offset: int, parent: str | None) -> list[tuple[str, str, int]]:
    """Split data objects; ``offset`` is the 0-based position of ``text`` in the payload.

    Returns (id, value, 1-based position of the id) and raises naming the position.
    """
    where = f"no campo {parent}" if parent else "no código"
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        pos = offset + i + 1
        head = text[i : i + 4]
        if len(head) < 4:
            raise PixError(f"fim inesperado {where} na posição {pos}: {head!r} incompleto")
        field_id, length = head[:2], head[2:]
        if not field_id.isdigit():
            raise PixError(f"identificador inválido {where} na posição {pos}: {field_id!r}")
        if not length.isdigit():
            raise PixError(
                f"{_field_label(field_id, parent)} na posição {pos}: tamanho inválido {length!r}"
            )
        size = int(length)
        value = text[i + 4 : i + 4 + size]
        if len(value) < size:
            raise PixError(
                f"{_field_label(field_id, parent)} na posição {pos}: tamanho {size:02d} "
                f"ultrapassa o fim {'do campo ' + parent if parent else 'do código'}"
            )
        if size == 0:
            raise PixError(f"{_field_label(field_id, parent)} na posição {pos}: valor vazio")
        out.append((field_id, value, pos))
        i += 4 + size
    return out


def decode(code: str) -> BrCode:
    """Read a BR Code, checking the data-object structure (nested templates included), the
    mandatory fields and the CRC.

    Raises:
        PixError: pt-BR message naming the field id and/or the 1-based position.
    """
    payload = code.strip()
    for index, ch in enumerate(payload, start=1):
        if not " " <= ch <= "~":
            raise PixError(f"caractere não permitido na posição {index}: {ch!r}")
    if not payload:
        raise PixError("código Pix vazio")
    if len(payload) > MAX_PAYLOAD:
        raise PixError(f"código Pix com {len(payload)} caracteres; máximo {MAX_PAYLOAD}")
    top = _split_tlv(payload, 0, None)
    if top[0][0] != "00":
        raise PixError(f"o código deve começar pelo campo 00; começa por {top[0][0]}")
    if top[-1][0] != "63":
        raise PixError(f"o código deve terminar pelo campo 63 (CRC); termina por {top[-1][0]}")
    raw: dict[str, str] = {}
    seen: set[str] = set()
    for field_id, value, pos in top:
        if field_id in seen:
            raise PixError(f"{_field_label(field_id, None)} repetido na posição {pos}")
        seen.add(field_id)
        raw[field_id] = value
        if field_id in _TEMPLATE_IDS:
            inner_seen: set[str] = set()
            for sub_id, sub_value, sub_pos in _split_tlv(value, pos + 3, field_id):
                if sub_id in inner_seen:
                    raise PixError(f"campo {field_id}-{sub_id} repetido na posição {sub_pos}")
                inner_seen.add(sub_id)
                raw[f"{field_id}.{sub_id}"] = sub_value
    crc = raw["63"]
    if len(crc) != 4 or any(ch not in "0123456789ABCDEFabcdef" for ch in crc):
        raise PixError(f"campo 63 (CRC) inválido: {crc!r}")
    expected = _crc_hex(payload[:-4])
    if crc.upper() != expected:
        raise PixError(f"CRC inválido: esperado {expected}, encontrado {crc}")
    return _interpret(raw, crc.upper())


def _require(raw: dict[str, str], field_id: str) -> str:
    value = raw.get(field_id)
    if value is None:
        raise PixError(f"{_field_label(field_id, None)} ausente")
    return value


def _location(raw: dict[str, str], field_id: str) -> str | None:
    """A PSP location (sub-field 25): host and path, without the scheme (BR Code manual)."""
    url = raw.get(f"{field_id}.25")
    if url is None:
        return None
    if "://" in url:
        raise PixError(
            f"campo {field_id}-25 (URL) deve vir sem o esquema (https:// é implícito): {url!r}"
        )
    if len(url) > MAX_URL:
        raise PixError(f"campo {field_id}-25 (URL) com {len(url)} caracteres; máximo {MAX_URL}")
    return url


def _text_field(raw: dict[str, str], field_id: str, limit: int) -> str:
    value = _require(raw, field_id)
    if len(value) > limit:
        raise PixError(
            f"{_field_label(field_id, None)} com {len(value)} caracteres; máximo {limit}"
        )
    return value


def _interpret(raw: dict[str, str], crc: str) -> BrCode:
    payload_format = _require(raw, "00")
    if payload_format != "01":
        raise PixError(f"campo 00 (indicador de formato) deve ser 01; encontrado {payload_format}")
    initiation_method = raw.get("01")
    if initiation_method is not None and initiation_method not in ("11", "12"):
        raise PixError(f"campo 01 (método de iniciação) deve ser 11 ou 12: {initiation_method}")
    recurrence_url = None
    recurrence_gui = raw.get(f"{RECURRENCE_TEMPLATE}.00")
    if recurrence_gui is not None and recurrence_gui.lower() == GUI:
        recurrence_url = _location(raw, RECURRENCE_TEMPLATE)
        if recurrence_url is None:
            raise PixError("campo 80 (recorrência do Pix Automático) sem a URL (25)")
    account_id = _pix_account_id(raw, required=recurrence_url is None)
    gui = raw[f"{account_id}.00"] if account_id else GUI
    key = raw.get(f"{account_id}.01") if account_id else None
    url = _location(raw, account_id) if account_id else None
    if account_id is not None:
        if key is not None and url is not None:
            raise PixError(f"campo {account_id}: chave (01) e URL (25) não podem vir juntas")
        if key is None and url is None:
            raise PixError(f"campo {account_id}: falta a chave Pix (01) ou a URL (25)")
        if key is not None and len(key) > MAX_KEY:
            raise PixError(f"campo {account_id}-01 (chave) com {len(key)} caracteres; máximo 77")
        if url is not None and f"{account_id}.02" in raw:
            raise PixError(f"campo {account_id}-02 (mensagem) só existe em código estático")
    currency = _require(raw, "53")
    if currency != CURRENCY_BRL:
        raise PixError(f"campo 53 (moeda) deve ser 986 (real); encontrado {currency}")
    country = _require(raw, "58")
    if country != COUNTRY:
        raise PixError(f"campo 58 (país) deve ser BR; encontrado {country}")
    mcc = _require(raw, "52")
    if len(mcc) != 4 or not mcc.isdigit():
        raise PixError(f"campo 52 (MCC) deve ter 4 dígitos: {mcc!r}")
    postal_code = raw.get("61")
    if postal_code is not None and not (len(postal_code) == 8 and postal_code.isdigit()):
        raise PixError(f"campo 61 (CEP) deve ter 8 dígitos: {postal_code!r}")
    txid = raw.get("62.05")
    if txid is not None and txid != TXID_NOT_INFORMED and not _TXID_RE.match(txid):
        raise PixError(
            f"campo 62-05 (txid) inválido: {txid!r} (até {MAX_TXID} letras e dígitos, ou ***)"
        )
    if url is not None:
        initiation: Initiation = "dynamic"
    elif key is not None:
        initiation = "static"
    else:
        initiation = "recurrence"
    return BrCode(
        payload_format=payload_format,
        initiation=initiation,
        gui=gui,
        key=key,
        description=raw.get(f"{account_id}.02") if account_id else None,
        url=url,
        mcc=mcc,
        currency=currency,
        amount_cents=_parse_amount(raw.get("54")),
        country=country,
        name=_text_field(raw, "59", MAX_NAME),
        city=_text_field(raw, "60", MAX_CITY),
        postal_code=postal_code,
        txid=txid,
        crc=crc,
        raw=raw,
        recurrence_url=recurrence_url,
    )


def _pix_account_id(raw: dict[str, str], *, required: bool = True) -> str | None:
    """Any of 26-51 may carry the Pix account; it is the one whose GUI is br.gov.bcb.pix."""
    for number in range(26, 52):
        field_id = f"{number:02d}"
        gui = raw.get(f"{field_id}.00")
        if gui is not None and gui.lower() == GUI:
            return field_id
    if not required:
        return None
    raise PixError("nenhum campo 26-51 traz o identificador br.gov.bcb.pix: não é um Pix")


def _parse_amount(value: str | None) -> int | None:
    if value is None:
        return None
    if len(value) > MAX_AMOUNT_CHARS or not _AMOUNT_RE.match(value):
        raise PixError(f"campo 54 (valor) inválido: {value!r}")
    whole, _, part = value.partition(".")
    cents = int(whole) * 100 + int(part.ljust(2, "0") or "0")
    if cents <= 0:
        raise PixError(f"campo 54 (valor) deve ser maior que zero: {value!r}")
    return cents
