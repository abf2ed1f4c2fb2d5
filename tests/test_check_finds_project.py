"""`asgigen check` with no path, run from inside a project (src/pkg), finds the project as
`asgigen explain` does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import check
from asgigen.steps import StepResult
from tests.conftest import CliResult
from tests.inline_projects import use_this_python, write_files


def test_check_from_inside_the_package_checks_the_enclosing_project(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\n\n[tool.asgigen]\napp = "shop.app:app"\n',
            "src/shop/__init__.py": "",
            "src/shop/app.py": "async def app(scope, receive, send):\n    pass\n",
        },
    )
    use_this_python(monkeypatch, tmp_path)
    seen: list[Path] = []

    def tests(python: str, found: check.Project, services: object = None) -> StepResult:
        seen.append(found.path)
        return StepResult("tests", "passed", 0.0, "1 passed")

    def boot(python: str, found: check.Project, spec: object, services: object) -> StepResult:
        return StepResult("serve:uvicorn", "passed", 0.0, "booted")

    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    result = run_cli("check", cwd=project / "src" / "shop")
    assert (result.exit_code, result.stdout) == (0, "shop: all 2 checks passed\n"), result.stderr
    assert seen == [project]


def test_an_explicit_directory_that_is_no_project_is_still_an_error(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    project = write_files(tmp_path / "shop", {"pyproject.toml": '[project]\nname = "shop"\n'})
    (project / "src").mkdir()
    result = run_cli("check", "src", cwd=project)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {project / 'src'} is not a Python project (it has no pyproject.toml, setup.py "
        "or requirements file, nor a subfolder that has one)"
    )
