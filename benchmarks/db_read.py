"""`GET /items/{id}` read from SQLite: a generated fastapi project against hand-written
FastAPI + SQLAlchemy running the same query (benchmarks/reference/fastapi_sqlalchemy_items.py).

Both apps read one row from the same migrated SQLite file, under Uvicorn (one worker, no
access log), and wrk loads them in turns, the order flipping each round. The figure is the
median of the per-round ratios ours / reference; target 0.95 or better.

    .venv/bin/python benchmarks/db_read.py [--seconds 5] [--rounds 6]

Tools: wrk (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
from run_all import free_port, pin  # noqa: E402  (this folder is on sys.path)

FLAGS = ["--log-level", "warning", "--no-access-log", "--workers", "1"]


@contextlib.contextmanager
def uvicorn(app: str, pythonpath: list[Path], env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    command = [*pin(0), str(BIN / "uvicorn"), app, "--port", str(port), *FLAGS]
    process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{app} did not start")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start in time")
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def wrk(port: int, path: str, seconds: int) -> float:
    """Requests per second: 1 thread, 64 connections, after a 1 s warm-up; no errors."""
    url = f"http://127.0.0.1:{port}{path}"
    base = [*pin(1), "wrk", "-t1", "-c64"]
    subprocess.run([*base, "-d1s", url], check=True, capture_output=True)
    out = subprocess.run([*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if found is None or "Non-2xx" in out.stdout:
        raise RuntimeError(f"wrk failed or got errors:\n{out.stdout}")
    return float(found.group(1))


def get(port: int, path: str) -> bytes:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200, response.status
        return response.read()
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is not installed\nhint: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="asgigen-db-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "asgigen", "new", str(root / "demo"), "--style", "fastapi",
             "--no-check", "-d", "database=sqlite"],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        project = root / "demo"
        database = root / "items.db"
        url = f"sqlite+aiosqlite:///{database}"
        env = {"DEMO_DATABASE_URL": url, "REFERENCE_DATABASE_URL": url}
        migrate = [sys.executable, "-m", "demo", "migrate"]
        pythonpath = {**os.environ, **env, "PYTHONPATH": str(project / "src")}
        subprocess.run(migrate, cwd=root, env=pythonpath, check=True, capture_output=True)
        with sqlite3.connect(database) as connection:
            connection.execute("INSERT INTO items (name, description) VALUES ('cup', 'tea')")
        path = "/items/1"
        results: tuple[list[float], list[float]] = ([], [])
        with (
            uvicorn("demo.app:app", [project / "src"], env) as ours,
            uvicorn("fastapi_sqlalchemy_items:app", [HERE / "reference"], env) as reference,
        ):
            assert get(ours, path) == get(reference, path), "the two apps answer differently"
            print(f"both answer GET {path}: {get(ours, path).decode()}", file=sys.stderr)
            for round_number in range(options.rounds):
                order = (0, 1) if round_number % 2 == 0 else (1, 0)
                for side in order:
                    results[side].append(wrk((ours, reference)[side], path, options.seconds))
                print(f"round {round_number + 1}: {results[0][-1]:.0f} vs {results[1][-1]:.0f}",
                      file=sys.stderr)  # fmt: skip
    ratios = [a / b for a, b in zip(*results, strict=True)]
    print(
        f"GET {path} from SQLite, req/s (median of {options.rounds} rounds of {options.seconds} s)"
    )
    print(f"  generated fastapi (sqlite)    {statistics.median(results[0]):8.0f}")
    print(f"  hand-written FastAPI + SQLA   {statistics.median(results[1]):8.0f}")
    print(f"  ratio ours / reference        {statistics.median(ratios):8.2f}  (target >= 0.95)")


if __name__ == "__main__":
    main()
