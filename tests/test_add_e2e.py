"""End to end (issue 29's done-when): in each style, `asgigen add route GET /greet/{name}` and
`asgigen add websocket /chat`, then `asgigen check` is green (gates, tests, a live boot) and
the live server answers GET /greet/ada and echoes on /chat: asgigen as installed from its built
wheel, so the generators ship in it. (fastapi: in tests/test_add_resource_e2e.py, where the
same project also gets a resource, proved by the same check.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_wheel_asgigen

pytestmark = pytest.mark.e2e
ROUTE_AND_WEBSOCKET = (("route", "GET", "/greet/{name}"), ("websocket", "/chat"))


def assert_route_and_websocket_proved(log: str) -> None:
    """The check's progress: the gates and tests ran, and the probes `add` wrote were answered
    by the live server."""
    for gate in ("ruff", "mypy", "tests"):
        assert f"  {gate} " in log, log
    assert "GET /greet/ada 200" in log  # the probe `add` wrote, answered by the live server
    assert "ws /chat echo" in log


@pytest.mark.parametrize("style", ["raw", "routed"])
def test_added_route_passes_check_on_a_live_server(
    wheel_asgigen: str, tmp_path: Path, style: str
) -> None:
    def run_asgigen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run_wheel_asgigen(wheel_asgigen, *args, cwd=cwd)

    made = run_asgigen("new", "shop", "--style", style, "--defaults", "--no-check", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = tmp_path / "shop"
    for args in ROUTE_AND_WEBSOCKET:
        added = run_asgigen("add", *args, cwd=project)
        assert added.returncode == 0, added.stderr

    checked = run_asgigen("check", cwd=project)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_route_and_websocket_proved(checked.stderr)
