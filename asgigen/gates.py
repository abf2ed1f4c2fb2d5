"""Quality gates that follow the project: ruff and mypy run when the project configures them."""

from __future__ import annotations

import glob
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asgigen.environments import locked
from asgigen.pyproject_file import PyprojectFile, read_pyproject
from asgigen.steps import StepResult, project_env, run_step


def configured(project: Path, pyproject: PyprojectFile | None = None) -> list[str]:
    """The gate tools this project configures: "ruff", "mypy", both or none. `pyproject`: the
    project's file when the caller read it already."""
    tool = (pyproject or read_pyproject(project)).table("tool")
    gates = []
    if "ruff" in tool or any((project / name).is_file() for name in ("ruff.toml", ".ruff.toml")):
        gates.append("ruff")
    setup_cfg = project / "setup.cfg"
    mypy_in_setup_cfg = setup_cfg.is_file() and "[mypy]" in setup_cfg.read_text(errors="replace")
    if (
        "mypy" in tool
        or any((project / name).is_file() for name in ("mypy.ini", ".mypy.ini"))
        or mypy_in_setup_cfg
    ):
        gates.append("mypy")
    return gates


def run_gates(
    python: str,
    project: Path,
    gates: list[str],
    cache: Path,
    pyproject: PyprojectFile | None = None,
) -> list[StepResult]:
    """Each configured gate with the project's own settings, in the check environment.

    `cache` is a directory of the environment the gates run in, for mypy's cache.
    """
    steps: list[StepResult] = []
    cd = f"cd {shlex.quote(str(project))} && {shlex.quote(python)} -m"
    if "ruff" in gates:
        steps.append(
            run_step(
                "ruff",
                [python, "-m", "ruff", "check", "--no-cache", "."],
                project,
                hint=f"{cd} ruff check .",
            )[0]
        )
        steps.append(
            run_step(
                "ruff-format",
                [python, "-m", "ruff", "format", "--check", "--no-cache", "."],
                project,
                hint=f"{cd} ruff format --diff .",
            )[0]
        )
    if "mypy" in gates:
        env = project_env(python=python)
        with _mypy_cache(cache) as mypy_cache:
            command = [python, "-m", "mypy", "--cache-dir", str(mypy_cache)]
            command += _mypy_targets(project, pyproject)
            steps.append(run_step("mypy", command, project, hint=f"{cd} mypy", env=env)[0])
    return steps


@contextmanager
def _mypy_cache(environment: Path) -> Iterator[Path]:
    """A mypy cache of the environment, shared by the projects checked in it: FastAPI and the
    standard library are analysed once per environment, not once per project.

    Two mypy processes must not write one cache, so there are a few, each with its lock:
    the first free one, else the first once it is free.
    """
    caches = environment / "mypy-cache"
    caches.mkdir(parents=True, exist_ok=True)
    for slot in range(os.cpu_count() or 1):
        with locked(caches / f"shared-{slot}.lock", blocking=False) as free:
            if free:
                yield caches / f"shared-{slot}"
                return
    with locked(caches / "shared-0.lock"):
        yield caches / "shared-0"


def _mypy_targets(project: Path, pyproject: PyprojectFile | None = None) -> list[str]:
    """What mypy checks (the config's `files`, else src/ or the project), as absolute paths.

    mypy trusts a cached module whose path, size and mtime are unchanged. Relative paths
    (`tests/test_app.py`) are the same in every project, and two projects rendered in the
    same second can have a file of the same size with other contents; an absolute path is
    the project's own, so a cache shared by projects makes mypy compare the file's hash.
    """
    files = (pyproject or read_pyproject(project)).table("tool", "mypy").get("files")
    if isinstance(files, str):
        files = files.split(",")  # mypy accepts a comma-separated string too
    if not files:
        return [str(project / "src") if (project / "src").is_dir() else str(project)]
    targets = []
    for entry in files:
        path = str(project / os.path.expandvars(os.path.expanduser(str(entry).strip())))
        targets.extend(glob.glob(path, recursive=True) or [path])  # globs, as mypy reads them
    return targets
