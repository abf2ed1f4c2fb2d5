"""Running git: the one place asgigen starts a git process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


def run(
    *args: str, cwd: Path, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `cwd`, its output captured as text; a failing git is the caller's to judge
    (returncode, stderr), never an exception. `env` adds to (or overrides) the environment."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env} if env else None,
    )


def run_binary(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` as `run` does, its output kept as bytes (a file's contents, a merge)."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
