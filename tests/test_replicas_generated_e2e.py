"""End to end (issue 30's done-when): from the built wheel, a fastapi project made with
`--data database=postgres --data deploy=kubernetes` passes `asgigen check --replicas 3`: no
request lost through HAProxy over a rolling restart (each replica drained on SIGTERM, marked
DOWN on its readiness answer), and readiness 503 with liveness 200 while the database is down.
Its manifests pass kubernetes-validate --strict (its own tests/test_deploy.py, run on its own
so a skip cannot hide), with liveness and readiness probes on different paths."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from asgigen import balancer, services
from asgigen.add import _check_python
from asgigen.console import Console
from asgigen.steps import project_env
from tests.conftest import run_wheel_asgigen
from tests.tools import in_ci

pytestmark = pytest.mark.e2e


def _needs(missing: bool, hint: str) -> None:
    if missing:
        if in_ci():
            pytest.fail(f"missing under CI=true: {hint}")
        pytest.skip(hint)


def test_generated_postgres_project_passes_three_replicas(
    wheel_asgigen: str, tmp_path: Path
) -> None:
    _needs(services.postgres_binaries() is None, services.INSTALL_HINT)
    _needs(balancer.haproxy_binary() is None, balancer.INSTALL_HINT)

    def run_asgigen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run_wheel_asgigen(wheel_asgigen, *args, cwd=cwd)

    made = run_asgigen(
        "new", "shop", "--style", "fastapi", "--data", "database=postgres",
        "--data", "deploy=kubernetes", "--defaults", "--no-check", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    project = tmp_path / "shop"

    deployment: dict[str, Any] = yaml.safe_load(
        (project / "deploy/kubernetes/deployment.yaml").read_text(encoding="utf-8")
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    liveness = container["livenessProbe"]["httpGet"]["path"]
    readiness = container["readinessProbe"]["httpGet"]["path"]
    assert liveness != readiness
    assert (liveness, readiness) == ("/livez", "/readyz")

    checked = run_asgigen("check", "--replicas", "3", cwd=project)

    log = checked.stdout + checked.stderr
    assert checked.returncode == 0, log
    tests = next(line for line in log.splitlines() if line.strip().startswith("tests "))
    assert "skipped" not in tests, tests
    rolling = re.search(r"rolling restart of 3 replicas: (\d+) requests, (\d+) failed, p99 ", log)
    assert rolling is not None, log
    assert int(rolling[1]) > 0
    assert rolling[2] == "0", log
    assert "readiness /readyz 503 on all 3" in log, log
    assert "liveness /livez 200; back: readiness 200" in log, log

    # The manifests' own test, alone in check's environment: it ran and passed, not skipped.
    python = _check_python(project, Console(quiet=True))
    validated = subprocess.run(
        [python, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", "tests/test_deploy.py"],
        cwd=project, env=project_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "SKIPPED" not in validated.stdout, validated.stdout
    for name in (
        "test_the_manifests_pass_kubernetes_validate_strict",
        "test_liveness_and_readiness_probes_sit_on_different_paths",
        "test_the_grace_period_outlasts_the_graceful_shutdown",
    ):
        assert f"{name} PASSED" in validated.stdout, validated.stdout
