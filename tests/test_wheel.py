"""The built wheel carries the template: install it into a fresh venv and generate from it."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_wheel_asgigen

pytestmark = pytest.mark.e2e


def test_wheel_installs_and_generates(
    built_wheel: Path, wheel_asgigen: str, tmp_path: Path
) -> None:
    # The session's wheel (tests/conftest.py), installed into a fresh venv by uv, which asgigen
    # depends on: the tests that run asgigen "from the built wheel" share both.
    with zipfile.ZipFile(built_wheel) as archive:
        names = set(archive.namelist())
    assert "asgigen/templates/copier.yml" in names
    assert any(name.startswith("asgigen/templates/routed/") for name in names)
    assert not any("__pycache__" in name for name in names)

    work = tmp_path / "work"
    work.mkdir()
    result = run_wheel_asgigen(wheel_asgigen, "new", "from-wheel", "--style", "raw", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^  tests +[1-9]\d* passed", result.stderr, re.MULTILINE), result.stderr
    assert "serve      uvicorn 127.0.0.1:" in result.stderr
    assert (work / "from-wheel" / "src" / "from_wheel" / "app.py").is_file()
    # The answers file must not point into the venv asgigen is installed in (it may go).
    answers = (work / "from-wheel" / ".copier-answers.yml").read_text()
    assert str(Path(wheel_asgigen).parent.parent) not in answers
