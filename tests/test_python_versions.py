"""A project is checked with the Python its requires-python asks for when the machine has one
(pyenv, uv-managed or on PATH), and a project needing one it lacks is told how to get it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from asgigen.environments import base_python
from asgigen.errors import AsgigenError
from tests.conftest import run_asgigen
from tests.template_tree import build_file_tree

pytestmark = pytest.mark.e2e

APP = """
    import sys


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        status = 200 if scope["path"] == "/" else 404
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"%d.%d" % sys.version_info[:2]})
"""
TEST = """
    import sys


    def test_runs_on_the_python_the_project_requires():
        assert sys.version_info >= (3, 12)
"""


def pinned_project(root: Path, requires_python: str) -> Path:
    return build_file_tree(
        root,
        {
            "pyproject.toml": f"""
                [project]
                name = "pinned"
                version = "0.1.0"
                requires-python = "{requires_python}"
                dependencies = []

                [dependency-groups]
                dev = ["pytest"]

                [tool.asgigen]
                app = "pinned_app:app"
                http = [{{method = "GET", path = "/", status = 200}}]
            """,
            "pinned_app.py": APP,
            "tests/test_version.py": TEST,
        },
    )


def _has_python_312() -> bool:
    try:
        base_python(">=3.12")
    except AsgigenError:
        return False
    return True


@pytest.mark.skipif(not _has_python_312(), reason="no Python 3.12 or newer on this machine")
def test_a_project_requiring_python_312_is_checked_with_one(tmp_path: Path) -> None:
    project = pinned_project(tmp_path / "pinned", ">=3.12")
    result = run_asgigen("check", str(project), "--json", cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # The tests assert the version themselves; the environment's interpreter says it too.
    assert [step["status"] for step in report["steps"]] == ["passed", "passed"]
    version = subprocess.run(
        [report["python"], "-c", "import sys; print(sys.version_info >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def test_a_python_no_machine_has_is_named_with_its_install_command(tmp_path: Path) -> None:
    project = pinned_project(tmp_path / "pinned", ">=3.99")
    result = run_asgigen("check", str(project), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-2] == (
        "error: pinned: environment failed: the project needs Python >=3.99, and no such "
        "interpreter is installed"
    )
    assert lines[-1].startswith("hint: ")
    assert lines[-1].endswith(" python install '>=3.99'")
    assert "Traceback" not in result.stderr
