"""`regua init` and `regua credor criar|listar|mostrar|editar`: the database and the creditors'
own details (an installation may hold several; `--credor` picks one).

The options name the fields of `domain.creditor_profile` (``--nome``, ``--cnpj``, ``--pix``...).
`regua init` validates every option before it opens the database, asks on a terminal for what
is missing, and refuses to change an existing creditor (that is `regua credor editar`).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from regua.cli.context import DbOption, command_app, command_creditor, shown_url
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain import creditor_profile as rules
from regua.domain.creditor_profile import CreditorProfile
from regua.services import creditors as creditor_service
from regua.services import setup

credor_app = typer.Typer(
    help="Os dados do credor: razão social, CNPJ, chave Pix, contatos, endereço, multa e juros.",
    no_args_is_help=True,
)


def _option(flag: str, text: str) -> Any:
    return typer.Option(flag, help=text, show_default=False)


Nome = Annotated[str | None, _option("--nome", "Razão social do credor.")]
Fantasia = Annotated[str | None, _option("--fantasia", "Nome fantasia.")]
Cnpj = Annotated[str | None, _option("--cnpj", "CNPJ (ou CPF) do credor.")]
Pix = Annotated[
    str | None, _option("--pix", "Chave Pix (CNPJ, CPF, e-mail, telefone ou aleatória).")
]
PixTipo = Annotated[
    str | None, _option("--pix-tipo", "Tipo da chave Pix: cnpj, cpf, email, telefone, aleatoria.")
]
EmailEnvio = Annotated[
    str | None, _option("--email-envio", "Endereço de onde saem os e-mails (From).")
]
ResponderPara = Annotated[
    str | None, _option("--responder-para", "Endereço das respostas (Reply-To).")
]
Email = Annotated[str | None, _option("--email", "E-mail de atendimento dos clientes.")]
Telefone = Annotated[str | None, _option("--telefone", "Telefone de atendimento.")]
Whatsapp = Annotated[str | None, _option("--whatsapp", "WhatsApp de atendimento.")]
Endereco = Annotated[str | None, _option("--endereco", "Logradouro, número e bairro.")]
Cidade = Annotated[str | None, _option("--cidade", "Cidade.")]
Uf = Annotated[str | None, _option("--uf", "UF (sigla).")]
Cep = Annotated[str | None, _option("--cep", "CEP.")]
Site = Annotated[str | None, _option("--site", "Site.")]
Horario = Annotated[
    str | None, _option("--horario", "Horário de atendimento (ex.: de segunda a sexta, 8h às 18h).")
]
Multa = Annotated[str | None, _option("--multa", "Multa por atraso, em % (padrão 2).")]
Juros = Annotated[str | None, _option("--juros", "Juros de mora, em % ao mês (padrão 1).")]
Banco = Annotated[str | None, _option("--banco", "Boleto: código do banco (ex.: 341).")]
Agencia = Annotated[str | None, _option("--agencia", "Boleto: agência.")]
Conta = Annotated[str | None, _option("--conta", "Boleto: conta.")]
Carteira = Annotated[str | None, _option("--carteira", "Boleto: carteira.")]
Convenio = Annotated[
    str | None, _option("--convenio", "Boleto: convênio / código do beneficiário.")
]

_PARAMETERS = {
    "nome": "nome",
    "fantasia": "fantasia",
    "cnpj": "cnpj",
    "pix": "pix",
    "pix_tipo": "pix-tipo",
    "email_envio": "email-envio",
    "responder_para": "responder-para",
    "email": "email",
    "telefone": "telefone",
    "whatsapp": "whatsapp",
    "endereco": "endereco",
    "cidade": "cidade",
    "uf": "uf",
    "cep": "cep",
    "site": "site",
    "horario": "horario",
    "multa": "multa",
    "juros": "juros",
    "banco": "banco",
    "agencia": "agencia",
    "conta": "conta",
    "carteira": "carteira",
    "convenio": "convenio",
}


def _given(values: dict[str, Any]) -> dict[str, str]:
    """Option name -> text for the options given on the command line."""
    return {
        option: values[parameter]
        for parameter, option in _PARAMETERS.items()
        if values.get(parameter) is not None
    }


def interactive() -> bool:
    """Ask for what is missing only when a person is at the terminal."""
    return sys.stdin.isatty()


def _ask(given: dict[str, str]) -> dict[str, str]:
    answers = dict(given)
    console.print("Dados do credor (Enter deixa um campo opcional em branco):")
    for option in creditor_service.ASKED_AT_INIT:
        if option in answers:
            continue
        spec = rules.FIELDS_BY_OPTION[option]
        while True:
            value = typer.prompt(spec.label, default="", show_default=False)
            why = creditor_service.check_option(option, value)
            if why is None:
                break
            console.print(f"  {spec.label}: {why}", markup=False)
        if value.strip():
            answers[option] = value
    return answers


def register(app: typer.Typer) -> None:
    """Mount `regua init` and `regua credor ...`."""
    app.command("init")(init)
    app.add_typer(credor_app, name="credor")


@cli_errors
def init(
    ctx: typer.Context,
    db: DbOption = None,
    nome: Nome = None,
    fantasia: Fantasia = None,
    cnpj: Cnpj = None,
    pix: Pix = None,
    pix_tipo: PixTipo = None,
    email_envio: EmailEnvio = None,
    responder_para: ResponderPara = None,
    email: Email = None,
    telefone: Telefone = None,
    whatsapp: Whatsapp = None,
    endereco: Endereco = None,
    cidade: Cidade = None,
    uf: Uf = None,
    cep: Cep = None,
    site: Site = None,
    horario: Horario = None,
    multa: Multa = None,
    juros: Juros = None,
    banco: Banco = None,
    agencia: Agencia = None,
    conta: Conta = None,
    carteira: Carteira = None,
    convenio: Convenio = None,
    json_output: JsonOption = False,
) -> None:
    """Cria o banco (SQLite por padrão) com o esquema atual e o credor (seus próprios dados).

    Num banco que já existe, só atualiza o esquema: os dados do credor mudam com
    `regua credor editar`.
    """
    given = _given(locals())
    # Everything typed is checked before the database is opened: a bad CNPJ leaves nothing.
    creditor_service.check_options(given)
    regua = command_app(ctx, db)
    if not {"nome", "cnpj"} <= given.keys() and interactive():
        existing = creditor_service.existing_profile(regua.uow)
        if existing is None:
            given = _ask(given)
    profile = creditor_service.new_profile(given) if {"nome", "cnpj"} & given.keys() else None
    # Every field given must agree with an existing creditor: init never edits one silently.
    compare = [rules.FIELDS_BY_OPTION[o].attribute for o in given]
    compare = [a for a in compare if "." not in a]
    result = setup.init_database(regua.uow, profile, regua.now(), compare=compare)
    revision = setup.schema_revision(regua.uow)
    missing = _missing(result.profile)
    if json_output:
        print_json(
            {
                "database_url": shown_url(regua.settings.database_url),
                "creditor_id": result.creditor_id,
                "created": result.created,
                "schema_revision": revision,
                "missing": missing,
            }
        )
        return
    console.print(f"Banco pronto: {shown_url(regua.settings.database_url)} (esquema {revision})")
    what = "criado" if result.created else "já existente"
    console.print(
        f"Credor {what}: #{result.creditor_id} {result.profile.legal_name} "
        f"({result.profile.formatted_document})",
        markup=False,
    )
    if missing:
        console.print(
            "Faltam dados que as mensagens usam: "
            + ", ".join(missing)
            + ". Sem eles as mensagens ficam retidas; complete com `regua credor editar`.",
            markup=False,
        )


def _missing(profile: CreditorProfile) -> list[str]:
    """The fields messages need that the profile lacks, as people name them."""
    missing = []
    if not profile.pix_key:
        missing.append("chave Pix (--pix)")
    if not (profile.phone or profile.whatsapp or profile.email):
        missing.append("telefone, WhatsApp ou e-mail de atendimento (--telefone, --email)")
    if not profile.sender_email:
        missing.append("e-mail de envio (--email-envio)")
    if not profile.address:
        missing.append("endereço para cartas (--endereco, --cidade, --uf, --cep)")
    return missing


@credor_app.command("criar")
@cli_errors
def criar(
    ctx: typer.Context,
    db: DbOption = None,
    nome: Nome = None,
    fantasia: Fantasia = None,
    cnpj: Cnpj = None,
    pix: Pix = None,
    pix_tipo: PixTipo = None,
    email_envio: EmailEnvio = None,
    responder_para: ResponderPara = None,
    email: Email = None,
    telefone: Telefone = None,
    whatsapp: Whatsapp = None,
    endereco: Endereco = None,
    cidade: Cidade = None,
    uf: Uf = None,
    cep: Cep = None,
    site: Site = None,
    horario: Horario = None,
    multa: Multa = None,
    juros: Juros = None,
    banco: Banco = None,
    agencia: Agencia = None,
    conta: Conta = None,
    carteira: Carteira = None,
    convenio: Convenio = None,
    json_output: JsonOption = False,
) -> None:
    """Cadastra outro credor no mesmo banco (o primeiro vem de `regua init`).

    Com mais de um credor, cada comando diz em qual atua: --credor (id, CNPJ ou nome).
    """
    given = _given(locals())
    creditor_service.check_options(given)
    profile = creditor_service.new_profile(given)
    regua = command_app(ctx, db)
    creditor_id = creditor_service.add_creditor(regua.uow, profile, regua.now())
    missing = _missing(profile)
    if json_output:
        print_json({"creditor_id": creditor_id, "created": True, "missing": missing})
        return
    console.print(
        f"Credor criado: #{creditor_id} {profile.legal_name} ({profile.formatted_document})",
        markup=False,
    )
    if missing:
        console.print(
            "Faltam dados que as mensagens usam: " + ", ".join(missing) + ". Complete com "
            f"`regua credor editar --credor {creditor_id}`.",
            markup=False,
        )


@credor_app.command("listar")
@cli_errors
def listar(ctx: typer.Context, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Lista os credores do banco, com o nome que --credor aceita."""
    regua = command_app(ctx, db)
    names = setup.creditor_names(regua.uow)
    if json_output:
        print_json(
            [
                {
                    "creditor_id": c.id,
                    "nome": c.legal_name,
                    "fantasia": c.trade_name,
                    "cnpj": c.document,
                    "credor": c.slugs[-1],
                }
                for c in names
            ]
        )
        return
    table = Table(title="Credores")
    for column in ("Id", "Razão social", "Nome fantasia", "CNPJ/CPF", "--credor"):
        table.add_column(column)
    for c in names:
        table.add_row(str(c.id), c.legal_name, c.trade_name or "", c.document, c.slugs[-1])
    console.print(table)


@credor_app.command("mostrar")
@cli_errors
def mostrar(ctx: typer.Context, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Mostra os dados do credor."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    profile = creditor_service.show_profile(regua.uow, creditor_id)
    if json_output:
        print_json({"creditor_id": creditor_id, **creditor_service.profile_dict(profile)})
        return
    _print_profile(creditor_id, profile)


def _print_profile(creditor_id: int, profile: CreditorProfile) -> None:
    table = Table(title=f"Credor #{creditor_id}", show_header=False)
    table.add_column("campo", no_wrap=True)
    table.add_column("valor", overflow="fold")
    table.add_column("opção", no_wrap=True, style="dim")
    for option, label, value in rules.profile_lines(profile):
        table.add_row(label, value if value is not None else "(não informado)", f"--{option}")
    console.print(table)
    missing = _missing(profile)
    if missing:
        console.print("Faltam: " + ", ".join(missing) + ".", markup=False)


@credor_app.command("editar")
@cli_errors
def editar(
    ctx: typer.Context,
    db: DbOption = None,
    nome: Nome = None,
    fantasia: Fantasia = None,
    cnpj: Cnpj = None,
    pix: Pix = None,
    pix_tipo: PixTipo = None,
    email_envio: EmailEnvio = None,
    responder_para: ResponderPara = None,
    email: Email = None,
    telefone: Telefone = None,
    whatsapp: Whatsapp = None,
    endereco: Endereco = None,
    cidade: Cidade = None,
    uf: Uf = None,
    cep: Cep = None,
    site: Site = None,
    horario: Horario = None,
    multa: Multa = None,
    juros: Juros = None,
    banco: Banco = None,
    agencia: Agencia = None,
    conta: Conta = None,
    carteira: Carteira = None,
    convenio: Convenio = None,
    json_output: JsonOption = False,
) -> None:
    """Altera dados do credor: cada opção dada substitui o valor; "" apaga um campo opcional."""
    given = _given(locals())
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    edit = creditor_service.edit_profile(regua.uow, creditor_id, given, regua.now())
    if json_output:
        print_json(
            {
                "creditor_id": creditor_id,
                "changed": list(edit.changed),
                **creditor_service.profile_dict(edit.after),
            }
        )
        return
    if not edit.changed:
        console.print("Nada mudou: os valores dados já eram os do credor.")
        return
    before = {o: v for o, _l, v in rules.profile_lines(edit.before)}
    for option, label, value in rules.profile_lines(edit.after):
        if option in edit.changed:
            old = before.get(option) or "(não informado)"
            console.print(f"{label}: {old} -> {value or '(não informado)'}", markup=False)
