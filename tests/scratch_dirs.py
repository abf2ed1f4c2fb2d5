"""Temporary files of the asgigen runs a test makes, in that test's own directory.

A verified update that is red keeps its merged copy (`asgigen-update-*` in the temporary
directory) for the user to inspect. The tests that provoke one point TMPDIR (for subprocesses)
and `tempfile` (in process) at a folder under tmp_path, so a kept copy never outlives the test
in /tmp, even when the test fails before it removes it; `left_over` lists what remained."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


def temp_dir_in(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    assert tempfile.gettempdir() == str(folder)
    return folder


def left_over(folder: Path) -> list[str]:
    """The merged copies a red update kept in `folder` that the test did not remove."""
    return sorted(path.name for path in folder.glob("asgigen-update-*"))
