"""How a check saves time without doing less: its boots run beside the project's tests, and
bytecode is kept in the check environment (never in the project's tree)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from asgigen import check, environments, gates
from asgigen.requirements import Requirements
from asgigen.steps import StepResult, project_env
from tests.template_tree import build_file_tree

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


def test_an_environment_compiles_a_module_when_first_imported_and_keeps_it(tmp_path: Path) -> None:
    # Not at install: most of what an environment holds is never imported by a check.
    venv = tmp_path / "venv"
    environments._install(
        environments.uv_binary(),
        venv,
        sys.executable,
        ["iniconfig"],
        tmp_path,
        Requirements(None, None),
    )
    python = str(venv / "bin" / "python")
    kept = venv / environments.BYTECODE
    (site_packages,) = venv.glob("lib/python*/site-packages")
    assert not list(kept.rglob("iniconfig/*.pyc"))
    subprocess.run([python, "-c", "import iniconfig"], env=project_env(python=python), check=True)
    # Compiled on that import, into the environment's bytecode directory, where the next
    # command finds it; nothing beside the package's sources.
    assert list(kept.rglob("iniconfig/__init__.*.pyc"))
    assert not (site_packages / "iniconfig" / "__pycache__").exists()


# --- mypy: one cache per environment, shared by its projects, never trusting another's file


def mypy_project(root: Path, name: str, count: str) -> Path:
    """A project whose tests/test_values.py (the same relative path in every such project)
    sets COUNT to `count`."""
    return build_file_tree(
        root / name,
        {
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                [tool.mypy]
                strict = true
                files = ["src", "tests"]
            """,
            f"src/{name}/__init__.py": """
                import json


                def dump(value: int) -> str:
                    return json.dumps(value)
            """,
            "tests/test_values.py": f"COUNT: int = {count}\n",
        },
    )


def test_a_shared_mypy_cache_never_trusts_another_projects_modules(tmp_path: Path) -> None:
    environment = tmp_path / "env"
    one = mypy_project(tmp_path, "one", "111")
    two = mypy_project(tmp_path, "two", '"1"')  # the same size, a type error
    moment = 1_700_000_000
    for project in (one, two):
        os.utime(project / "tests" / "test_values.py", (moment, moment))

    (first,) = gates.run_gates(sys.executable, one, ["mypy"], environment)
    assert first.status == "passed", first.output
    (second,) = gates.run_gates(sys.executable, two, ["mypy"], environment)
    # The same cache, which holds a module at tests/test_values.py of the same size and
    # mtime: had mypy trusted it, two would have passed.
    assert [path.name for path in (environment / "mypy-cache").iterdir() if path.is_dir()] == [
        "shared-0"
    ]
    assert second.status == "failed", second.output
    assert "tests/test_values.py:1: error: Incompatible types in assignment" in second.output


def test_mypy_checks_the_configured_files_by_absolute_path(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "src" / "shop").mkdir(parents=True)
    (project / "tests" / "unit").mkdir(parents=True)
    (project / "tests" / "unit" / "test_a.py").write_text("")
    (project / "pyproject.toml").write_text('[tool.mypy]\nfiles = ["src", "tests/**/test_*.py"]\n')
    assert gates._mypy_targets(project) == [
        str(project / "src"),
        str(project / "tests" / "unit" / "test_a.py"),
    ]
    (project / "pyproject.toml").write_text('[tool.mypy]\nfiles = "src, missing"\n')
    assert gates._mypy_targets(project) == [str(project / "src"), str(project / "missing")]
    (project / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n")
    assert gates._mypy_targets(project) == [str(project / "src")]
    (project / "src").rename(project / "source")
    assert gates._mypy_targets(project) == [str(project)]


def test_a_busy_mypy_cache_is_not_shared_the_next_free_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with gates._mypy_cache(tmp_path) as first, gates._mypy_cache(tmp_path) as second:
        assert (first.name, second.name) == ("shared-0", "shared-1")
    # Both busy: another check waits for the first one to be free, never shares a busy one.
    taken = threading.Event()
    third: list[Path] = []

    def wait_for_a_cache() -> None:
        taken.wait()
        with gates._mypy_cache(tmp_path) as cache:
            third.append(cache)

    waiter = threading.Thread(target=wait_for_a_cache)
    waiter.start()
    with gates._mypy_cache(tmp_path) as first, gates._mypy_cache(tmp_path):
        taken.set()
    waiter.join()
    assert third == [first]
