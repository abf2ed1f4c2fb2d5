"""How to start each ASGI server on a project, wait until it answers, and stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asgigen.errors import CheckFailedError


@dataclass(frozen=True)
class ServerSpec:
    name: str
    module: str  # what must be importable by the project's interpreter
    install_hint: str
    runs_lifespan: bool = True

    def command(self, python: str, package: str, host: str, port: int) -> list[str]:
        target = f"{package}.app:app"
        if self.name == "uvicorn":
            # The project's own entry point: its settings decide how Uvicorn runs.
            return [python, "-m", package]
        if self.name == "hypercorn":
            return [python, "-m", "hypercorn", "--bind", f"{host}:{port}", target]
        if self.name == "daphne":
            return [python, "-m", "daphne", "-b", host, "-p", str(port), target]
        if self.name == "granian":
            return [
                python,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                "1",
                target,
            ]
        raise ValueError(self.name)


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("uvicorn", "uvicorn", "pip install 'uvicorn[standard]'"),
        ServerSpec("hypercorn", "hypercorn", "pip install 'asgigen[servers]'"),
        ServerSpec("daphne", "daphne", "pip install 'asgigen[servers]'", runs_lifespan=False),
        ServerSpec("granian", "granian", "pip install 'asgigen[servers]'"),
    )
}


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    spec: ServerSpec
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _env_prefix(package: str) -> str:
    return package.upper() + "_"


def server_env(project: Path, package: str, host: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    src = str(project / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    prefix = _env_prefix(package)
    env[prefix + "HOST"] = host
    env[prefix + "PORT"] = str(port)
    env.setdefault("PYTHONUNBUFFERED", "1")
    # A dev's .env or WEB_CONCURRENCY must not change how the check boots the project.
    env.pop("WEB_CONCURRENCY", None)
    env[prefix + "WORKERS"] = "1"
    return env


@contextlib.contextmanager
def running_server(
    spec: ServerSpec,
    *,
    python: str,
    project: Path,
    package: str,
    host: str = "127.0.0.1",
    ready_timeout: float = 20.0,
) -> Iterator[RunningServer]:
    """Start `spec` on a free port, wait until `/health` answers, and always stop it."""
    for attempt in range(1, BIND_ATTEMPTS + 1):
        server = _start(spec, python=python, project=project, package=package, host=host)
        try:
            _wait_ready(server, ready_timeout)
        except CheckFailedError:
            lost_port = _lost_the_port(server)  # read the log before it goes
            _shut_down(server)
            if lost_port and attempt < BIND_ATTEMPTS:
                continue
            raise
        break
    try:
        yield server
    finally:
        _shut_down(server)


def _shut_down(server: RunningServer) -> None:
    stop(server)
    with contextlib.suppress(OSError):
        server.log_path.unlink()


# A port found free can be taken before the server binds it (by another server started at the
# same moment, or as the local end of some client's connection): then start again elsewhere.
BIND_ATTEMPTS = 3


def _lost_the_port(server: RunningServer) -> bool:
    """The server exited because its port was taken (a timeout leaves it running: not that)."""
    if server.process.poll() in (None, 0):
        return False
    try:  # the whole start-up log: Granian follows the error with a long Rust backtrace
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "address already in use" in log.lower()


def _start(
    spec: ServerSpec, *, python: str, project: Path, package: str, host: str
) -> RunningServer:
    port = free_port(host)
    log_fd, log_name = tempfile.mkstemp(prefix=f"asgigen-{spec.name}-", suffix=".log")
    process = subprocess.Popen(
        spec.command(python, package, host, port),
        cwd=project,
        env=server_env(project, package, host, port),
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so a Ctrl-C meant for asgigen doesn't hit it first
    )
    os.close(log_fd)
    return RunningServer(spec, process, host, port, Path(log_name))


def _wait_ready(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise CheckFailedError(
                f"{server.spec.name} exited with code {server.process.returncode} before answering",
                details=server.log_tail(),
                hint="run the project by hand to see the whole traceback",
            )
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5):
                pass
        except OSError:
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)
            continue
        try:
            with urllib.request.urlopen(server.base_url + "/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; the checks will judge the status
        except OSError:
            time.sleep(delay)
    raise CheckFailedError(
        f"{server.spec.name} did not answer on {server.base_url} within {timeout:.0f} s",
        details=server.log_tail(),
    )


def stop(server: RunningServer, grace: float = 10.0) -> int | None:
    """SIGTERM to the server process (graceful shutdown), then SIGKILL its group if it hangs.

    Only the main process gets SIGTERM, as from a container runtime or a supervisor: it stops
    its own workers. Signalling the whole group at once races that shutdown, and Granian then
    hangs now and again (about one stop in ten here) with its worker half torn down.
    """
    process = server.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Whatever the server left behind in its group (a worker it failed to stop) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode
