"""A signal stops asgigen whichever thread it lands on, and whenever it lands while a child
starts: the two races behind a `check` that ignored SIGHUP (tests/test_signals.py).

Each case runs a small script in a subprocess (its signal handling is asgigen's, not
pytest's) that holds a child the way a project's test holds its live server, forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from asgigen import processes
from asgigen.errors import Interrupted
from tests.test_signals import alive, wait_for

# What the script's child does: nothing, until it is killed.
HOLD = "import signal\nwhile True:\n    signal.pause()"

# Linux hands a signal sent to the process to any thread that does not block it, and a thread
# that has just started a subprocess takes a pending one as it restores its signal mask after
# vfork. Here the main thread blocks SIGHUP, so that another thread takes it every time, while
# the main thread waits on a child that never ends (as `check` waits on the project's tests
# while a thread boots the servers).
ANOTHER_THREAD = """
import signal, subprocess, sys, threading
from asgigen import processes
from asgigen.errors import Interrupted

processes.install()
threading.Thread(target=threading.Event().wait, daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
with open(sys.argv[1], "w") as pidfile:
    command = [sys.executable, "-c", sys.argv[2]]
    real = processes.register
    def register(pid):
        real(pid)
        pidfile.write(str(pid))
        pidfile.flush()
    processes.register = register
    try:
        processes.run(command)
    except Interrupted as err:
        sys.exit(err.exit_code)
sys.exit("the child ended: not interrupted")
"""

# The signal lands in the main thread between the child's start and its registration (a hook
# on `register` sends it there): the child must go all the same.
BEFORE_REGISTERED = """
import os, signal, sys
from asgigen import processes
from asgigen.errors import Interrupted

processes.install()
real = processes.register
def register(pid):
    with open(sys.argv[1], "w") as pidfile:
        pidfile.write(str(pid))
    os.kill(os.getpid(), signal.SIGHUP)
    real(pid)
processes.register = register
try:
    processes.run([sys.executable, "-c", sys.argv[2]])
except Interrupted as err:
    sys.exit(err.exit_code)
sys.exit("the child ended: not interrupted")
"""


# The signal lands in the main thread just after the child started and was registered (a
# hook on `start` sends it): the child goes, and is reaped and unregistered before asgigen
# unwinds, so that no pid of it is left to signal at exit.
AFTER_STARTED = """
import os, signal, sys
from asgigen import processes
from asgigen.errors import Interrupted

processes.install()
real = processes.start
def start(*args, **options):
    process = real(*args, **options)
    with open(sys.argv[1], "w") as pidfile:
        pidfile.write(str(process.pid))
    os.kill(os.getpid(), signal.SIGHUP)
    return process
processes.start = start
try:
    processes.run([sys.executable, "-c", sys.argv[2]])
except Interrupted as err:
    sys.exit(f"still registered: {processes._children}" if processes._children else err.exit_code)
sys.exit("the child ended: not interrupted")
"""


@pytest.mark.parametrize(
    "script",
    [ANOTHER_THREAD, BEFORE_REGISTERED, AFTER_STARTED],
    ids=["thread", "before-registered", "after-started"],
)
def test_sighup_stops_the_child_and_exits_129(script: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(pidfile), HOLD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if script is ANOTHER_THREAD:
        wait_for(lambda: pidfile.exists() and pidfile.read_text() != "", 60, "child registered")
        os.kill(process.pid, signal.SIGHUP)
    try:
        _, stderr = process.communicate(timeout=60)  # a bound: it takes well under a second
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    finally:
        child = int(pidfile.read_text()) if pidfile.exists() else 0
        outlived = child != 0 and alive(child)
        if outlived:
            os.kill(child, signal.SIGKILL)
    assert process.returncode == 129, stderr  # -9: still running 60 s after SIGHUP
    assert child != 0, "the script started no child"
    assert not outlived


# `check` imports the contract's app in the thread that boots the servers, while the main
# thread runs the project's tests; here the import never ends (an app that connects to
# something at import time). A signal must stop it, not wait for the import's timeout.
HANGING_IMPORT = """
import os, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from asgigen import processes
from asgigen.app_check import verify_app
from asgigen.contract import Contract
from asgigen.errors import Interrupted

processes.install()
project = Path(sys.argv[1])
contract = Contract(project, "test", "hanging:app")
env = {**os.environ, "PYTHONPATH": str(project)}
try:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(verify_app, sys.executable, contract, env).result()
except Interrupted as err:
    sys.exit(err.exit_code)
sys.exit("the import ended: not interrupted")
"""


def test_sighup_stops_an_app_import_in_the_boot_thread(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    (tmp_path / "hanging.py").write_text(
        f"import os\nwith open({str(pidfile)!r}, 'w') as f:\n    f.write(str(os.getpid()))\n" + HOLD
    )
    process = subprocess.Popen(
        [sys.executable, "-c", HANGING_IMPORT, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text() != "", 60, "import started")
        os.kill(process.pid, signal.SIGHUP)
        _, stderr = process.communicate(timeout=60)  # a bound: it takes well under a second
    except (subprocess.TimeoutExpired, AssertionError):
        process.kill()
        _, stderr = process.communicate()
    finally:
        child = int(pidfile.read_text()) if pidfile.exists() and pidfile.read_text() else 0
        outlived = child != 0 and alive(child)
        if outlived:
            os.kill(child, signal.SIGKILL)
    assert process.returncode == 129, stderr  # -9: still running 60 s after SIGHUP
    assert not outlived


def test_a_child_started_while_stopping_is_killed_and_forgotten() -> None:
    """Registered after the signal: killed at once, and not kept in the register, whose
    stop_all at exit would otherwise signal its pid after it is reaped and reused."""
    child = subprocess.Popen([sys.executable, "-c", HOLD], start_new_session=True)
    processes._stopped_by.append(signal.SIGTERM)
    try:
        with pytest.raises(Interrupted):
            processes.register(child.pid)
        assert child.wait(timeout=30) == -signal.SIGKILL
        assert child.pid not in processes._children
    finally:
        processes._stopped_by.clear()
        processes.unregister(child.pid)
        if child.poll() is None:
            child.kill()
            child.wait()
