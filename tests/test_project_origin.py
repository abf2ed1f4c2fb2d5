"""`check` names the template and version a project came from, read from its answers file
whatever the template named it (the JSON report's `answers`)."""

from __future__ import annotations

from pathlib import Path

from asgigen.project_origin import origin
from tests.template_tree import build_file_tree

ANSWERS = """
    _commit: v1.1.2
    _src_path: gh:worldworm/copier-fastapi
    project_name: ledger
"""


def test_an_answers_file_of_another_name_is_read(tmp_path: Path) -> None:
    project = build_file_tree(tmp_path / "ledger", {".copier-answers.fastapi.yml": ANSWERS})
    assert origin(project) == {
        "file": ".copier-answers.fastapi.yml",
        "template": "gh:worldworm/copier-fastapi",
        "version": "v1.1.2",
    }


def test_a_project_in_a_subfolder_has_its_answers_at_the_render_root(tmp_path: Path) -> None:
    root = build_file_tree(
        tmp_path / "repo",
        {".copier-answers.yml": ANSWERS, "backend/pyproject.toml": "[project]\nname = 'x'\n"},
    )
    found = origin(root / "backend", root)
    assert found is not None
    assert (found["file"], found["version"]) == ("../.copier-answers.yml", "v1.1.2")


def test_no_answers_file_is_none(tmp_path: Path) -> None:
    project = build_file_tree(tmp_path / "p", {"pyproject.toml": "[project]\nname = 'p'\n"})
    assert origin(project, project) is None
