"""What a template's tasks print goes to stderr, never before asgigen's own stdout."""

from __future__ import annotations

import os
from pathlib import Path

from asgigen.task_output import to_stderr
from tests.conftest import run_asgigen
from tests.template_tree import build_file_tree


def test_a_task_printing_to_stdout_lands_on_stderr(tmp_path: Path) -> None:
    template = build_file_tree(
        tmp_path / "template",
        {
            "copier.yml": """
                _tasks:
                  - "echo printed-by-the-task"
                project_name:
                  type: str
            """,
            "pyproject.toml.jinja": '[project]\nname = "{{ project_name }}"\n',
        },
    )
    result = run_asgigen(
        "new", "svc", "--template", str(template), "--trust", "--defaults", "--no-check", "-q",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'svc'}\n"  # only the project's path, for scripts
    assert "printed-by-the-task" in result.stderr


def test_nested_redirects_restore_stdout_once_the_last_ends() -> None:
    before = os.fstat(1)
    with to_stderr():
        with to_stderr():
            assert os.path.sameopenfile(1, 2)
        assert os.path.sameopenfile(1, 2)
    after = os.fstat(1)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
