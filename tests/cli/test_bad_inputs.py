"""Bad input never reaches a person as a traceback: every command, given a database URL that
cannot work, a SQLite file that does not exist, or the bad inputs users actually typed, answers
with one pt-BR line on stderr and exit code 2, and leaves nothing behind.

The commands are enumerated from the Typer app, so a new command is covered by the bad
``--db`` tests as soon as it exists, and must be given its arguments in `ARGS` below.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import typer.main
from click.testing import Result
from typer.testing import CliRunner

from regua.cli.main import app
from regua.policies.loader import packaged_policy_text

runner = CliRunner()


def command_paths() -> list[str]:
    """Every leaf command of the `regua` app, as typed: "run", "policy check"..."""
    paths: list[str] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                walk(command, [*prefix, name])
            else:
                paths.append(" ".join([*prefix, name]))

    walk(typer.main.get_command(app), [])
    return sorted(paths)


COMMANDS = command_paths()

# Valid arguments for each command, {tmp} being a folder with the files named in `files`. None:
# a command not run against a missing database (the worker would start Celery and wait).
ARGS: dict[str, list[str] | None] = {
    "acordo cancelar": ["--acordo", "1", "--motivo", "cliente desistiu"],
    "acordo criar": ["--customer", "C1", "--offer", "1"],
    "acordo listar": ["--xlsx", "{tmp}/acordos.xlsx"],
    "acordo quitar": ["--acordo", "1"],
    "offers": ["--customer", "C1"],
    "promessa criar": ["--customer", "C1", "--valor", "100,00", "--data", "2099-01-10"],
    "promessa listar": [],
    "contestacao listar": [],
    "contestacao resolver": ["1", "--decisao", "improcede", "--nota", "contrato assinado"],
    "ligacao feita": ["1"],
    "acoes": ["--status", "com falha"],
    "boleto": ["00190000090114971860168524522114675860000102656"],
    "calls": [],
    "cliente": ["C1"],
    "cnab": ["{tmp}/retorno.ret"],
    "config": [],
    "doctor": [],
    "credor criar": ["--nome", "Outra Ltda", "--cnpj", "11.444.777/0001-61"],
    "credor editar": ["--site", "ipe.com.br"],
    "credor listar": [],
    "credor mostrar": [],
    "db upgrade": [],
    "demo": ["--dir", "{tmp}/demo", "--customers", "5", "--days", "0"],
    "dispatch": [],
    "fees": ["--amount", "100,00", "--due", "2026-01-05", "--on", "2026-02-05"],
    "import": ["customers", "{tmp}/clientes.csv"],
    "init": ["--nome", "Comercial Ipê Distribuidora Ltda", "--cnpj", "06.990.590/0001-23"],
    "pause": ["--customer", "C1", "--reason", "pediu prazo"],
    "payments": [],
    "pix decode": ["000201"],
    "pix encode": ["--key", "11222333000181", "--name", "Loja", "--city", "Sao Paulo"],
    "policy apply": ["{tmp}/padrao.yaml"],
    "policy check": ["{tmp}/padrao.yaml"],
    "policy diff": ["{tmp}/padrao.yaml", "{tmp}/padrao.yaml"],
    "policy list": [],
    "preview": [],
    "resume": ["--customer", "C1"],
    "resumo": [],
    "run": [],
    "segments": [],
    "serve": ["--port", "8765"],
    "templates lint": [],
    "templates render": ["lembrete_vencimento", "--customer", "C1"],
    "templates show": ["lembrete_vencimento"],
    "worker": None,
}
# The commands that read or write the database: on a missing SQLite file they refuse.
NEEDS_DATABASE = {
    "acordo cancelar",
    "acordo criar",
    "acordo listar",
    "acordo quitar",
    "offers",
    "promessa criar",
    "promessa listar",
    "contestacao listar",
    "contestacao resolver",
    "ligacao feita",
    "acoes",
    "cliente",
    "calls",
    "credor criar",
    "credor editar",
    "credor listar",
    "credor mostrar",
    "db upgrade",
    "dispatch",
    "doctor",
    "import",
    "pause",
    "payments",
    "policy apply",
    "policy list",
    "preview",
    "resume",
    "resumo",
    "run",
    "segments",
    "serve",
    "templates render",
}


def files(tmp: Path) -> None:
    (tmp / "retorno.ret").write_text("não é um retorno\n", encoding="utf-8")
    (tmp / "clientes.csv").write_text(
        "codigo_cliente;nome;cpf_cnpj\nC1;Maria;52998224725\n", encoding="utf-8"
    )
    (tmp / "padrao.yaml").write_text(packaged_policy_text("padrao"), encoding="utf-8")


def args_for(command: str, tmp: Path) -> list[str]:
    given = ARGS[command] or []
    return [*command.split(), *(arg.replace("{tmp}", str(tmp)) for arg in given)]


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit code 2, no traceback, and exactly one line on stderr, in pt-BR, with `fragments`."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("erro: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def test_every_command_has_arguments_in_the_table() -> None:
    # A command added to the app must be added to ARGS (and NEEDS_DATABASE when it uses one).
    assert set(COMMANDS) == set(ARGS)
    assert set(ARGS) >= NEEDS_DATABASE


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("isto nao e url", "endereço de banco inválido: 'isto nao e url'"),
        ("mysql://x/y", "banco não suportado: mysql://x/y"),
        ("mysql://eu:segredo@x/y", "banco não suportado: mysql://eu:***@x/y"),
        ("oracle+nada://x/y", "banco não suportado: oracle+nada://x/y"),
    ],
)
def test_every_command_refuses_a_database_url_that_cannot_work(
    command: str, url: str, words: str, tmp_path: Path
) -> None:
    files(tmp_path)
    result = runner.invoke(app, ["--db", url, *args_for(command, tmp_path)])
    line = assert_one_line_error(result, words)
    assert "segredo" not in line


@pytest.mark.parametrize("command", [c for c in COMMANDS if ARGS.get(c) is not None])
def test_a_missing_sqlite_file_is_refused_and_never_created(command: str, tmp_path: Path) -> None:
    files(tmp_path)
    database = tmp_path / "nao-existe.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{database}", *args_for(command, tmp_path)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if command == "init":
        assert result.exit_code == 0, result.output
        assert database.stat().st_size > 0
        return
    assert not database.exists()  # not even an empty file
    if command in NEEDS_DATABASE:
        assert_one_line_error(
            result, f"banco de dados não encontrado: {database} (crie com regua init)"
        )
    else:
        assert result.exit_code in (0, 2), result.output


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'regua.db'}"
    assert runner.invoke(app, ["init", "--db", url, *ARGS["init"]]).exit_code == 0
    return url


def test_an_own_db_option_pointing_at_a_missing_file_leaves_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["segments", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert_one_line_error(result, "banco de dados não encontrado", "x.db")
    assert list(tmp_path.iterdir()) == []


def test_the_bad_inputs_users_typed(database: str, tmp_path: Path) -> None:
    pdf = tmp_path / "lista.csv"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n\x81\x8d\x8f")
    noise = tmp_path / "ruido.csv"
    noise.write_bytes(bytes(range(256)) * 8)
    header_only = tmp_path / "so_cabecalho.csv"
    header_only.write_text("codigo;nome;cpf\n", encoding="utf-8")
    cases: list[tuple[list[str], str]] = [
        (["import", "customers", str(pdf)], f"{pdf}: não é um arquivo de texto legível"),
        (["import", "invoices", str(noise)], f"{noise}: não é um arquivo de texto legível"),
        (["import", "customers", str(tmp_path)], f"{tmp_path}: é uma pasta, não um arquivo"),
        (["import", "customers", str(tmp_path / "x.csv")], "x.csv: arquivo não encontrado"),
        (["import", "customers", str(header_only)], "o arquivo não tem linhas, só o cabeçalho"),
        (["import", "customers", str(header_only), "--duplicados", "x"], "--duplicados"),
        (["pause", "--customer", "C1", "--reason", "x", "--until", "2026-13-01"], "2026-13-01"),
        (["pause", "--customer", "C1", "--reason", "x", "--until", "abc"], "data inválida: abc"),
        (["pause", "--customer", "C1", "--reason", "x", "--until", "2026-02-31"], "2026-02-31"),
        (["calls", "--csv", "/nao/existe/lista.csv"], "a pasta /nao/existe não existe"),
        (["offers", "--customer", "NINGUEM"], "cliente 'NINGUEM' não encontrado"),
        (["offers", "--customer", "C1", "--valor-parcela", "abc"], "--valor-parcela: valor"),
        (["acordo", "criar", "--customer", "C1"], "informe a oferta aceita (--offer N)"),
        (["acordo", "criar", "--customer", "C1", "--offer", "1", "--papel", "chefe"], "--papel"),
        (["acordo", "listar", "--status", "pendente"], "situação desconhecida 'pendente'"),
        (["acordo", "listar", "--xlsx", str(tmp_path / "a.csv")], "extensão .xlsx"),
        (["acordo", "cancelar", "--acordo", "99", "--motivo", "x"], "acordo 99 não existe"),
        (
            ["promessa", "criar", "--customer", "C1", "--valor", "-5", "--data", "2099-01-01"],
            "--valor: o valor deve ser maior que zero",
        ),
        (
            ["promessa", "criar", "--customer", "C1", "--valor", "5", "--data", "2020-01-01"],
            "a data da promessa (01/01/2020) já passou",
        ),
        (
            [
                "promessa",
                "criar",
                "--customer",
                "C1",
                "--valor",
                "5",
                "--data",
                "2099-01-01",
                "--canal",
                "pombo",
            ],
            "--canal: canal desconhecido 'pombo'",
        ),
        (["acoes", "--xlsx", "/nao/existe/acoes.xlsx"], "a pasta /nao/existe não existe"),
        (["acoes", "--status", "sumida"], "--status: situação desconhecida: sumida"),
        (["acoes", "--date", "2026-02-31"], "data inválida: 2026-02-31"),
        (["cliente", "C404"], "cliente 'C404' não encontrado"),
        (["cliente"], "falta o argumento CLIENTE"),
        (["resumo", "--xlsx", str(tmp_path)], "valor inválido para --xlsx"),
        (["segments", "--xlsx", "/nao/existe/s.xlsx"], "a pasta /nao/existe não existe"),
        (["payments", "--xlsx", "/nao/existe/p.xlsx"], "a pasta /nao/existe não existe"),
        (["calls", "--xlsx", "/nao/existe/l.xlsx"], "a pasta /nao/existe não existe"),
        (["run", "--inicio", "ontem"], "valor inválido para --inicio: 'ontem' não é uma das"),
    ]
    for args, words in cases:
        assert_one_line_error(runner.invoke(app, ["--db", database, *args]), words)


def test_a_negative_amount_is_refused() -> None:
    result = runner.invoke(app, ["fees", "--amount", "-100", "--due", "2026-01-05"])
    assert_one_line_error(result, "--amount: valor negativo: -100")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///{tmp}/nao/existe/x.db", "não foi possível abrir o arquivo do banco"),
        ("postgresql://127.0.0.1:1/regua", "conexão recusada"),
    ],
)
def test_database_errors_are_translated(url: str, words: str, tmp_path: Path) -> None:
    url = url.replace("{tmp}", str(tmp_path))
    result = runner.invoke(app, ["init", "--db", url, *ARGS["init"]])
    assert_one_line_error(result, words)


def test_a_database_without_tables_says_to_run_init(tmp_path: Path) -> None:
    path = tmp_path / "vazio.db"
    sqlite3.connect(path).execute("CREATE TABLE outra (x)").connection.close()
    result = runner.invoke(app, ["segments", "--db", f"sqlite:///{path}"])
    assert_one_line_error(result, "não tem as tabelas do regua (crie com regua init)")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "texto.db"
    path.write_text("isto é texto\n" * 100, encoding="utf-8")
    result = runner.invoke(app, ["segments", "--db", f"sqlite:///{path}"])
    assert_one_line_error(result, "não é um banco SQLite")
