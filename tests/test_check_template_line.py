"""`asgigen check` says which template and version made the project (its answers file), just
before where its dependencies came from; `new` does not repeat what it has just rendered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import check
from asgigen.project_origin import describe
from asgigen.steps import StepResult
from tests.conftest import CliResult
from tests.inline_projects import use_this_python, write_files

PYPROJECT = '[project]\nname = "shop"\n\n[tool.asgigen]\napp = "shop.app:app"\n'
APP = "async def app(scope, receive, send):\n    pass\n"


@pytest.fixture
def checked(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, str]], list[str]]:
    """`asgigen check` of a project holding these files (tests and boot stood in for): its
    progress lines."""
    use_this_python(monkeypatch, tmp_path)
    monkeypatch.setattr(
        check, "run_tests", lambda *args: StepResult("tests", "passed", 0.0, "1 passed")
    )
    monkeypatch.setattr(
        check, "boot", lambda *args: StepResult("serve:uvicorn", "passed", 0.0, "booted")
    )

    def run(files: dict[str, str]) -> list[str]:
        project = write_files(
            tmp_path / "shop",
            {"pyproject.toml": PYPROJECT, "src/shop/__init__.py": "", "src/shop/app.py": APP}
            | files,
        )
        result = run_cli("check", str(project))
        assert result.exit_code == 0, result.stderr
        return [line.strip() for line in result.stderr.splitlines()]

    return run


def test_a_custom_answers_file_names_its_template_and_version(
    checked: Callable[[dict[str, str]], list[str]],
) -> None:
    lines = checked(
        {
            ".copier-answers.fastapi.yml": "_commit: 1.2.0\n"
            "_src_path: gh:worldworm/copier-fastapi\nproject_name: shop\n"
        }
    )
    # First, before the environment is built (a failing build must not hide it), then `deps`.
    assert lines[0].split(None, 1) == [
        "template",
        "gh:worldworm/copier-fastapi 1.2.0 (from .copier-answers.fastapi.yml)",
    ]
    assert lines[1].split()[:1] == ["deps"]


def test_the_builtin_template_is_named_built_in(
    checked: Callable[[dict[str, str]], list[str]],
) -> None:
    lines = checked({".copier-answers.yml": "_commit: '0.4.0'\n_src_path: asgigen:builtin\n"})
    assert "template   built-in 0.4.0 (from .copier-answers.yml)" in lines


def test_no_answers_file_is_said(checked: Callable[[dict[str, str]], list[str]]) -> None:
    assert "template   unknown (no answers file)" in checked({})


def test_an_answers_file_without_a_version_says_so() -> None:
    found = {"file": ".copier-answers.yml", "template": "../tpl", "version": None}
    assert describe(found) == "../tpl, no version recorded (from .copier-answers.yml)"
