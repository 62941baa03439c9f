"""The columns each import reads: field names, the header synonyms ERPs export them under
(`CUSTOMER_COLUMNS`, `INVOICE_COLUMNS`, `PAYMENT_COLUMNS`), their pt-BR labels, and which
must be present."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from regua.errors import InputError
from regua.services.tabular import resolve_columns

ImportKind = Literal["customers", "invoices", "payments"]

CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "codigo_cliente",
        "cod_cliente",
        "id_cliente",
        "cliente_id",
        "customer_id",
        "customer_external_id",
        "codigo",
        "id",
    ),
    "name": (
        "nome",
        "nome_cliente",
        "cliente",
        "razao_social",
        "sacado",
        "pagador",
        "customer_name",
        "customer",
    ),
    "document": ("cpf_cnpj", "cnpj_cpf", "documento", "cpf", "cnpj", "doc", "tax_id"),
    "email": ("e_mail", "email_cliente", "mail"),
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
    "uf": ("estado", "state", "uf_cliente"),
    "city": ("cidade", "municipio", "city"),
    "address": ("endereco", "logradouro", "endereco_completo", "address"),
    "tags": ("etiquetas", "grupo", "carteira"),
    "consumer": ("consumidor", "pessoa_fisica", "is_consumer"),
}

# In an invoice file the customer columns are the same, but "id"/"codigo" name the invoice.
_INVOICE_CUSTOMER_COLUMNS = {
    f"customer_{name}" if name != "external_id" else "customer_external_id": tuple(
        s for s in synonyms if s not in ("id", "codigo")
    )
    for name, synonyms in CUSTOMER_COLUMNS.items()
}
_INVOICE_CUSTOMER_COLUMNS["customer_name"] = (
    "customer_name",
    *CUSTOMER_COLUMNS["name"],
)

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
    ),
    "number": (
        "numero",
        "numero_documento",
        "num_doc",
        "nf",
        "nota_fiscal",
        "numero_titulo",
        "numero_nf",
        "invoice_number",
        "fatura",
    ),
    "description": ("descricao", "historico", "produto", "servico", "referente", "description"),
    "issue_date": ("emissao", "data_emissao", "data_de_emissao", "dt_emissao", "issue_date"),
    "due_date": (
        "vencimento",
        "data_vencimento",
        "data_de_vencimento",
        "dt_vencimento",
        "due_date",
        "due",
    ),
    "amount": ("valor", "valor_original", "valor_titulo", "valor_documento", "amount", "total"),
    "balance": (
        "saldo",
        "valor_aberto",
        "valor_em_aberto",
        "saldo_devedor",
        "balance",
        "open_amount",
    ),
    "status": ("situacao", "status", "situacao_titulo"),
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
    "invoice_number": ("numero", "numero_documento", "nf", "numero_titulo", "invoice_number"),
    "nosso_numero": ("nossonumero",),
    "amount": ("valor", "valor_pago", "amount", "paid_amount"),
    "paid_on": ("data_pagamento", "data", "pago_em", "data_credito", "payment_date", "paid_at"),
    "method": ("forma", "forma_pagamento", "meio", "meio_pagamento", "payment_method"),
}

COLUMNS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    "customers": CUSTOMER_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
}

FIELD_LABELS = {  # pt-BR names used in messages
    "external_id": "id",
    "name": "nome",
    "document": "cpf_cnpj",
    "email": "email",
    "phone": "telefone",
    "phone2": "telefone_2",
    "uf": "uf",
    "city": "cidade",
    "address": "endereco",
    "tags": "tags",
    "consumer": "consumidor",
    "number": "numero",
    "description": "descricao",
    "issue_date": "emissao",
    "due_date": "vencimento",
    "amount": "valor",
    "balance": "saldo",
    "status": "situacao",
    "boleto_line": "linha_digitavel",
    "nosso_numero": "nosso_numero",
    "pix_txid": "txid",
    "customer_external_id": "codigo_cliente",
    "customer_name": "nome",
    "customer_document": "cpf_cnpj",
    "customer_email": "email",
    "customer_phone": "telefone",
    "customer_phone2": "telefone_2",
    "customer_uf": "uf",
    "customer_city": "cidade",
    "customer_address": "endereco",
    "customer_tags": "tags",
    "customer_consumer": "consumidor",
    "invoice_external_id": "titulo",
    "invoice_number": "numero",
    "paid_on": "data_pagamento",
    "method": "forma",
}


def find_columns(
    kind: ImportKind, header: list[str], mapping: Mapping[str, str], file: str
) -> dict[str, int]:
    """Field -> column index for a file of `kind`; `InputError` when a required one is missing.

    `mapping` (the user's `--map campo=coluna`) wins over the synonyms.
    """
    columns = resolve_columns(header, COLUMNS[kind], mapping, file)
    require_columns(kind, columns, file)
    return columns


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
            names = " ou ".join(FIELD_LABELS.get(o, o) for o in options)
            raise InputError(
                f"falta a coluna {names} (use --map campo=coluna se ela tem outro nome)",
                file=file,
            )
