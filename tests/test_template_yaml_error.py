"""A copier.yml that is not valid YAML is named as such: file, line and problem, one line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_asgigen
from tests.template_tree import build_file_tree


def test_a_copier_yml_that_is_not_yaml_names_the_file_line_and_problem(tmp_path: Path) -> None:
    template = build_file_tree(
        tmp_path / "template",
        {
            "copier.yml": """
                project_name:
                  type: str
                  default: [oops
                other: 1
            """,
        },
    )
    result = run_asgigen("new", "svc", "--template", str(template), "--defaults", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: template {template}: copier.yml is not valid YAML: line 4, column 6: "
        "expected ',' or ']', but got ':'",
        "hint: fix copier.yml at that line (copier reads it as YAML), then run again",
    ]
    assert not (tmp_path / "svc").exists()
