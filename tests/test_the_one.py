"""project_layout.the_one: the one path found, or the error for none or for several (shared
by the project's folder, project_layout.locate, and its answers file, answers_file.find)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgigen import answers_file
from asgigen.errors import BadInputError
from asgigen.project_layout import the_one


def _several(found: list[Path], listed: str) -> BadInputError:
    return BadInputError(f"{len(found)}: {listed}")


def test_the_one_found(tmp_path: Path) -> None:
    none = BadInputError("none")
    assert the_one([tmp_path / "a"], tmp_path, none=none, several=_several) == tmp_path / "a"


def test_none_found_raises_the_error_for_none(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"^none$"):
        the_one([], tmp_path, none=BadInputError("none"), several=_several)


def test_several_found_are_listed_relative_to_the_root(tmp_path: Path) -> None:
    found = [tmp_path / "api", tmp_path / "x" / "worker"]
    with pytest.raises(BadInputError, match=r"^2: api, x/worker$"):
        the_one(found, tmp_path, none=BadInputError("none"), several=_several)


def test_two_answers_files_name_both_and_the_copier_command(tmp_path: Path) -> None:
    for name in (".copier-answers.api.yml", ".copier-answers.web.yml"):
        (tmp_path / name).write_text("_src_path: x\n", encoding="utf-8")
    with pytest.raises(BadInputError) as caught:
        answers_file.find(tmp_path)
    assert caught.value.message == (
        f"{tmp_path} has 2 copier answers files: .copier-answers.api.yml, .copier-answers.web.yml"
    )
    assert caught.value.hint == (
        "each belongs to one template; update with copier: copier update -a .copier-answers.api.yml"
    )


def test_no_answers_file_says_the_template_writes_none(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="has no copier answers file"):
        answers_file.find(tmp_path)
