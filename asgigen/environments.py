"""The virtual environment a project's checks run in, built with uv and cached.

A project is checked in an environment holding exactly what its checks need: the project's
dependencies, its test extra (or dependency group), the servers asked for and the gates its
configuration turns on. The project itself is not installed; its contract's python path is
(so one environment serves every project with the same requirements). Environments are
cached under the user's cache directory, keyed on what they hold, and the least recently
used ones are removed beyond a bound (asgigen.cache keeps the cache: where, what, cleaning).
`--isolated` instead installs the project itself into a fresh environment, removed afterwards.

Servers boot in a second, *run-time* environment (`runtime=True`): the project's run-time
dependencies and the servers only, as `pip install .` and a server would leave a machine, so
an app that imports a test requirement fails its boot as it would for its users.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from uv import find_uv_bin

from asgigen import cache, processes
from asgigen.cache import cache_root as cache_root  # moved to asgigen.cache; re-exported
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.pyproject_file import PyprojectFile
from asgigen.requirements import (  # what a project installs: asgigen/requirements.py
    DEV_SETS,
    TEST_SETS,
    Requirements,
    mentions,
    read_requirements,
)

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

__all__ = ["DEV_SETS", "TEST_SETS", "Requirements", "read_requirements"]

MAX_ENVIRONMENTS = 16  # a project checked uses two: its check environment and its run-time one
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


def needed(
    project: Path,
    *,
    tools: list[str],
    servers: list[str],
    runtime: bool = False,
    pyproject: PyprojectFile | None = None,
) -> tuple[Requirements, list[str]]:
    """The project's requirements plus the servers and gate tools it lacks, deduplicated;
    with `runtime`, its run-time requirements and the servers only."""
    declared = read_requirements(project, pyproject)
    if not declared.found:
        raise CheckFailedError(
            f"found no dependencies to install in {project}: no [project], [tool.poetry] or "
            "[tool.pdm] tables in pyproject.toml, no requirements*.txt or requirements*.in",
            hint="declare them in pyproject.toml [project] dependencies (and a test extra or "
            "dependency group), or list them in requirements.txt",
        )
    wanted = [*declared.runtime] if runtime else [*declared.runtime, *declared.test]
    if tools and not runtime:
        wanted += declared.dev  # where projects declare their linters, stubs and plugins
    tools = [] if runtime else tools
    from packaging.requirements import Requirement  # lazy: 10-20 ms to import
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    for extra in [*servers, *tools]:
        if not mentions(wanted, (canonicalize_name(Requirement(extra).name),)):
            wanted.append(extra)
    return declared, list(dict.fromkeys(wanted))


# `find_uv_bin` reads sysconfig, whose first use is not thread-safe on Python 3.11: a check
# builds its two environments in two threads at once, and one of them could read a half-made
# table (None for "EXE"). One thread at a time asks.
_FINDING_UV = threading.Lock()


def uv_binary() -> str:
    with _FINDING_UV:
        return str(find_uv_bin())


def base_python(requires_python: str | None) -> str:
    """An interpreter that satisfies the project's requires-python: this one, else one uv finds
    (uv-managed or on PATH), else a pyenv version."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # lazy: 10-20 ms to import

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
    pyenv = pyenv_python(spec)  # uv gives up on a pyenv shim that the active version lacks
    if pyenv is not None:
        return pyenv
    raise CheckFailedError(
        f"the project needs Python {requires_python}, and no such interpreter is installed",
        hint=f"{_quote(uv_binary())} python install '{requires_python}'",
    )


def pyenv_python(spec: SpecifierSet) -> str | None:
    """The newest Python pyenv installed that `spec` allows (PYENV_ROOT, else ~/.pyenv)."""
    from packaging.version import InvalidVersion, Version  # lazy: 10-20 ms to import

    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for folder in root.glob("*"):
        try:
            version = Version(folder.name)
        except InvalidVersion:
            continue  # a virtualenv or another implementation (pypy3.10-...)
        python = folder / "bin" / "python3"
        if spec.contains(version) and python.exists():
            found.append((version, python))
    return str(max(found)[1]) if found else None


@dataclass(frozen=True)
class Environment:
    python: str  # the interpreter to run the project's checks with
    path: Path
    built: float | None  # seconds it took to build, None when it came from the cache
    deps: str = ""  # where the project's dependencies were read (Requirements.describe)


def _quote(text: str) -> str:
    return shlex.quote(text)


def bytecode_dir(python: str) -> Path | None:
    """The bytecode directory of the environment `python` belongs to, if asgigen built it."""
    path = Path(python).parent.parent / BYTECODE
    return path if path.is_dir() else None


def _install(
    uv: str, venv: Path, base: str, packages: list[str], cwd: Path, declared: Requirements
) -> None:
    """Create `venv` and install `packages`; a failure names where they were declared."""
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
            sources = " + ".join(declared.sources)
            raise CheckFailedError(
                f"installing the requirements read from {sources} failed: "
                + (_reason(lines) or f"uv exited with {result.returncode}"),
                details="\n".join(lines[-40:]),
                hint=f"check the requirements in {sources}",
            )
    (venv / BYTECODE).mkdir(exist_ok=True)


def _reason(lines: list[str]) -> str:
    """uv's reason for a failed install, on one line: the last line that starts a reason
    ("cause:", "╰─▶", "error:") and the lines uv wrapped it onto, up to a blank line (a
    "hint:" may follow it)."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip().startswith(("cause:", "╰─▶", "error:")):
            reason = itertools.takewhile(str.strip, lines[index:])
            return " ".join(line.strip() for line in reason)
    return lines[-1].strip() if lines else ""


def cached_environment(
    project: Path,
    *,
    tools: list[str],
    servers: list[str],
    runtime: bool = False,
    pyproject: PyprojectFile | None = None,
) -> Environment:
    """The cached environment for this project's requirements, built when missing (with
    `runtime`: the run-time one servers boot in)."""
    declared, packages = needed(
        project, tools=tools, servers=servers, runtime=runtime, pyproject=pyproject
    )
    base = base_python(declared.requires_python)
    identity = {
        "layout": ENV_LAYOUT,
        "python": _python_identity(base),
        "packages": sorted(packages),
    }
    if runtime:  # (the full environments' keys stay as they were: their cache stays valid)
        identity["set"] = "runtime"
    key_source = json.dumps(identity)
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    root = cache.entry("envs")
    venv = root / key
    with locked(root / f"{key}.lock"):
        ready = venv / _READY
        if ready.is_file() and (venv / "bin" / "python").exists():
            ready.touch()  # most recently used
            register_project(venv, declared)
            return Environment(str(venv / "bin" / "python"), venv, None, declared.describe())
        shutil.rmtree(venv, ignore_errors=True)
        started = time.perf_counter()
        try:
            _install(uv_binary(), venv, base, packages, project, declared)
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        (venv / "asgigen-requirements.json").write_text(key_source, encoding="utf-8")
        register_project(venv, declared)
        ready.touch()
        seconds = time.perf_counter() - started
    evict(root, keep=MAX_ENVIRONMENTS)
    return Environment(str(venv / "bin" / "python"), venv, seconds, declared.describe())


@contextlib.contextmanager
def isolated_environment(
    project: Path,
    *,
    tools: list[str],
    servers: list[str],
    runtime: bool = False,
    pyproject: PyprojectFile | None = None,
) -> Iterator[Environment]:
    """A fresh environment with the project itself installed (not editable); removed after.
    With `runtime`: the project without extras, and the servers."""
    declared, packages = needed(
        project, tools=tools, servers=servers, runtime=runtime, pyproject=pyproject
    )
    extras = [] if runtime else declared.test_extras
    own = f"{project}[{','.join(extras)}]" if extras else str(project)
    # Everything besides the project too: a dependency group, a Poetry group or a lock file's
    # pins do not come with `pip install project[extras]`.
    extra_packages = [p for p in packages if declared.locked or p not in declared.runtime]
    base = base_python(declared.requires_python)
    with tempfile.TemporaryDirectory(prefix="asgigen-isolated-") as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        # A project with only requirements files has nothing to build: they are its install.
        buildable = any((project / name).is_file() for name in ("pyproject.toml", "setup.py"))
        wanted = [own, *extra_packages] if buildable else packages
        _install(uv_binary(), venv, base, wanted, project, declared)
        seconds = time.perf_counter() - started
        yield Environment(str(venv / "bin" / "python"), venv, seconds, declared.describe())


def register_project(venv: Path, declared: Requirements) -> None:
    """Record the project's name and version in the environment, as installing it would.

    The project is not installed in a cached environment (its python path is used), yet
    projects read their own version with `importlib.metadata.version("name")`, which then
    fails. A metadata-only `.dist-info` (no files, INSTALLER "asgigen") answers that; one per
    name, replaced when the version changes. Projects without a static version get none.
    """
    if not declared.name or not declared.version:
        return
    from packaging.utils import canonicalize_name  # lazy: 10-20 ms to import

    name = canonicalize_name(declared.name).replace("-", "_")
    for site in venv.glob("lib/python*/site-packages"):
        wanted = site / f"{name}-{declared.version}.dist-info"
        if (wanted / "METADATA").is_file():
            continue
        for old in site.glob(f"{name}-*.dist-info"):
            installer = old / "INSTALLER"
            if installer.is_file() and installer.read_text(encoding="utf-8").strip() == "asgigen":
                shutil.rmtree(old, ignore_errors=True)
        if any(site.glob(f"{name}-*.dist-info")):
            continue  # a real distribution of that name is installed: leave it be
        staging = Path(tempfile.mkdtemp(prefix=".asgigen-", dir=site))
        metadata = f"Metadata-Version: 2.1\nName: {declared.name}\nVersion: {declared.version}\n"
        (staging / "METADATA").write_text(metadata, encoding="utf-8")
        (staging / "INSTALLER").write_text("asgigen\n", encoding="utf-8")
        (staging / "RECORD").write_text("", encoding="utf-8")
        try:
            staging.rename(wanted)
        except OSError:  # another check registered it meanwhile
            shutil.rmtree(staging, ignore_errors=True)


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
