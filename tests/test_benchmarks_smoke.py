"""The benchmark scripts still run (in a tiny mode); their numbers live in benchmarks/README.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def test_cli_benchmark_runs_quickly() -> None:
    if shutil.which("hyperfine") is None or shutil.which("wrk") is None:
        pytest.skip("hyperfine and wrk are not installed (apt-get install hyperfine wrk)")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "cli"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("benchmark")
    assert any(line.startswith("CLI start-up: asgigen --help") for line in lines)
    assert any(line.startswith("Generation:") for line in lines)


def test_missing_tool_is_reported() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "cli"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: hyperfine is not installed"
