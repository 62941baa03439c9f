"""`regua init` and `regua credor mostrar|editar` as a user types them: the creditor's own
details, validated before anything is created, shown and changed on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli import credor_commands
from regua.cli.main import app
from regua.store.tables import creditors

runner = CliRunner()

IPE = ["--nome", "Comercial Ipê Distribuidora Ltda", "--cnpj", "06.990.590/0001-23"]


def test_a_bad_cnpj_is_refused_and_leaves_no_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    result = runner.invoke(app, ["init", "--db", url, "--nome", "Loja X", "--cnpj", "123"])
    assert result.exit_code == 2
    assert "CNPJ inválido: 123" in result.output and "CPF inválido" not in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_empty_name_is_refused_and_leaves_no_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    result = runner.invoke(app, ["init", "--db", url, "--nome", "", "--cnpj", IPE[3]])
    assert result.exit_code == 2
    assert "nome: não pode ficar vazio" in result.output
    assert list(tmp_path.iterdir()) == []


def test_init_on_a_terminal_asks_for_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credor_commands, "interactive", lambda: True)
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    answers = [
        "Comercial Ipê Distribuidora Ltda",  # nome
        "",  # fantasia
        "123",  # cnpj: refused, asked again
        "06.990.590/0001-23",
        "financeiro@ipe.com.br",  # pix
        "",  # email-envio
        "",  # email
        "(41) 3322-4455",  # telefone
        *[""] * 7,
    ]
    result = runner.invoke(app, ["init", "--db", url], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "CNPJ inválido: 123" in result.output
    shown = runner.invoke(app, ["credor", "mostrar", "--db", url, "--json"])
    data = json.loads(shown.output)
    assert (data["nome"], data["cnpj"], data["pix"], data["pix_tipo"], data["telefone"]) == (
        "Comercial Ipê Distribuidora Ltda",
        "06990590000123",
        "financeiro@ipe.com.br",
        "email",
        "+554133224455",
    )
    assert data["site"] is None and data["endereco"] is None


def test_init_without_a_terminal_needs_name_and_cnpj(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    result = runner.invoke(app, ["init", "--db", url])
    assert result.exit_code == 2
    assert "informe o nome e o CNPJ do credor" in result.output


def test_init_again_with_another_name_says_so_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'novo.db'}"
    first = runner.invoke(app, ["init", "--db", url, *IPE])
    assert first.exit_code == 0, first.output
    assert "Credor criado: #1 Comercial Ipê Distribuidora Ltda (06.990.590/0001-23)" in (
        first.output
    )
    assert "chave Pix (--pix)" in first.output  # what messages will lack
    again = runner.invoke(app, ["init", "--db", url, *IPE])
    assert again.exit_code == 0 and "Credor já existente: #1" in again.output
    other = runner.invoke(
        app, ["init", "--db", url, "--nome", "Outra Empresa Ltda", "--cnpj", IPE[3]]
    )
    assert other.exit_code == 2
    assert "o banco já tem o credor Comercial Ipê Distribuidora Ltda" in other.output
    assert "nada foi alterado" in other.output and "regua credor editar" in other.output
    plain = runner.invoke(app, ["init", "--db", url])  # no options: only the schema
    assert plain.exit_code == 0, plain.output
    shown = json.loads(runner.invoke(app, ["credor", "mostrar", "--db", url, "--json"]).output)
    assert shown["nome"] == "Comercial Ipê Distribuidora Ltda"


def test_credor_mostrar_and_editar_round_trip(engine: Engine, db_url: str) -> None:
    assert runner.invoke(app, ["init", "--db", db_url, *IPE]).exit_code == 0
    edited = runner.invoke(
        app,
        [
            "credor",
            "editar",
            "--db",
            db_url,
            "--pix",
            "06.990.590/0001-23",
            "--email-envio",
            "cobranca@ipe.com.br",
            "--telefone",
            "41 3322-4455",
            "--cep",
            "80020310",
            "--uf",
            "pr",
            "--multa",
            "2,5",
            "--banco",
            "341",
            "--agencia",
            "1234",
            "--conta",
            "56789-0",
            "--carteira",
            "109",
        ],
    )
    assert edited.exit_code == 0, edited.output
    assert "Chave Pix: (não informado) -> 06990590000123" in edited.output
    assert "Multa (%): 2% -> 2,5%" in edited.output
    shown = runner.invoke(app, ["credor", "mostrar", "--db", db_url])
    assert shown.exit_code == 0
    for text in ("06.990.590/0001-23", "(41) 3322-4455", "80020-310", "PR", "2,5%", "341"):
        assert text in shown.output
    data = json.loads(runner.invoke(app, ["credor", "mostrar", "--db", db_url, "--json"]).output)
    assert data["pix_tipo"] == "cnpj" and data["multa_bp"] == 250
    assert data["boleto"] == {
        "banco": "341",
        "agencia": "1234",
        "conta": "56789-0",
        "carteira": "109",
        "convenio": None,
    }
    cleared = runner.invoke(app, ["credor", "editar", "--db", db_url, "--telefone", ""])
    assert cleared.exit_code == 0 and "Telefone: (41) 3322-4455 -> (não informado)" in (
        cleared.output
    )
    with engine.connect() as connection:
        row = connection.execute(
            select(creditors.c.phone, creditors.c.late_fee_bp, creditors.c.boleto_bank)
        ).one()
    assert tuple(row) == (None, 250, "341")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pix", "123", "--pix-tipo", "cpf"], "pix: chave Pix (CPF) inválida"),
        (["--pix", "11222333000181", "--pix-tipo", "cpf"], "não é um CPF"),
        (["--pix", "fulano@", "--pix-tipo", "email"], "chave Pix (e-mail) inválida"),
        (["--pix", "(41) 1234", "--pix-tipo", "telefone"], "chave Pix (telefone) inválida"),
        (["--pix", "abc", "--pix-tipo", "aleatoria"], "chave Pix (chave aleatória) inválida"),
        (["--pix", "x", "--pix-tipo", "boleto"], "tipo de chave Pix inválido: boleto"),
        (["--nome", ""], "nome: não pode ficar vazio"),
        (["--cnpj", "11.111.111/1111-11"], "cnpj: CNPJ inválido"),
        (["--cep", "8002"], "cep: CEP inválido"),
        (["--uf", "XX"], "uf: UF inválida"),
        (["--multa", "150"], "multa: deve estar entre 0% e 100%"),
        (["--banco", "341"], "a carteira de boleto precisa de agencia, conta, carteira"),
        ([], "nada para alterar"),
    ],
)
def test_credor_editar_refuses_a_bad_field_by_name(
    tmp_path: Path, args: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(app, ["init", "--db", url, *IPE]).exit_code == 0
    result = runner.invoke(app, ["credor", "editar", "--db", url, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("key", "kind", "stored"),
    [
        ("06.990.590/0001-23", "cnpj", "06990590000123"),
        ("529.982.247-25", "cpf", "52998224725"),
        ("Financeiro@Ipe.com.br", "email", "financeiro@ipe.com.br"),
        ("+55 (41) 99876-5432", "telefone", "+5541998765432"),
        (
            "123e4567-e89b-12d3-a456-426614174000",
            "aleatoria",
            "123e4567-e89b-12d3-a456-426614174000",
        ),
    ],
)
def test_a_pix_key_is_read_by_its_type(tmp_path: Path, key: str, kind: str, stored: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["init", "--db", url, *IPE, "--pix", key])
    assert result.exit_code == 0, result.output
    data = json.loads(runner.invoke(app, ["credor", "mostrar", "--db", url, "--json"]).output)
    assert (data["pix"], data["pix_tipo"]) == (stored, kind)
