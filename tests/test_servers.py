"""Stopping a server: SIGTERM to its main process, then nothing of its group survives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asgigen.contract import Contract
from asgigen.errors import CheckFailedError
from asgigen.servers import SERVERS, RunningServer, server_env, stop

# A stand-in server with one worker in its process group. The main process records which
# signal it got, and whether its worker got one too, then exits (or, with HANG, never does).
FAKE_SERVER = r"""
import os, signal, subprocess, sys, time
out = sys.argv[1]
worker = subprocess.Popen([sys.executable, "-c", '''
import signal, sys, time
def note(signum, frame):
    open(sys.argv[1] + ".worker", "w").write(str(signum))
    sys.exit(0)
signal.signal(signal.SIGTERM, note)
while True:
    time.sleep(0.05)
''', out])
open(out + ".worker_pid", "w").write(str(worker.pid))
def on_term(signum, frame):
    open(out, "w").write(str(signum))
    if os.environ.get("HANG"):
        return
    sys.exit(0)  # the worker is left behind on purpose
signal.signal(signal.SIGTERM, on_term)
open(out + ".ready", "w").write("")
while True:
    time.sleep(0.05)
"""


def start(tmp_path: Path, hang: bool = False) -> RunningServer:
    env = {**os.environ, "HANG": "1" if hang else ""}
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER, str(tmp_path / "main")],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while not (tmp_path / "main.ready").exists():
        assert time.monotonic() < deadline, "the fake server did not start"
        time.sleep(0.02)
    return RunningServer(SERVERS["uvicorn"], process, "127.0.0.1", 0, tmp_path / "log")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state in /proc says it is gone.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1][0] != "Z"


def wait_gone(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_sigterm_reaches_the_main_process_only_and_leftovers_are_killed(tmp_path: Path) -> None:
    server = start(tmp_path)
    worker_pid = int((tmp_path / "main.worker_pid").read_text())
    assert stop(server) == 0
    assert (tmp_path / "main").read_text() == "15"
    # The worker got no SIGTERM of its own (the group was not signalled)...
    assert not (tmp_path / "main.worker").exists()
    # ...and it does not outlive the server.
    assert wait_gone(worker_pid)


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    server = start(tmp_path, hang=True)
    worker_pid = int((tmp_path / "main.worker_pid").read_text())
    assert stop(server, grace=0.5) == -9
    assert (tmp_path / "main").read_text() == "15"
    assert wait_gone(worker_pid)


def contract(tmp_path: Path, **fields: object) -> Contract:
    values: dict[str, object] = {"app": "shop.app:app", "pythonpath": ("src",)}
    values.update(fields)
    return Contract(tmp_path, "test", **values)  # type: ignore[arg-type]


def test_each_server_boots_the_contracts_app_on_the_address_given(tmp_path: Path) -> None:
    app = contract(tmp_path)
    commands = {
        name: spec.command("/venv/bin/python", app, "127.0.0.1", 4321)
        for name, spec in SERVERS.items()
    }
    assert commands == {
        "uvicorn": [
            "/venv/bin/python", "-m", "uvicorn", "--host", "127.0.0.1", "--port", "4321",
            "shop.app:app",
        ],
        "hypercorn": ["/venv/bin/python", "-m", "hypercorn", "--bind", "127.0.0.1:4321",
                      "shop.app:app"],
        "daphne": ["/venv/bin/python", "-m", "daphne", "-b", "127.0.0.1", "-p", "4321",
                   "shop.app:app"],
        "granian": [
            "/venv/bin/python", "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", "4321", "--workers", "1", "shop.app:app",
        ],
    }  # fmt: skip


def test_uvicorn_runs_the_projects_own_command_and_python_is_the_envs(tmp_path: Path) -> None:
    app = contract(tmp_path, run=("python", "-m", "shop"), host_env="H", port_env="P")
    assert SERVERS["uvicorn"].command("/venv/bin/python", app, "127.0.0.1", 1) == [
        "/venv/bin/python",
        "-m",
        "shop",
    ]
    # The other servers have no such entry point: they boot the app itself.
    assert SERVERS["hypercorn"].command("/py", app, "127.0.0.1", 1)[-1] == "shop.app:app"


def test_a_project_without_an_app_cannot_boot_under_another_server(tmp_path: Path) -> None:
    app = contract(tmp_path, app=None, run=("python", "-m", "shop"), host_env="H", port_env="P")
    with pytest.raises(CheckFailedError, match="declares no ASGI app"):
        SERVERS["daphne"].command("/py", app, "127.0.0.1", 1)


def test_server_env_carries_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    app = contract(
        tmp_path, host_env="SHOP_HOST", port_env="SHOP_PORT", env=(("SHOP_WORKERS", "1"),)
    )
    env = server_env(app, "127.0.0.1", 4321)
    assert env["SHOP_HOST"] == "127.0.0.1"
    assert env["SHOP_PORT"] == "4321"
    assert env["SHOP_WORKERS"] == "1"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path / "src"), "/elsewhere"]
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # no __pycache__ in the project
    assert "WEB_CONCURRENCY" not in env  # one worker, whatever the shell says


def test_servers_import_from_where_the_tests_do(tmp_path: Path) -> None:
    """A contract naming an app but no python path: servers, like the tests, use src/."""
    (tmp_path / "src").mkdir()
    contract = Contract(tmp_path, "pyproject.toml [tool.asgigen]", "demo.app:app")
    env = server_env(contract, "127.0.0.1", 8000)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "src")
    assert contract.import_paths == [str(tmp_path / "src")]
