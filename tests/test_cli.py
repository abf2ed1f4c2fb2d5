from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import __version__
from tests.conftest import CliResult


def test_version(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"asgigen {__version__}\n")


def test_help_lists_commands(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("new", "check", "validate", "update", "explain", "styles", "cache"):
        assert f"  {command} " in result.stdout


def test_styles_lists_each_with_a_summary(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("styles")
    assert result.exit_code == 0
    rows = [line.split(None, 1) for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == ["raw", "routed", "fastapi"]
    assert all(len(row) == 2 and row[1] for row in rows)


def test_new_help_names_every_option(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("new", "--help")
    for option in (
        "--style",
        "--package",
        "--description",
        "--data",
        "--data-file",
        "--defaults",
        "--no-check",
        "--force",
        "--dry-run",
        "--quiet",
        "--template",
        "--vcs-ref",
        "--trust",
        "--no-git",
    ):
        assert option in result.stdout


def test_check_help_names_every_option(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("check", "--help")
    assert result.exit_code == 0
    for option in ("--server", "--isolated", "--json", "--quiet"):
        assert option in result.stdout


def test_validate_help_names_every_option(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("validate", "--help")
    assert result.exit_code == 0
    for option in (
        "--template",
        "--vcs-ref",
        "--trust",
        "--variant",
        "--style",
        "--server",
        "--case",
        "--list",
        "--isolated",
        "--jobs",
        "--json",
        "--junit-xml",
    ):
        assert option in result.stdout


def test_cache_reports_where_asgigen_cache_dir_says(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from asgigen.cache import entry

    cache = tmp_path / "cache"
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(cache))
    envs = entry("envs")  # as asgigen makes it: marked as its own
    # Two environments finished building (marked ready), one never finished: it doesn't count.
    for name, ready in (("a1" * 8, True), ("b2" * 8, True), ("c3" * 8, False)):
        venv = envs / name
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_bytes(b"x" * 500_000)
        if ready:
            (venv / ".asgigen-ready").touch()
    result = run_cli("cache")
    assert result.exit_code == 0, result.stderr
    location, summary = result.stdout.splitlines()
    assert location == str(cache)
    assert summary.startswith("2 environment(s), 1.5 MB")  # on disk, as du counts it
    result = run_cli("cache", "--clean")
    assert result.exit_code == 0
    assert f"removed {envs / ('a1' * 8)}" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == f"removed {envs}"
    assert list(cache.iterdir()) == []
    result = run_cli("cache")
    assert result.stdout == f"{cache}\n0 environment(s), 0.0 MB\n"


def test_internal_error_is_one_line_with_a_log(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from asgigen import commands

    def boom(*args: object, **kwargs: object) -> str:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(commands, "create", boom)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("ASGIGEN_DEBUG", raising=False)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("new", "shop")
    assert result.exit_code == 70
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: internal error: RuntimeError: kaboom"
    assert lines[1].startswith(f"hint: traceback written to {tmp_path}/asgigen-crash-")
    (log,) = tmp_path.glob("asgigen-crash-*.log")
    assert "RuntimeError: kaboom" in log.read_text()


def test_debug_shows_the_traceback(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASGIGEN_DEBUG", raising=False)
    result = run_cli("--debug", "new", "1bad")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1] == "error: project name '1bad' starts with a digit"
    )


def test_shell_completion_completes_commands(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "_ASGIGEN_COMPLETE": "complete_bash",
        "COMP_WORDS": "asgigen st",
        "COMP_CWORD": "1",
    }
    script = "import sys; sys.argv[0] = 'asgigen'; from asgigen.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.stdout.split() == ["styles"]


def test_no_colour_without_a_terminal(run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("new", "1bad")
    assert "\033[" not in result.stderr


def test_quiet_new_prints_only_the_path(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli("new", "shop", "--style", "raw", "--no-check", "--no-git", "-q", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'shop'}\n"
    assert result.stderr == ""
    assert (tmp_path / "shop" / "pyproject.toml").is_file()
