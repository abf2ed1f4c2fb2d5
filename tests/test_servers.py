"""Stopping a server: SIGTERM to its main process, then nothing of its group survives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from asgigen.servers import SERVERS, RunningServer, stop

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
