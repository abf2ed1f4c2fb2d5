"""Defects of `asgigen update` reported in issue 13, each through the command line."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.test_update import commit_all, copy_project, edit, git, template_repo, write_template

Cli = Callable[..., CliResult]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return template_repo(tmp_path)


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_renamed_package_keeps_the_committed_edit(run_cli: Cli, repo: Path, tmp_path: Path) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    edit(project, "src/shop/app.py", '"""The app."""', '"""My app."""')
    (project / "src/shop/extra.py").write_text("EXTRA = 1\n")
    commit_all(project, "my edits")

    result = run_cli("update", str(project), "--data", "package_name=other")

    assert result.exit_code == 1, result.stdout + result.stderr
    moved = (project / "src/other/app.py").read_text()
    assert '"""My app."""' in moved  # the edit followed the file to its new place
    assert 'GREETING = "hello"' in moved  # and the template's change arrived too
    assert (project / "src/shop/extra.py").read_text() == "EXTRA = 1\n"  # copier keeps it
    assert not (project / "src/shop/app.py").exists()
    error = result.stderr.splitlines()[0]
    assert error == "error: update left conflicts in 1 file(s): src/other/app.py"
    assert "src/other/app.py: your edit of src/shop/app.py" in result.stdout


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_project_inside_a_larger_repository_reports_its_conflict(
    run_cli: Cli, repo: Path, tmp_path: Path
) -> None:
    monorepo = tmp_path / "mono"
    monorepo.mkdir()
    git(monorepo, "init", "--quiet")
    (monorepo / "ROOT.md").write_text("the monorepo\n")
    project = monorepo / "services" / "shop"
    copy_project(str(repo), project, ref="v1")
    (project / "README.md").write_text("# shop\n\nMy own intro.\n")
    commit_all(monorepo, "my intro")

    result = run_cli("update", str(project))

    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[0] == ("error: update left conflicts in 1 file(s): README.md")
    assert "<<<<<<<" in (project / "README.md").read_text()
    assert "  README.md\n" in result.stdout  # project-relative, not services/shop/README.md


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_update_from_a_git_template_names_both_versions(
    run_cli: Cli, repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    result = run_cli("update", "--no-verify", str(project))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("shop: template v1 → v2; ")
    assert "None" not in result.stdout


def test_answer_of_the_wrong_type_is_one_line_naming_the_question(
    run_cli: Cli, repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    result = run_cli("update", str(project), "--data", "port=abc")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: answer 'port' must be a whole number, got 'abc'"
    ]
    assert git(project, "status", "--porcelain") == ""


def test_unknown_question_is_refused_with_the_known_ones(
    run_cli: Cli, repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    result = run_cli("update", str(project), "--data", "nosuch=1")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown question 'nosuch'",
        "hint: this template asks: greeting, package_name, port, project_name",
    ]
    assert git(project, "status", "--porcelain") == ""


def test_paths_in_hints_are_shell_quoted(run_cli: Cli, tmp_path: Path) -> None:
    template = write_template(tmp_path / "template", 1)
    project = tmp_path / "my shop; $(rm -rf x)"
    copy_project(str(template), project)
    shutil.rmtree(project / ".git")
    result = run_cli("update", str(project))
    assert result.exit_code == 2
    hint = result.stderr.strip().splitlines()[1].removeprefix("hint: ")
    words = shlex.split(hint)
    assert words[:2] == ["cd", str(project)]
