"""End to end (issue 29's done-when): in each style, `asgigen add route GET /greet/{name}` and
`asgigen add websocket /chat`, then `asgigen check` is green (gates, tests, live boots) and
the live server answers GET /greet/ada and echoes on /chat: asgigen as installed from its built
wheel, so the generators ship in it. (fastapi: in tests/test_add_resource_e2e.py, where the
same project also gets a resource, proved by the same check.)

That one check per style is also the style's proof under every server (`--server all`): its
gates, its tests, the shared surface and every probe of its contract under Uvicorn, Hypercorn,
Daphne and Granian (tests/every_server.py). raw and routed are made with a deployment (the same
app and contract as without: only files and test requirements are added), so the check also
runs the deployment's own tests, which are then rerun by name.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_wheel_asgigen
from tests.every_server import (
    assert_deploy_tests_passed,
    assert_new_printed,
    assert_passed_under_every_server,
    git,
)

pytestmark = pytest.mark.e2e
ROUTE_AND_WEBSOCKET = (("route", "GET", "/greet/{name}"), ("websocket", "/chat"))
DEPLOYMENT = {"raw": "deploy=kubernetes", "routed": "deploy=compose"}


def assert_route_and_websocket_proved(log: str) -> None:
    """The check's progress: the gates and tests ran, and the probes `add` wrote were answered
    by the live server."""
    for gate in ("ruff", "mypy", "tests"):
        assert f"  {gate} " in log, log
    assert "GET /greet/ada 200" in log  # the probe `add` wrote, answered by the live server
    assert "ws /chat echo" in log


@pytest.mark.parametrize("style", ["raw", "routed"])
def test_added_route_passes_check_on_a_live_server_under_every_server(
    wheel_asgigen: str, tmp_path: Path, style: str
) -> None:
    def run_asgigen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run_wheel_asgigen(wheel_asgigen, *args, cwd=cwd)

    deployment = DEPLOYMENT[style]
    project = tmp_path / "shop"
    made = run_asgigen(
        "new", "shop", "--style", style, "--data", deployment, "--defaults", "--no-check",
        cwd=tmp_path,
    )  # fmt: skip
    assert_new_printed(made, project, style)
    for args in ROUTE_AND_WEBSOCKET:
        added = run_asgigen("add", *args, cwd=project)
        assert added.returncode == 0, added.stderr
    status = git(project, "status", "--porcelain", "--ignored")

    checked = run_asgigen("check", "--server", "all", "--json", cwd=project)

    report = assert_passed_under_every_server(checked, project)
    assert_route_and_websocket_proved(checked.stderr)
    assert git(project, "status", "--porcelain", "--ignored") == status  # the check wrote nothing
    assert_deploy_tests_passed(project, report["python"], deployment)
