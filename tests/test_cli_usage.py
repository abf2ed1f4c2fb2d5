"""The command line's own errors are asgigen's one line, not typer's multi-line box."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["new"], "error: Missing argument 'path'.", "asgigen new"),
        (["new", "x", "--bogus"], "error: No such option: --bogus", "asgigen new"),
        (["check", "--server"], "error: Option '--server' requires an argument.", "asgigen"),
        (["validate", "--jobs", "abc"], "error: Invalid value for '--jobs'", "asgigen validate"),
    ],
)
def test_usage_errors_are_one_line_with_a_hint(
    run_cli: Callable[..., CliResult], args: list[str], message: str, command: str
) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(message)
    assert lines[1] == f"hint: see '{command} --help'"
    assert "Usage:" not in result.stderr


def test_no_arguments_prints_the_help(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: asgigen")
    assert "validate" in result.stdout


def test_an_unwritable_place_is_bad_input_not_a_crash(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = run_cli("new", "/proc/asgigen-test", "--no-check", cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: cannot create a directory in /proc")
    assert "internal error" not in result.stderr
