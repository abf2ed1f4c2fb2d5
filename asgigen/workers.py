"""Which worker process of a server answered a connection, found from the outside (Linux).

A server started with several workers (Uvicorn's `--workers`, Granian's, Hypercorn's) shares
one listening port among processes of its session. Which one accepted a connection is not in
the answer, and asking the app to say (a response header with its pid) would need every
template to add one. The kernel knows: the server side of an open connection is a socket
whose inode is in /proc/net/tcp, and the process holding it has that inode among its file
descriptors. So `worker_of` keeps a keep-alive connection open after its answer and looks it
up; `prove_workers` sends connections until at least two workers answered, then SIGTERM to
the main process must stop every one of them (none killed).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from asgigen.errors import CheckFailedError

_PROC = Path("/proc")


def _hex_address(host: str, port: int) -> str:
    """127.0.0.1:8000 as /proc/net/tcp writes it: 0100007F:1F40 (little-endian IPv4)."""
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def socket_inode(tcp_table: str, server: tuple[str, int], client: tuple[str, int]) -> int | None:
    """The inode of the server's end of the connection server <-> client, from the text of
    /proc/net/tcp; None when it is not there."""
    local, remote = _hex_address(*server), _hex_address(*client)
    for line in tcp_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[1] == local and fields[2] == remote:
            inode = int(fields[9])
            return inode or None
    return None


def listening_inode(tcp_table: str, server: tuple[str, int]) -> int | None:
    """The inode of the socket listening on `server`, from the text of /proc/net/tcp."""
    local = _hex_address(*server)
    for line in tcp_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[9]) or None
    return None


def listeners(host: str, port: int, session: int) -> int:
    """How many processes of the server's session hold its listening socket: 1 for a single
    process; the workers and the main process that shares the socket with them otherwise."""
    try:
        inode = listening_inode((_PROC / "net" / "tcp").read_text(), (host, port))
    except OSError:
        return 0
    if inode is None:
        return 0
    target = f"socket:[{inode}]"
    count = 0
    for pid in session_pids(session):
        try:
            fds = list((_PROC / str(pid) / "fd").iterdir())
        except OSError:
            continue
        count += any(_link(fd) == target for fd in fds)
    return count


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def session_pids(session: int) -> list[int]:
    """The processes of a session (a server started with start_new_session: its pid)."""
    pids = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, split after its ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


def holder(inode: int, pids: list[int]) -> int | None:
    """Which of `pids` has the socket `inode` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = list((_PROC / str(pid) / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


def worker_of(host: str, port: int, path: str, session: int) -> tuple[int | None, int]:
    """GET `path` on a connection of its own; the pid of the process that answered it (None
    when not found) and the status."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if connection.sock is None:  # the server closed it: no keep-alive, nothing to look up
            return None, response.status
        client = connection.sock.getsockname()
        table = (_PROC / "net" / "tcp").read_text()
        inode = socket_inode(table, (host, port), (client[0], client[1]))
        pid = holder(inode, session_pids(session)) if inode else None
        return pid, response.status
    except (OSError, http.client.HTTPException) as err:
        raise CheckFailedError(f"GET {path} failed: {err}") from None
    finally:
        connection.close()


def prove_workers(
    process: subprocess.Popen[bytes],
    host: str,
    port: int,
    path: str,
    expected: int,
    *,
    attempts: int = 200,
    grace: float = 30.0,
) -> str:
    """At least two of the server's `expected` workers answer (connections spread across
    them), then SIGTERM to the main process stops all of them within `grace`. Raises
    CheckFailedError saying what did not hold; returns a summary."""
    seen: dict[int, int] = {}
    for _ in range(attempts):
        pid, status = worker_of(host, port, path, process.pid)
        if status >= 500:
            raise CheckFailedError(f"GET {path} answered {status}")
        if pid is not None:
            seen[pid] = seen.get(pid, 0) + 1
        if len(seen) >= min(expected, 2) and sum(seen.values()) >= 2 * expected:
            break
    if len(seen) < 2:
        raise CheckFailedError(
            f"{sum(seen.values())} connections were all answered by one process "
            f"({', '.join(map(str, seen)) or 'none found'}), though {expected} workers were asked",
            hint="the start command must read the workers setting (e.g. uvicorn --workers)",
        )
    before = set(session_pids(process.pid))
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        raise CheckFailedError(f"the server did not stop within {grace:.0f} s of SIGTERM") from None
    while (left := set(session_pids(process.pid)) & before) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        raise CheckFailedError(f"workers {sorted(left)} still ran after the server stopped")
    if process.returncode not in (0, -15):
        raise CheckFailedError(f"the server exited with code {process.returncode} on SIGTERM")
    spread = ", ".join(f"pid {pid}: {count}" for pid, count in sorted(seen.items()))
    return f"{len(seen)} workers answered ({spread}); SIGTERM stopped all {len(before)} processes"
