"""`asgigen validate`: broken variants fail precisely; reports parse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "asgigen", "validate", "--jobs", "2", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def template(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(ROOT / "templates", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def app_file(template: Path, style: str) -> Path:
    return template / style / "src" / "{{ package_name }}" / "app.py.jinja"


def test_syntax_error_fails_that_style_at_lint(template: Path, tmp_path: Path) -> None:
    app = app_file(template, "raw")
    app.write_text(app.read_text() + "\ndef broken(:\n")
    report = tmp_path / "report.xml"
    result = validate(
        "--template",
        str(template),
        "--style",
        "raw",
        "--style",
        "routed",
        "--junit-xml",
        str(report),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error == ["error: 2 of 4 cases failed: raw:ruff, raw-awkward:ruff"]
    assert "--- raw: ruff failed" in result.stderr
    table = result.stdout
    assert re.search(r"^routed-awkward +serve:uvicorn +passed", table, re.M)
    suites = ET.parse(report).getroot()
    counts = {s.get("name"): int(s.get("failures", "0")) for s in suites.iter("testsuite")}
    assert counts["routed"] == counts["routed-awkward"] == 0
    # ruff, ruff-format, mypy, tests and the live boot all fail on a syntax error.
    assert counts["raw"] == counts["raw-awkward"] == 5
    failure = suites.find("testsuite[@name='raw']/testcase[@name='ruff']/failure")
    assert failure is not None
    assert "SyntaxError" in (failure.text or "") or "invalid-syntax" in (failure.text or "")


def test_missing_dependency_fails_at_install(template: Path, tmp_path: Path) -> None:
    pyproject = template / "routed" / "pyproject.toml.jinja"
    pyproject.write_text(
        pyproject.read_text().replace(
            '"uvicorn[standard]>=0.30,<1",',
            '"uvicorn[standard]>=0.30,<1",\n    "asgigen-no-such-dependency-x==1.0",',
        )
    )
    result = validate("--template", str(template), "--style", "routed", "--json", cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    for case in data["cases"]:
        assert [s["name"] for s in case["steps"]] == ["render", "install"]
        assert case["steps"][-1]["status"] == "failed"
    assert "error: 2 of 2 cases failed: routed:install, routed-awkward:install" in result.stderr


def test_failing_test_fails_that_step_only(template: Path, tmp_path: Path) -> None:
    (template / "fastapi" / "tests" / "test_zz_broken.py").write_text(
        "def test_broken() -> None:\n    assert 1 + 1 == 3\n"
    )
    result = validate("--template", str(template), "--style", "fastapi", "--json", cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    for case in data["cases"]:
        statuses = {s["name"]: s["status"] for s in case["steps"]}
        assert statuses == {
            "render": "passed",
            "ruff": "passed",
            "ruff-format": "passed",
            "mypy": "passed",
            "tests": "failed",
            "serve:uvicorn": "passed",
        }
    assert "1 failed" in data["cases"][0]["steps"][4]["summary"]


def test_built_in_template_passes(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = validate("--junit-xml", str(report), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("6 of 6 cases passed")
    suites = ET.parse(report).getroot()
    assert len(list(suites.iter("testsuite"))) == 6
    assert all(s.get("failures") == "0" for s in suites.iter("testsuite"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "nowhere"], "error: template nowhere is not a directory or a git URL"),
        (["--style", "django"], "error: unknown style 'django'"),
        (["--server", "tornado"], "error: unknown server 'tornado'"),
        (["--jobs", "0"], "error: --jobs must be at least 1, got 0"),
        (["--junit-xml", "missing/dir/x.xml"], "error: cannot write missing/dir/x.xml: "),
    ],
)
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    result = validate(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(message)
    assert list(tmp_path.iterdir()) == []
