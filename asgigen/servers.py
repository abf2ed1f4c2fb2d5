"""How to start each ASGI server on a project, wait until it answers, and stop it."""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from asgigen import processes
from asgigen.contract import Contract
from asgigen.errors import CheckFailedError
from asgigen.ports import free_port
from asgigen.probes import request
from asgigen.server_log import find_cause
from asgigen.steps import project_env


@dataclass(frozen=True)
class ServerSpec:
    name: str
    requirement: str  # what the check environment installs to run it
    runs_lifespan: bool = True
    # Why the contract's WebSocket probes are not sent under it (None: they are).
    websocket_reason: str | None = None

    def probed(self, contract: Contract) -> Contract:
        """The contract as probed under this server: without its WebSocket probes when the
        server is not supported for WebSockets (the boot's summary says so, with the reason)."""
        if self.websocket_reason is None or not contract.websocket_echo:
            return contract
        return replace(contract, websocket_echo=())

    def loads_app(self, contract: Contract) -> bool:
        """It loads the contract's `app` itself (not the project's own `run` command)."""
        return contract.app is not None and not (self.name == "uvicorn" and contract.run)

    def command(self, python: str, contract: Contract, host: str, port: int) -> list[str]:
        """How to start the project under this server, on `host:port`."""
        if self.name == "uvicorn" and contract.run:
            # The project's own entry point: its settings decide how Uvicorn runs.
            return [python if part == "python" else part for part in contract.run]
        if contract.app is None:
            raise CheckFailedError(f"{contract.project.name} declares no ASGI app")
        app = contract.app
        if self.name == "uvicorn":
            return [python, "-m", "uvicorn", "--host", host, "--port", str(port), app]
        if self.name == "hypercorn":
            return [python, "-m", "hypercorn", "--bind", f"{host}:{port}", app]
        if self.name == "daphne":
            return [python, "-m", "daphne", "-b", host, "-p", str(port), app]
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
                app,
            ]
        raise ValueError(self.name)


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("uvicorn", "uvicorn[standard]>=0.30"),
        ServerSpec("hypercorn", "hypercorn>=0.17"),
        # Daphne 4.2 fails Autobahn 1-10 with every style's echo: it drops empty messages and
        # times out on 1 MB and fragmented ones (benchmarks/README.md, docs/check.md).
        ServerSpec(
            "daphne",
            "daphne>=4.1",
            runs_lifespan=False,
            websocket_reason="Daphne is HTTP-only here (fails Autobahn: empty and 1 MB messages)",
        ),
        ServerSpec("granian", "granian>=2.0"),
    )
}


@dataclass
class RunningServer:
    spec: ServerSpec
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    reproduce: str = ""  # a shell command that starts it again the same way

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def server_env(
    contract: Contract,
    host: str,
    port: int,
    services: dict[str, str] | None = None,
    python: str | None = None,
) -> dict[str, str]:
    """The environment a server starts in: the contract's python path, address and settings,
    and the URLs of the services it uses."""
    paths = list(contract.import_paths)
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    extra = {"PYTHONUNBUFFERED": "1"}
    if paths:
        extra["PYTHONPATH"] = os.pathsep.join(paths)
    if contract.host_env:
        extra[contract.host_env] = host
    if contract.port_env:
        extra[contract.port_env] = str(port)
    # WEB_CONCURRENCY (read by Uvicorn) must not change how the check boots the project.
    env = project_env({**dict(contract.env), **(services or {}), **extra}, python)
    env.pop("WEB_CONCURRENCY", None)
    return env


@contextlib.contextmanager
def running_server(
    spec: ServerSpec,
    *,
    python: str,
    contract: Contract,
    host: str = "127.0.0.1",
    ready_timeout: float = 60.0,
    services: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Start `spec` on a free port, wait until the ready path answers, and always stop it.
    `services` are variables naming the URLs of the services it uses (a database)."""
    for attempt in range(1, BIND_ATTEMPTS + 1):
        server = _start(spec, python=python, contract=contract, host=host, services=services)
        try:
            _wait_ready(server, contract.ready, ready_timeout)
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
    spec: ServerSpec,
    *,
    python: str,
    contract: Contract,
    host: str,
    services: dict[str, str] | None = None,
) -> RunningServer:
    port = free_port(host)
    command = spec.command(python, contract, host, port)
    log_fd, log_name = tempfile.mkstemp(prefix=f"asgigen-{spec.name}-", suffix=".log")
    try:
        # In a session of its own, so a Ctrl-C meant for asgigen doesn't hit it first, and
        # registered, so that it goes with asgigen, however that is stopped.
        process = processes.start(
            command,
            cwd=contract.project,
            env=server_env(contract, host, port, services, python),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
        )
    finally:
        os.close(log_fd)
    shown = reproduce_command(command, contract, host, port)
    return RunningServer(spec, process, host, port, Path(log_name), shown)


def reproduce_command(command: list[str], contract: Contract, host: str, port: int) -> str:
    """`command` as a line to paste in a shell: in the project, with the variables the check
    set for it (the python path, the contract's env, its address). The URLs of throwaway
    services are left out: they are gone when the check ends."""
    variables = {"PYTHONPATH": os.pathsep.join(contract.import_paths), **dict(contract.env)}
    if contract.host_env:
        variables[contract.host_env] = host
    if contract.port_env:
        variables[contract.port_env] = str(port)
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())
    return f"cd {shlex.quote(str(contract.project))} && {assignments} {shlex.join(command)}"


def _wait_ready(server: RunningServer, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            cause = find_cause(server.log_tail(200))
            message = f"{server.spec.name} exited with code {server.process.returncode}"
            message += " before answering" + (f": {cause.line}" if cause.line else "")
            raise CheckFailedError(message, details=cause.excerpt, hint=server.reproduce)
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5):
                pass
        except OSError:
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)
            continue
        try:
            request(server.host, server.port, "GET", path, timeout=5)
            return  # it answers; the probes judge the status
        except (OSError, http.client.HTTPException):
            time.sleep(delay)
    raise CheckFailedError(
        f"{server.spec.name} did not answer on {server.base_url} within {timeout:.0f} s",
        details=server.log_tail(),
        hint=server.reproduce,
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
    processes.unregister(process.pid)
    return process.returncode
