"""Every package the code imports is declared in pyproject.toml: runtime imports as dependencies, test
and benchmark imports in their extras (before, numpy and joserfc were imported but not declared, so an
install from pyproject alone could lack them)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"skyddat_boende", "matching", "tests", "bench"}


def _declared(requirements: list[str]) -> set[str]:
    return {_normalise(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported(folder: Path) -> set[str]:
    """Top-level names of absolute imports in the folder's Python files, without the standard library and
    the repository's own modules."""
    local = {p.stem for p in folder.rglob("*.py")} | {p.name for p in folder.rglob("*") if p.is_dir()}
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY - local - {"__future__"}


def _distributions(modules: set[str]) -> set[str]:
    installed = importlib.metadata.packages_distributions()
    missing = sorted(m for m in modules if m not in installed)
    assert not missing, f"imported but not installed at all: {missing}"
    return {_normalise(d) for m in modules for d in installed[m]}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = _declared(PROJECT["dependencies"])
EXTRAS = {name: _declared(reqs) for name, reqs in PROJECT["optional-dependencies"].items()}


@pytest.mark.parametrize(("folders", "allowed"), [
    (("skyddat_boende", "matching"), RUNTIME),
    (("tests",), RUNTIME | EXTRAS["test"]),
    (("bench",), RUNTIME | EXTRAS["bench"]),
])
def test_every_imported_package_is_declared(folders, allowed):
    imported = set().union(*(_imported(ROOT / folder) for folder in folders))
    assert _distributions(imported) - allowed == set()
