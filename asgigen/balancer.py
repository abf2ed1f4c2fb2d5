"""A real load balancer in front of a project's replicas: HAProxy from the machine's packages.

`asgigen check --replicas N` starts it like the throwaway PostgreSQL: its configuration in a
temporary directory, on a free loopback port, health-checking each replica's readiness path,
and always stopped (by its pid) and removed. Its admin socket says which replica is UP or
DOWN and how many requests each one got; it also moves a replica to a replacement's port.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asgigen.errors import CheckFailedError

INSTALL_HINT = "install HAProxy: apt-get install haproxy (Debian, Ubuntu)"
BACKEND = "replicas"
# Health checks every 100 ms; two misses mark a replica DOWN, two answers mark it UP again.
CHECK_INTER_MS = 100
CHECK_FALL = 2
CHECK_RISE = 2


def haproxy_binary() -> Path | None:
    """HAProxy on PATH, or where Debian's package puts it (/usr/sbin, not on a user's PATH)."""
    found = shutil.which("haproxy")
    if found:
        return Path(found)
    debian = Path("/usr/sbin/haproxy")
    return debian if debian.is_file() and os.access(debian, os.X_OK) else None


def server_name(index: int) -> str:
    return f"r{index + 1}"


def config(port: int, ready: str, backends: list[int], admin_socket: Path) -> str:
    """HAProxy's configuration: round robin over `backends` (ports on 127.0.0.1), each
    health-checked on GET `ready` (200 only: a 503 drains it), failed connections retried on
    another replica."""
    servers = "\n".join(
        f"    server {server_name(i)} 127.0.0.1:{backend} check"
        for i, backend in enumerate(backends)
    )
    every = f"{CHECK_INTER_MS}ms"
    timing = f"inter {every} fastinter {every} downinter {every}"
    timing += f" fall {CHECK_FALL} rise {CHECK_RISE}"
    return f"""global
    stats socket {admin_socket} mode 600 level admin
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch

frontend front
    bind 127.0.0.1:{port}
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    option httpchk GET {ready}
    http-check expect status 200
    default-server {timing}
{servers}
"""


@dataclass(frozen=True)
class ServerState:
    name: str
    status: str  # "UP", "DOWN", "MAINT", "UP 1/2" (going down), "DOWN 1/2" (coming up)...
    sessions: int  # requests (one per connection here) it was sent in all
    check: str = ""  # its last health check: "L7STS 503" (an answer but 200), "L4CON"...


@dataclass
class Balancer:
    port: int
    admin_socket: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"

    def command(self, line: str) -> str:
        """One command on HAProxy's admin socket; its answer."""
        chunks = []
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(str(self.admin_socket))
                sock.sendall(line.encode() + b"\n")
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as err:
            raise CheckFailedError(
                f"HAProxy's admin socket did not answer {line.split()[0]!r}: {err}",
                details=self.log_tail(),
            ) from None
        return b"".join(chunks).decode(errors="replace")

    def states(self) -> dict[str, ServerState]:
        """Each replica's state, by server name."""
        return parse_stat(self.command("show stat"))

    def move(self, name: str, port: int) -> None:
        """Point server `name` at a replacement listening on `port`."""
        answer = self.command(f"set server {BACKEND}/{name} addr 127.0.0.1 port {port}")
        if "changed" not in answer.lower() and "no need" not in answer.lower():
            raise CheckFailedError(f"HAProxy did not move {name} to port {port}: {answer.strip()}")

    def wait_for(self, name: str, status: str, deadline: float) -> ServerState | None:
        """Poll until HAProxy reports server `name` exactly `status` ("UP" or "DOWN"), or the
        deadline (time.monotonic) passes; its state then, or None if it never was."""
        while time.monotonic() < deadline:
            state = self.states().get(name)
            if state is not None and state.status == status:
                return state
            time.sleep(CHECK_INTER_MS / 4000)
        return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def parse_stat(text: str) -> dict[str, ServerState]:
    """The replicas' rows of HAProxy's `show stat` CSV (header line starts with "# ")."""
    lines = text.lstrip("# ").splitlines()
    states: dict[str, ServerState] = {}
    for row in csv.DictReader(lines):
        if row.get("pxname") != BACKEND or row.get("svname") in ("FRONTEND", "BACKEND", None):
            continue
        name = row["svname"]
        check = " ".join(filter(None, (row.get("check_status"), row.get("check_code"))))
        stot = int(row.get("stot") or 0)
        states[name] = ServerState(name, row.get("status", ""), stot, check.strip("* "))
    return states


@contextlib.contextmanager
def running_balancer(ready: str, backends: list[int], timeout: float = 20.0) -> Iterator[Balancer]:
    """HAProxy in front of `backends`, until every one is UP; always stopped and removed."""
    binary = haproxy_binary()
    if binary is None:
        raise CheckFailedError(
            "the replicas need a load balancer, and haproxy is not installed", hint=INSTALL_HINT
        )
    with tempfile.TemporaryDirectory(prefix="asgigen-haproxy-") as directory:
        root = Path(directory)
        admin = root / "admin.sock"
        log_path = root / "haproxy.log"
        port = _free_port()
        config_path = root / "haproxy.cfg"
        config_path.write_text(config(port, ready, backends, admin), encoding="utf-8")
        check = subprocess.run(
            [str(binary), "-c", "-q", "-f", str(config_path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if check.returncode != 0:
            raise CheckFailedError(
                "HAProxy refused the configuration asgigen wrote",
                details=(check.stdout + check.stderr).strip(),
            )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(binary), "-db", "-f", str(config_path)],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        balancer = Balancer(port, admin, process, log_path)
        try:
            _wait_started(balancer, len(backends), time.monotonic() + timeout)
            yield balancer
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_started(balancer: Balancer, count: int, deadline: float) -> None:
    """Until the admin socket answers and all `count` replicas are UP."""
    states: dict[str, ServerState] = {}
    while time.monotonic() < deadline:
        if balancer.process.poll() is not None:
            raise CheckFailedError(
                f"haproxy exited with code {balancer.process.returncode} on start",
                details=balancer.log_tail(),
            )
        with contextlib.suppress(CheckFailedError):  # the socket is not there yet
            states = balancer.states()
            if len(states) == count and all(s.status == "UP" for s in states.values()):
                return
        time.sleep(CHECK_INTER_MS / 4000)
    seen = ", ".join(f"{s.name} {s.status}" for s in states.values()) or "no answer"
    raise CheckFailedError(
        f"HAProxy did not see every replica ready (readiness 200) in time: {seen}",
        details=balancer.log_tail(),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
