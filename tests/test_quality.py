"""Project checks that CI runs with the tests: lint, import layering, README truth."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowexec.config import VARIABLES
from flowexec.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_point_one_way() -> None:
    result = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("package", ["flowexec", "workers", "api", "gateway"])
def test_package_is_strictly_typed(package: str) -> None:
    result = subprocess.run([_tool("mypy"), "--strict", package], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


MAX_MODULE_LINES = 400
PACKAGES = ("flowexec", "api", "workers", "gateway", "benchmarks")


def test_every_module_is_at_most_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_readme_documents_every_variable_with_its_default() -> None:
    readme = (ROOT / "README.rst").read_text()
    documented = set(re.findall(r"``(FLOWEXEC_[A-Z_]+)``", readme))
    assert set(VARIABLES) <= documented
    defaults = Settings()
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^``(FLOWEXEC_[A-Z_]+)``\s+.*?\s{2,}(\S.*?)\s*$", readme, re.M)
    }
    assert rows["FLOWEXEC_POLL_FIRST"] == f"``{defaults.poll_first}``"
    assert rows["FLOWEXEC_POLL_MAX"] == f"``{defaults.poll_max:g}``"
    assert rows["FLOWEXEC_RECONCILE_EVERY"] == f"``{defaults.reconcile_every:g}``"
    assert rows["FLOWEXEC_QUEUED_GRACE"] == f"``{defaults.queued_grace:g}``"
    assert rows["FLOWEXEC_HOME"] == f"``{defaults.home}``"
    assert rows["FLOWEXEC_LINKIS_TOKEN"] == f"``{defaults.linkis_token}``"
    assert rows["FLOWEXEC_MAX_BODY"] == f"``{defaults.max_body}``"
    assert rows["FLOWEXEC_VISIBILITY_TIMEOUT"] == f"``{defaults.visibility_timeout}``"


def test_readme_first_commands_are_the_ones_ci_runs() -> None:
    readme = (ROOT / "README.rst").read_text()
    commands = re.findall(r"^   (pip install .*)$", readme, re.M)
    assert commands[0] == "pip install -e . && flowexec run examples/diamond.json"
    assert "pytest" in commands[1] and "[test]" in commands[1]
    assert "README.rst" in (ROOT / ".ci" / "run").read_text()


def test_readme_is_valid_restructuredtext() -> None:
    import docutils.core

    docutils.core.publish_string(
        (ROOT / "README.rst").read_text(),
        writer="null",
        settings_overrides={"report_level": 2, "halt_level": 2},
    )
