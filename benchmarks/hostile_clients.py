"""Hostile HTTP clients against a generated project's own server (`python -m <pkg>`), on loopback.

    python benchmarks/hostile_clients.py [--style raw|routed|fastapi] [--http h11|auto]
                                         [--stalled 1100] [--flood-mb 64]

Generates the project with `asgigen new --no-check --no-git`, starts it with its generated
settings (`--http auto` overrides only the parser, to compare with httptools), then measures:
the answer to a 2 MB header; a header that never ends (bytes the server takes before it closes,
its RSS before and after); half-sent request heads (kept open how long, does a new client still
get an answer, RSS); pipelined requests followed by a malformed one (how many answers come back).
Everything is bounded: counts by the options, each wait by a few seconds. Needs Linux (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from generated_project import DidNotStart, free_port, generate, listening, start_server, stop

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def connect(port: int, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_until_close(client: socket.socket, limit: float = 5) -> bytes:
    data = b""
    client.settimeout(limit)
    with contextlib.suppress(OSError):
        while chunk := client.recv(65536):
            data += chunk
    return data


def status_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode(errors="replace") or "(closed, no answer)"


@contextlib.contextmanager
def server(
    project: Path, package: str, http: str, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    code = (
        "import sys, uvicorn\n"
        f"from {package}.__main__ import APP, load_settings, server_options\n"
        "options = server_options(load_settings())\n"
        "options['http'] = sys.argv[1]\n"
        "uvicorn.run(APP, **options)\n"
    )
    command = [sys.executable, "-c", code, http]
    log_path = project / f"server-{http}.log"
    settings = {"LOG_LEVEL": "warning", **env}
    try:
        process = start_server(project, package, command, port, log_path, settings, seconds=20)
    except DidNotStart as err:
        raise SystemExit(f"error: the server did not start: {err}") from None
    try:
        yield port, process
    finally:
        stop(process)


def big_header(port: int) -> str:
    with connect(port) as client:
        start = time.perf_counter()
        with contextlib.suppress(OSError):
            client.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
                + b"a" * 2_000_000
                + b"\r\n\r\n"
            )
        answer = read_until_close(client)
        return f"{status_line(answer)} in {time.perf_counter() - start:.2f} s"


def endless_header(port: int, pid: int, megabytes: int) -> str:
    before = rss_mb(pid)
    sent = 0
    chunk = b"a" * 65536
    with connect(port) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        try:
            while sent < megabytes * 1_048_576:
                client.sendall(chunk)
                sent += len(chunk)
            outcome = f"still accepting after {megabytes} MB"
        except OSError as err:
            outcome = (
                f"connection closed after {sent / 1_048_576:.2f} MB sent ({type(err).__name__})"
            )
        after = rss_mb(pid)
    return f"{outcome}; server RSS {before:.0f} -> {after:.0f} MB"


def stalled(port: int, pid: int, count: int) -> str:
    before = rss_mb(pid)
    clients = []
    try:
        for _ in range(count):
            client = connect(port)
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            clients.append(client)
        during = rss_mb(pid)
        with connect(port) as fresh:
            fresh.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = status_line(read_until_close(fresh))
        # Does the server ever close a half-sent head? Wait on the first one, bounded.
        clients[0].settimeout(10)
        start = time.perf_counter()
        try:
            closed = clients[0].recv(1) == b""
            waited = f"closed by the server after {time.perf_counter() - start:.1f} s"
            if not closed:
                waited = "server sent data"
        except TimeoutError:
            waited = "still open after 10 s more"
    finally:
        for client in clients:
            client.close()
    rss = f"RSS {before:.0f} -> {during:.0f} MB"
    return f"{count} stalled: a new client gets {answer}; first stalled {waited}; {rss}"


def pipelined(port: int, malformed: bool = True) -> str:
    end = b"GARBAGE \x00 HTTP/9\r\n\r\n" if malformed else b""
    with connect(port) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + end)
        answer = read_until_close(client)
    statuses = [status.decode() for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
    what = "3 good + 1 malformed" if malformed else "3 good"
    return f"{what} pipelined: answers {statuses or 'none'}"


HAPROXY = """\
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request {timeout}s
frontend hostile
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server app 127.0.0.1:{upstream}
"""


def behind_haproxy(project: Path, upstream: int, timeout: int) -> str:
    """A half-sent head through HAProxy with `timeout http-request`: when and how it ends."""
    port = free_port()
    config = project / "haproxy.cfg"
    config.write_text(HAPROXY.format(timeout=timeout, port=port, upstream=upstream))
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        if not listening(port, proxy, 10):
            raise SystemExit("error: haproxy did not start")
        with connect(port) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            start = time.perf_counter()
            answer = read_until_close(client, limit=timeout + 10)
            took = time.perf_counter() - start
        return f"half-sent head: {status_line(answer)} after {took:.1f} s, connection closed"
    finally:
        proxy.terminate()
        proxy.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--style", default="raw", choices=["raw", "routed", "fastapi"])
    parser.add_argument("--http", default="h11", choices=["h11", "auto", "httptools"])
    parser.add_argument("--stalled", type=int, default=1100)
    parser.add_argument("--flood-mb", type=int, default=64)
    parser.add_argument("--haproxy-timeout", type=int, default=2, help="0: skip HAProxy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "hostile"
        generate(project, args.style)
        print(
            f"style {args.style}, http {args.http} (loopback, shared host: timings are indicative)"
        )
        # A cap above the stalled count, to see what the stalled clients cost; then the default.
        env = {"LIMIT_CONCURRENCY": str(args.stalled + 100)}
        with server(project, "hostile", args.http, env) as (port, process):
            print("2 MB header:", big_header(port))
            print("endless header:", endless_header(port, process.pid, args.flood_mb))
            print("pipelining:", pipelined(port, malformed=False))
            print("pipelining:", pipelined(port))
            print("stalled heads, cap above:", stalled(port, process.pid, args.stalled))
        with server(project, "hostile", args.http, {}) as (port, process):
            print("stalled heads, default cap 1000:", stalled(port, process.pid, args.stalled))
            if args.haproxy_timeout and shutil.which("haproxy"):
                timeout = args.haproxy_timeout
                result = behind_haproxy(project, port, timeout)
                print(f"behind HAProxy, timeout http-request {timeout}s:", result)
        log = (project / f"server-{args.http}.log").read_text()
        print("server log: ERROR lines", log.count(" ERROR "), "tracebacks", log.count("Traceback"))


if __name__ == "__main__":
    main()
