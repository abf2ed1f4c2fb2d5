"""`asgigen update` does copier's update without its repeated work: each template version is
cloned once (copier's own update clones the old version twice and the new one three times),
each template file and each expression is compiled once (copier compiles the new version's
files twice, and paths and defaults on every use), and git is asked for `core.fileMode` once
per destination, not once per rendered file. Where `core.fileMode` is false, copier still
carries a template's executable bit into the index."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from asgigen.update import update_project
from tests.template_tree import build_file_tree
from tests.test_update import copy_project, git, tagged_repo

COPIER_YML = """
    _templates_suffix: .jinja
    _answers_file: .copier-answers.yml
    project_name:
      type: str
      default: shop
"""


def release(root: Path, version: int) -> Path:
    """Version 1: `run.sh` is a plain file; version 2 changes it and makes it executable."""
    tree = build_file_tree(
        root,
        {
            "copier.yml": COPIER_YML,
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
            "README.md.jinja": "# {{ project_name }}\n",
            "run.sh": f"echo version {version}\n",
        },
    )
    if version == 2:
        (tree / "run.sh").chmod(0o755)
    return tree


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tagged_repo(
        tmp_path / "repo", {"v1": release(tmp_path / "v1", 1), "v2": release(tmp_path / "v2", 2)}
    )


@pytest.fixture
def clones(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refs copier clones a template at, from here on."""
    from copier import _template

    made: list[str] = []
    real_clone = _template.clone

    def clone(url: str, ref: str = "HEAD", location: str | None = None) -> str:
        made.append(ref)
        return real_clone(url, ref, location)

    monkeypatch.setattr(_template, "clone", clone)
    return made


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_each_version_is_cloned_once(repo: Path, tmp_path: Path, clones: list[str]) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    clones.clear()

    result = update_project(project)

    assert result.new_version == "v2"
    assert (project / "run.sh").read_text() == "echo version 2\n"
    assert sorted(clones) == ["v1", "v2"]  # copier alone: v1 twice, v2 three times


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_file_mode_is_read_once_and_copier_syncs_only_where_it_is_off(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copier._main import Worker

    synced: list[Path] = []
    real_sync = Worker._sync_git_index_executable_bit

    def sync(self: Worker, dst_relpath: Path, src_mode: int) -> None:
        synced.append(dst_relpath)
        real_sync(self, dst_relpath, src_mode)

    monkeypatch.setattr(Worker, "_sync_git_index_executable_bit", sync)
    on = copy_project(str(repo), tmp_path / "on", ref="v1")
    off = copy_project(str(repo), tmp_path / "off", ref="v1")
    git(off, "config", "core.fileMode", "false")

    synced.clear()
    update_project(on)
    assert synced == []  # core.fileMode is true: copier's sync would do nothing for any file
    assert (on / "run.sh").stat().st_mode & stat.S_IXUSR

    update_project(off)
    assert Path("run.sh") in synced  # false: copier's sync runs, and records the new mode
    assert git(off, "ls-files", "--stage", "run.sh").startswith("100755 ")


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_each_file_and_expression_is_compiled_once(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jinja2 import Environment

    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    files: list[str] = []
    strings: list[tuple[Environment, str]] = []  # the environment kept: no id reused
    real_compile = Environment.compile

    def compile(self: Environment, source: Any, name: Any = None, filename: Any = None,
                *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        if filename is None and isinstance(source, str):  # copier tries non-strings too
            strings.append((self, source))
        elif filename is not None:
            files.append(filename)
        return real_compile(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", compile)
    update_project(project)

    assert "/README.md.jinja" in "".join(files)
    assert len(files) == len(set(files))
    assert strings
    assert len(strings) == len(set(strings))
