"""Every third-party package asgigen imports is declared in pyproject.toml's dependencies."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Loaded by name rather than by an import statement.
LOADED_BY_NAME = {"jinja2_ansible_filters"}


def imported_top_level_names() -> set[str]:
    names = set(LOADED_BY_NAME)
    for path in (ROOT / "asgigen").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "asgigen"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in project["dependencies"]
    }


def test_every_imported_package_is_declared() -> None:
    distributions = importlib.metadata.packages_distributions()
    missing = {
        name: distributions.get(name)
        for name in imported_top_level_names()
        if not {d.lower().replace("_", "-") for d in distributions.get(name, [name])} & declared()
    }
    assert missing == {}
