"""A step of a check (tests, a gate, a boot) and its result, and running one as a command."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from asgigen import processes
from asgigen.environments import bytecode_dir

STEP_TIMEOUT = 600.0


@dataclass
class StepResult:
    name: str
    status: str  # "passed", "failed" or "skipped"; a skipped step never counts as passed
    seconds: float
    summary: str
    output: str = ""
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "passed"


def project_env(extra: dict[str, str] | None = None, python: str | None = None) -> dict[str, str]:
    """The environment every command run in a project gets: no caches written into it.

    Bytecode goes to the directory of the check environment `python` belongs to, where it is
    kept from one run to the next; with no such directory, none is written.
    """
    env = dict(os.environ)
    prefix = bytecode_dir(python) if python else None
    if prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep the tree as generated: no __pycache__
    env["NO_COLOR"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def run_step(
    name: str,
    command: list[str],
    cwd: Path,
    *,
    hint: str,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[StepResult, str]:
    """Run `command`; a non-zero exit or a timeout fails the step. Returns it and its output."""
    timeout = STEP_TIMEOUT if timeout is None else timeout
    started = time.perf_counter()
    try:
        # In a session of its own, stopped with all it started when asgigen is (processes).
        result = processes.run(command, cwd=cwd, env=env or project_env(), timeout=timeout)
    except subprocess.TimeoutExpired as err:
        out = err.stdout if isinstance(err.stdout, str) else ""
        seconds = time.perf_counter() - started
        return StepResult(
            name, "failed", seconds, f"timed out after {timeout:.0f} s", tail(out), hint
        ), out
    seconds = time.perf_counter() - started
    output = (result.stdout + result.stderr).strip()
    last = output.splitlines()[-1] if output else f"exit code {result.returncode}"
    if result.returncode == 0:
        return StepResult(name, "passed", seconds, last[:100]), output
    return StepResult(name, "failed", seconds, last[:200], tail(output), hint), output


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
