"""A rendered project's own package must not take the import name of a distribution it depends
on (a package `sqlalchemy` in a project that installs SQLAlchemy imports itself, and the
project fails everything). What it depends on is read from the rendered pyproject.toml, so the
template decides, variant by variant; asgigen's Python holds no list of them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from asgigen.pyproject_file import PyprojectFile, TomlFileError, read_pyproject

_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_LAYOUT = frozenset({"tests", "test", "docs"})


def import_name(distribution: str) -> str:
    """The import name a distribution usually has: PEP 503 normalised, with underscores."""
    return re.sub(r"[-_.]+", "_", distribution).lower()


def dependency_names(pyproject: dict[str, Any]) -> list[str]:
    """Every distribution a pyproject.toml names: PEP 621 dependencies and extras, and PEP 735
    dependency groups (an `include-group` entry names a group, not a distribution)."""
    project = pyproject.get("project", {})
    requirements: list[Any] = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        requirements += list(extra or [])
    for group in (pyproject.get("dependency-groups", {}) or {}).values():
        requirements += list(group or [])
    names = []
    for requirement in requirements:
        found = _NAME.match(requirement) if isinstance(requirement, str) else None
        if found:
            names.append(found.group(1))
    return list(dict.fromkeys(names))


def own_packages(project: Path) -> list[str]:
    """The import packages the project itself holds: src/<pkg>/ or <pkg>/ at its root."""
    found = [p.parent.name for p in sorted(project.glob("src/*/__init__.py"))]
    found += [
        p.parent.name for p in sorted(project.glob("*/__init__.py")) if p.parent.name not in _LAYOUT
    ]
    return list(dict.fromkeys(found))


def shadowed(project: Path, file: PyprojectFile | None = None) -> list[tuple[str, str]]:
    """(package, distribution) for each own package named as a dependency imports. `file`:
    the project's pyproject.toml when the caller read it already; one that is not TOML
    shadows nothing (reading the project reports it)."""
    try:
        pyproject = (file or read_pyproject(project)).data
    except TomlFileError:
        return []
    itself = import_name(str(pyproject.get("project", {}).get("name", "")))
    # A project that names itself (an extra pulling in `demo[test]`) is not its own dependency.
    names = [name for name in dependency_names(pyproject) if import_name(name) != itself]
    by_import = {import_name(name): name for name in names}
    packages = own_packages(project)
    return [(package, by_import[package]) for package in packages if package in by_import]
