"""`update` and the files a user's tools write: `uv run`'s uv.lock doesn't block it, a dirty
tree is refused naming its files, and `--pretend` (a throwaway clone) works on a dirty tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen.errors import BadInputError
from asgigen.update import TemplateVersion, preview_update, update_project
from tests.conftest import CliResult
from tests.conftest import snapshot as tree_snapshot
from tests.test_update import git, project, versions

__all__ = ["project", "versions"]  # the fixtures, shared with test_update

# What `uv run` writes on first use: the project's lock file, untracked.
LOCK = 'version = 1\nrequires-python = ">=3.11"\n'


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_an_untracked_uv_lock_does_not_block_update_and_stays_as_it_was(
    project: Path, versions: list[TemplateVersion]
) -> None:
    (project / "uv.lock").write_text(LOCK)

    result = update_project(project, history=versions)

    assert "src/shop/app.py" in result.changed
    assert "uv.lock" not in result.changed
    assert (project / "uv.lock").read_text() == LOCK
    assert "?? uv.lock" in git(project, "status", "--porcelain").splitlines()
    assert not list((project / ".git").glob("asgigen-update-*"))


def test_a_dirty_tree_is_refused_naming_the_files(
    project: Path, versions: list[TemplateVersion]
) -> None:
    (project / "uv.lock").write_text(LOCK)
    (project / "notes.txt").write_text("wip")
    (project / "README.md").write_text("mine, uncommitted\n")

    with pytest.raises(BadInputError) as info:
        update_project(project, history=versions)

    assert info.value.message == (
        f"{project} has uncommitted changes (README.md, notes.txt); update needs a clean tree "
        "to merge into"
    )


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_pretend_works_on_a_dirty_tree_and_changes_nothing(
    project: Path, versions: list[TemplateVersion]
) -> None:
    (project / "uv.lock").write_text(LOCK)
    (project / "notes.txt").write_text("wip")
    before = tree_snapshot(project)

    result = preview_update(project, history=versions)

    assert result.pretend
    assert "src/shop/app.py" in result.changed
    assert tree_snapshot(project) == before


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_cli_update_after_uv_run_wrote_its_lock(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    made = run_cli("new", str(tmp_path / "fresh"), "--style", "raw", "--no-check")
    assert made.exit_code == 0, made.stderr
    (tmp_path / "fresh" / "uv.lock").write_text(LOCK)
    for args in (["--pretend"], []):
        result = run_cli("update", *args, str(tmp_path / "fresh"))
        assert result.exit_code == 0, result.stderr
        assert "nothing changed" in result.stdout or "nothing would change" in result.stdout
    assert git(tmp_path / "fresh", "status", "--porcelain") == "?? uv.lock\n"
