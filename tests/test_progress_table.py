"""The progress table stays aligned: every step's label fits the label column."""

from __future__ import annotations

import io

import pytest

from asgigen import check
from asgigen.console import Console
from asgigen.steps import StepResult

NAMES = [
    "ruff",
    "ruff-format",
    "mypy",
    "tests",
    "app",
    "setup",
    "service:postgres",
    "serve:granian",
    "environment",
]


@pytest.mark.parametrize("status", ["passed", "failed"])
def test_every_message_starts_in_the_same_column(
    status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    err = io.StringIO()
    console = Console(err=err)
    for name in NAMES:
        check._show(console, StepResult(name, status, 0.1, "MESSAGE"), None)
    lines = err.getvalue().splitlines()
    assert len(lines) == len(NAMES)
    assert {line.index("MESSAGE") for line in lines} == {13}, lines
    assert lines[1].split() == ["format", "MESSAGE", "0.1", "s"]
