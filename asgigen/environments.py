"""The virtual environment a project's checks run in, built with uv and cached.

A project is checked in an environment holding exactly what its checks need: the project's
dependencies, its test extra (or dependency group), the servers asked for and the gates its
configuration turns on. The project itself is not installed; its contract's python path is
(so one environment serves every project with the same requirements). Environments are
cached under the user's cache directory, keyed on what they hold, and the least recently
used ones are removed beyond a bound (asgigen.cache keeps the cache: where, what, cleaning).
`--isolated` instead installs the project itself into a fresh environment, removed afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import cache, processes
from asgigen.cache import cache_root as cache_root  # moved to asgigen.cache; re-exported
from asgigen.errors import BadInputError, CheckFailedError

# Extras and dependency groups that hold a project's test requirements, most usual first.
TEST_SETS = ("test", "tests", "testing")
DEV_SETS = ("dev",)
MAX_ENVIRONMENTS = 8
# Beyond MAX_ENVIRONMENTS, an environment goes only once unused for this long: a check holds
# no lock on the environment it runs in, and one `validate` across variants and servers, or
# a test suite, can use more than MAX_ENVIRONMENTS at once (each removed one built again).
EVICTION_GRACE = 3600.0
INSTALL_TIMEOUT = 900.0
_READY = cache.READY
# Where an environment keeps bytecode: of its packages and of the projects checked in it
# (tests rewritten by pytest included), never in a project's tree.
BYTECODE = "pycache"
# Bumped when how an environment is built changes, so older cached ones are not reused.
ENV_LAYOUT = 3


@dataclass
class Requirements:
    """What a project's pyproject.toml asks to have installed."""

    name: str | None
    requires_python: str | None
    runtime: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    dev: list[str] = field(default_factory=list)
    test_extras: list[str] = field(default_factory=list)  # of TEST_SETS, the extras it has


def read_requirements(project: Path) -> Requirements:
    path = project / "pyproject.toml"
    if not path.is_file():
        return Requirements(None, None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise BadInputError(f"{path} cannot be read as TOML: {err}") from None
    meta = data.get("project", {})
    name = meta.get("name") if isinstance(meta.get("name"), str) else None
    extras = meta.get("optional-dependencies", {}) or {}
    groups = data.get("dependency-groups", {}) or {}

    def collect(names: tuple[str, ...]) -> list[str]:
        found: list[str] = []
        for set_name in names:
            found += _expand(extras.get(set_name, []), extras, name)
            found += _group(groups, set_name, set())
        return found

    return Requirements(
        name,
        meta.get("requires-python") if isinstance(meta.get("requires-python"), str) else None,
        _expand(meta.get("dependencies", []), extras, name),
        collect(TEST_SETS),
        collect(DEV_SETS),
        [set_name for set_name in TEST_SETS if set_name in extras],
    )


def _expand(items: list[Any], extras: dict[str, Any], own: str | None) -> list[str]:
    """Requirements, with the project's references to its own extras replaced by them."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    result: list[str] = []
    for text in items:
        try:
            requirement = Requirement(str(text))
        except InvalidRequirement:
            raise BadInputError(f"invalid requirement {text!r} in pyproject.toml") from None
        if own and canonicalize_name(requirement.name) == canonicalize_name(own):
            for extra in sorted(requirement.extras):
                result += _expand(extras.get(extra, []), {**extras, extra: []}, own)
            continue
        result.append(str(requirement))
    return result


def _group(groups: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    """A PEP 735 dependency group, with `{include-group = ...}` resolved."""
    result: list[str] = []
    if name in seen:
        return result
    for item in groups.get(name, []):
        if isinstance(item, dict) and "include-group" in item:
            result += _group(groups, str(item["include-group"]), seen | {name})
        elif isinstance(item, str):
            result.append(item)
    return result


def _mentions(requirements: list[str], distribution: str) -> bool:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    wanted = canonicalize_name(distribution)
    return any(canonicalize_name(Requirement(text).name) == wanted for text in requirements)


def needed(
    project: Path, *, tools: list[str], servers: list[str]
) -> tuple[Requirements, list[str]]:
    """The project's requirements plus the servers and gate tools it lacks, deduplicated."""
    declared = read_requirements(project)
    wanted = [*declared.runtime, *declared.test]
    if tools:
        wanted += declared.dev  # where projects declare their linters, stubs and plugins
    from packaging.requirements import Requirement

    for extra in [*servers, *tools]:
        if not _mentions(wanted, Requirement(extra).name):
            wanted.append(extra)
    return declared, list(dict.fromkeys(wanted))


def uv_binary() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def base_python(requires_python: str | None) -> str:
    """An interpreter that satisfies the project's requires-python: this one, else one uv finds."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not requires_python:
        return sys.executable
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise BadInputError(f"requires-python = {requires_python!r} is not valid") from None
    current = ".".join(str(part) for part in sys.version_info[:3])
    if spec.contains(current):
        return sys.executable
    found = subprocess.run(
        [uv_binary(), "python", "find", requires_python],
        capture_output=True,
        text=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=60,
        check=False,
    )
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    raise CheckFailedError(
        f"the project needs Python {requires_python}, and no such interpreter is installed",
        hint=f"{_quote(uv_binary())} python install '{requires_python}'",
    )


@dataclass(frozen=True)
class Environment:
    python: str  # the interpreter to run the project's checks with
    path: Path
    built: float | None  # seconds it took to build, None when it came from the cache


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def bytecode_dir(python: str) -> Path | None:
    """The bytecode directory of the environment `python` belongs to, if asgigen built it."""
    path = Path(python).parent.parent / BYTECODE
    return path if path.is_dir() else None


def _install(uv: str, venv: Path, base: str, packages: list[str], cwd: Path) -> None:
    commands = [[uv, "venv", "--quiet", "--python", base, str(venv)]]
    if packages:
        python = str(venv / "bin" / "python")
        # No bytecode compiled here: every command of a check reads and writes it in the
        # environment's own directory (PYTHONPYCACHEPREFIX, steps.project_env), so a module is
        # compiled once, when first imported, and the project's tree stays clean. Compiling
        # every module at install cost more than the whole first check imports (the fastapi
        # environment with the four servers: 8.2 s to build, 1.3 s without; most of Twisted
        # and the rest is never imported).
        commands.append([uv, "pip", "install", "--quiet", "--python", python, *packages])
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["PYTHONPYCACHEPREFIX"] = str(venv / BYTECODE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for command in commands:
        try:
            result = processes.run(command, cwd=cwd, env=env, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CheckFailedError(
                f"installing the project's requirements took over {INSTALL_TIMEOUT:.0f} s"
            ) from None
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).strip().splitlines()
            raise CheckFailedError(
                "installing the project's requirements failed: "
                + (lines[-1] if lines else f"uv exited with {result.returncode}"),
                details="\n".join(lines[-40:]),
                hint="check the dependencies in the project's pyproject.toml",
            )
    (venv / BYTECODE).mkdir(exist_ok=True)


def cached_environment(project: Path, *, tools: list[str], servers: list[str]) -> Environment:
    """The cached environment for this project's requirements, built when missing."""
    declared, packages = needed(project, tools=tools, servers=servers)
    base = base_python(declared.requires_python)
    key_source = json.dumps(
        {"layout": ENV_LAYOUT, "python": _python_identity(base), "packages": sorted(packages)}
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    root = cache.entry("envs")
    venv = root / key
    with locked(root / f"{key}.lock"):
        ready = venv / _READY
        if ready.is_file() and (venv / "bin" / "python").exists():
            ready.touch()  # most recently used
            return Environment(str(venv / "bin" / "python"), venv, None)
        shutil.rmtree(venv, ignore_errors=True)
        started = time.perf_counter()
        try:
            _install(uv_binary(), venv, base, packages, project)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / "asgigen-requirements.json").write_text(key_source, encoding="utf-8")
        ready.touch()
        seconds = time.perf_counter() - started
    evict(root, keep=MAX_ENVIRONMENTS)
    return Environment(str(venv / "bin" / "python"), venv, seconds)


@contextlib.contextmanager
def isolated_environment(
    project: Path, *, tools: list[str], servers: list[str]
) -> Iterator[Environment]:
    """A fresh environment with the project itself installed (not editable); removed after."""
    declared, packages = needed(project, tools=tools, servers=servers)
    extras = declared.test_extras
    own = f"{project}[{','.join(extras)}]" if extras else str(project)
    extra_packages = [p for p in packages if p not in declared.runtime + declared.test]
    base = base_python(declared.requires_python)
    with tempfile.TemporaryDirectory(prefix="asgigen-isolated-") as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        _install(uv_binary(), venv, base, [own, *extra_packages], project)
        yield Environment(str(venv / "bin" / "python"), venv, time.perf_counter() - started)


def _python_identity(python: str) -> str:
    if python == sys.executable:
        return f"{sys.implementation.name}-{sys.version}"
    return str(Path(python).resolve())


@contextlib.contextmanager
def locked(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """An exclusive lock on `path` (other processes building the same environment wait)."""
    with open(path, "a+") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def evict(root: Path, *, keep: int, grace: float = EVICTION_GRACE) -> list[Path]:
    """Remove the least recently used environments beyond `keep` (see cache.evict)."""
    return cache.evict(root, keep=keep, grace=grace)
