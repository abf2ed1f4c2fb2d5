"""SIGINT and SIGTERM to asgigen: nothing it started outlives it, nothing is half-written."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import asgigen_env, run_asgigen
from tests.inline_projects import write_files

pytestmark = pytest.mark.e2e

# A test the project runs first: it starts a listening server in a session of its own (as a
# live-server test may), says where it is, then blocks on a FIFO nobody ever writes to.
HOLDING_TEST = '''
import os
import shutil
import subprocess
import sys
from pathlib import Path

SERVER = """
import os, socket, sys
from pathlib import Path
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
events = Path(sys.argv[1])
(events / "server.tmp").write_text(f"{os.getpid()} {listener.getsockname()[1]}")
(events / "server.tmp").rename(events / "server")
while True:
    listener.accept()[0].close()
"""


def test_holds_a_live_server() -> None:
    events = Path(os.environ["HOLD_DIR"])
    subprocess.Popen([sys.executable, "-c", SERVER, str(events)], start_new_session=True)
    with open(events / "hold") as fifo:  # blocks until asgigen is stopped
        fifo.read()
'''


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet is not: it holds no socket)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def holding_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signals")
    made = run_asgigen("new", "holding", "--style", "raw", "--no-check", "--no-git", cwd=root)
    assert made.returncode == 0, made.stderr
    write_files(root / "holding", {"tests/test_aaa_hold.py": HOLDING_TEST})
    return root / "holding"


@pytest.fixture
def events(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "events"
    directory.mkdir()
    os.mkfifo(directory / "hold")
    yield directory
    server = directory / "server"
    if server.exists():  # the test failed: don't leave the server it started behind
        pid = int(server.read_text().split()[0])
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGTERM, 143, "error: terminated"),
        (signal.SIGINT, 130, "error: interrupted"),
        (signal.SIGHUP, 129, "error: terminated"),  # the terminal it ran in was closed
    ],
)
def test_a_signal_stops_what_the_tests_started_and_exits_with_its_code(
    holding_project: Path, events: Path, signum: int, code: int, line: str
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "asgigen", "check", str(holding_project)],
        env=asgigen_env(HOLD_DIR=str(events)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: (events / "server").exists() or process.poll() is not None,
            600,
            "the project's test started its server",
        )
        assert process.poll() is None, process.communicate()
        pid, port = (int(part) for part in (events / "server").read_text().split())
        assert accepts(port)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in stderr
    wait_for(lambda: not alive(pid) and not accepts(port), 30, "the tests' server is gone")


# A git that, asked to commit, says so and then waits on a FIFO nobody writes to: a point
# where `new` is busy making the repository, where SIGINT arrives.
SLOW_GIT = """#!{python}
import os
import shutil
import sys
from pathlib import Path

if "commit" in sys.argv[1:]:
    events = Path(os.environ["GIT_EVENTS"])
    (events / "committing").touch()
    with open(events / "hold") as fifo:
        fifo.read()
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
"""


def complete_or_absent(project: Path) -> None:
    """What an interrupted `new` may leave: the project with its commit, or nothing at all."""
    leftovers = [path.name for path in project.parent.iterdir() if ".asgigen-" in path.name]
    assert leftovers == []  # no staging directory either
    if not project.exists():
        return
    git = ["git", "-C", str(project)]
    committed = subprocess.run([*git, "log", "--oneline"], capture_output=True, text=True)
    assert committed.returncode == 0, committed.stderr
    assert len(committed.stdout.splitlines()) == 1, committed.stdout
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == "", status.stdout


def test_sigint_while_the_repository_is_made_leaves_nothing(
    workdir: Path, events: Path, tmp_path: Path
) -> None:
    real_git = shutil.which("git")
    assert real_git is not None
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(SLOW_GIT.format(python=sys.executable, git=real_git))
    wrapper.chmod(0o755)
    env = asgigen_env(
        GIT_EVENTS=str(events), PATH=f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "asgigen", "new", "demo", "--style", "raw", "--no-check"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: (events / "committing").exists() or process.poll() is not None,
            120,
            "new started the commit",
        )
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted"
    assert not (workdir / "demo").exists()
    complete_or_absent(workdir / "demo")


def test_sigint_right_after_the_rendered_line_leaves_a_complete_project(
    workdir: Path, holding_project: Path
) -> None:
    # The same requirements as holding_project: its check environment is already built.
    process = subprocess.Popen(
        [sys.executable, "-m", "asgigen", "new", "demo", "--style", "raw"],
        cwd=workdir,
        env=asgigen_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if line.lstrip().startswith("rendered"):
                process.send_signal(signal.SIGINT)
                break
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    complete_or_absent(workdir / "demo")
