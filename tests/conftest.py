from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from asgigen.cli import main

# The slowest tests start first, by the durations the last run recorded (tests/durations.py).
from tests.durations import (  # noqa: F401 (hooks: pytest finds them here)
    pytest_collection_modifyitems,
    pytest_configure,
)
from tests.team_template import make_template_repo
from tests.template_tree import build_file_tree


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session", autouse=True)
def asgigen_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ASGIGEN_CACHE_DIR for the whole session: one directory every xdist worker shares.

    Check environments are keyed on their contents and built under a lock, so the workers
    reuse each other's; nothing lands in the user's ~/.cache. A test that needs a cold
    cache sets its own directory (monkeypatch.setenv, or the env of its subprocess).
    """
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is <session>/popen-gwN: the parent is shared.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = root / "asgigen-cache"
    cache.mkdir(exist_ok=True)
    old = os.environ.get("ASGIGEN_CACHE_DIR")
    os.environ["ASGIGEN_CACHE_DIR"] = str(cache)
    try:
        yield cache
    finally:
        if old is None:
            os.environ.pop("ASGIGEN_CACHE_DIR", None)
        else:
            os.environ["ASGIGEN_CACHE_DIR"] = old


def asgigen_env(**extra: str) -> dict[str, str]:
    """The environment `python -m asgigen` runs in from tests: as a user's shell would have it.

    No PYTHONDONTWRITEBYTECODE (users don't set it: a test that the project stays clean must
    see what they see), no pytest or xdist variables, no colour, not interactive.
    """
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    env.update(extra)
    return env


def run_asgigen(
    *args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m asgigen ARGS` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "asgigen", *args],
        cwd=cwd,
        env=env if env is not None else asgigen_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run `asgigen ARGS` in-process through `main()`, the real error-mapping entry point."""

    def run(*args: str, cwd: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "argv", ["asgigen", *args])
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("CI", "true")
        monkeypatch.setenv("ASGIGEN_DEBUG", "")  # restored after the test, whatever --debug sets
        if cwd is not None:
            monkeypatch.chdir(cwd)
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content: for asserting that nothing changed."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    } | {str(path.relative_to(root)) + "/": b"" for path in root.rglob("*") if path.is_dir()}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """An empty directory to generate into; the test asserts what it holds afterwards."""
    root = tmp_path / "work"
    root.mkdir()
    old = os.getcwd()
    try:
        yield root
    finally:
        os.chdir(old)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def mini_template(tmp_path: Path) -> Path:
    """The real questionnaire over tiny style trees, so these tests don't depend on them."""
    template = tmp_path / "template"
    template.mkdir()
    shutil.copy(ROOT / "templates" / "copier.yml", template / "copier.yml")
    # The questionnaire's validators and the escaping macros the tiny trees use.
    (template / "_partials").mkdir()
    for partial in ("naming.jinja", "escape.jinja"):
        shutil.copy(ROOT / "templates" / "_partials" / partial, template / "_partials" / partial)
    for style in ("raw", "routed", "fastapi"):
        build_file_tree(
            template / style,
            {
                "src/{{ package_name }}/app.py.jinja": """
                    {% from "_partials/escape.jinja" import python_string -%}
                    DESCRIPTION = {{ python_string(description) }}
                """,
                "pyproject.toml.jinja": """
                    {% from "_partials/escape.jinja" import toml_string -%}
                    [project]
                    name = "{{ project_name }}"
                    description = {{ toml_string(description) }}
                """,
                "{{ _copier_conf.answers_file }}.jinja": """
                    {{ _copier_answers|to_nice_yaml -}}
                """,
            },
        )
    return template


@pytest.fixture(scope="session")
def team_template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's own copier template (tests/team_template.py) with tags v1.0.0, v2.0.0.

    Shared by the session: tests must not change it (copy it with make_template_repo).
    """
    return make_template_repo(tmp_path_factory.mktemp("team"))


def _must(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """asgigen's wheel, built once per session (per xdist worker) from this checkout."""
    dist = tmp_path_factory.mktemp("wheel") / "dist"
    _must([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)], ROOT)
    (wheel,) = dist.glob("asgigen-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheel_asgigen(tmp_path_factory: pytest.TempPathFactory, built_wheel: Path) -> str:
    """asgigen installed from its built wheel into a fresh venv (not this checkout): the tests
    that promise a behaviour "from the built wheel" run this executable."""
    from asgigen.environments import uv_binary

    root = tmp_path_factory.mktemp("wheel-venv")
    venv, uv, wheel = root / "venv", uv_binary(), built_wheel
    _must([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], root)
    _must([uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(wheel)], root)
    return str(venv / "bin" / "asgigen")


def run_wheel_asgigen(
    wheel_asgigen: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`asgigen ARGS` as installed from the built wheel (the `wheel_asgigen` fixture), in the
    environment a user's shell gives it: never this checkout's asgigen through PYTHONPATH."""
    env = asgigen_env()
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [wheel_asgigen, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
