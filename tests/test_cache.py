"""`asgigen cache`: its size counts each file once; `--clean` removes only what asgigen made."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import cache
from tests.conftest import CliResult, run_asgigen

KEY = "0123456789abcdef"


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def fake_environment(envs: Path, key: str = KEY, size: int = 1_000_000) -> Path:
    """An environment as cached_environment leaves it: its lock, its files, its ready mark."""
    venv = envs / key
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "big.so").write_bytes(os.urandom(size))
    (venv / cache.READY).touch()
    (envs / f"{key}.lock").touch()
    return venv


def test_clean_removes_only_what_asgigen_made_and_says_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    shared = tmp_path / "dot-cache"  # ASGIGEN_CACHE_DIR=~/.cache
    theirs = {
        "pip/http/abc": "another tool's cache",
        "envs-notes.txt": "a user's file",
        "envs/README": "someone else's file in a folder asgigen also uses",
    }
    write_files(shared, theirs)
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(shared))
    envs = cache.entry("envs")
    venv = fake_environment(envs)

    result = run_cli("cache", "--clean")

    assert result.exit_code == 0, result.stderr
    for name, text in theirs.items():
        assert (shared / name).read_text() == text
    assert not venv.exists()
    assert not (envs / f"{KEY}.lock").exists()
    assert not (envs / cache.MARKER).exists()
    assert f"removed {venv}" in result.stdout.splitlines()
    assert f"removed {envs / f'{KEY}.lock'}" in result.stdout.splitlines()
    assert str(shared / "pip") not in result.stdout


def test_clean_leaves_a_folder_asgigen_did_not_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    shared = tmp_path / "dot-cache"
    foreign = shared / "envs" / KEY  # a name like asgigen's, in a folder asgigen never made
    write_files(foreign, {"data": "not asgigen's"})
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(shared))

    result = run_cli("cache", "--clean")

    assert result.exit_code == 0, result.stderr
    assert (foreign / "data").read_text() == "not asgigen's"
    assert result.stdout.strip() == f"nothing of asgigen's in {shared}"


def test_clean_empties_the_cache_asgigen_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    root = tmp_path / "asgigen-cache"
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(root))
    fake_environment(cache.entry("envs"))

    result = run_cli("cache", "--clean")

    assert result.exit_code == 0, result.stderr
    assert list(root.iterdir()) == []  # the directory the user named stays, empty


def test_size_counts_hard_linked_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(tmp_path / "cache"))
    envs = cache.entry("envs")
    first = fake_environment(envs, "0" * 16, size=4_000_000)
    second = fake_environment(envs, "1" * 16, size=0)
    (second / "lib" / "big.so").unlink()
    for copy in range(3):  # what uv does: the same package file linked into each environment
        os.link(first / "lib" / "big.so", second / "lib" / f"link{copy}.so")

    result = run_cli("cache")

    assert result.exit_code == 0, result.stderr
    location, summary = result.stdout.strip().splitlines()
    assert location == str(tmp_path / "cache")
    count, size = summary.split(", ")
    assert count == "2 environment(s)"
    megabytes = float(size.removesuffix(" MB"))
    assert 4.0 <= megabytes < 4.5  # one 4 MB file (plus directories), not four


def test_an_unwritable_cache_directory_is_one_line_before_anything_is_written(
    workdir: Path,
) -> None:
    unwritable = "/proc/asgigen-cache"
    result = run_asgigen(
        "new", "demo", "--style", "raw", "--no-git", cwd=workdir,
        env={**os.environ, "ASGIGEN_CACHE_DIR": unwritable, "CI": "true", "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: cannot create the cache directory {unwritable}")
    assert lines[1] == "hint: set ASGIGEN_CACHE_DIR to a writable directory"
    assert len(lines) == 2
    assert list(workdir.iterdir()) == []  # nothing written


def test_a_cache_made_before_the_marker_in_asgigens_own_directory_is_cleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    monkeypatch.delenv("ASGIGEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "xdg" / "asgigen"
    venv = fake_environment(root / "envs")  # no marker: an older asgigen made it

    assert run_cli("cache").stdout.splitlines() == [str(root), "1 environment(s), 1.0 MB"]
    result = run_cli("cache", "--clean")

    assert result.exit_code == 0, result.stderr
    assert f"removed {venv}" in result.stdout.splitlines()
    assert not root.exists()  # asgigen's own directory goes once empty


def test_check_with_an_unwritable_cache_directory_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., CliResult]
) -> None:
    made = run_cli("new", str(tmp_path / "demo"), "--style", "raw", "--no-check", "--no-git")
    assert made.exit_code == 0, made.stderr
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", "/proc/asgigen-cache")

    result = run_cli("check", str(tmp_path / "demo"))

    assert result.exit_code == 2
    # The template line comes first (it needs no cache), then the error and its hint only.
    template, error, hint = result.stderr.strip().splitlines()
    assert template.split() == ["template", "built-in", "0.4.2", "(from", ".copier-answers.yml)"]
    assert error.startswith("error: cannot create the cache directory /proc/asgigen-cache/envs: ")
    assert hint == "hint: set ASGIGEN_CACHE_DIR to a writable directory"
