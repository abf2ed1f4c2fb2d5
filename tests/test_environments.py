"""The environments projects are checked in: what they hold, where they live, how they go."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from asgigen import environments
from asgigen.errors import CheckFailedError
from tests.conftest import asgigen_env, run_asgigen
from tests.template_tree import build_file_tree

pytestmark = pytest.mark.e2e


def asgigen(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_asgigen(*args, cwd=cwd, env=asgigen_env(**(env or {})))


# A tiny project is enough here: these tests are about the environments a check runs in, not
# about a template. A plain ASGI app (HTTP and a WebSocket echo), one test, its contract; no
# ruff or mypy configured, so a check is its tests, its app and its boot.
APP = """
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                key = "text" if message.get("text") is not None else "bytes"
                await send({"type": "websocket.send", key: message[key]})
        if scope["type"] != "http":
            return
        status, data = (200, b"ok") if scope["path"] == "/health" else (404, b"not found")
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
"""

TEST = """
    from svc.app import app


    def test_the_app_is_asgi() -> None:
        assert callable(app)
"""


def tiny_project(
    root: Path,
    *,
    dependencies: tuple[str, ...] = (),
    requires_python: str = ">=3.11",
    tests: dict[str, str] | None = None,
) -> Path:
    """A project named after its folder, with the same requirements as any other made here
    with the same `dependencies`."""
    return build_file_tree(
        root,
        {
            "pyproject.toml": f"""
                [project]
                name = "{root.name}"
                version = "1.0.0"
                requires-python = "{requires_python}"
                dependencies = {json.dumps(list(dependencies))}

                [project.optional-dependencies]
                test = ["pytest>=8"]

                [tool.pytest.ini_options]
                pythonpath = ["."]

                [tool.asgigen]
                app = "svc.app:app"
                pythonpath = ["."]
                ready = "/health"
                websocket-echo = ["/ws"]

                [[tool.asgigen.http]]
                path = "/health"
                status = 200
            """,
            "svc/__init__.py": "",
            "svc/app.py": APP,
            "tests/test_app.py": TEST,
            **(tests or {}),
        },
    )


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two projects, `one` and `two`, with the same requirements."""
    root = tmp_path_factory.mktemp("envs")
    for name in ("one", "two"):
        tiny_project(root / name)
    return root


def test_projects_with_the_same_requirements_share_one_environment(projects: Path) -> None:
    reports = []
    for name in ("one", "two"):
        result = asgigen("check", name, "--json", cwd=projects)
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    first, second = (Path(report["python"]) for report in reports)
    assert first == second
    assert first.is_relative_to(environments.cache_root())
    # The environment holds what the checks need, not asgigen's own interpreter.
    assert first != Path(sys.executable)


def test_loopback_checks_never_go_through_a_proxy(projects: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    warm = asgigen("check", "one", "--server", "hypercorn", cwd=projects)  # now cached
    assert warm.returncode == 0, warm.stderr
    proxies = dict.fromkeys(("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"), dead)
    result = asgigen("check", "one", "--server", "hypercorn", cwd=projects, env=proxies)
    assert result.returncode == 0, result.stderr
    assert "ws /ws echo" in result.stderr


def test_pytest_plugins_load_as_under_pytest(tmp_path: Path) -> None:
    # anyio's pytest plugin comes with anyio, through its `pytest11` entry point: without it,
    # the async test would be skipped ("async def functions are not natively supported").
    tiny_project(
        tmp_path / "anyio-user",
        dependencies=("anyio>=4",),
        tests={
            "tests/test_anyio_marker.py": """
                import anyio
                import pytest


                @pytest.mark.anyio
                async def test_sleeps() -> None:
                    await anyio.sleep(0)
            """
        },
    )
    result = asgigen("check", "anyio-user", "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    tests = next(step for step in report["steps"] if step["name"] == "tests")
    assert tests["status"] == "passed", result.stderr
    assert tests["summary"].startswith("2 passed"), tests["summary"]
    assert "skipped" not in tests["summary"]


def test_a_python_the_machine_lacks_fails_fast_with_one_line(tmp_path: Path) -> None:
    tiny_project(tmp_path / "future", requires_python=">=3.99")
    result = asgigen("check", "future", cwd=tmp_path)
    assert result.returncode == 1
    assert "the project needs Python >=3.99, and no such interpreter is installed" in result.stderr
    assert "python install '>=3.99'" in result.stderr.strip().splitlines()[-1]


def test_least_recently_used_environments_go_first(tmp_path: Path) -> None:
    root = tmp_path / "envs"
    for age, name in enumerate(["newest", "middle", "oldest", "in-use"]):
        venv = root / name
        venv.mkdir(parents=True)
        marker = venv / ".asgigen-ready"
        marker.touch()
        stamp = 1_000_000 - age * 100
        os.utime(marker, (stamp, stamp))
    with open(root / "in-use.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another check is using it right now
        removed = environments.evict(root, keep=2)
    assert sorted(path.name for path in removed) == ["oldest"]
    assert sorted(path.name for path in root.iterdir() if path.is_dir()) == [
        "in-use",
        "middle",
        "newest",
    ]


def test_an_environment_used_within_the_grace_period_outlives_the_bound(tmp_path: Path) -> None:
    # A check may still be running in it (it holds no lock), or a suite or a validate across
    # variants uses more environments than the bound: removing it would mean building it again.
    root = tmp_path / "envs"
    now = time.time()
    for name, unused_for in [("newest", 0), ("a-minute-ago", 60), ("two-hours-ago", 7200)]:
        marker = root / name / ".asgigen-ready"
        marker.parent.mkdir(parents=True)
        marker.touch()
        os.utime(marker, (now - unused_for, now - unused_for))
    removed = environments.evict(root, keep=1, grace=3600)
    assert [path.name for path in removed] == ["two-hours-ago"]
    assert sorted(path.name for path in root.iterdir() if path.is_dir()) == [
        "a-minute-ago",
        "newest",
    ]


def test_the_cache_is_where_asgigen_cache_says_and_cleans(tmp_path: Path, projects: Path) -> None:
    # Also the e2e proof that a second check reuses the environment the first one built (it was
    # tests/test_e2e.py::test_the_second_check_reuses_the_environment, the same two checks).
    cache = tmp_path / "cache"
    env = {"ASGIGEN_CACHE_DIR": str(cache)}
    shown = asgigen("cache", cwd=tmp_path, env=env)
    assert shown.stdout.splitlines()[0] == str(cache)
    assert "0 environment(s)" in shown.stdout
    checked = asgigen("check", "one", cwd=projects, env=env)
    assert checked.returncode == 0, checked.stderr
    built = next(line for line in checked.stderr.splitlines() if line.strip().startswith("env "))
    assert f"built {cache / 'envs'}" in built  # cold: built there, and said so
    summary = asgigen("cache", cwd=tmp_path, env=env)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.splitlines()[:1] == [str(cache)]
    # The check's environment and the run-time one the servers boot in.
    assert summary.stdout.splitlines()[1].startswith("2 environment(s), ")
    again = asgigen("check", "one", cwd=projects, env=env)
    assert again.returncode == 0, again.stderr
    # Warm: reused, so no env step at all, and the same verdict.
    assert not any(line.strip().startswith("env ") for line in again.stderr.splitlines())
    assert again.stdout == checked.stdout == "one: all 2 checks passed\n"
    envs = cache / "envs"
    keys = sorted(path.name for path in envs.iterdir() if (path / ".asgigen-ready").is_file())
    cleaned = asgigen("cache", "--clean", cwd=tmp_path, env=env)
    # Only what asgigen made goes, each named: the environments, their locks, the folder's
    # marker, then the folder; ASGIGEN_CACHE_DIR itself may be shared with other tools, so it
    # stays.
    made = sorted(path for key in keys for path in (envs / key, envs / f"{key}.lock"))
    made += [envs / ".asgigen-cache", envs]
    assert (cleaned.returncode, cleaned.stdout) == (0, "".join(f"removed {p}\n" for p in made))
    assert list(cache.iterdir()) == []  # what asgigen made went; the directory named stays


def test_a_failed_install_names_the_files_the_requirements_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requirements-only project with a pin the index lacks: the error names
    requirements.txt, not pyproject.toml (which this project does not have)."""
    project = tmp_path / "svc"
    project.mkdir()
    (project / "requirements.txt").write_text("asgigen-no-such-distribution-0e1f==1.0\n")
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(CheckFailedError) as failed:
        environments.cached_environment(project, tools=[], servers=[])
    assert failed.value.message.startswith(
        "installing the requirements read from requirements.txt failed: "
    )
    assert "asgigen-no-such-distribution-0e1f" in failed.value.details
    assert failed.value.hint == "check the requirements in requirements.txt"
    assert "pyproject" not in failed.value.hint


def test_uvs_reason_is_one_line_without_the_hint_that_follows() -> None:
    """uv wraps a long reason and may add a hint after a blank line: the step shows the reason
    only (the details keep everything)."""
    lines = [
        "error: Failed to fetch: https://pypi.org/simple/uvicorn/",
        "  cause: error sending request for url (https://pypi.org/simple/uvicorn/)",
        "  cause: invalid peer certificate: UnknownIssuer",
        "",
        "hint: Consider enabling use of system TLS certificates",
    ]
    assert environments._reason(lines) == "cause: invalid peer certificate: UnknownIssuer"
    wrapped = ["  x No solution found when resolving dependencies:", "  ╰─▶ Because there is no",
               "      version of codecov==2.1.12, we can conclude that your requirements are",
               "      unsatisfiable."]  # fmt: skip
    assert environments._reason(wrapped) == (
        "╰─▶ Because there is no version of codecov==2.1.12, we can conclude that your"
        " requirements are unsatisfiable."
    )
    assert environments._reason(["something else"]) == "something else"
    assert environments._reason([]) == ""


def test_uv_is_looked_for_by_one_thread_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two environments of a check are built in two threads; uv's `find_uv_bin` reads
    sysconfig, whose first use is not thread-safe (it once returned None for "EXE")."""
    inside, most = 0, 0
    both_in = threading.Barrier(2)

    def find_uv_bin() -> str:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_in.wait(timeout=0.5)  # without the lock, the other thread arrives here too
        inside -= 1
        return "/usr/bin/uv"

    monkeypatch.setattr(environments, "find_uv_bin", find_uv_bin)
    threads = [threading.Thread(target=environments.uv_binary) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
