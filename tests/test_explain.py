from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import generate
from asgigen.explain import STYLE_STEPS
from tests.conftest import CliResult


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_explain_a_style(run_cli: Callable[..., CliResult], style: str) -> None:
    result = run_cli("explain", style)
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith(f"How a request travels through a {style} project")
    for word in ("Uvicorn", "httptools", "h11", "scope", "receive", "send", "more_body"):
        assert word in text
    assert all(len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_every_named_place_exists_in_a_generated_project(
    run_cli: Callable[..., CliResult], tmp_path: Path, style: str
) -> None:
    request = generate.GenerateRequest(
        target=tmp_path / "tour", style=style, defaults=True, interactive=False
    )
    generate.new_project(request)
    result = run_cli("explain", str(tmp_path / "tour"))
    assert result.exit_code == 0, result.stderr
    named = re.findall(r"→ (\S+): (\w+)", result.stdout)
    expected = [step for step in STYLE_STEPS[style] if step.file]
    # Every place the walkthrough names for this style is really there, in this project.
    assert len(named) == len(expected) + 1  # + __main__.py: main
    for file, symbol in named:
        source = (tmp_path / "tour" / file).read_text()
        assert re.search(rf"(def|class) {symbol}\b", source), (file, symbol)
        assert file.startswith("src/tour/")


def test_unknown_style_is_exit_2(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = run_cli("explain", "django", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: 'django' is neither a style nor a project directory"
    )


def test_directory_that_is_not_a_project_is_exit_2(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = run_cli("explain", str(tmp_path))
    assert result.exit_code == 2
    assert "does not look like a generated project" in result.stderr
