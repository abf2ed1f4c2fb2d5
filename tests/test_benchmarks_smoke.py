"""The benchmark scripts still run (in a tiny mode); their numbers live in benchmarks/README.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def run_quick(*parts: str) -> list[str]:
    if shutil.which("hyperfine") is None or shutil.which("wrk") is None:
        pytest.skip("hyperfine and wrk are not installed (apt-get install hyperfine wrk)")
    only = [arg for part in parts for arg in ("--only", part)]
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", *only],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("benchmark")
    return lines[1:]


def ratio(row: str) -> float:
    """The ratio column of a result row (the name fills the first 58 characters)."""
    return float(row[58:].split()[2])


def ratio_of(lines: list[str], name: str) -> float:
    return ratio(next(line for line in lines if line.startswith(name)))


def test_cli_and_check_benchmarks_run() -> None:
    lines = run_quick("cli", "check")
    names = [line[:58].strip() for line in lines]
    assert "CLI start-up: asgigen --help / copier --help" in names
    assert "Generation: asgigen new --no-check / copier copy" in names
    assert "asgigen new (tests + live boot), raw" in names
    assert "asgigen new (tests + live boot), fastapi" in names
    assert ratio_of(lines, "CLI start-up: asgigen --help") > 0


def test_app_benchmarks_run() -> None:
    lines = run_quick("apps")
    assert len(lines) == 8
    # Loaded for a second each, both sides answered: every ratio is a real, finite number.
    for line in lines:
        assert 0 < ratio(line) < 100, line
    assert ratio_of(lines, "SimpleASGIApp / itself") > 0


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
