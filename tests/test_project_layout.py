"""Finding the Python project inside a render, and the answers file inside a project."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgigen import answers_file
from asgigen.check import open_project
from asgigen.errors import BadInputError
from asgigen.project_layout import locate

PYPROJECT = '[project]\nname = "svc"\nversion = "0"\ndependencies = []\n'


def make(root: Path, *names: str) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PYPROJECT if name.endswith("pyproject.toml") else "", encoding="utf-8")
    return root


def test_the_directory_itself_wins(tmp_path: Path) -> None:
    make(tmp_path, "pyproject.toml", "backend/pyproject.toml")
    assert locate(tmp_path) == tmp_path


def test_one_project_in_a_subfolder_is_found(tmp_path: Path) -> None:
    make(tmp_path, "README.md", "frontend/package.json", "backend/pyproject.toml")
    assert locate(tmp_path) == tmp_path / "backend"
    assert open_project(tmp_path).path == tmp_path / "backend"


def test_a_requirements_file_makes_a_project_too(tmp_path: Path) -> None:
    make(tmp_path, "api/requirements.txt", "api/main.py")
    assert locate(tmp_path) == tmp_path / "api"


def test_two_levels_down_and_not_in_hidden_or_vendored_folders(tmp_path: Path) -> None:
    make(
        tmp_path,
        "services/api/pyproject.toml",
        ".venv/lib/pyproject.toml",
        "node_modules/x/pyproject.toml",
    )
    assert locate(tmp_path) == tmp_path / "services" / "api"


def test_several_projects_are_an_error_listing_them(tmp_path: Path) -> None:
    make(tmp_path, "api/pyproject.toml", "worker/pyproject.toml")
    with pytest.raises(BadInputError, match=r"holds 2 Python projects: api, worker") as info:
        locate(tmp_path)
    assert "project_dir" in (info.value.hint or "")


def test_the_template_names_the_folder(tmp_path: Path) -> None:
    make(tmp_path, "api/pyproject.toml", "worker/pyproject.toml")
    assert locate(tmp_path, "worker") == tmp_path / "worker"
    with pytest.raises(BadInputError, match=r"_asgigen\.project_dir"):
        locate(tmp_path, "web")


def test_no_project_anywhere(tmp_path: Path) -> None:
    make(tmp_path, "docs/index.md")
    with pytest.raises(BadInputError, match="is not a Python project"):
        locate(tmp_path)


def test_project_dir_in_the_declaration(tmp_path: Path) -> None:
    from asgigen.errors import TemplateError
    from asgigen.template import _declaration

    assert _declaration({"_asgigen": {"project_dir": "backend"}}, {}).project_dir == "backend"
    for bad in ("/abs", "../out", ""):
        with pytest.raises(TemplateError, match="project_dir"):
            _declaration({"_asgigen": {"project_dir": bad}}, {})


# --- the answers file


def test_the_default_answers_file(tmp_path: Path) -> None:
    make(tmp_path, ".copier-answers.yml", ".copier-answers.other.yml")
    assert answers_file.find(tmp_path) == tmp_path / ".copier-answers.yml"


def test_an_answers_file_named_by_the_template(tmp_path: Path) -> None:
    make(tmp_path, ".copier-answers.fastapi.yml")
    assert answers_file.find(tmp_path) == tmp_path / ".copier-answers.fastapi.yml"


def test_an_answers_file_in_a_folder(tmp_path: Path) -> None:
    make(tmp_path, ".project/.copier-answers.poetry-meta.yml", ".git/.copier-answers.yml")
    assert answers_file.find(tmp_path) == tmp_path / ".project/.copier-answers.poetry-meta.yml"


def test_several_answers_files_are_listed(tmp_path: Path) -> None:
    make(tmp_path, ".copier-answers.a.yml", ".copier-answers.b.yml")
    with pytest.raises(BadInputError, match=r"2 copier answers files") as info:
        answers_file.find(tmp_path)
    assert (info.value.hint or "").endswith("copier update -a .copier-answers.a.yml")


def test_no_answers_file_says_what_the_template_lacks(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="has no copier answers file") as info:
        answers_file.find(tmp_path)
    assert answers_file.TEMPLATE_FILE in (info.value.hint or "")
