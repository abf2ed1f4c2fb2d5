"""End to end: `asgigen new` per style, and `asgigen check` proving a project by its contract.

Each style's `new` and its `check --server all` (gates, tests, every server, every probe of its
contract): tests/test_add_e2e.py and tests/test_add_resource_e2e.py, whose one check per style
also proves what `asgigen add` wrote (asserted by tests/every_server.py). `new` running the
checks itself: test_the_commands_new_prints_work_verbatim here.
"""

from __future__ import annotations

import ast
import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from asgigen.cache import cache_root
from asgigen.check import run_checks, step_label
from asgigen.console import Console
from tests.conftest import asgigen_env, run_asgigen
from tests.every_server import GATES, git, litter, proves_all

pytestmark = pytest.mark.e2e


def asgigen(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_asgigen(*args, cwd=cwd, env=asgigen_env(**env))


class Made(NamedTuple):
    """A project `asgigen new` made, and what that printed."""

    path: Path
    new: subprocess.CompletedProcess[str]


def step_line(stderr: str, label: str) -> str:
    return next(line for line in stderr.splitlines() if line.strip().startswith(label))


def step_labels(stderr: str) -> list[str]:
    """The labels of the steps a check's progress shows, in order (not its template, deps or
    env lines, which say where things came from)."""
    steps = {"tests", "app", "serve", "setup", "service", *map(step_label, GATES)}
    return [line.split()[0] for line in stderr.splitlines() if line[2:].split(" ")[0] in steps]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def drop_tables(pyproject: Path, prefixes: tuple[str, ...]) -> None:
    """Remove every TOML table (and array of tables) whose name starts with one of `prefixes`."""
    kept: list[str] = []
    dropping = False
    for line in pyproject.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[\[?([^\]]+)\]\]?\s*$", line)
        if header:
            dropping = header.group(1).strip().startswith(prefixes)
        if not dropping:
            kept.append(line)
    pyproject.write_text("\n".join(kept) + "\n", encoding="utf-8")


def drop_probe(pyproject: Path, method: str, path: str) -> None:
    """Remove the [[tool.asgigen.http]] probe of `method path` from the contract."""
    lines = pyproject.read_text(encoding="utf-8").splitlines()
    at = lines.index(f'path = "{path}"')
    start = max(i for i in range(at) if lines[i] == "[[tool.asgigen.http]]")
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    block = lines[start:end]
    assert f'method = "{method}"' in block
    del lines[start:end]
    pyproject.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tidy(project: Path) -> None:
    """What a user runs after deleting code: ruff's fixes (unused imports) and its formatter."""
    for command in (["check", "--fix", "--quiet", "."], ["format", "--quiet", "."]):
        subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache"], cwd=project, check=False
        )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Made]:
    """`asgigen new m-STYLE --style STYLE --no-check`, once per style and module (on first use:
    an xdist worker makes only the styles its tests need). Tests that edit one copy it."""
    root = tmp_path_factory.mktemp("projects")
    done: dict[str, Made] = {}

    def make(style: str) -> Made:
        if style not in done:
            result = asgigen("new", f"m-{style}", "--style", style, "--no-check", cwd=root)
            assert result.returncode == 0, result.stderr
            done[style] = Made(root / f"m-{style}", result)
        return done[style]

    return make


def test_check_reports_each_failing_step_with_its_output(
    made: Callable[[str], Made], tmp_path: Path
) -> None:
    """A failing test and a lint error, each failing its own step only: the error line names
    both, the output shows each one's cause and its hint; the steps between them still ran."""
    project = copy_project(made("raw").path, tmp_path / "m-raw")
    (project / "tests" / "test_zz_broken.py").write_text(
        "def test_broken() -> None:\n    assert 1 + 1 == 3\n"
    )
    app = project / "src" / "m_raw" / "app.py"
    app.write_text(app.read_text() + "\n\ndef unused() -> None:\n    import os\n")
    result = asgigen("check", str(project), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""  # no verdict of success
    error = error_lines(result.stderr)[0]
    assert error.startswith("error: m-raw: ruff failed, tests failed: "), error
    # ruff-format, mypy and the boot ran and passed.
    for passed in ("ruff-format", "mypy", "serve"):
        assert passed not in error
    assert "1 failed" in step_line(result.stderr, "tests")
    assert "test_broken" in result.stderr
    assert "F401" in result.stderr
    assert "src/m_raw/app.py" in result.stderr
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint: cd ")]
    assert any(line.endswith(" -m pytest") for line in hints), hints  # in the tests' block
    assert hints[-1].endswith(" -m ruff check .")  # the last line: the first failure's rerun
    assert result.stderr.strip().splitlines()[-1] == hints[-1]
    # The gates wrote no caches into the project.
    assert litter(project) == []


def test_check_reports_a_server_that_does_not_answer(
    made: Callable[[str], Made], tmp_path: Path
) -> None:
    project = copy_project(made("raw").path, tmp_path / "m-raw")
    (project / "src" / "m_raw" / "__main__.py").write_text("raise SystemExit(3)\n")
    result = asgigen("check", str(project), cwd=tmp_path)
    assert result.returncode == 1
    # Its own tests fail (mypy too: they import what __main__ no longer has), then
    # asgigen's boot says what happened.
    assert "tests failed, serve:uvicorn failed: " in error_lines(result.stderr)[0]
    assert error_lines(result.stderr)[0].startswith("error: m-raw: ")
    assert "serve      uvicorn exited with code 3 before answering" in result.stderr


def test_check_isolated_uses_a_fresh_venv_and_removes_it(
    made: Callable[[str], Made], tmp_path: Path
) -> None:
    project = copy_project(made("raw").path, tmp_path / "m-raw")
    result = asgigen("check", str(project), "--isolated", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"] != sys.executable
    assert "asgigen-isolated-" in report["python"]
    assert not Path(report["python"]).is_relative_to(cache_root())  # not a cached environment
    assert not Path(report["python"]).exists()  # removed afterwards
    names = [step["name"] for step in report["steps"]]
    assert names == [*GATES, "tests", "app", "serve:uvicorn"]
    assert {step["status"] for step in report["steps"]} == {"passed"}
    # Installing the project itself (a wheel build) left nothing in it.
    assert litter(project) == []
    assert git(project, "status", "--porcelain", "--ignored") == ""


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_a_port_taken_before_the_server_binds_it_is_retried(
    made: Callable[[str], Made], monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    import socket

    from asgigen import servers
    from asgigen.contract import load_contract
    from asgigen.probes import request

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        ports = iter([taken_port])
        real_free_port = servers.free_port
        monkeypatch.setattr(
            servers, "free_port", lambda host: next(ports, None) or real_free_port(host)
        )
        spec = servers.SERVERS[server]
        contract = load_contract(made("raw").path)
        with servers.running_server(spec, python=sys.executable, contract=contract) as running:
            assert running.port != taken_port
            status, _, body = request(running.host, running.port, "GET", "/health")
            assert (status, json.loads(body)) == (200, {"status": "ok"})


# --- the proof follows the project's contract


def test_a_changed_greeting_fails_until_the_contract_says_so(
    made: Callable[[str], Made], tmp_path: Path
) -> None:
    """The contract alone catches a change the project's tests were updated for, until the
    contract says so too. Along the way: the gates follow the project's configuration (none
    configured, none run) and a check boots exactly the servers asked for, in that order."""
    project = copy_project(made("raw").path, tmp_path / "m-raw")
    pyproject = project / "pyproject.toml"
    drop_tables(pyproject, ("tool.ruff", "tool.mypy"))
    app = project / "src" / "m_raw" / "app.py"
    old, new = "Hello, ASGI world!", "Howdy, ASGI folks!"
    assert f'GREETING = "{old}"' in app.read_text()
    app.write_text(app.read_text().replace(f'GREETING = "{old}"', f'GREETING = "{new}"'))
    # The project's own tests updated too: the contract alone still catches the change.
    for test in (project / "tests").glob("*.py"):
        test.write_text(test.read_text().replace(old, new))

    result = asgigen("check", str(project), cwd=tmp_path)
    assert result.returncode == 1
    assert step_labels(result.stderr) == ["tests", "app", "serve"]  # no gate is configured
    assert f"GET / answered b'{new}', expected '{old}'" in step_line(result.stderr, "serve")
    assert error_lines(result.stderr)[0] == (
        f"error: m-raw: serve:uvicorn failed: GET / answered b'{new}', expected '{old}'"
    )
    assert result.stdout == ""  # no verdict of success

    assert pyproject.read_text().count(f'body = "{old}"') == 1
    pyproject.write_text(pyproject.read_text().replace(f'body = "{old}"', f'body = "{new}"'))
    result = asgigen(
        "check", str(project), "--server", "hypercorn", "--server", "daphne", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "m-raw: all 3 checks passed\n"
    assert step_labels(result.stderr) == ["tests", "serve", "serve"]
    # The check environment installs the servers: none is skipped as "not installed".
    assert "not installed" not in result.stderr
    assert "skipped" not in result.stderr
    serves = [line for line in result.stderr.splitlines() if line.strip().startswith("serve")]
    assert [line.split()[1] for line in serves] == ["hypercorn", "daphne"], serves
    for line in serves:
        assert " 127.0.0.1:" in line
        assert "GET / 200" in line


def _delete_echo_route(project: Path) -> None:
    app = project / "src" / "m_fastapi" / "app.py"
    text = app.read_text()
    assert "    app.include_router(echo.router)\n" in text
    app.write_text(text.replace("    app.include_router(echo.router)\n", ""))


def _delete_echo_tests(project: Path) -> None:
    """Remove each function (with its decorators) that requests /echo, and what calls them."""
    files = {test: test.read_text() for test in (project / "tests").glob("*.py")}
    spans: dict[str, tuple[Path, int, int, str]] = {}
    for test, source in files.items():
        lines = source.splitlines(keepends=True)
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
                end = node.end_lineno or node.lineno
                spans[f"{test}:{node.name}"] = (test, start, end, "".join(lines[start:end]))
    doomed = {key for key, (_, _, _, text) in spans.items() if "/echo" in text}
    while True:  # a helper that requests /echo takes its callers with it
        names = {key.rsplit(":", 1)[1] for key in doomed}
        callers = {
            key
            for key, (_, _, _, text) in spans.items()
            if key not in doomed and any(re.search(rf"\b{name}\b", text) for name in names)
        }
        if not callers:
            break
        doomed |= callers
    for test, source in files.items():
        lines = source.splitlines(keepends=True)
        cuts = sorted((s[1], s[2]) for key, s in spans.items() if key in doomed and s[0] == test)
        for start, end in reversed(cuts):
            del lines[start:end]
        test.write_text("".join(lines))


def test_deleting_a_route_fails_naming_its_probe_until_its_probe_and_tests_go(
    made: Callable[[str], Made], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_project(made("fastapi").path, tmp_path / "m-fastapi")
    _delete_echo_route(project)
    # Only the boot's verdict matters here: checked in-process, without the gates.
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(name, raising=False)
    report = run_checks(project, with_gates=False, console=Console(quiet=True))
    assert not report.ok
    serve = next(step for step in report.steps if step.name == "serve:uvicorn")
    assert serve.status == "failed"
    assert "POST /echo answered 404, expected 200" in serve.summary

    # Its tests and its probe deleted too, and tidied as a user would: green again.
    _delete_echo_tests(project)
    drop_probe(project / "pyproject.toml", "POST", "/echo")
    tidy(project)
    result = asgigen("check", str(project), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    report_json = json.loads(result.stdout)
    assert {step["status"] for step in report_json["steps"]} == {"passed"}
    assert [step["name"] for step in report_json["steps"]][:3] == GATES
    serve_json = report_json["steps"][-1]
    assert serve_json["name"] == "serve:uvicorn"
    assert "/echo" not in serve_json["summary"]
    assert "GET / 200" in serve_json["summary"]


def test_a_project_with_no_contract_and_no_app_does_not_pass(
    made: Callable[[str], Made], tmp_path: Path
) -> None:
    project = copy_project(made("raw").path, tmp_path / "m-raw")
    drop_tables(project / "pyproject.toml", ("tool.asgigen",))
    assert "[tool.asgigen" not in (project / "pyproject.toml").read_text()
    # The app object gets another name (its users follow), so nothing called `app` is left.
    app = project / "src" / "m_raw" / "app.py"
    assert "\napp = App()\n" in app.read_text()
    app.write_text(app.read_text().replace("\napp = App()\n", "\napplication = App()\n"))
    main = project / "src" / "m_raw" / "__main__.py"
    main.write_text(main.read_text().replace('"m_raw.app:app"', '"m_raw.app:application"'))
    server = project / "src" / "m_raw" / "server.py"  # the drain marks the app not ready
    imports = "    from m_raw.app import App, app\n"
    assert imports in server.read_text()
    renamed = "    from m_raw.app import App\n    from m_raw.app import application as app\n"
    server.write_text(server.read_text().replace(imports, renamed))

    result = asgigen("check", str(project), "--json", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["contract"], report["app"], report["ok"]) == ("discovered", None, False)
    statuses = {step["name"]: step["status"] for step in report["steps"]}
    # Everything that can run passes; the boot that cannot is a skip, and a skip fails.
    assert statuses == {**dict.fromkeys([*GATES, "tests"], "passed"), "serve:uvicorn": "skipped"}
    # The progress says so, with what to declare; no verdict of success anywhere.
    serve = step_line(result.stderr, "serve")
    assert "skipped: no ASGI app found" in serve
    assert "declare one: [tool.asgigen] app = " in result.stderr
    assert error_lines(result.stderr)[0].startswith("error: m-raw: serve:uvicorn skipped: ")
    assert not re.search(r"all \d+ checks passed", result.stdout + result.stderr)


# --- what `new` prints works as printed


def _answers(host: str, port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def clean_env(**extra: str) -> dict[str, str]:
    """A fresh login's environment: HOME and a system PATH, nothing from this venv."""
    env = {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin"}
    # The machine's TLS setup (a custom CA for the package index), not a user setting.
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra)
    return env


def test_the_commands_new_prints_work_verbatim(tmp_path: Path, asgigen_cache_dir: Path) -> None:
    """`new` with its checks (the project's tests, a boot under Uvicorn), from a fresh login's
    shell; then the commands it printed, run as printed: the project serves, and checks."""
    from asgigen.contract import load_contract
    from asgigen.servers import free_port

    result = subprocess.run(
        [sys.executable, "-m", "asgigen", "new", "cmd-demo", "--style", "raw"],
        cwd=tmp_path,
        env=clean_env(CI="true", ASGIGEN_CACHE_DIR=str(asgigen_cache_dir)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    project = tmp_path / "cmd-demo"
    tests = step_line(result.stderr, "tests")
    assert " passed" in tests
    assert "failed" not in tests
    serve = step_line(result.stderr, "serve")
    assert "uvicorn 127.0.0.1:" in serve
    # The shared surface and every probe of the style's contract (its own routes too).
    proves_all(serve, project)
    assert "skipped" not in result.stderr
    assert result.stdout.startswith(f"cmd-demo is ready: {project}")
    # The checks leave the project as generated: one commit, nothing untracked, no caches.
    # (PYTHONDONTWRITEBYTECODE is not set, as on a user's machine.)
    assert litter(project) == []
    assert git(project, "status", "--porcelain", "--ignored") == ""
    assert git(project, "log", "--format=%s").strip() == "Initial commit from asgigen"
    commands = [line.split("  # ")[0].strip() for line in result.stdout.splitlines()[1:]]
    (run,) = [c for c in commands if " run python -m cmd_demo" in c]
    (check,) = [c for c in commands if " check " in c]
    assert run.startswith("cd ./cmd-demo && ")
    contract = load_contract(tmp_path / "cmd-demo")
    assert contract.port_env == "CMD_DEMO_PORT"
    assert f"{contract.host_env}, {contract.port_env} to change where it listens" in result.stdout

    port = free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", run],
            cwd=tmp_path,
            # No drain on SIGTERM (5 s by default): the test stops it when it has answered.
            env=clean_env(CMD_DEMO_PORT=str(port), CMD_DEMO_DRAIN_SECONDS="0"),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, alone
        )
    try:
        deadline = time.monotonic() + 300  # the first run makes the project's .venv
        while _answers("127.0.0.1", port, "/health") != 200:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    checked = subprocess.run(
        ["bash", "-c", check],
        cwd=tmp_path,
        env=clean_env(CI="true", ASGIGEN_CACHE_DIR=str(asgigen_cache_dir)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "cmd-demo: all 6 checks passed\n"
    assert shlex.split(check)[-2:] == ["check", "./cmd-demo"]
