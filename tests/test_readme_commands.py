"""Every command a generated README shows works when run as written."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgigen import generate
from asgigen.servers import free_port

pytestmark = pytest.mark.e2e


def code_blocks(readme: str, heading: str) -> list[str]:
    """The shell lines of the ```sh blocks under `## heading`, comments stripped."""
    section = readme.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def shell(command: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Every command runs in the venv the README's first command made and activated.
    activate = ". .venv/bin/activate && " if (cwd / ".venv").exists() else ""
    return subprocess.run(
        ["bash", "-c", activate + command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def background(command: str, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    process = subprocess.Popen(
        ["bash", "-c", ". .venv/bin/activate && exec " + command],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)  # the server itself: the shell exec'd it
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(url: str, timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_readme_commands_work_as_written(tmp_path: Path, style: str) -> None:
    port = free_port()
    request = generate.GenerateRequest(
        target=tmp_path / "readme-demo",
        style=style,
        data={"port": port},
        defaults=True,
        interactive=False,
    )
    project = generate.new_project(request).path
    readme = (project / "README.md").read_text()

    install, run = code_blocks(readme, "Run it")
    result = shell(install, project)
    assert result.returncode == 0, result.stderr[-3000:]
    with background(run, project):
        assert json.loads(wait_for(f"http://127.0.0.1:{port}/health")) == {"status": "ok"}

    for command in code_blocks(readme, "Test and lint"):
        result = shell(command, project)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}{result.stderr[-2000:]}"

    servers = code_blocks(readme, "Run it under another server")
    assert len(servers) == 4
    result = shell("pip install -e '.[servers]'", project)
    assert result.returncode == 0, result.stderr[-3000:]
    for command in servers:
        with background(command, project):
            body = wait_for(f"http://127.0.0.1:{port}/")
        assert body == b"Hello, ASGI world!", command
