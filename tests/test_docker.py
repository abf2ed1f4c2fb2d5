"""The generated Dockerfile builds and the container answers /health, where Docker runs.

No engine on the machine: skipped (the Dockerfile is still linted by hadolint and checked
structurally in test_template_production_files.py).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from asgigen import generate
from asgigen.servers import free_port

pytestmark = pytest.mark.e2e


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not docker_available(), reason="no Docker engine on this machine")
@pytest.mark.parametrize("style", ["raw", "fastapi"])
def test_image_builds_and_answers_health(tmp_path: Path, style: str) -> None:
    request = generate.GenerateRequest(
        target=tmp_path / f"img-{style}", style=style, defaults=True, interactive=False
    )
    project = generate.new_project(request).path
    tag = f"asgigen-test-{style}:latest"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(project)], check=True, timeout=900)
    port = free_port()
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8000", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the container never answered"
                time.sleep(0.5)
        user = subprocess.run(
            ["docker", "exec", container, "id", "-u"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert user != "0"
    finally:
        subprocess.run(["docker", "stop", "-t", "10", container], capture_output=True, check=False)
