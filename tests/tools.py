"""Finding the tools tests drive, so that a test never passes by not running.

A tool the `test` extra installs lives next to the interpreter running the tests, whether or
not that venv is activated (`.ci/run` never activates it, so PATH does not have it): missing
there, the install is broken and the test fails. A system tool (apt's hyperfine, wrk) may be
missing on a developer's machine, where the test skips and says how to install it; under
CI=true it was installed by `.ci/run`, so missing is a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def in_ci() -> bool:
    """CI=true (or any value but empty, 0, false, no), as CI services and `.ci/run` set it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def venv_tool(name: str) -> str:
    """A tool from the `test` extra, beside `sys.executable`; missing fails the test."""
    path = Path(sys.executable).parent / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is not installed beside {sys.executable}: pip install -e '.[test]'")
    return str(path)


def system_tool(name: str, install: str) -> str:
    """A tool from the system's package manager: skipped when missing, failed under CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({install})"
        if in_ci():
            pytest.fail(f"{message}, and CI=true: .ci/run installs it, so this run is broken")
        pytest.skip(message)
    return path
