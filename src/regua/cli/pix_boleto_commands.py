"""`regua pix encode|decode` and `regua boleto`: build and read payment codes from the terminal."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from regua.cli.context import command_app
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain.money import MoneyFormatError, format_brl, parse_brl, to_decimal_str
from regua.errors import InputError
from regua.payments import boleto as boleto_codec
from regua.payments import pix, qr

pix_app = typer.Typer(
    help='Gerar e conferir códigos Pix (BR Code, o "copia e cola" do QR Code).',
    no_args_is_help=True,
)

_KEY_LABELS = {
    "cpf": "CPF",
    "cnpj": "CNPJ",
    "email": "e-mail",
    "phone": "telefone",
    "evp": "aleatória",
}
_DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def register(app: typer.Typer) -> None:
    """Mount the commands as `regua pix ...` and `regua boleto`."""
    app.add_typer(pix_app, name="pix")
    app.command("boleto")(boleto)


def _line(label: str, value: str) -> None:
    # soft_wrap: long codes must stay on one line so they can be copied whole.
    console.print(f"{label}: {value}", markup=False, soft_wrap=True)


def _amount_json(cents: int | None) -> dict[str, Any]:
    return {
        "amount_cents": cents,
        "amount": None if cents is None else to_decimal_str(cents),
    }


# --------------------------------------------------------------------------- pix


@pix_app.command("encode")
@cli_errors
def encode(
    key: Annotated[
        str, typer.Option("--key", help="Chave Pix: CPF, CNPJ, e-mail, telefone ou aleatória.")
    ],
    name: Annotated[str, typer.Option("--name", help="Nome do recebedor (até 25 caracteres).")],
    city: Annotated[str, typer.Option("--city", help="Cidade do recebedor (até 15 caracteres).")],
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Valor, ex. 123,45. Sem valor, o pagador digita."),
    ] = None,
    txid: Annotated[
        str, typer.Option("--txid", help="Identificador do pagamento (até 25 letras e dígitos).")
    ] = pix.TXID_NOT_INFORMED,
    description: Annotated[
        str | None, typer.Option("--description", help="Mensagem mostrada ao pagador.")
    ] = None,
    qr_file: Annotated[
        Path | None,
        typer.Option("--qr", help="Salvar o QR Code neste arquivo (.svg ou .png).", dir_okay=False),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Gera o código Pix estático (copia e cola) e, se pedido, o QR Code."""
    amount_cents = None
    if amount is not None:
        try:
            amount_cents = parse_brl(amount)
        except MoneyFormatError as exc:
            raise InputError(str(exc), field="--amount") from None
    if qr_file is not None and qr_file.suffix.lower() not in (".svg", ".png"):
        raise InputError("use um arquivo .svg ou .png", field="--qr")
    pix_key = pix.normalize_pix_key(key)
    code = pix.encode_static(
        key=pix_key,
        name=name,
        city=city,
        amount_cents=amount_cents,
        txid=txid,
        description=description,
    )
    if qr_file is not None:
        if qr_file.suffix.lower() == ".svg":
            qr_file.write_text(qr.qr_svg(code), encoding="utf-8")
        else:
            qr_file.write_bytes(qr.qr_png(code))
    decoded = pix.decode(code)
    if json_output:
        print_json(
            {
                "code": code,
                "key": pix_key.value,
                "key_type": pix_key.kind,
                "name": decoded.name,
                "city": decoded.city,
                **_amount_json(amount_cents),
                "txid": txid,
                "description": decoded.description,
                "qr_file": str(qr_file) if qr_file else None,
            }
        )
        return
    console.print("Pix copia e cola:")
    console.print(code, markup=False, soft_wrap=True)
    console.print()
    _line("Chave", f"{pix_key.value} ({_KEY_LABELS[pix_key.kind]})")
    _line("Recebedor", f"{decoded.name} — {decoded.city}")
    _line("Valor", format_brl(amount_cents) if amount_cents else "a definir pelo pagador")
    _line("Identificador (txid)", "não informado" if txid == pix.TXID_NOT_INFORMED else txid)
    if decoded.description:
        _line("Mensagem", decoded.description)
    if qr_file is not None:
        _line("QR Code salvo em", str(qr_file))


@pix_app.command("decode")
@cli_errors
def decode(
    code: Annotated[str, typer.Argument(help="O código Pix copia e cola.", show_default=False)],
    json_output: JsonOption = False,
) -> None:
    """Confere um código Pix (estrutura e CRC) e mostra o que ele contém."""
    result = pix.decode(code)
    if json_output:
        print_json(
            {
                "initiation": result.initiation,
                "key": result.key,
                "url": result.url,
                "recurrence_url": result.recurrence_url,
                "name": result.name,
                "city": result.city,
                "postal_code": result.postal_code,
                **_amount_json(result.amount_cents),
                "txid": result.txid,
                "description": result.description,
                "mcc": result.mcc,
                "currency": result.currency,
                "country": result.country,
                "crc": result.crc,
                "valid": True,
            }
        )
        return
    console.print("Código Pix válido (estrutura e CRC conferidos).")
    kinds = {
        "dynamic": "dinâmico (cobrança no PSP)",
        "static": "estático",
        "recurrence": "Pix Automático (autorização de pagamentos recorrentes)",
    }
    kind = kinds[result.initiation]
    if result.recurrence_url is not None and result.initiation != "recurrence":
        kind += " com Pix Automático (pede também a autorização de pagamentos recorrentes)"
    _line("Tipo", kind)
    if result.key is not None:
        _line("Chave", result.key)
    if result.url is not None:
        _line("Endereço da cobrança", f"https://{result.url}")
    if result.recurrence_url is not None:
        _line("Endereço da recorrência", f"https://{result.recurrence_url}")
    _line("Recebedor", f"{result.name} — {result.city}")
    if result.amount_cents is not None:
        _line("Valor", format_brl(result.amount_cents))
    elif result.initiation == "dynamic":
        _line("Valor", "definido na cobrança do PSP")
    elif result.initiation == "recurrence":
        _line("Valor", "definido na recorrência autorizada")
    else:
        _line("Valor", "a definir pelo pagador")
    txid = result.txid
    _line("Identificador (txid)", "não informado" if txid in (None, "***") else str(txid))
    if result.description:
        _line("Mensagem", result.description)
    if result.postal_code:
        _line("CEP", result.postal_code)
    _line("CRC", result.crc)


# --------------------------------------------------------------------------- boleto


@cli_errors
def boleto(
    ctx: typer.Context,
    line: Annotated[
        list[str],
        typer.Argument(
            help="Linha digitável (47 dígitos, 48 na arrecadação) ou código de barras (44), "
            "com ou sem pontos e espaços.",
            show_default=False,
        ),
    ],
    reference: Annotated[
        datetime | None,
        typer.Option(
            "--reference",
            formats=_DATE_FORMATS,
            help="Data de referência para ler o fator de vencimento (AAAA-MM-DD ou "
            "dd/mm/aaaa). Padrão: hoje.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Confere um boleto (dígitos verificadores) e mostra banco, vencimento e valor."""
    on: date = reference.date() if reference else command_app(ctx).today()
    result = boleto_codec.parse(" ".join(line), reference=on)
    if json_output:
        print_json(
            {
                "kind": result.kind,
                "bank_code": result.bank_code or None,
                "currency": result.currency,
                "due_date": result.due_date,
                **_amount_json(result.amount_cents),
                "free_field": result.free_field,
                "barcode": result.barcode,
                "line": result.line,
                "formatted_line": result.formatted_line,
                "reference": on,
                "valid": True,
            }
        )
        return
    console.print("Boleto válido (dígitos verificadores conferidos).")
    if result.kind == "arrecadacao":
        _line("Tipo", f"arrecadação/convênio (segmento {result.currency})")
    else:
        _line("Tipo", "cobrança")
        _line("Banco", result.bank_code)
        _line(
            "Vencimento",
            f"{result.due_date:%d/%m/%Y}" if result.due_date else "não informado no código",
        )
    _line("Valor", format_brl(result.amount_cents) if result.amount_cents else "não informado")
    _line("Linha digitável", result.formatted_line)
    _line("Código de barras", result.barcode)
