"""A package may take the name of a dependency only its style's projects do not have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import naming
from tests.conftest import CliResult


@pytest.mark.parametrize("style", ["raw", "routed"])
@pytest.mark.parametrize("name", sorted(naming.FASTAPI_ONLY_PACKAGES))
def test_fastapi_only_names_are_free_outside_fastapi(
    run_cli: Callable[..., CliResult], tmp_path: Path, style: str, name: str
) -> None:
    result = run_cli("new", name, "--style", style, "--dry-run", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert f"src/{name}/app.py" in result.stdout.splitlines()


@pytest.mark.parametrize("name", sorted(naming.FASTAPI_ONLY_PACKAGES))
def test_fastapi_only_names_are_refused_for_fastapi(
    run_cli: Callable[..., CliResult], tmp_path: Path, name: str
) -> None:
    result = run_cli("new", name, "--style", "fastapi", "--dry-run", cwd=tmp_path)
    assert result.exit_code == 2
    assert f"would shadow the package {name!r} the project depends on" in result.stderr


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_every_style_refuses_the_servers_names(
    run_cli: Callable[..., CliResult], tmp_path: Path, style: str
) -> None:
    result = run_cli("new", "uvicorn", "--style", style, "--dry-run", cwd=tmp_path)
    assert result.exit_code == 2
    assert "would shadow the package 'uvicorn'" in result.stderr


def test_a_trailing_newline_is_not_a_valid_name() -> None:
    assert "not a valid import name" in naming.package_name_error("demo\n")
    assert "may only contain" in naming.project_name_error("demo\n")


def test_style_and_data_must_agree(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli(
        "new", "x1", "--style", "raw", "--data", "style=fastapi", "--dry-run", cwd=tmp_path
    )
    assert result.exit_code == 2
    assert "error: --style raw disagrees with --data style=fastapi" in result.stderr
