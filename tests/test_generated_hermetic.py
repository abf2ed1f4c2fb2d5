"""A generated project's tests do not depend on the caller's environment.

The generated README tells users to export `<PKG>_PORT`, `<PKG>_MAX_BODY_SIZE`... and many
shells export `http_proxy`. `pytest` in the project must pass all the same: the in-process
tests start from the defaults, the live tests build the server's environment from a clean
base, and loopback requests never go through a proxy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from asgigen import generate

STYLES = ["raw", "routed", "fastapi"]


def closed_port() -> int:
    """A port nothing listens on: a proxy there refuses every connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hostile_environment() -> dict[str, str]:
    proxy = f"http://127.0.0.1:{closed_port()}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_") and key not in {"PYTHONDONTWRITEBYTECODE", "NO_PROXY"}
    }
    env.pop("no_proxy", None)
    env.update(
        {
            # What the README tells users to set, with values the tests must not see.
            "DEMO_PORT": "9999",
            "DEMO_HOST": "0.0.0.0",
            "DEMO_MAX_BODY_SIZE": "5",
            "DEMO_ROOT_PATH": "/elsewhere",
            "DEMO_LOG_LEVEL": "critical",
            "DEMO_WORKERS": "2",
            "DEMO_ACCESS_LOG": "false",
            "DEMO_TIMEOUT_GRACEFUL_SHUTDOWN": "0",
            "WEB_CONCURRENCY": "3",
            # A proxy that refuses everything: 127.0.0.1 must never be sent to it.
            "http_proxy": proxy,
            "HTTP_PROXY": proxy,
            "all_proxy": proxy,
            "ALL_PROXY": proxy,
        }
    )
    return env


@pytest.mark.e2e
@pytest.mark.parametrize("style", STYLES)
def test_generated_tests_pass_whatever_the_caller_exported(tmp_path: Path, style: str) -> None:
    request = generate.GenerateRequest(
        target=tmp_path / "demo", style=style, defaults=True, interactive=False
    )
    project = generate.new_project(request).path
    if style == "fastapi":
        # Settings read .env from the working directory: the tests must not see it either.
        (project / ".env").write_text("DEMO_MAX_BODY_SIZE=5\nDEMO_PORT=9999\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=project,
        env=hostile_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "test_live.py" not in result.stdout  # no live test failed or was skipped
