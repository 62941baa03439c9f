"""`regua pix encode|decode` and `regua boleto` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from regua.cli.pix_boleto_commands import register
from regua.payments import pix

runner = CliRunner()

BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BB_LINE = "00190.00009 01149.718601 68524.522114 6 75860000102656"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_pix_encode_prints_the_code_whole(app: typer.Typer) -> None:
    result = runner.invoke(
        app,
        [
            "pix",
            "encode",
            "--key",
            "123E4567-E12B-12D1-A456-426655440000",
            "--name",
            "Fulano de Tal",
            "--city",
            "BRASILIA",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Pix copia e cola:", BCB_STATIC]
    assert "Chave: 123e4567-e12b-12d1-a456-426655440000 (aleatória)" in lines
    assert "Valor: a definir pelo pagador" in lines
    assert "Identificador (txid): não informado" in lines


def test_pix_encode_with_amount_and_svg_qr(app: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "cobranca.svg"
    result = runner.invoke(
        app,
        [
            "pix",
            "encode",
            "--key",
            "(11) 98765-4321",
            "--name",
            "Padaria São João",
            "--city",
            "São Paulo",
            "--amount",
            "1.234,56",
            "--txid",
            "FAT123",
            "--qr",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    code = result.stdout.splitlines()[1]
    decoded = pix.decode(code)
    assert (decoded.key, decoded.name, decoded.city, decoded.amount_cents, decoded.txid) == (
        "+5511987654321",
        "Padaria Sao Joao",
        "Sao Paulo",
        123456,
        "FAT123",
    )
    assert "Valor: R$ 1.234,56" in result.stdout
    assert "Chave: +5511987654321 (telefone)" in result.stdout
    assert target.read_text(encoding="utf-8").startswith("<svg")


def test_pix_encode_png_and_json(app: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "cobranca.png"
    result = runner.invoke(
        app,
        [
            "pix",
            "encode",
            "--key",
            "529.982.247-25",
            "--name",
            "Fulano",
            "--city",
            "Recife",
            "--amount",
            "99,90",
            "--qr",
            str(target),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: v for k, v in data.items() if k != "code"} == {
        "key": "52998224725",
        "key_type": "cpf",
        "name": "Fulano",
        "city": "Recife",
        "amount_cents": 9990,
        "amount": "99.90",
        "txid": "***",
        "description": None,
        "qr_file": str(target),
    }
    assert pix.decode(data["code"]).amount_cents == 9990
    assert target.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--amount", "doze"], "erro: --amount: valor inválido: 'doze'"),
        (["--txid", "FAT-1"], "erro: txid inválido: 'FAT-1'"),
        (["--qr", "x.jpg"], "erro: --qr: use um arquivo .svg ou .png"),
    ],
)
def test_pix_encode_errors_are_one_line(app: typer.Typer, extra: list[str], message: str) -> None:
    args = ["pix", "encode", "--key", "fulano@example.com", "--name", "F", "--city", "R"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_pix_encode_invalid_key(app: typer.Typer) -> None:
    result = runner.invoke(
        app, ["pix", "encode", "--key", "529.982.247-24", "--name", "F", "--city", "R"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "erro: chave Pix inválida: CPF inválido: 529.982.247-24"


def test_pix_decode_human(app: typer.Typer) -> None:
    result = runner.invoke(app, ["pix", "decode", BCB_STATIC])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Código Pix válido (estrutura e CRC conferidos).",
        "Tipo: estático",
        "Chave: 123e4567-e12b-12d1-a456-426655440000",
        "Recebedor: Fulano de Tal — BRASILIA",
        "Valor: a definir pelo pagador",
        "Identificador (txid): não informado",
        "CRC: 1D3D",
    ]


def test_pix_decode_json(app: typer.Typer) -> None:
    code = pix.encode_dynamic(
        url="pix.example.com/v2/cobv/abc", name="Fulano", city="Recife", amount_cents=5000
    )
    result = runner.invoke(app, ["pix", "decode", code, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["initiation"], data["url"], data["amount_cents"], data["amount"]) == (
        "dynamic",
        "pix.example.com/v2/cobv/abc",
        5000,
        "50.00",
    )


def test_pix_decode_bad_crc(app: typer.Typer) -> None:
    result = runner.invoke(app, ["pix", "decode", BCB_STATIC[:-4] + "0000"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "erro: CRC inválido: esperado 1D3D, encontrado 0000"


def test_boleto_human(app: typer.Typer) -> None:
    result = runner.invoke(app, ["boleto", BB_LINE, "--reference", "01/07/2018"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Boleto válido (dígitos verificadores conferidos).",
        "Tipo: cobrança",
        "Banco: 001",
        "Vencimento: 15/07/2018",
        "Valor: R$ 1.026,56",
        f"Linha digitável: {BB_LINE}",
        "Código de barras: 00196758600001026560000001149718606852452211",
    ]


def test_boleto_accepts_the_line_split_in_several_arguments(app: typer.Typer) -> None:
    result = runner.invoke(app, ["boleto", *BB_LINE.split(), "--reference", "2036-01-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "kind": "cobranca",
        "bank_code": "001",
        "currency": "9",
        "due_date": "2043-03-06",
        "amount_cents": 102656,
        "amount": "1026.56",
        "free_field": "0000001149718606852452211",
        "barcode": "00196758600001026560000001149718606852452211",
        "line": "00190000090114971860168524522114675860000102656",
        "formatted_line": BB_LINE,
        "reference": "2036-01-01",
        "valid": True,
    }


def test_boleto_arrecadacao(app: typer.Typer) -> None:
    result = runner.invoke(app, ["boleto", "846100000005246100291102005460339004695895061080"])
    assert result.exit_code == 0, result.output
    assert "Tipo: arrecadação/convênio (segmento 4)" in result.stdout
    assert "Valor: R$ 24,61" in result.stdout


def test_boleto_wrong_dv_is_one_line_naming_the_field(app: typer.Typer) -> None:
    wrong = BB_LINE.replace("01149.718601", "01149.718602")
    result = runner.invoke(app, ["boleto", wrong])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "erro: campo 2 da linha digitável: dígito verificador inválido: esperado 1, encontrado 2"
    )
