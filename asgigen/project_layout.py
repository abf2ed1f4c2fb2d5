"""Where the Python project sits in a directory: the directory itself, or one subfolder.

Templates often render a repository whose Python project lives in `backend/`, `api/` or a
folder named after the project, beside a frontend, deployment files or docs. A directory is
a Python project when it holds pyproject.toml, setup.py or a requirements file. asgigen looks
in the directory, then in its subfolders two levels down (skipping hidden ones, virtual
environments and node_modules); a template can name the folder in copier.yml instead:
`_asgigen: {project_dir: backend}`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from asgigen.errors import AsgigenError, BadInputError

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
_SKIPPED = {"node_modules", "venv", "env", "site-packages", "__pycache__", "dist", "build"}
DEPTH = 2


def is_python_project(path: Path) -> bool:
    if any((path / marker).is_file() for marker in MARKERS):
        return True
    return any(path.glob("requirements*.txt")) or any(path.glob("requirements*.in"))


def locate(path: Path, declared: str | None = None) -> Path:
    """The Python project at or under `path` (`declared`: the folder a template names)."""
    if declared:
        inside = path / declared
        if not is_python_project(inside):
            raise BadInputError(
                f"{inside} is not a Python project (no pyproject.toml, setup.py or requirements "
                "file), though the template names it in _asgigen.project_dir",
                hint="fix _asgigen.project_dir in the template's copier.yml",
            )
        return inside
    if is_python_project(path):
        return path
    return the_one(
        candidates(path),
        path,
        none=BadInputError(
            f"{path} is not a Python project (it has no pyproject.toml, setup.py or "
            "requirements file, nor a subfolder that has one)",
            hint="point asgigen at the directory that holds pyproject.toml",
        ),
        several=lambda found, listed: BadInputError(
            f"{path} holds {len(found)} Python projects: {listed}",
            hint=f"name one: asgigen check {found[0]} (a template names its own with "
            "_asgigen: {project_dir: ...} in copier.yml)",
        ),
    )


def the_one(
    found: list[Path],
    root: Path,
    *,
    none: AsgigenError,
    several: Callable[[list[Path], str], AsgigenError],
) -> Path:
    """The one path found under `root`: `none` is raised when nothing was found, and
    `several(found, listed)` when more were (`listed`: their paths relative to `root`)."""
    if len(found) == 1:
        return found[0]
    if not found:
        raise none
    raise several(found, ", ".join(str(path.relative_to(root)) for path in found))


def candidates(path: Path) -> list[Path]:
    """Subfolders of `path`, up to DEPTH levels down, that are Python projects (the first
    found on each branch: a project's own subfolders are not projects of their own)."""
    found: list[Path] = []
    level = [path]
    for _ in range(DEPTH):
        below = []
        for folder in level:
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False) or entry.name.startswith("."):
                    continue
                if entry.name in _SKIPPED:
                    continue
                child = Path(entry.path)
                if is_python_project(child):
                    found.append(child)
                else:
                    below.append(child)
        level = below
    return found
