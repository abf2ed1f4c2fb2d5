"""How a check saves time without doing less: its boots run beside the project's tests, and
bytecode is kept in the check environment (never in the project's tree)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from asgigen import check, environments
from asgigen.steps import StepResult, project_env

PYPROJECT = """\
[project]
name = "speedy"
version = "0"

[tool.asgigen]
app = "speedy:app"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    env = environments.Environment(sys.executable, tmp_path / "venv", None)
    monkeypatch.setattr(environments, "cached_environment", lambda *args, **kwargs: env)
    return tmp_path


def test_the_boot_runs_while_the_tests_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests step finishes only once a boot has started: run one after the other, the
    # tests would wait in vain (and fail), and no boot would ever start.
    booted = threading.Event()

    def tests(python: str, project: check.Project, services: object = None) -> StepResult:
        ok = booted.wait(timeout=60)
        return StepResult("tests", "passed" if ok else "failed", 0.0, "waited for the boot")

    def boot(python: str, project: check.Project, spec: object, services: object) -> StepResult:
        booted.set()
        return StepResult("serve:uvicorn", "passed", 0.0, "booted")

    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    report = check.run_checks(project, with_gates=False)
    assert [(step.name, step.status) for step in report.steps] == [
        ("tests", "passed"),
        ("serve:uvicorn", "passed"),
    ]


def test_with_services_the_tests_share_the_boots_run_after_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service whose URL the tests get too (test-url-env): tests first, then the boot.
    text = PYPROJECT + '[tool.asgigen.services]\nsqlite = { url-env = "DB", test-url-env = "DB" }\n'
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    order: list[str] = []

    def tests(python: str, project: check.Project, services: object = None) -> StepResult:
        order.append("tests")
        return StepResult("tests", "passed", 0.0, "")

    def boot(python: str, project: check.Project, spec: object, services: object) -> StepResult:
        order.append("boot")
        return StepResult("serve:uvicorn", "passed", 0.0, "")

    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    report = check.run_checks(project, with_gates=False)
    assert order == ["tests", "boot"]
    assert [step.name for step in report.steps] == ["service:sqlite", "tests", "serve:uvicorn"]


def test_bytecode_lives_in_the_check_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = str(venv / "bin" / "python")
    # An environment asgigen built has its bytecode directory: read and written there.
    (venv / environments.BYTECODE).mkdir()
    env = project_env(python=python)
    assert env["PYTHONPYCACHEPREFIX"] == str(venv / environments.BYTECODE)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    # Any other interpreter: no bytecode written at all, so none lands in the project.
    other = project_env(python=sys.executable)
    assert other["PYTHONDONTWRITEBYTECODE"] == "1"
    assert other.get("PYTHONPYCACHEPREFIX") != str(venv / environments.BYTECODE)
