"""asgigen.processes: the children asgigen starts are registered and go with it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from asgigen import processes
from asgigen.errors import Interrupted
from tests.test_signals import accepts, alive, wait_for

# Starts a grandchild in a session of its own (out of the child's process group), prints
# its pid, then waits: what a project's test may do with its live server.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(600)
"""


def test_kill_tree_reaches_a_grandchild_in_a_session_of_its_own(tmp_path: Path) -> None:
    import subprocess

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert parent.stdout is not None
    grandchild = int(parent.stdout.readline())
    try:
        processes.register(parent.pid)
        processes.stop_all()
        parent.wait(timeout=30)
        wait_for(lambda: not alive(grandchild), 30, "the grandchild is gone")
    finally:
        processes.unregister(parent.pid)
        for pid in (parent.pid, grandchild):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait()


def test_a_signal_during_a_deferred_step_is_raised_after_it() -> None:
    done = []
    previous = signal.getsignal(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, processes._on_signal)

    def step() -> None:
        with processes.deferred():
            os.kill(os.getpid(), signal.SIGUSR1)
            done.append("the rest of the step")

    try:
        with pytest.raises(Interrupted) as info:
            step()
        assert done == ["the rest of the step"]
        assert info.value.exit_code == 128 + signal.SIGUSR1
    finally:
        signal.signal(signal.SIGUSR1, previous)
        processes._stopped_by.clear()


@pytest.mark.e2e
def test_the_throwaway_postgresql_goes_with_asgigen() -> None:
    from asgigen import services

    if services.postgres_binaries() is None:
        pytest.skip("PostgreSQL's server binaries are not installed")
    with services.throwaway_postgres() as url:
        port = urlsplit(url).port
        assert port is not None
        assert accepts(port)
        processes.stop_all()  # what SIGINT or SIGTERM does before asgigen unwinds
        wait_for(lambda: not accepts(port), 30, "PostgreSQL stopped listening")
