"""Tiny projects written inline by a test: a dict of relative path → text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asgigen import environments


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write each `path: text` under `root` (parents made); returns `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def use_this_python(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Checks run in the interpreter running the tests (it has pytest and every server)
    instead of a check environment built for the project."""
    env = environments.Environment(sys.executable, root / "venv", None)
    monkeypatch.setattr(environments, "cached_environment", lambda *args, **kwargs: env)
