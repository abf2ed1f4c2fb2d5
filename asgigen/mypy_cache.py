"""A project's first mypy run starts from what mypy already knows in its environment.

Each project checked in an environment has a mypy cache of its own (gates.run_gates): a
cache shared by all projects gave stale results, because mypy trusts a cached module whose
file has the same path, size and mtime, and the projects' own modules sit at the same
relative paths (`tests/test_app.py`, read from the project's directory). But most of what
mypy analyses is the same for every project: the standard library's stubs and the installed
packages (FastAPI, pydantic, SQLAlchemy...). So a new project's cache is seeded with a copy
of another project's cache, keeping only those modules: a module is kept when the project's
environment provides its top-level name (site-packages, mypy's typeshed) and no file or
directory of the new project carries that name. Another project's cache in the same
environment comes first (the same files at the same paths), else one from another cached
environment (other paths: mypy compares each file's hash before it trusts the entry). mypy
still checks each kept module's path, size, mtime or hash, its options, its plugins and its
dependencies, and analyses anything stale again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from asgigen.environments import locked

_VERSION_DIR = re.compile(r"^\d+\.\d+$")  # mypy's cache holds one directory per Python version
_MODULE_FILE = (".json", ".ff")  # <module path>.meta.json, .data.json; .meta.ff, .data.ff...


class UnknownLayout(Exception):
    """The cache holds something this module does not know how to filter: don't seed."""


def seed(target: Path, project: Path, environment: Path) -> Path | None:
    """Fill `target`, the missing mypy cache of `project` in `environment`, from another
    cache; returns the cache it came from, or None when there was none (mypy starts cold).

    The caller holds the lock of `target`; a source cache is copied only while its own lock
    is free (no mypy is writing it), else the next one is tried.
    """
    caches = target.parent
    sources = _newest_first(path for path in caches.iterdir() if path != target)
    provided = environment_names(environment)
    if not provided:
        return None
    # Then the other environments' caches, those with the most packages in common first.
    elsewhere = [path for path in environment.parent.glob("*/mypy-cache") if path != caches]
    in_common = {path: len(environment_names(path.parent) & provided) for path in elsewhere}
    for other in sorted(elsewhere, key=lambda path: in_common[path], reverse=True):
        with contextlib.suppress(OSError):  # an environment being evicted meanwhile
            sources += _newest_first(other.iterdir())
    if not sources:
        return None
    wanted = provided - project_names(project)
    scratch = caches / f".{target.name}.seeding-{os.getpid()}"
    for source in sources:
        with locked(source.parent / f"{source.name}.lock", blocking=False) as free:
            if not free:
                continue
            shutil.rmtree(scratch, ignore_errors=True)
            try:
                shutil.copytree(source, scratch)  # copy2: mtimes kept, which mypy compares
                strip(scratch, wanted.__contains__)
            except (OSError, sqlite3.Error, UnknownLayout):
                shutil.rmtree(scratch, ignore_errors=True)
                continue
            scratch.rename(target)
            return source
    return None


def _newest_first(paths: Iterable[Path]) -> list[Path]:
    """The caches among `paths` (not the scratch copies, named .*), most recently made first."""
    found = []
    for path in paths:
        with contextlib.suppress(OSError):  # an environment being evicted meanwhile
            if path.is_dir() and not path.name.startswith("."):
                found.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(found, reverse=True)]


def strip(cache: Path, keep_module: Callable[[str], bool]) -> None:
    """Remove from a mypy cache directory every module whose top-level name fails
    `keep_module` (mypy's own records, named `@...`, stay). Both layouts: a file per module,
    and SQLite databases with a row per file. UnknownLayout for anything else."""

    def keep(key: str) -> bool:
        top = key.split("/", 1)[0].split(".", 1)[0]
        return top.startswith("@") or keep_module(top)

    for version in cache.iterdir():
        if not (version.is_dir() and _VERSION_DIR.match(version.name)):
            continue  # CACHEDIR.TAG, .gitignore
        for entry in version.iterdir():
            if entry.is_dir():
                if not keep(entry.name):
                    shutil.rmtree(entry)
            elif entry.name.endswith(_MODULE_FILE):
                if not keep(entry.name):
                    entry.unlink()
            elif entry.name.endswith(".db"):
                _strip_database(entry, keep)
            else:
                raise UnknownLayout(str(entry))


def _strip_database(path: Path, keep: Callable[[str], bool]) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.create_function("asgigen_keep", 1, keep, deterministic=True)
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        tables = [row[0] for row in connection.execute(query)]
        for table in tables:
            columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            if "path" not in columns:
                raise UnknownLayout(f"{path}: table {table}")
            connection.execute(f'DELETE FROM "{table}" WHERE NOT asgigen_keep(path)')
        connection.commit()
    finally:
        connection.close()


def environment_names(environment: Path) -> set[str]:
    """Top-level module names the environment provides: its installed packages and the
    standard library's stubs mypy ships (typeshed)."""
    names: set[str] = set()
    for site_packages in environment.glob("lib/python*/site-packages"):
        for root in (site_packages, site_packages / "mypy" / "typeshed" / "stdlib"):
            with contextlib.suppress(OSError):
                names.update(_module_name(entry) for entry in root.iterdir())
    names.discard("")
    return names


def _module_name(entry: Path) -> str:
    name = entry.name
    if entry.is_dir():
        name = name.removesuffix("-stubs")
        return name if name.isidentifier() and name != "__pycache__" else ""
    stem = name.split(".", 1)[0]
    return stem if name.endswith((".py", ".pyi", ".so", ".pyd")) and stem.isidentifier() else ""


def project_names(project: Path) -> set[str]:
    """Every directory name and Python file stem in the project: whatever its own modules'
    top-level names are, they are among these (virtual environments and .git aside)."""
    names: set[str] = set()
    for directory, subdirectories, files in os.walk(project):
        subdirectories[:] = [
            name
            for name in subdirectories
            if name != ".git" and not (Path(directory, name, "pyvenv.cfg")).exists()
        ]
        names.update(subdirectories)
        names.update(name.split(".", 1)[0] for name in files if name.endswith((".py", ".pyi")))
    return names
