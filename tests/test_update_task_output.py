"""`asgigen update`: what a template's tasks print goes to stderr, as it does for `new`;
stdout carries only asgigen's own result."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_asgigen
from tests.template_tree import build_file_tree
from tests.test_update import copy_project, tagged_repo

COPIER_YML = """
    _tasks:
      - "echo printed-by-the-task-{{ greeting }}"
    project_name:
      type: str
      default: shop
    greeting:
      type: str
      default: hello
"""


def release(root: Path, intro: str) -> Path:
    return build_file_tree(
        root,
        {
            "copier.yml": COPIER_YML,
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
            "README.md.jinja": f"# {{{{ project_name }}}}\n\n{intro}\n",
        },
    )


def test_a_task_printing_during_update_lands_on_stderr(tmp_path: Path) -> None:
    repo = tagged_repo(
        tmp_path / "template",
        {"v1": release(tmp_path / "t1", "Intro."), "v2": release(tmp_path / "t2", "New intro.")},
    )
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")

    result = run_asgigen(
        "update", "--no-verify", "--data", "greeting=hi", str(project), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "New intro." in (project / "README.md").read_text()
    assert "printed-by-the-task" not in result.stdout
    assert result.stdout.startswith("shop: template v1 → v2; ")
    assert "printed-by-the-task-hi" in result.stderr  # the task ran, its output kept
