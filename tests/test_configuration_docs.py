"""The configuration reference and `.env.example` say what `Settings` reads: every REGUA_
variable, with its default and meaning. Regenerate the reference by writing
`regua.config.settings_reference()` to docs/configuration.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from regua.config import Settings, env_name, settings_reference

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_description() -> None:
    missing = [name for name, info in Settings.model_fields.items() if not info.description]
    assert missing == []


def test_the_reference_is_generated_from_settings() -> None:
    written = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert written == settings_reference(), "regenerate docs/configuration.md (see docstring)"


def test_env_example_names_every_variable_and_nothing_else() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*(REGUA_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert named == {env_name(name) for name in Settings.model_fields}


def test_every_variable_the_code_reads_is_a_setting() -> None:
    # REGUA_ strings in the package: settings, or the test switches (REGUA_TEST_*).
    known = {env_name(name) for name in Settings.model_fields}
    found: set[str] = set()
    for path in (ROOT / "src" / "regua").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(re.findall(r"\bREGUA_[A-Z][A-Z_]*[A-Z]\b", node.value))
    assert found - known == set()
