"""A generated project for a benchmark: made with `asgigen new`, served on a free loopback port.

Shared by autobahn.py and hostile_clients.py (run as `python benchmarks/<script>.py`, so this
folder is on sys.path): each generates its project, then starts, waits for and stops its server
the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


class DidNotStart(Exception):
    """The server exited, or did not listen in time; the message is its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(project: Path, style: str) -> None:
    """`asgigen new PROJECT --style STYLE` with the defaults, no check and no git repository."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "asgigen",
            "new",
            str(project),
            "--style",
            style,
            "--defaults",
            "--no-check",
            "--no-git",
            "-q",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def listening(port: int, process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether something listens on the loopback port before `process` exits or time is up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a process manager stops a server; killed if it has not exited in 15 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_server(
    project: Path,
    package: str,
    command: list[str],
    port: int,
    log_path: Path,
    settings: dict[str, str] | None = None,
    seconds: float = 30,
) -> subprocess.Popen[bytes]:
    """The project's server running `command`, listening on `port`, its output in `log_path`
    (the caller stops it: `stop`). Its environment is the caller's without the project's own
    settings (`<PACKAGE>_*`), then its port, no access log and `settings` (names without the
    prefix). Raises DidNotStart with the log when it does not listen within `seconds`."""
    prefix = package.upper() + "_"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    environ |= {prefix + "PORT": str(port), prefix + "ACCESS_LOG": "false"}
    environ |= {prefix + k: v for k, v in (settings or {}).items()}
    environ["PYTHONPATH"] = str(project / "src")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=project, env=environ, stdout=log, stderr=subprocess.STDOUT
        )
    if not listening(port, process, seconds):
        stop(process)
        raise DidNotStart(log_path.read_text(errors="replace"))
    return process
