"""Long names: every import name up to naming.MAX_PACKAGE_NAME_LENGTH renders a project that
ruff leaves as it is (format and lint, the project's own settings), and a longer one is refused
before anything is written."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from asgigen import generate, naming
from tests.conftest import run_asgigen
from tests.tools import venv_tool

VARIANTS: dict[str, dict[str, Any]] = {
    "raw": {"style": "raw"},
    "routed": {"style": "routed"},
    "fastapi": {"style": "fastapi"},
    "fastapi-postgres": {"style": "fastapi", "database": "postgres"},
    "fastapi-nodb": {"style": "fastapi", "database": "none"},
}
LONGEST = naming.MAX_PACKAGE_NAME_LENGTH


def name_of(length: int) -> str:
    return ("p" + "abcdefghij" * 10)[:length]


# The lengths where a line went over 100 columns in template 0.3.4 and ruff laid it out
# otherwise: 16 (the PostgreSQL URL holds the name three times), 24 (Uvicorn's log filter),
# 32 (test imports, the migrations' offline message), 40 (the longest, an import in app.py,
# the usage line); a line that fits again once too long to wrap is why every length counts.
@pytest.mark.parametrize("length", [1, 16, 24, 29, 32, 36, LONGEST])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_ruff_leaves_the_project_as_rendered(tmp_path: Path, variant: str, length: int) -> None:
    data = dict(VARIANTS[variant])
    request = generate.GenerateRequest(
        target=tmp_path / name_of(length),
        style=data.pop("style"),
        data=data,
        defaults=True,
        interactive=False,
    )
    project = generate.new_project(request).path
    for command in (["format", "--check", "--diff", "."], ["check", "."]):
        ruff = subprocess.run(
            [venv_tool("ruff"), *command], cwd=project, capture_output=True, text=True, timeout=60
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def ruff_leaves(project: Path) -> None:
    for command in (["format", "--check", "--diff", "."], ["check", "."]):
        ruff = subprocess.run(
            [venv_tool("ruff"), *command], cwd=project, capture_output=True, text=True, timeout=60
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr


# The project name has no length limit and appears in docstrings, strings and the env prefix:
# a 90-character one beside the longest import name, in each style.
@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_a_long_project_name_beside_the_longest_import_name(tmp_path: Path, style: str) -> None:
    request = generate.GenerateRequest(
        target=tmp_path / ("x" * 90),
        style=style,
        data={"package_name": name_of(LONGEST)},
        defaults=True,
        interactive=False,
    )
    ruff_leaves(generate.new_project(request).path)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        ([name_of(LONGEST + 1)], "hint: pass --package NAME"),
        (["shop", "--package", name_of(LONGEST + 1)], None),
    ],
)
def test_a_longer_import_name_is_refused_before_writing(
    tmp_path: Path, args: list[str], hint: str | None
) -> None:
    result = run_asgigen("new", *args, "--style", "routed", "--defaults", cwd=tmp_path)
    assert result.returncode != 0
    assert f"is longer than {LONGEST} characters" in result.stderr
    assert "Traceback" not in result.stderr
    if hint:
        assert hint in result.stderr
    assert list(tmp_path.iterdir()) == []
