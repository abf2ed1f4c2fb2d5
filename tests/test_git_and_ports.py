"""One git runner, one free_port, one last_line: each job has one module."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from asgigen import errors, git, ports, servers, services

PACKAGE = Path(__file__).resolve().parent.parent / "asgigen"


def test_git_runs_in_the_directory_and_reports_failure_without_raising(tmp_path: Path) -> None:
    assert git.run("init", "--quiet", cwd=tmp_path).returncode == 0
    shown = git.run("config", "user.name", cwd=tmp_path, env={"GIT_CONFIG_GLOBAL": "/dev/null"})
    assert shown.stdout == ""
    named = git.run("-c", "user.name=ann", "config", "user.name", cwd=tmp_path)
    assert named.stdout == "ann\n"
    failed = git.run("rev-parse", "--verify", "--quiet", "HEAD", cwd=tmp_path)
    assert failed.returncode != 0
    typed = git.run("hash-object", "--stdin", cwd=tmp_path, stdin="x\n")
    assert typed.stdout.strip() == "587be6b4c3f93f93c489c0111bba5596147a26cb"


def test_only_the_git_module_starts_git() -> None:
    # A command list that begins with "git"; not a subscript such as spec["git"].
    starts_git = re.compile(r"""(?<![\w\])])\[\s*["']git["']""")
    found = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if starts_git.search(path.read_text(encoding="utf-8"))
    )
    assert found == ["git.py"]


def test_servers_and_services_take_the_one_free_port() -> None:
    assert servers.free_port is ports.free_port
    assert services.free_port is ports.free_port
    port = ports.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nobody had it


def test_last_line_is_the_line_that_says_what_went_wrong() -> None:
    assert errors.last_line("Traceback\n  noise\nfatal: not found\n\n") == "fatal: not found"
    assert errors.last_line("  \n") == "unknown error"
