"""A real public template (worldworm/copier-fastapi: Poetry, a custom answers file name, a
`poetry install` task) through asgigen installed from its built wheel, as the README installs
it: `new`, then `check`, whose verdict is the template's real one (its strict mypy fails)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_real_templates import clone

pytestmark = pytest.mark.e2e


def run(command: list[str], cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "PATH": path}
    for name in ("PYTEST_ADDOPTS", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_a_real_template_new_and_check_from_the_wheel(
    wheel_asgigen: str,
    tmp_path: Path,
) -> None:
    template = clone("worldworm-copier-fastapi", tmp_path)
    tools = tmp_path / "bin"  # its task runs `poetry install`: a stand-in
    tools.mkdir()
    (tools / "poetry").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (tools / "poetry").chmod(0o755)
    path = f"{tools}:{os.environ['PATH']}"
    new = run(
        [wheel_asgigen, "new", "ledger", "--template", str(template), "--trust", "--defaults",
         "--data", "repository_username=ann", "--data", "project_description=demo"],
        tmp_path, path,
    )  # fmt: skip
    # `new` runs the tests and boots it (gates are check's): both pass.
    assert new.returncode == 0, new.stderr
    assert "is ready" in new.stdout
    checked = run([wheel_asgigen, "check", "ledger", "--json"], tmp_path, path)
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["tests"]["status"] == "passed"
    assert steps["mypy"]["status"] == "failed"
    assert 'ledger/models/pagination.py:12: error: Unused "type: ignore"' in checked.stderr
    assert report["deps"].startswith("poetry")
    assert report["answers"]["file"] == ".copier-answers.fastapi.yml"
    assert report["answers"]["template"] == str(template)
    assert report["answers"]["version"].startswith("v1.1.2")
