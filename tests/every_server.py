"""What one `asgigen check --server all --json` of a built-in style's project proves, asserted
in one place for the tests that run it (tests/test_add_e2e.py, tests/test_add_resource_e2e.py)
and the helpers tests/test_e2e.py shares with them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from asgigen.contract import load_contract
from asgigen.servers import SERVERS as SERVER_SPECS
from tests.conftest import asgigen_env

SERVERS = ["uvicorn", "hypercorn", "daphne", "granian"]
GATES = ["ruff", "ruff-format", "mypy"]
# What every style serves (DESIGN.md), proved by each style's contract.
SURFACE = ["GET / 200", "GET /health 200", "POST /echo 200", "unknown path 404", "ws /ws echo"]
# Files and directories running a project's checks must never leave in it.
LITTER = ["__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".venv"]
# Each deployment's own tests (tests/test_deploy.py), which must have run and passed by name.
DEPLOY_TESTS = {
    "deploy=kubernetes": [
        "test_the_manifests_pass_kubernetes_validate_strict",
        "test_liveness_and_readiness_probes_sit_on_different_paths",
        "test_the_grace_period_outlasts_the_graceful_shutdown",
    ],
    "deploy=compose": ["test_the_proxy_configuration_is_mounted_and_checks_readiness"],
}


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def litter(project: Path) -> list[str]:
    return sorted(str(path.relative_to(project)) for name in LITTER for path in project.rglob(name))


def declared_probes(project: Path) -> list[str]:
    """The HTTP probes the project's contract declares, as patterns of a boot's summary.

    A path may use a value an earlier probe captured (`/items/{item}`): any value will do.
    """
    probes = [
        re.sub(r"\\\{[^}]*\\\}", "[^ ,]+", re.escape(probe.describe()))
        for probe in load_contract(project).http
    ]
    assert probes  # the built-in styles all declare some
    return probes


def proves_all(summary: str, project: Path, server: str = "uvicorn") -> None:
    """The boot's summary names the shared surface and every probe of the contract (under
    Daphne, no WebSocket probe: it says why instead)."""
    reason = SERVER_SPECS[server].websocket_reason
    for probe in SURFACE:
        if reason is not None and probe.startswith("ws "):
            assert probe not in summary
            assert summary.endswith(f"; WebSocket probes not run: {reason}")
        else:
            assert probe in summary
    for pattern in declared_probes(project):
        assert re.search(rf"(^|[ ,]){pattern}(,|$| )", summary), (pattern, summary)


def assert_new_printed(new: subprocess.CompletedProcess[str], project: Path, style: str) -> None:
    """What `new --no-check` rendered and printed: the style's tree, its answers, the commands
    to run next, and one commit of the generated files."""
    assert new.returncode == 0, new.stderr
    rendered = next(line for line in new.stderr.splitlines() if "rendered" in line)
    assert f"built-in template into ./{project.name}" in rendered
    assert f"\nstyle: {style}\n" in (project / ".copier-answers.yml").read_text()
    package = project.name.replace("-", "_")
    assert new.stdout.startswith(f"{project.name} is ready: {project}")
    assert f"run python -m {package}" in new.stdout
    assert f"check ./{project.name}" in new.stdout
    assert git(project, "log", "--format=%s").strip() == "Initial commit from asgigen"


def assert_passed_under_every_server(
    result: subprocess.CompletedProcess[str], project: Path
) -> dict[str, Any]:
    """`check --server all --json`: gates, the tests, then a boot under each server, every
    one passed (a skip would not do), each boot proving the shared surface and every probe of
    the contract, /livez and /readyz among them. Returns the report."""
    assert result.returncode == 0, result.stderr + result.stdout
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["contract"] == "pyproject.toml [tool.asgigen]"
    assert report["app"] == f"{project.name.replace('-', '_')}.app:app"
    steps = {step["name"]: step for step in report["steps"]}
    names = list(steps)
    # Gates first, the tests, then one boot per server (a style may add service steps).
    assert names[:3] == GATES
    assert "tests" in names
    assert [name for name in names if name.startswith("serve:")] == [
        f"serve:{server}" for server in SERVERS
    ]
    assert names[-4:] == [f"serve:{server}" for server in SERVERS]
    assert {step["status"] for step in report["steps"]} == {"passed"}, steps
    # The check environment installs the servers: none is skipped as "not installed".
    assert "not installed" not in result.stderr
    assert "skipped" not in result.stderr
    serves = [line for line in result.stderr.splitlines() if line.strip().startswith("serve")]
    assert [line.split()[1] for line in serves] == SERVERS, serves
    for server in SERVERS:
        summary = steps[f"serve:{server}"]["summary"]
        assert summary.startswith(f"{server} 127.0.0.1:")
        proves_all(summary, project, server)
    assert " passed" in steps["tests"]["summary"]
    assert "failed" not in steps["tests"]["summary"]
    served = steps["serve:uvicorn"]["summary"]
    assert "ready GET /readyz 200" in served
    assert "GET /livez 200" in served
    # The checks leave the project as it was: no caches, nothing new.
    assert litter(project) == []
    return report


def assert_deploy_tests_passed(project: Path, python: str, answer: str) -> None:
    """The deployment's own tests once more by name, in the environment the check built: a
    deselected or skipped manifest validation cannot pass for one that ran."""
    own = subprocess.run(
        [python, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests/test_deploy.py"],
        cwd=project,
        env=asgigen_env(PYTHONDONTWRITEBYTECODE="1"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert own.returncode == 0, own.stdout[-3000:]
    assert " SKIPPED" not in own.stdout
    for test in DEPLOY_TESTS[answer]:
        assert f"{test} PASSED" in own.stdout, own.stdout[-3000:]
