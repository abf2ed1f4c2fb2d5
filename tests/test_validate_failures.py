"""A failing variant fails its cases, not the whole run: timeouts and broken contracts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import steps
from tests.conftest import CliResult
from tests.team_template import write_team_template

pytestmark = pytest.mark.e2e


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """The team template (a plain directory) with a variant whose contract is broken."""
    copy = write_team_template(tmp_path / "template")
    config = copy / "copier.yml"
    config.write_text(
        config.read_text().replace(
            "    bare: {with_contract: false}\n",
            "    bare: {with_contract: false}\n    broken: {pong: broken}\n",
        )
    )
    pyproject = copy / "pyproject.toml.jinja"
    pyproject.write_text(
        pyproject.read_text().replace(
            'body = "{{ pong }}"',
            'body = "{{ pong }}"{% if pong == "broken" %}\nstatus = "abc"{% endif %}',
        )
    )
    return copy


def test_a_broken_contract_fails_its_variant_only(
    run_cli: Callable[..., CliResult], template: Path, tmp_path: Path
) -> None:
    result = run_cli("validate", "--template", str(template), cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "1 of 3 cases failed: broken@uvicorn" in result.stderr
    assert "--- broken: contract failed:" in result.stderr
    assert "status must be an HTTP status code" in result.stderr
    table = result.stdout.strip().splitlines()
    assert table[-1].startswith("2 of 3 cases passed")
    assert sum(line.startswith("variant") for line in table) == 1  # the table once


def test_a_step_that_times_out_fails_that_step(
    run_cli: Callable[..., CliResult],
    template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(steps, "STEP_TIMEOUT", 0.05)
    result = run_cli("validate", "--template", str(template), "--variant", "bare", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "internal error" not in result.stderr
    assert "--- bare: tests failed: timed out after 0 s" in result.stderr
