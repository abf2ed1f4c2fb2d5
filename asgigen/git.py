"""Running git: the one place asgigen starts a git process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from asgigen import processes


def run(
    *args: str, cwd: Path, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `cwd`, its output captured as text; a failing git is the caller's to judge
    (returncode, stderr), never an exception. `env` adds to (or overrides) the environment."""
    # Through processes.run, so that a git still running when asgigen is stopped goes with it.
    return processes.run(
        ["git", *args], cwd=cwd, input=stdin, env={**os.environ, **env} if env else None
    )


def run_binary(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` as `run` does, its output kept as bytes (a file's contents, a merge)."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
