"""End to end: `asgigen new` per style, and `asgigen check` under every server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STYLES = ["raw", "routed", "fastapi"]
SERVERS = ["uvicorn", "hypercorn", "daphne", "granian"]
pytestmark = pytest.mark.e2e


def asgigen(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "asgigen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def git_status(path: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=path, capture_output=True, text=True, check=False
    ).stdout


@pytest.mark.parametrize("style", STYLES)
def test_new_generates_and_proves_each_style(tmp_path: Path, style: str) -> None:
    result = asgigen("new", f"shop-{style}", "--style", style, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    rendered = next(line for line in lines if line.strip().startswith("rendered"))
    assert f"{style} template into ./shop-{style}" in rendered
    tests = next(line for line in lines if line.strip().startswith("tests"))
    assert " passed" in tests
    assert "failed" not in tests
    serve = next(line for line in lines if line.strip().startswith("serve"))
    assert "uvicorn 127.0.0.1:" in serve
    assert "GET / 200, /health 200" in serve
    assert "ws echo" in serve
    assert result.stdout.startswith(f"shop-{style} is ready: {tmp_path / f'shop-{style}'}")
    assert f"python -m shop_{style}" in result.stdout
    # The checks leave the project as generated: one commit, nothing to commit, no caches.
    project = tmp_path / f"shop-{style}"
    assert not list(project.rglob("__pycache__"))
    assert not (project / ".pytest_cache").exists()
    assert not (project / ".hypothesis").exists()
    assert git_status(project) == ""
    log = subprocess.run(
        ["git", "log", "--oneline"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert log.strip().endswith("Initial commit from asgigen")


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("projects")
    made = {}
    for style in STYLES:
        result = asgigen("new", f"m-{style}", "--style", style, "--no-check", cwd=root)
        assert result.returncode == 0, result.stderr
        made[style] = root / f"m-{style}"
    return made


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("style", STYLES)
def test_check_under_each_server(projects: dict[str, Path], style: str, server: str) -> None:
    result = asgigen(
        "check", str(projects[style]), "--server", server, "--json", cwd=projects[style]
    )
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["tests"]["status"] == "passed"
    # Each server is really started and answering: skipped would not do here.
    assert steps[f"serve:{server}"]["status"] == "passed", steps
    assert "GET / 200" in steps[f"serve:{server}"]["summary"]
    assert "ws echo" in steps[f"serve:{server}"]["summary"]


def test_check_reports_a_failing_test(tmp_path: Path) -> None:
    assert asgigen("new", "broken", "--style", "raw", "--no-check", cwd=tmp_path).returncode == 0
    project = tmp_path / "broken"
    (project / "tests" / "test_zz_broken.py").write_text(
        "def test_broken() -> None:\n    assert 1 + 1 == 3\n"
    )
    result = asgigen("check", str(project), cwd=tmp_path)
    assert result.returncode == 1
    assert "test_broken" in result.stderr
    assert "error: broken: tests failed: 1 failed" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("hint: cd ")


def test_check_reports_a_server_that_does_not_answer(tmp_path: Path) -> None:
    assert asgigen("new", "dead", "--style", "raw", "--no-check", cwd=tmp_path).returncode == 0
    main = tmp_path / "dead" / "src" / "dead" / "__main__.py"
    main.write_text("raise SystemExit(3)\n")
    result = asgigen("check", str(tmp_path / "dead"), cwd=tmp_path)
    assert result.returncode == 1
    # Its own live test fails first, then asgigen's boot says what happened.
    assert "error: dead: tests, serve:uvicorn failed" in result.stderr
    assert "serve      uvicorn exited with code 3 before answering" in result.stderr


def test_check_isolated_uses_a_fresh_venv(projects: dict[str, Path]) -> None:
    result = asgigen("check", str(projects["raw"]), "--isolated", "--json", cwd=projects["raw"])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["python"] != sys.executable
    assert "asgigen-venvs" in report["python"]
    assert [step["status"] for step in report["steps"]] == ["passed", "passed"]


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_a_port_taken_before_the_server_binds_it_is_retried(
    projects: dict[str, Path], monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    import socket
    import urllib.request

    from asgigen import servers

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        ports = iter([taken_port])
        real_free_port = servers.free_port
        monkeypatch.setattr(
            servers, "free_port", lambda host: next(ports, None) or real_free_port(host)
        )
        spec = servers.SERVERS[server]
        with servers.running_server(
            spec, python=sys.executable, project=projects["raw"], package="m_raw"
        ) as running:
            assert running.port != taken_port
            with urllib.request.urlopen(running.base_url + "/health", timeout=5) as response:
                assert response.status == 200
