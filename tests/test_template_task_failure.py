"""A template task that fails (a `poetry install` on a machine without Poetry, say): one line
naming the command and its exit code, a hint saying what to do, exit 2, nothing written."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.template_tree import build_file_tree, release_repo

MISSING = "asgigen-test-no-such-tool"

V1 = {
    "copier.yml": "_answers_file: .copier-answers.yml\nname:\n  type: str\n  default: svc\n",
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "README.md.jinja": "# {{ name }}\n",
    "pyproject.toml.jinja": '[project]\nname = "{{ name }}"\nversion = "1"\n',
}
# v2 adds a task: the command is not on any PATH (the shell answers 127), then one that fails.
V2 = {**V1, "copier.yml": V1["copier.yml"] + f"_tasks:\n  - {MISSING} install\n"}
FAILING = {**V1, "copier.yml": V1["copier.yml"] + "_tasks:\n  - exit 3\n"}


def last_two(result: CliResult) -> list[str]:
    return result.stderr.strip().splitlines()[-2:]


def test_new_names_the_failed_task_and_the_missing_program(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    template = build_file_tree(tmp_path / "template", V2)
    target = tmp_path / "svc"

    result = run_cli("new", str(target), "--template", str(template), "--defaults", "--trust")

    assert result.exit_code == 2, result.stderr
    assert last_two(result) == [
        f"error: the template's task `{MISSING} install` failed with exit code 127",
        f"hint: the task needs `{MISSING}`, which is not on PATH: install it, then run again",
    ]
    assert not target.exists()


def test_new_names_a_task_that_exits_non_zero(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    template = build_file_tree(tmp_path / "template", FAILING)

    result = run_cli(
        "new", str(tmp_path / "svc"), "--template", str(template), "--defaults", "--trust"
    )

    assert result.exit_code == 2, result.stderr
    assert last_two(result) == [
        "error: the template's task `exit 3` failed with exit code 3",
        "hint: its output is above: give the task what it needs, then run again",
    ]


def test_update_names_the_failed_task(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    repo = release_repo(tmp_path / "template", {"v1": V1, "v2": V2})
    project = tmp_path / "svc"
    made = run_cli(
        "new", str(project), "--template", str(repo), "--vcs-ref", "v1", "--defaults", "--no-check",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    committed = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert committed.stdout == ""

    # --no-verify: the task fails the same way in the scratch copy a verified update makes.
    result = run_cli("update", str(project), "--vcs-ref", "v2", "--no-verify")

    assert result.exit_code == 2, result.stderr
    assert last_two(result) == [
        f"error: the template's task `{MISSING} install` failed with exit code 127",
        f"hint: the task needs `{MISSING}`, which is not on PATH: install it, then run again",
    ]
