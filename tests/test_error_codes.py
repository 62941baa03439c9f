"""The error codes: one registry (`regua.error_codes.ErrorCode`), used at every raise site, and
the HTTP status of each error class, which API clients rely on."""

from __future__ import annotations

import ast
import csv
import importlib
import io
import json
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from typer.testing import CliRunner

import regua
from regua.cli.main import app
from regua.error_codes import ErrorCode
from regua.errors import InputError, ReguaError
from regua.services.import_rows import RowError
from tests.builders import write_csv

SRC = Path(__file__).resolve().parents[1] / "src" / "regua"

# Every ReguaError class by name: (HTTP status the web layer answers with, its default code).
# A class added, removed or changed here changes what API clients see: say so in the changelog.
HTTP_STATUS: dict[str, tuple[int, ErrorCode]] = {
    "ReguaError": (400, ErrorCode.REGUA_ERROR),
    "InputError": (422, ErrorCode.INVALID_INPUT),
    "BoletoError": (422, ErrorCode.INVALID_BOLETO),
    "PixError": (422, ErrorCode.INVALID_PIX),
    "CnabError": (422, ErrorCode.INVALID_CNAB),
    "PolicyError": (422, ErrorCode.INVALID_POLICY),
    "StrictImportRefused": (422, ErrorCode.INVALID_INPUT),
    "NotFound": (404, ErrorCode.NOT_FOUND),
    "RuleViolation": (422, ErrorCode.RULE_VIOLATION),
    "WebhookNotConfigured": (503, ErrorCode.WEBHOOK_NOT_CONFIGURED),
    "SchemaOutdated": (503, ErrorCode.SCHEMA_OUTDATED),
    "ConfigError": (400, ErrorCode.INVALID_CONFIG),
    "DatabaseUnavailable": (503, ErrorCode.DATABASE_UNAVAILABLE),
    "Unauthorized": (401, ErrorCode.UNAUTHORIZED),
    "ChannelError": (502, ErrorCode.CHANNEL_ERROR),
    "ChannelTransientError": (502, ErrorCode.CHANNEL_TRANSIENT),
    "ChannelPermanentError": (502, ErrorCode.CHANNEL_PERMANENT),
    "TemplateError": (422, ErrorCode.TEMPLATE_ERROR),
    "TemplateSecurityError": (422, ErrorCode.TEMPLATE_SECURITY),
}

# Constructors that take a row error's code positionally: (name, index of the code argument).
_POSITIONAL_CODE = {"RowInvalid": 2, "RowError": 3}


def test_codes_are_unique_snake_case_and_named_after_their_value() -> None:
    values = [member.value for member in ErrorCode]
    assert len(values) == len(set(values))
    for member in ErrorCode:
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*", member.value), member
        assert member.name == member.value.upper(), member


def test_a_code_prints_and_serialises_as_its_plain_value() -> None:
    code = ErrorCode.REQUIRED
    assert (str(code), f"{code}", format(code), "%s" % code) == ("required",) * 4  # noqa: UP031
    assert code == "required"
    assert json.dumps({"code": code}) == '{"code": "required"}'
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerow([code])
    assert out.getvalue().strip() == "required"
    error = InputError("x", code=ErrorCode.INVALID_WEBHOOK)
    assert json.dumps(error.to_dict()["code"]) == '"invalid_webhook"'
    row = RowError("f.csv", 2, "nome", ErrorCode.REQUIRED, "nome vazio")
    assert json.loads(json.dumps(asdict(row)))["code"] == "required"


def test_a_refused_row_shows_its_plain_code_in_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    bad = write_csv(
        tmp_path / "c.csv", "codigo_cliente;nome;cpf_cnpj\nC1;;529.982.247-25\nC2;Ana;123\n"
    )
    result = runner.invoke(app, ["import", "customers", str(bad), "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    errors = json.loads(result.output)["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(2, "required"), (3, "invalid_document")]
    reject = (tmp_path / "c.rejeitados.csv").read_text(encoding="utf-8-sig")
    assert "ErrorCode" not in reject


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name != "error_codes.py":
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def _is_text(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _class_codes(node: ast.ClassDef) -> Iterator[int]:
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign):
            targets, value = [statement.target], statement.value
        else:
            continue
        if _is_text(value) and any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
            yield statement.lineno


def _default_codes(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[int]:
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    with_default = positional[len(positional) - len(arguments.defaults) :]
    pairs = [
        *zip(with_default, arguments.defaults, strict=True),
        *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True),
    ]
    if any(argument.arg == "code" and _is_text(default) for argument, default in pairs):
        yield node.lineno


def _call_codes(node: ast.Call) -> Iterator[int]:
    if any(k.arg == "code" and _is_text(k.value) for k in node.keywords):
        yield node.lineno
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    index = _POSITIONAL_CODE.get(name)
    if index is not None and len(node.args) > index and _is_text(node.args[index]):
        yield node.lineno


def _free_codes(tree: ast.Module) -> Iterator[int]:
    """Line numbers where a code is written as a string instead of an ErrorCode member: a
    `code=` argument, a class's `code = `, a `code` parameter's default, a row error's code."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _call_codes(node)
        elif isinstance(node, ast.ClassDef):
            yield from _class_codes(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _default_codes(node)


def test_every_code_in_the_source_is_an_error_code_member() -> None:
    free = [f"{name}:{line}" for name, tree in _sources() for line in _free_codes(tree)]
    assert free == [], "use an ErrorCode member (regua/error_codes.py), not a string"


def test_the_scan_finds_a_free_string() -> None:
    tree = ast.parse(
        'class E(ReguaError):\n    code = "x"\n'
        'raise NotFound("m", code="y")\n'
        'raise RowInvalid("f", "m", "z")\n'
        'def f(code: str = "w") -> None: ...\n'
    )
    assert sorted(_free_codes(tree)) == [2, 3, 4, 5]


def _error_classes() -> Iterator[type[ReguaError]]:
    for module in pkgutil.walk_packages(regua.__path__, "regua."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    pending: list[type[ReguaError]] = [ReguaError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def test_each_error_class_keeps_its_http_status_and_code() -> None:
    classes = [cls for cls in _error_classes() if cls.__module__.startswith("regua.")]
    found = {cls.__qualname__: (cls.http_status, cls.code) for cls in classes}
    assert len(found) == len(classes)  # one class per name
    assert found == HTTP_STATUS
    assert all(isinstance(code, ErrorCode) for _status, code in found.values())
