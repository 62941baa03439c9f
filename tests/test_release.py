"""What a release carries: one version (pyproject, `regua --version`, the API), the license
file pyproject names, and a changelog whose top section collects what is not released yet."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

import regua
from regua.cli.main import app
from regua.config import Settings
from regua.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_one_version_everywhere() -> None:
    project = PYPROJECT["project"]
    assert "version" in project.get("dynamic", [])
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "regua.__version__"}
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"regua {regua.__version__}"
    assert create_app(Settings(database_url="sqlite://")).version == regua.__version__


def test_the_license_file_is_the_one_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_changelog_starts_with_unreleased() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[0] == "## Unreleased"


def test_every_release_below_unreleased_has_a_version_and_a_date() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    releases = [line for line in lines if line.startswith("## ")][1:]
    bad = [h for h in releases if not re.fullmatch(r"## \d+\.\d+\.\d+ - \d{4}-\d{2}-\d{2}", h)]
    assert bad == []
