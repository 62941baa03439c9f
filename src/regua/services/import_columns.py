"""The columns each import reads: field names, the header synonyms ERPs export them under
(`CUSTOMER_COLUMNS`, `INVOICE_COLUMNS`, `PAYMENT_COLUMNS`), their pt-BR names (what messages
say and what `--map` accepts), which must be present, the extra contact columns (every phone
and e-mail column is read) and the columns a file has that no field reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from regua.errors import InputError
from regua.services.tabular import header_key, resolve_columns

ImportKind = Literal["customers", "invoices", "payments"]

CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "codigo_cliente",
        "cod_cliente",
        "id_cliente",
        "cliente_id",
        "customer_id",
        "customer_external_id",
        "codigo_do_cliente",
        "codigo_de_integracao",
        "codigo",
        "id",
    ),
    "name": (
        "nome",
        "nome_cliente",
        "nome_do_cliente",
        "cliente",
        "razao_social",
        "nome_razao_social",
        "nome_fantasia",
        "sacado",
        "pagador",
        "contato",
        "cliente_fornecedor",
        "customer_name",
        "customer",
    ),
    "document": (
        "cpf_cnpj",
        "cnpj_cpf",
        "documento",
        "cpf",
        "cnpj",
        "doc",
        "cpf_cnpj_do_cliente",
        "tax_id",
    ),
    "email": ("e_mail", "email_cliente", "mail", "emails", "e_mails", "email_principal"),
    "phone": (
        "telefone",
        "celular",
        "fone",
        "whatsapp",
        "tel",
        "phone",
        "mobile",
        "telefone_celular",
    ),
    "phone2": ("telefone_2", "telefone2", "fone_2", "fone2", "outro_telefone", "phone_2"),
    "address": ("endereco", "logradouro", "rua", "endereco_completo", "address"),
    "address_number": ("numero", "num", "nro", "n", "no", "numero_endereco"),
    "complement": ("complemento", "compl"),
    "district": ("bairro",),
    "city": ("cidade", "municipio", "city"),
    "uf": ("estado", "state", "uf_cliente"),
    "postal_code": ("cep", "codigo_postal", "cep_cliente", "zip"),
    "tags": ("etiquetas", "grupo", "carteira"),
    "consumer": ("consumidor", "pessoa_fisica", "is_consumer"),
    "birth_date": (
        "data_nascimento",
        "data_de_nascimento",
        "nascimento",
        "dt_nascimento",
        "dt_nasc",
        "birth_date",
        "date_of_birth",
    ),
}

# In an invoice file the customer columns are the same, but "id"/"codigo" name the invoice and
# "numero" its number.
_INVOICE_CUSTOMER_COLUMNS = {
    f"customer_{name}" if name != "external_id" else "customer_external_id": tuple(
        s for s in synonyms if s not in ("id", "codigo", "numero", "num", "n", "no")
    )
    for name, synonyms in CUSTOMER_COLUMNS.items()
}
_INVOICE_CUSTOMER_COLUMNS["customer_name"] = (
    "customer_name",
    *CUSTOMER_COLUMNS["name"],
)
_INVOICE_CUSTOMER_COLUMNS["customer_external_id"] += ("cod_cli", "cliente_codigo")

INVOICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "id_titulo",
        "codigo_titulo",
        "titulo",
        "id_fatura",
        "fatura_id",
        "invoice_id",
        "id_externo",
        "chave",
        "id_conta",
        "codigo_lancamento",
    ),
    "number": (
        "numero",
        "numero_documento",
        "numero_do_documento",
        "no_documento",
        "n_documento",
        "no_do_documento",
        "n_do_documento",
        "nr_documento",
        "num_documento",
        "num_doc",
        "documento_numero",
        "no_titulo",
        "n_titulo",
        "numero_do_titulo",
        "nf",
        "nota_fiscal",
        "numero_titulo",
        "numero_nf",
        "invoice_number",
        "fatura",
    ),
    "installment": ("parcela", "parc", "numero_parcela", "installment"),
    "description": (
        "descricao",
        "historico",
        "produto",
        "servico",
        "referente",
        "observacao",
        "description",
    ),
    "issue_date": (
        "emissao",
        "data_emissao",
        "data_de_emissao",
        "dt_emissao",
        "data_de_competencia",
        "competencia",
        "issue_date",
    ),
    "due_date": (
        "vencimento",
        "data_vencimento",
        "data_de_vencimento",
        "dt_vencimento",
        "vencto",
        "vencto_real",
        "vencimento_real",
        "due_date",
        "due",
    ),
    "amount": (
        "valor",
        "valor_original",
        "valor_titulo",
        "valor_documento",
        "valor_da_conta",
        "valor_da_parcela",
        "valor_original_da_parcela",
        "valor_r",
        "valor_original_r",
        "valor_da_parcela_r",
        "vlr_titulo",
        "vlr_original",
        "amount",
        "total",
    ),
    "balance": (
        "saldo",
        "valor_aberto",
        "valor_em_aberto",
        "saldo_devedor",
        "saldo_r",
        "valor_em_aberto_r",
        "balance",
        "open_amount",
    ),
    "status": ("situacao", "status", "situacao_titulo", "situacao_do_titulo"),
    "paid_on": (
        "data_pagamento",
        "data_de_pagamento",
        "data_do_pagamento",
        "data_recebimento",
        "data_de_recebimento",
        "data_do_recebimento",
        "data_baixa",
        "data_da_baixa",
        "dt_baixa",
        "baixa",
        "pago_em",
        "recebido_em",
        "data_quitacao",
        "data_liquidacao",
        "data_do_ultimo_pagamento",
        "data_do_ultimo_recebimento",
        "paid_on",
    ),
    "paid_amount": (
        "valor_pago",
        "valor_recebido",
        "valor_baixado",
        "vlr_pago",
        "vlr_recebido",
        "vlr_baixado",
        "valor_pago_r",
        "valor_recebido_r",
        "total_pago",
        "total_recebido",
        "paid_amount",
    ),
    "boleto_line": (
        "linha_digitavel",
        "boleto",
        "linha",
        "codigo_de_barras",
        "codigo_barras",
        "barcode",
    ),
    "nosso_numero": ("nossonumero",),
    "pix_txid": ("txid",),
    **_INVOICE_CUSTOMER_COLUMNS,
}

PAYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "id_pagamento",
        "codigo_pagamento",
        "payment_id",
        "autenticacao",
        "id_externo",
    ),
    "invoice_external_id": (
        "titulo",
        "id_titulo",
        "codigo_titulo",
        "id_fatura",
        "fatura_id",
        "invoice_id",
        "invoice_external_id",
    ),
    "invoice_number": (
        "numero",
        "numero_documento",
        "numero_do_documento",
        "no_documento",
        "n_documento",
        "nf",
        "numero_titulo",
        "no_titulo",
        "invoice_number",
    ),
    "nosso_numero": ("nossonumero",),
    "amount": ("valor", "valor_pago", "valor_recebido", "amount", "paid_amount"),
    "paid_on": (
        "data_pagamento",
        "data_de_pagamento",
        "data_recebimento",
        "data_de_recebimento",
        "data_baixa",
        "data",
        "pago_em",
        "data_credito",
        "payment_date",
        "paid_at",
    ),
    "method": ("forma", "forma_pagamento", "meio", "meio_pagamento", "payment_method"),
}

COLUMNS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    "customers": CUSTOMER_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}

# The pt-BR name of each field: what messages call it and what `--map nome=coluna` accepts
# (besides the English field name).
_CUSTOMER_LABELS = {
    "external_id": "codigo_cliente",
    "name": "nome",
    "document": "cpf_cnpj",
    "email": "email",
    "phone": "telefone",
    "phone2": "telefone_2",
    "address": "endereco",
    "address_number": "numero_endereco",
    "complement": "complemento",
    "district": "bairro",
    "city": "cidade",
    "uf": "uf",
    "postal_code": "cep",
    "tags": "tags",
    "consumer": "consumidor",
    "birth_date": "data_nascimento",
}
_INVOICE_LABELS = {
    "external_id": "id_titulo",
    "number": "numero",
    "installment": "parcela",
    "description": "descricao",
    "issue_date": "emissao",
    "due_date": "vencimento",
    "amount": "valor",
    "balance": "saldo",
    "status": "situacao",
    "paid_on": "data_pagamento",
    "paid_amount": "valor_pago",
    "boleto_line": "linha_digitavel",
    "nosso_numero": "nosso_numero",
    "pix_txid": "txid",
    **{
        ("customer_external_id" if name == "external_id" else f"customer_{name}"): label
        for name, label in _CUSTOMER_LABELS.items()
    },
}
_PAYMENT_LABELS = {
    "external_id": "id_pagamento",
    "invoice_external_id": "id_titulo",
    "invoice_number": "numero",
    "nosso_numero": "nosso_numero",
    "amount": "valor",
    "paid_on": "data_pagamento",
    "method": "forma",
}
LABELS: dict[ImportKind, dict[str, str]] = {
    "customers": _CUSTOMER_LABELS,
    "invoices": _INVOICE_LABELS,
    "payments": _PAYMENT_LABELS,
}

# Header words of a column holding a phone or an e-mail: every such column is read, not only
# the first ("Telefone" and "Celular" and "WhatsApp" in one export).
_PHONE_WORDS = ("telefone", "celular", "fone", "whatsapp", "tel", "cel", "mobile", "phone")
_EMAIL_WORDS = ("email", "e_mail", "emails", "mail")


@dataclass(frozen=True)
class Columns:
    """Where a file's fields are: field -> column index; each field's pt-BR name in this file
    (an extra phone column is called by its header); the header columns no field reads."""

    index: dict[str, int]
    labels: dict[str, str]
    unused: list[str]

    def label(self, field: str | None) -> str | None:
        return None if field is None else self.labels.get(field, field)


def find_columns(
    kind: ImportKind, header: Sequence[str], mapping: Mapping[str, str], file: str
) -> Columns:
    """The fields of a file of `kind`; `InputError` when a required one is missing.

    `mapping` (the user's `--map campo=coluna`, the field by its pt-BR or English name) wins
    over the synonyms.
    """
    columns = match_columns(kind, header, mapping, file)
    require_columns(kind, columns.index, file)
    return columns


def match_columns(
    kind: ImportKind, header: Sequence[str], mapping: Mapping[str, str], file: str
) -> Columns:
    """`find_columns` without the check of the required ones."""
    labels = LABELS[kind]
    explicit = {_field_named(kind, name): column for name, column in mapping.items()}
    index = resolve_columns(list(header), COLUMNS[kind], explicit, file)
    field_labels = dict(labels)
    used = set(index.values())
    prefix = "customer_" if kind == "invoices" else ""
    if kind != "payments":
        extra = {"phone": 0, "email": 0}
        for position, text in enumerate(header):
            key = header_key(text)
            if position in used or not key:
                continue
            channel = _contact_kind(key)
            if channel is None:
                continue
            extra[channel] += 1
            name = f"{prefix}{channel}_extra{extra[channel]}"
            index[name] = position
            field_labels[name] = key
            used.add(position)
    unused = [text for position, text in enumerate(header) if position not in used and text.strip()]
    return Columns(index, field_labels, unused)


def _contact_kind(key: str) -> str | None:
    for channel, words in (("phone", _PHONE_WORDS), ("email", _EMAIL_WORDS)):
        if any(key == word or key.startswith(word + "_") for word in words):
            return channel
    return None


def _field_named(kind: ImportKind, name: str) -> str:
    """The field `--map` names, by its English or pt-BR name."""
    labels = LABELS[kind]
    if name in labels:
        return name
    key = header_key(name)
    for field, label in labels.items():
        if label == key:
            return field
    known = ", ".join(sorted(labels.values()))
    raise InputError(f"campo desconhecido no --map: {name} (campos: {known})")


def require_columns(kind: ImportKind, found: Mapping[str, int], file: str) -> None:
    required: dict[ImportKind, list[tuple[str, ...]]] = {
        "customers": [("name",), ("document",)],
        "invoices": [
            ("due_date",),
            ("amount",),
            ("external_id", "number"),
            ("customer_external_id", "customer_document"),
        ],
        "payments": [
            ("amount",),
            ("paid_on",),
            ("invoice_external_id", "invoice_number", "nosso_numero"),
        ],
    }
    for options in required[kind]:
        if not any(option in found for option in options):
            names = " ou ".join(LABELS[kind].get(o, o) for o in options)
            raise InputError(
                f"falta a coluna {names} (se ela tem outro nome: --map {LABELS[kind][options[0]]}"
                "=<nome da coluna>)",
                file=file,
            )


def header_fits(kind: ImportKind, row: Sequence[str], mapping: Mapping[str, str]) -> bool:
    """Whether `row` has every column a file of `kind` needs: the header, not a title row."""
    try:
        find_columns(kind, [str(cell) for cell in row], mapping, "")
    except InputError:
        return False
    return True
