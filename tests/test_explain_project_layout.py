"""`asgigen explain DIR` finds the project in DIR the way `check` does: the directory itself,
or the one subfolder that is a Python project (a template rendering into `backend/`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.template_tree import build_file_tree

APP = """
    async def app(scope, receive, send):
        pass
"""


def test_a_project_in_a_subfolder_is_explained(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    build_file_tree(
        tmp_path / "repo",
        {
            "README.md": "a repository with its service in backend/\n",
            "frontend/index.html": "<p>hi</p>\n",
            "backend/pyproject.toml": '[project]\nname = "orders"\nversion = "0.1.0"\n',
            "backend/orders/__init__.py": "",
            "backend/orders/main.py": APP,
        },
    )
    result = run_cli("explain", "repo", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("How a request travels through the project repo/backend\n")
    assert "   → orders/main.py:1 app\n" in result.stdout


def test_several_projects_in_subfolders_are_named(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    build_file_tree(
        tmp_path / "repo",
        {
            "api/requirements.txt": "starlette\n",
            "worker/pyproject.toml": '[project]\nname = "worker"\n',
        },
    )
    result = run_cli("explain", "repo", cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0] == "error: repo holds 2 Python projects: api, worker"
    assert lines[1].startswith("hint: ")
