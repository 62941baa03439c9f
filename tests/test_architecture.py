"""The shape of the code, checked: what `docs/architecture.md` promises a newcomer.

The layer contracts themselves are import-linter's (`lint-imports`, in `.ci/run`); these are the
rules it cannot express.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "regua"
MAX_SERVICE_LINES = 600
# a test of the database kind: the dialect itself, or a comparison with one of its names
_DIALECT_TEST = r"\bdialect\b|\bis_sqlite\b|[=!]= \"(?:postgresql|sqlite)\""


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_no_service_module_is_longer_than_the_limit() -> None:
    long = {
        path.relative_to(SRC).as_posix(): n
        for path in _python_files(SRC / "services")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_SERVICE_LINES
    }
    assert long == {}


def test_no_service_module_branches_on_the_database_dialect() -> None:
    branching = [
        path.relative_to(SRC).as_posix()
        for path in _python_files(SRC / "services")
        if re.search(_DIALECT_TEST, path.read_text(encoding="utf-8"))
    ]
    assert branching == []


def test_settings_are_built_in_one_place() -> None:
    constructions = [
        f"{path.relative_to(SRC).as_posix()}:{number}"
        for path in _python_files(SRC)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bSettings\(", line) and not line.lstrip().startswith("class ")
    ]
    assert len(constructions) == 1, constructions
    assert constructions[0].startswith("bootstrap.py:")
