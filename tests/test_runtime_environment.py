"""Servers boot in a run-time environment: the project's run-time dependencies and the server,
not its test requirements, as `pip install .` would leave it."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import asgigen_env, run_asgigen
from tests.template_tree import build_file_tree

pytestmark = pytest.mark.e2e

APP = """
    import iniconfig  # a test requirement only, until the project moves it

    NAME = iniconfig.__name__


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, data = (200, b"ok") if scope["path"] == "/health" else (404, b"not found")
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
"""

MAIN = """
    import os

    import uvicorn

    if __name__ == "__main__":
        host, port = os.environ["SVC_HOST"], int(os.environ["SVC_PORT"])
        uvicorn.run("svc.app:app", host=host, port=port)
"""

TESTS = """
    from svc.app import NAME


    def test_the_app_imports() -> None:
        assert NAME == "iniconfig"
"""


def pyproject(*, runtime: list[str], test: list[str], run: bool) -> str:
    contract = 'run = ["python", "-m", "svc"]\nhost-env = "SVC_HOST"\nport-env = "SVC_PORT"\n'
    contract = contract if run else ""
    return f"""
        [project]
        name = "svc"
        version = "1.0.0"
        requires-python = ">=3.11"
        dependencies = {json.dumps(runtime)}

        [project.optional-dependencies]
        test = {json.dumps(test)}

        [tool.pytest.ini_options]
        pythonpath = ["."]

        [tool.asgigen]
        app = "svc.app:app"
        pythonpath = ["."]
        ready = "/health"
        {contract}
        [[tool.asgigen.http]]
        path = "/health"
        status = 200
    """


def project(root: Path, *, imported_at_run_time: bool, run: bool = False) -> Path:
    """A project whose app imports iniconfig: listed in its `test` extra only, or (fixed) in
    its dependencies."""
    runtime = ["uvicorn>=0.30"] + (["iniconfig"] if imported_at_run_time else [])
    test = ["pytest>=8"] + ([] if imported_at_run_time else ["iniconfig"])
    return build_file_tree(
        root,
        {
            "pyproject.toml": pyproject(runtime=runtime, test=test, run=run),
            "svc/__init__.py": "",
            "svc/app.py": APP,
            "svc/__main__.py": MAIN,
            "tests/test_app.py": TESTS,
        },
    )


def check(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    result = run_asgigen("check", str(root), "--json", *args, cwd=root.parent, env=asgigen_env())
    return result, json.loads(result.stdout)


def step(report: dict[str, object], name: str) -> dict[str, str]:
    steps = report["steps"]
    assert isinstance(steps, list)
    return next(s for s in steps if s["name"] == name)


CAUSE = (
    "the app imports a package that is not a run-time dependency: it is only in the 'test' extra"
)


@pytest.mark.parametrize("isolated", [False, True], ids=["cached", "isolated"])
def test_an_app_importing_a_test_requirement_fails_to_boot(tmp_path: Path, isolated: bool) -> None:
    root = project(tmp_path / "svc", imported_at_run_time=False)
    result, report = check(root, *(["--isolated"] if isolated else []))
    assert result.returncode == 1, result.stderr
    assert step(report, "tests")["status"] == "passed"  # the tests have their requirements
    serve = step(report, "serve:uvicorn")
    assert serve["status"] == "failed"
    assert "ModuleNotFoundError: No module named 'iniconfig'" in serve["summary"]
    assert CAUSE in serve["summary"]
    assert "[project] dependencies" in serve["summary"]
    assert report["runtime_python"] != report["python"]
    assert str(report["runtime_python"]) in serve["hint"]  # the command that reproduces it


def test_the_app_step_names_the_cause_and_reproduces_it(tmp_path: Path) -> None:
    root = project(tmp_path / "svc", imported_at_run_time=False, run=True)
    result, report = check(root)
    assert result.returncode == 1, result.stderr
    app = step(report, "app")
    assert app["status"] == "failed"
    assert "No module named 'iniconfig'" in app["summary"]
    assert CAUSE in app["summary"]
    assert step(report, "serve:uvicorn")["status"] == "skipped"
    # The hint reproduces it verbatim, with the run-time environment's python.
    assert str(report["runtime_python"]) in app["hint"]
    again = subprocess.run(
        ["bash", "-c", app["hint"]], capture_output=True, text=True, env=asgigen_env(), timeout=60
    )
    assert again.returncode == 1
    assert "No module named 'iniconfig'" in again.stderr
    assert shlex.quote(str(root)) in app["hint"]


@pytest.mark.parametrize("isolated", [False, True], ids=["cached", "isolated"])
def test_the_same_app_with_its_import_declared_passes(tmp_path: Path, isolated: bool) -> None:
    root = project(tmp_path / "svc", imported_at_run_time=True, run=True)
    result, report = check(root, *(["--isolated"] if isolated else []))
    assert result.returncode == 0, result.stderr
    assert step(report, "app")["status"] == "passed"
    assert step(report, "serve:uvicorn")["status"] == "passed"
