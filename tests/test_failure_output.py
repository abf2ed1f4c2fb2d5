"""A failure shows its real cause: a server that dies before answering shows its traceback's
last frame and error line, every failed step's output is shown (not only the first's), and
each comes with a command that reproduces it verbatim."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import check
from asgigen.server_log import Cause, find_cause
from tests.conftest import CliResult
from tests.inline_projects import use_this_python, write_files

TRACEBACK = """\
INFO:     Started server process [1]
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/p/src/shop/__main__.py", line 3, in <module>
    from shop.app import app
  File "/p/src/shop/app.py", line 1, in <module>
    import asgi_correlation_id
ModuleNotFoundError: No module named 'asgi_correlation_id'
"""


def test_the_last_frame_and_the_error_line_of_the_last_traceback() -> None:
    log = 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: first\n'
    assert find_cause(log + TRACEBACK) == Cause(
        "ModuleNotFoundError: No module named 'asgi_correlation_id'",
        '  File "/p/src/shop/app.py", line 1, in <module>\n'
        "    import asgi_correlation_id\n"
        "ModuleNotFoundError: No module named 'asgi_correlation_id'",
    )


def test_a_syntax_error_is_found() -> None:
    log = (
        "Traceback (most recent call last):\n"
        "  File \"/p/app.py\", line 2\n    x = (\n        ^\nSyntaxError: '(' was never closed\n"
    )
    assert find_cause(log).line == "SyntaxError: '(' was never closed"


def test_without_a_traceback_the_last_error_line_and_the_tail() -> None:
    log = (
        'INFO:     Started\nERROR:    Error loading ASGI app. Attribute "app" not found.\n'
        "note: some backtrace line\n"
    )
    cause = find_cause(log)
    assert cause.line == 'ERROR:    Error loading ASGI app. Attribute "app" not found.'
    assert cause.excerpt == log.strip()
    assert find_cause("") == Cause("", "")
    assert find_cause("just one line\n") == Cause("just one line", "just one line")


MAIN = """\
import os

import asgi_correlation_id  # not installed: the real cause

import uvicorn

uvicorn.run("shop.app:app", host=os.environ["SHOP_HOST"], port=int(os.environ["SHOP_PORT"]))
"""


def broken_project(root: Path, *, failing_test: bool) -> Path:
    test = "def test_it():\n    assert 1 + 1 == 3\n" if failing_test else "def test_it(): pass\n"
    return write_files(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "shop"\nversion = "0"\n\n[tool.asgigen]\n'
                'app = "shop.app:app"\nrun = ["python", "-m", "shop"]\n'
                'host-env = "SHOP_HOST"\nport-env = "SHOP_PORT"\n'
            ),
            "src/shop/__init__.py": "",
            "src/shop/app.py": "async def app(scope, receive, send):\n    pass\n",
            "src/shop/__main__.py": MAIN,
            "tests/test_it.py": test,
        },
    )


def test_a_server_that_dies_shows_the_real_cause_and_how_to_reproduce_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = broken_project(tmp_path / "shop", failing_test=False)
    use_this_python(monkeypatch, tmp_path)
    report = check.run_checks(project, with_gates=False)
    serve = report.steps[-1]
    assert serve.name == "serve:uvicorn"
    assert serve.summary == (
        "uvicorn exited with code 1 before answering: "
        "ModuleNotFoundError: No module named 'asgi_correlation_id'"
    )
    shown = serve.output.splitlines()  # (Python 3.11+ may add a line of carets)
    assert shown[:2] == [
        f'  File "{project}/src/shop/__main__.py", line 3, in <module>',
        "    import asgi_correlation_id  # not installed: the real cause",
    ]
    assert shown[-1] == "ModuleNotFoundError: No module named 'asgi_correlation_id'"
    # The hint reproduces it, verbatim, in a shell.
    assert serve.hint is not None
    assert serve.hint.startswith(f"cd {project} && ")
    again = subprocess.run(
        ["bash", "-c", serve.hint], capture_output=True, text=True, timeout=60, check=False
    )
    assert again.returncode == 1
    assert "No module named 'asgi_correlation_id'" in again.stderr


def test_every_failing_step_shows_its_output_and_its_command(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = broken_project(tmp_path / "shop", failing_test=True)
    use_this_python(monkeypatch, tmp_path)
    result = run_cli("check", str(project))
    assert result.exit_code == 1
    err = result.stderr
    # The failing test's assertion and the server's traceback are both on the screen.
    assert "--- tests failed: 1 failed\n" in err
    assert "assert (1 + 1) == 3" in err
    assert "--- serve:uvicorn failed: uvicorn exited with code 1 before answering: " in err
    assert "import asgi_correlation_id  # not installed: the real cause" in err
    hints = [line for line in err.splitlines() if line.startswith("hint: ")]
    assert any(line.endswith("-m pytest") for line in hints), hints
    assert any(line.endswith("-m shop") and "SHOP_PORT=" in line for line in hints), hints
    error = [line for line in err.splitlines() if line.startswith("error: ")]
    assert error == ["error: shop: tests failed, serve:uvicorn failed: 1 failed"]
