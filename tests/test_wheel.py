"""The built wheel carries the template: install it into a fresh venv and generate from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.tools import venv_tool

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("PYTEST_ADDOPTS", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_installs_and_generates(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)], ROOT)
    (wheel,) = dist.glob("asgigen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "asgigen/templates/copier.yml" in names
    assert any(name.startswith("asgigen/templates/routed/") for name in names)
    assert not any("__pycache__" in name for name in names)

    venv = tmp_path / "venv"
    uv = venv_tool("uv")  # asgigen depends on uv: beside this interpreter, or a broken install
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path)
    run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        tmp_path,
    )

    work = tmp_path / "work"
    work.mkdir()
    result = run([str(venv / "bin" / "asgigen"), "new", "from-wheel", "--style", "raw"], work)
    assert re.search(r"^  tests +[1-9]\d* passed", result.stderr, re.MULTILINE), result.stderr
    assert "serve      uvicorn 127.0.0.1:" in result.stderr
    assert (work / "from-wheel" / "src" / "from_wheel" / "app.py").is_file()
    # The answers file must not point into the venv we are about to delete.
    answers = (work / "from-wheel" / ".copier-answers.yml").read_text()
    assert str(venv) not in answers
