"""`validate` checks the folder the template names in `_asgigen.project_dir`, as `new` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asgigen import check, validate
from asgigen.template import load
from tests.template_tree import build_file_tree


def test_validate_checks_the_project_dir_the_template_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two Python projects in the render: only the declaration tells which one is the service
    # (without it, the check's own search would refuse the ambiguity).
    template = build_file_tree(
        tmp_path / "template",
        {
            "copier.yml": """
                _asgigen:
                  project_dir: backend
                project_name:
                  type: str
            """,
            "backend/pyproject.toml.jinja": """
                [project]
                name = "{{ project_name }}"
                version = "0.1.0"
            """,
            "tools/pyproject.toml": """
                [project]
                name = "tools"
                version = "0.1.0"
            """,
        },
    )
    checked: list[Path] = []

    def run_checks(path: Path, **_: Any) -> None:
        checked.append(path)

    monkeypatch.setattr(check, "run_checks", run_checks)
    with load(str(template)) as loaded:
        result = validate.run_variant(
            loaded,
            validate.Variant("default", {}),
            workdir=tmp_path / "work",
            servers=check.resolve_servers(["uvicorn"]),
            isolated=False,
            report_step=lambda _variant, _step: None,
        )
    assert [(step.name, step.status) for step in result.steps] == [("render", "passed")]
    assert result.path is not None
    assert checked == [result.path / "backend"]
