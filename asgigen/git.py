"""Running git: the one place asgigen starts a git process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from asgigen import processes


def run(
    *args: str,
    cwd: Path,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `cwd`, its output captured as text; a failing git is the caller's to judge
    (returncode, stderr), never an exception. `env` adds to (or overrides) the environment.
    After `timeout` seconds git is stopped and subprocess.TimeoutExpired raised."""
    # Through processes.run, so that a git still running when asgigen is stopped goes with it.
    return processes.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        env={**os.environ, **env} if env else None,
        timeout=timeout,
    )


def run_binary(
    *args: str, cwd: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` as `run` does, its input and output kept as bytes (a file's contents, a
    merge, a patch to apply)."""
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
