"""The fastapi style's OpenAPI schema tells the truth: Schemathesis, every check, no failure.

A generated fastapi project is served by `python -m demo` (Uvicorn) on a free loopback port,
and `st run <url>/openapi.json --checks all` fuzzes every operation against it: status codes,
content types, headers and bodies must all be the ones the schema documents. Each database
variant: SQLite (the default), PostgreSQL (a throwaway server) and none.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgigen import generate, services

ST = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
# e2e: each variant generates a project and serves it (PostgreSQL on a throwaway server).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ST is None, reason="schemathesis is not installed"),
]
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment() -> dict[str, str]:
    """The caller's environment without proxies (loopback never goes through one)."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in PROXY_VARIABLES and not key.startswith("DEMO_")
    }


# Operations in each variant's schema: /, /health, /ready, /echo and the items.
OPERATIONS = {"sqlite": 9, "postgres": 9, "none": 5}


@pytest.fixture(scope="module", params=list(OPERATIONS))
def database(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and services.postgres_binaries() is None:
        pytest.skip(f"PostgreSQL is not installed ({services.INSTALL_HINT})")
    return str(request.param)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[str]:
    target = tmp_path_factory.mktemp("schemathesis") / "demo"
    request = generate.GenerateRequest(
        target=target,
        style="fastapi",
        data={"database": database},
        defaults=True,
        interactive=False,
    )
    project = generate.new_project(request).path
    with contextlib.ExitStack() as stack:
        extra = {}
        if database == "postgres":
            url = stack.enter_context(services.throwaway_postgres())
            extra["DEMO_DATABASE_URL"] = url
            env = {**clean_environment(), **extra, "PYTHONPATH": str(project / "src")}
            migrate = [sys.executable, "-m", "demo", "migrate"]
            subprocess.run(migrate, cwd=project, env=env, check=True, capture_output=True)
        yield from _serve(project, extra)


def _serve(project: Path, extra: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {
        **clean_environment(),
        **extra,
        "PYTHONPATH": str(project / "src"),
        "DEMO_HOST": "127.0.0.1",
        "DEMO_PORT": str(port),
        "DEMO_LOG_LEVEL": "warning",
        # Stopped when the run is over, with no balancer to drain for (5 s by default).
        "DEMO_DRAIN_SECONDS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "demo"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def test_every_schemathesis_check_passes(served: str, database: str, tmp_path: Path) -> None:
    assert ST is not None
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            ST,
            "run",
            f"{served}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "20261125",
            "--workers",
            "1",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        env={**clean_environment(), "NO_COLOR": "1"},
        cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache where it runs
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = [line for line in result.stdout.splitlines() if "generated" in line]
    print("\n".join(summary))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert report.is_file(), result.stdout[-2000:]
    data = json.loads(report.read_text())
    cases = data["test_cases"]
    print(f"schemathesis: {cases['generated']} cases, {cases['with_failures']} with failures")
    assert data["operations"]["tested"] == data["operations"]["total"] == OPERATIONS[database]
    assert cases["generated"] > 50  # every operation was really exercised
    assert cases["with_failures"] == 0
    assert data["failures"] == []
    assert data["errors"] == []
