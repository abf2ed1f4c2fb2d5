"""Quality gates that follow the project: ruff and mypy run when the project configures them."""

from __future__ import annotations

import hashlib
import shlex
import tomllib
from pathlib import Path
from typing import Any

from asgigen.environments import locked
from asgigen.steps import StepResult, project_env, run_step


def _pyproject(project: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def configured(project: Path) -> list[str]:
    """The gate tools this project configures: "ruff", "mypy", both or none."""
    tool = _pyproject(project).get("tool", {})
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


def run_gates(python: str, project: Path, gates: list[str], cache: Path) -> list[StepResult]:
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
        # Its cache lives in the environment, one per project: reruns after an edit are quick.
        # Not one for all projects: mypy trusts a cached module whose file has the same size
        # and mtime, which two projects rendered in the same second can have with other
        # contents (`one` and `two`). Two mypy processes on one cache crash: they take turns.
        # A project's first run starts from the modules its environment provides, as another
        # project's run left them (mypy_cache.seed): FastAPI is analysed once, not per project.
        digest = hashlib.sha256(str(project).encode()).hexdigest()[:16]
        mypy_cache = cache / "mypy-cache" / digest
        command = [python, "-m", "mypy", "--cache-dir", str(mypy_cache)]
        mypy_config = _pyproject(project).get("tool", {}).get("mypy", {})
        if not mypy_config.get("files"):
            command.append(
                "src" if (project / "src").is_dir() else "."
            )  # mypy needs a target when the config names none
        env = project_env(python=python)
        mypy_cache.parent.mkdir(parents=True, exist_ok=True)
        with locked(mypy_cache.parent / f"{digest}.lock"):
            if not mypy_cache.exists():
                from asgigen.mypy_cache import seed as mypy_seed

                mypy_seed(mypy_cache, project, cache)
            steps.append(run_step("mypy", command, project, hint=f"{cd} mypy", env=env)[0])
    return steps
