"""The creditor's own details: who writes to the debtors, how they pay and how they answer.

A `CreditorProfile` is what every message says about the creditor: its legal and trade names,
CNPJ (or CPF), PIX key, the addresses its e-mails come from and go back to, phones, postal
address, website, service hours, default fee terms and, when it has one, its boleto wallet.

`read_profile` and `edit_profile` turn what a person typed (the option names of
`regua init` and `regua credor editar`: ``nome``, ``cnpj``, ``pix``...) into a profile, or
into the list of problems, each naming its field, in pt-BR. A field never set stays empty:
nothing here invents a value, and a message that needs a missing one is held
(`missing_for_message`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.domain.documents import (
    DocumentError,
    format_phone,
    normalize_email,
    normalize_phone,
    parse_tax_id,
)

PixKeyKind = Literal["cnpj", "cpf", "email", "telefone", "aleatoria"]
PIX_KEY_KINDS: tuple[PixKeyKind, ...] = ("cnpj", "cpf", "email", "telefone", "aleatoria")
PIX_KEY_LABELS: dict[str, str] = {
    "cnpj": "CNPJ",
    "cpf": "CPF",
    "email": "e-mail",
    "telefone": "telefone",
    "aleatoria": "chave aleatória",
}

_UF_LIST = "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO"
UFS = frozenset(_UF_LIST.split(" "))

MAX_FEE_BP = 10_000  # 100 %


@dataclass(frozen=True)
class BoletoWallet:
    """The bank account boletos are issued on (agência and conta as the bank writes them)."""

    bank: str  # the bank's three-digit code (COMPE): 001, 237, 341...
    agency: str
    account: str
    wallet: str  # carteira
    agreement: str | None = None  # convênio / código do beneficiário


@dataclass(frozen=True)
class CreditorProfile:
    legal_name: str
    document: str  # compact CNPJ (14) or CPF (11)
    trade_name: str | None = None
    pix_key: str | None = None  # canonical: CNPJ/CPF compact, +55..., e-mail, UUID
    pix_key_kind: PixKeyKind | None = None
    sender_email: str | None = None  # From of the e-mails
    reply_to: str | None = None
    email: str | None = None  # where debtors write (atendimento)
    phone: str | None = None  # E.164
    whatsapp: str | None = None  # E.164
    address: str | None = None  # street, number, district
    city: str | None = None
    uf: str | None = None
    postal_code: str | None = None  # CEP, 8 digits
    website: str | None = None
    service_hours: str | None = None
    late_fee_bp: int = 200
    interest_monthly_bp: int = 100
    timezone: str = DEFAULT_TIMEZONE
    boleto: BoletoWallet | None = None

    @property
    def is_company(self) -> bool:
        return len(self.document) == 14

    @property
    def formatted_document(self) -> str:
        return parse_tax_id(self.document).formatted

    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name

    @property
    def full_address(self) -> str | None:
        return full_address(self.address, self.city, self.uf, self.postal_code)


@dataclass(frozen=True)
class Problem:
    """One field a person must correct: the option's name and why, in pt-BR."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def format_cep(digits: str) -> str:
    return f"{digits[:5]}-{digits[5:]}"


def full_address(
    address: str | None, city: str | None, uf: str | None, postal_code: str | None
) -> str | None:
    """``Rua X, 10, Centro, Curitiba - PR, 80000-000``; None when no street is set."""
    if not address:
        return None
    parts = [address]
    place = " - ".join(p for p in (city, uf) if p)
    if place:
        parts.append(place)
    if postal_code:
        parts.append(format_cep(postal_code))
    return ", ".join(parts)


# --- reading what a person typed ----------------------------------------------------------------


def _text(limit: int) -> Callable[[str], str]:
    def read(value: str) -> str:
        text = " ".join(value.split())
        if len(text) > limit:
            raise ValueError(f"no máximo {limit} caracteres (tem {len(text)})")
        return text

    return read


def _document(value: str) -> str:
    compact = "".join(ch for ch in value.upper() if ch.isalnum())
    try:
        return parse_tax_id(value).number
    except DocumentError:
        if len(compact) == 11 and compact.isdigit():
            raise ValueError(f"CPF inválido: {value.strip()}") from None
        raise ValueError(
            f"CNPJ inválido: {value.strip()} (CNPJ tem 14 caracteres; CPF, 11 dígitos)"
        ) from None


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except DocumentError as exc:
        raise ValueError(str(exc)) from None


def _phone(value: str) -> str:
    try:
        e164 = normalize_phone(value)
    except DocumentError as exc:
        raise ValueError(f"{exc} (ex.: (11) 3456-7890)") from None
    if not e164.startswith("+55"):
        raise ValueError(f"telefone fora do Brasil: {value.strip()}")
    return e164


def _uf(value: str) -> str:
    uf = value.strip().upper()
    if uf not in UFS:
        raise ValueError(f"UF inválida: {value.strip()} (use a sigla: SP, PR, RJ...)")
    return uf


def _cep(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    rest = "".join(ch for ch in value.strip() if not ch.isdigit() and ch not in "-.")
    if len(digits) != 8 or rest:
        raise ValueError(f"CEP inválido: {value.strip()} (8 dígitos, ex.: 80010-000)")
    return digits


def _website(value: str) -> str:
    text = value.strip()
    host = text.split("://", 1)[-1].split("/", 1)[0]
    if " " in text or "." not in host or host.startswith(".") or host.endswith("."):
        raise ValueError(f"site inválido: {text} (ex.: https://www.suaempresa.com.br)")
    return text if "://" in text else f"https://{text}"


def _percent_bp(value: str) -> int:
    text = value.strip().rstrip("%").strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"percentual inválido: {value.strip()} (ex.: 2 ou 0,5)") from None
    bp = number * 100
    if not number.is_finite() or bp != bp.to_integral_value():
        raise ValueError(f"percentual inválido: {value.strip()} (até duas casas decimais)")
    if not 0 <= bp <= MAX_FEE_BP:
        raise ValueError(f"deve estar entre 0% e 100%, recebeu {value.strip()}")
    return int(bp)


def _digits(what: str, limit: int) -> Callable[[str], str]:
    def read(value: str) -> str:
        text = value.strip()
        if not text or len(text) > limit or not all(ch.isdigit() or ch in "-xX" for ch in text):
            raise ValueError(f"{what} inválido(a): {text} (só dígitos, até {limit})")
        return text.upper()

    return read


def _pix_kind(value: str) -> str:
    kind = value.strip().lower().replace("í", "i").replace("ó", "o")
    aliases = {"evp": "aleatoria", "phone": "telefone", "celular": "telefone", "e-mail": "email"}
    kind = aliases.get(kind, kind)
    if kind not in PIX_KEY_KINDS:
        raise ValueError(
            f"tipo de chave Pix inválido: {value.strip()} (use {', '.join(PIX_KEY_KINDS)})"
        )
    return kind


@dataclass(frozen=True)
class Field:
    """One editable field: its option name (``--pix``), its attribute, label and reader."""

    option: str
    attribute: str
    label: str
    read: Callable[[str], Any]
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("nome", "legal_name", "Razão social", _text(200), required=True),
    Field("fantasia", "trade_name", "Nome fantasia", _text(200)),
    Field("cnpj", "document", "CNPJ/CPF", _document, required=True),
    Field("pix", "pix_key", "Chave Pix", _text(77)),
    Field("pix-tipo", "pix_key_kind", "Tipo da chave Pix", _pix_kind),
    Field("email-envio", "sender_email", "E-mail de envio (From)", _email),
    Field("responder-para", "reply_to", "Responder para (Reply-To)", _email),
    Field("email", "email", "E-mail de atendimento", _email),
    Field("telefone", "phone", "Telefone", _phone),
    Field("whatsapp", "whatsapp", "WhatsApp", _phone),
    Field("endereco", "address", "Endereço", _text(400)),
    Field("cidade", "city", "Cidade", _text(100)),
    Field("uf", "uf", "UF", _uf),
    Field("cep", "postal_code", "CEP", _cep),
    Field("site", "website", "Site", _website),
    Field("horario", "service_hours", "Horário de atendimento", _text(120)),
    Field("multa", "late_fee_bp", "Multa (%)", _percent_bp),
    Field("juros", "interest_monthly_bp", "Juros (% a.m.)", _percent_bp),
    Field("banco", "boleto.bank", "Banco do boleto", _digits("banco", 3)),
    Field("agencia", "boleto.agency", "Agência", _digits("agência", 6)),
    Field("conta", "boleto.account", "Conta", _digits("conta", 13)),
    Field("carteira", "boleto.wallet", "Carteira", _digits("carteira", 3)),
    Field("convenio", "boleto.agreement", "Convênio", _digits("convênio", 20)),
)
FIELDS_BY_OPTION = {f.option: f for f in FIELDS}
_BOLETO_REQUIRED = ("bank", "agency", "account", "wallet")
_BOLETO_OPTIONS = {"bank": "banco", "agency": "agencia", "account": "conta", "wallet": "carteira"}


def read_pix_key(text: str, kind: str | None = None) -> tuple[PixKeyKind, str]:
    """A PIX key as people write it -> (kind, canonical value), checked against `kind` when
    given; without it the kind is read from the key (an 11-digit number is a CPF when its check
    digits say so, otherwise a phone). Raises ValueError with a pt-BR message."""
    raw = text.strip()
    if not raw:
        raise ValueError("chave Pix vazia")
    wanted = _pix_kind(kind) if kind else None
    guessed = wanted or _guess_pix_kind(raw)
    label = PIX_KEY_LABELS[guessed]
    try:
        if guessed in ("cnpj", "cpf"):
            tax_id = parse_tax_id(raw)
            if tax_id.kind != guessed:
                raise DocumentError(f"{raw} não é um {label}")
            return guessed, tax_id.number
        if guessed == "email":
            value = normalize_email(raw)
            if len(value) > 77:
                raise DocumentError(f"e-mail com {len(value)} caracteres; máximo 77")
            return "email", value
        if guessed == "telefone":
            return "telefone", _phone(raw)
        return "aleatoria", str(uuid.UUID(raw))
    except (DocumentError, ValueError) as exc:
        raise ValueError(f"chave Pix ({label}) inválida: {exc}") from None


def _guess_pix_kind(raw: str) -> PixKeyKind:
    if "@" in raw:
        return "email"
    if len(raw) in (32, 36) and raw.count("-") in (0, 4) and not raw.isdigit():
        return "aleatoria"
    if raw.startswith("+") or "(" in raw:
        return "telefone"
    compact = "".join(ch for ch in raw.upper() if ch.isalnum())
    if len(compact) == 14 or "/" in raw:
        return "cnpj"
    if len(compact) == 11 and compact.isdigit():
        try:
            parse_tax_id(compact)
            return "cpf"
        except DocumentError:
            return "telefone"
    return "telefone" if compact.isdigit() else "aleatoria"


def _flat(profile: CreditorProfile) -> dict[str, Any]:
    values = {f.name: getattr(profile, f.name) for f in fields(profile) if f.name != "boleto"}
    wallet = profile.boleto
    for name in (*_BOLETO_REQUIRED, "agreement"):
        values[f"boleto.{name}"] = getattr(wallet, name) if wallet else None
    return values


def read_profile(given: Mapping[str, str | None]) -> tuple[CreditorProfile | None, list[Problem]]:
    """A new profile from option name -> text (None or absent: not given)."""
    return _build({}, given)


def edit_profile(
    current: CreditorProfile, changes: Mapping[str, str | None]
) -> tuple[CreditorProfile | None, list[Problem]]:
    """`current` with `changes` (option name -> text; an empty text clears an optional field)."""
    return _build(_flat(current), changes)


def _build(
    start: Mapping[str, Any], given: Mapping[str, str | None]
) -> tuple[CreditorProfile | None, list[Problem]]:
    values = dict(start)
    problems: list[Problem] = []
    for option in given:
        if option not in FIELDS_BY_OPTION:
            problems.append(Problem(option, "campo desconhecido"))
    for spec in FIELDS:
        text = given.get(spec.option)
        if text is None:
            continue
        if not text.strip():
            if spec.required:
                problems.append(Problem(spec.option, "não pode ficar vazio"))
            elif spec.attribute in ("late_fee_bp", "interest_monthly_bp"):
                problems.append(Problem(spec.option, "informe um percentual (0 para nenhum)"))
            else:
                values[spec.attribute] = None
            continue
        if spec.option == "pix":
            values["pix_key"] = text  # read with its kind below
            continue
        try:
            values[spec.attribute] = spec.read(text)
        except ValueError as exc:
            problems.append(Problem(spec.option, str(exc)))
    for spec in FIELDS:
        named = any(p.field == spec.option for p in problems)
        if spec.required and not values.get(spec.attribute) and not named:
            problems.append(Problem(spec.option, "obrigatório"))
    _read_pix(values, given, problems)
    wallet = _wallet(values, problems)
    if problems:
        return None, problems
    plain = {k: v for k, v in values.items() if not k.startswith("boleto.")}
    return CreditorProfile(**plain, boleto=wallet), []


def _read_pix(
    values: dict[str, Any], given: Mapping[str, str | None], problems: list[Problem]
) -> None:
    key = values.get("pix_key")
    if not key:
        values["pix_key"] = None
        values["pix_key_kind"] = None
        return
    kind = values.get("pix_key_kind") if "pix" not in given or given.get("pix-tipo") else None
    if any(p.field == "pix-tipo" for p in problems):
        return
    try:
        values["pix_key_kind"], values["pix_key"] = read_pix_key(str(key), kind)
    except ValueError as exc:
        problems.append(Problem("pix", str(exc)))


def _wallet(values: Mapping[str, Any], problems: list[Problem]) -> BoletoWallet | None:
    parts = {name: values.get(f"boleto.{name}") for name in (*_BOLETO_REQUIRED, "agreement")}
    if not any(parts.values()):
        return None
    missing = [_BOLETO_OPTIONS[n] for n in _BOLETO_REQUIRED if not parts[n]]
    if missing:
        problems.append(
            Problem(missing[0], f"a carteira de boleto precisa de {', '.join(missing)}")
        )
        return None
    return BoletoWallet(**{k: v for k, v in parts.items() if v is not None})


# --- what a message needs ------------------------------------------------------------------------

HELD_NO_PIX = "falta a chave Pix do credor"
HELD_NO_CONTACT = "falta um telefone, WhatsApp ou e-mail de atendimento do credor"
HELD_NO_ADDRESS = "falta o endereço postal do credor"
HELD_NO_SENDER = "falta o e-mail de envio do credor"


def missing_for_message(
    *,
    pix_key: str | None,
    phone: str | None,
    whatsapp: str | None,
    email: str | None,
    address: str | None,
    channel: str,
    collecting: bool,
) -> str | None:
    """Why a message cannot go out with the creditor's details as they are, or None.

    A collection message offers a PIX code for the total: without the creditor's key it would
    go without a way to pay (or, worse, with someone else's). Every message tells the debtor how
    to reach the creditor; a letter prints the creditor's postal address as its sender.
    """
    if collecting and not pix_key:
        return HELD_NO_PIX
    if not (phone or whatsapp or email):
        return HELD_NO_CONTACT
    if channel == "letter" and not address:
        return HELD_NO_ADDRESS
    return None


def profile_lines(profile: CreditorProfile) -> list[tuple[str, str, str | None]]:
    """(option, label, value as a person reads it) for every field, empty ones as None."""
    values = _flat(profile)
    shown: list[tuple[str, str, str | None]] = []
    for spec in FIELDS:
        value = values.get(spec.attribute)
        text: str | None
        if value is None or value == "":
            text = None
        elif spec.attribute == "document":
            text = profile.formatted_document
        elif spec.attribute in ("phone", "whatsapp"):
            text = format_phone(str(value))
        elif spec.attribute == "postal_code":
            text = format_cep(str(value))
        elif spec.attribute == "pix_key_kind":
            text = PIX_KEY_LABELS[str(value)]
        elif spec.attribute in ("late_fee_bp", "interest_monthly_bp"):
            text = f"{Decimal(int(value)) / 100:f}".replace(".", ",") + "%"
        else:
            text = str(value)
        shown.append((spec.option, spec.label, text))
    return shown
