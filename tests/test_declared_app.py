"""Every check loads the contract's declared `app`, whichever server boots the project and
however it boots: an app renamed behind a contract that still names it is red, in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asgigen import check
from asgigen.app_check import verify_app
from asgigen.contract import load_contract
from asgigen.steps import project_env
from tests.inline_projects import use_this_python, write_files

APP = """\
async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    status = 200 if scope["path"] == "/" else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})
"""

MAIN = """\
import os

import uvicorn

uvicorn.run("tiny.app:application", host=os.environ["TINY_HOST"], port=int(os.environ["TINY_PORT"]))
"""


def tiny_project(root: Path, declared: str) -> Path:
    return write_files(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "tiny"\nversion = "0"\n\n[tool.asgigen]\n'
                f'app = "{declared}"\nrun = ["python", "-m", "tiny"]\n'
                'host-env = "TINY_HOST"\nport-env = "TINY_PORT"\n'
            ),
            "src/tiny/__init__.py": "",
            "src/tiny/app.py": APP,
            "src/tiny/__main__.py": MAIN,
            "tests/test_it.py": "def test_it():\n    assert True\n",
        },
    )


def test_a_renamed_app_fails_the_check_though_run_still_boots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `run` starts Uvicorn on tiny.app:application; the contract still says tiny.app:app,
    # which `hypercorn tiny.app:app` (and a README's uvicorn command) cannot load.
    project = tiny_project(tmp_path / "tiny", "tiny.app:app")
    use_this_python(monkeypatch, tmp_path)
    report = check.run_checks(project, with_gates=False)
    steps = {step.name: step for step in report.steps}
    assert [(s.name, s.status) for s in report.steps] == [
        ("tests", "passed"),
        ("app", "failed"),
        ("serve:uvicorn", "skipped"),
    ]
    assert steps["app"].summary == "tiny.app:app: tiny.app has no attribute 'app'"
    assert steps["serve:uvicorn"].summary == "not booted: app failed"
    assert not report.ok


def test_the_declared_app_is_loaded_then_the_run_command_boots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tiny_project(tmp_path / "tiny", "tiny.app:application")
    use_this_python(monkeypatch, tmp_path)
    report = check.run_checks(project, with_gates=False)
    assert [(s.name, s.status) for s in report.steps] == [
        ("tests", "passed"),
        ("app", "passed"),
        ("serve:uvicorn", "passed"),
    ], [s.summary for s in report.steps]
    assert report.steps[1].summary == "tiny.app:application (function)"


MODULES = {
    "missing module": ({}, "there is no module tiny.app on the python path"),
    "import error": (
        {"src/tiny/app.py": "import no_such_dependency\napp = None\n"},
        "importing tiny.app failed: ModuleNotFoundError: No module named 'no_such_dependency'",
    ),
    "raises": (
        {"src/tiny/app.py": "raise RuntimeError('no settings')\n"},
        "importing tiny.app failed: RuntimeError: no settings",
    ),
    "exits": (
        {"src/tiny/app.py": "import sys\nsys.exit(3)\n"},
        "importing tiny.app failed: SystemExit: 3",
    ),
    "missing attribute": ({"src/tiny/app.py": "application = 1\n"}, "has no attribute 'app'"),
    "not callable": ({"src/tiny/app.py": "app = None\n"}, "is NoneType None, not an ASGI"),
    "factory": (
        {"src/tiny/app.py": "def app():\n    return None\n"},
        "takes (), not (scope, receive, send)",
    ),
}


@pytest.mark.parametrize("case", list(MODULES))
def test_what_is_not_an_asgi_app_fails_in_one_line(tmp_path: Path, case: str) -> None:
    files, reason = MODULES[case]
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "tiny.app:app"\n'})
    write_files(tmp_path, {"src/tiny/__init__.py": "", **files})
    contract = load_contract(tmp_path)
    env = project_env({"PYTHONPATH": str(tmp_path / "src")})
    step = verify_app(sys.executable, contract, env)
    assert step.status == "failed"
    assert reason in step.summary
    assert "\n" not in step.summary
    assert step.summary.startswith("tiny.app:app")
    assert step.hint is not None
    assert "import tiny.app; print(tiny.app.app)" in step.hint


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("async def app(scope, receive, send):\n    pass\n", "function"),
        (
            "class App:\n    async def __call__(self, scope, receive, send):\n        pass\n\n"
            "app = App()\n",
            "App",
        ),
        ("class app:\n    def __init__(self, scope):\n        pass\n", "class"),
    ],
)
def test_asgi_callables_pass(tmp_path: Path, text: str, kind: str) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "tiny.app:app"\n'})
    write_files(tmp_path, {"src/tiny/__init__.py": "", "src/tiny/app.py": text})
    env = project_env({"PYTHONPATH": str(tmp_path / "src")})
    step = verify_app(sys.executable, load_contract(tmp_path), env)
    assert (step.status, step.summary) == ("passed", f"tiny.app:app ({kind})")
