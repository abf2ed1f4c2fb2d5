"""The template's `deploy` answer (issue 30): health endpoints split in two, Kubernetes
manifests and a compose file behind HAProxy, each proved by the generated project itself.

The renders here are cheap and shared. The `asgigen check` runs are the proof that the
project's own tests, which validate its manifests offline with kubernetes-validate --strict,
pass in the environment a user's check builds, and that the contract's /livez and /readyz
probes pass: raw+kubernetes and routed+compose in
tests/test_add_e2e.py::test_added_route_passes_check_on_a_live_server_under_every_server
(under every server, the deployment's own tests rerun there by name), fastapi+postgres+
kubernetes in tests/test_replicas_generated_e2e.py (under `check --replicas 3`).
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from asgigen import generate
from asgigen.errors import AsgigenError
from tests.conftest import run_asgigen
from tests.tools import system_tool

VARIANTS: dict[str, dict[str, object]] = {
    "fastapi-postgres-kubernetes": {
        "style": "fastapi",
        "database": "postgres",
        "deploy": "kubernetes",
    },
    "raw-kubernetes": {"style": "raw", "deploy": "kubernetes"},
    "routed-compose": {"style": "routed", "deploy": "compose"},
    "fastapi-postgres-compose": {"style": "fastapi", "database": "postgres", "deploy": "compose"},
}
KUBERNETES = ["configmap.yaml", "deployment.yaml", "hpa.yaml", "pdb.yaml", "service.yaml"]


def render(target: Path, data: dict[str, object]) -> Path:
    answers = {key: value for key, value in data.items() if key != "style"}
    request = generate.GenerateRequest(
        target=target, style=str(data["style"]), data=answers, defaults=True, interactive=False
    )
    return generate.new_project(request).path


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deploy")
    return {name: render(root / name / "shop", data) for name, data in VARIANTS.items()}


def deploy_files(project: Path) -> list[str]:
    found = [p for p in (project / "deploy").rglob("*") if p.is_file()]
    named = [project / "compose.yaml", project / "tests" / "test_deploy.py"]
    return sorted(str(p.relative_to(project)) for p in [*found, *named] if p.is_file())


def contract(project: Path) -> dict[str, Any]:
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    table: dict[str, Any] = data["tool"]["asgigen"]
    return table


def test_each_deploy_answer_renders_exactly_its_files(projects: dict[str, Path]) -> None:
    kubernetes = [f"deploy/kubernetes/{name}" for name in KUBERNETES]
    assert deploy_files(projects["fastapi-postgres-kubernetes"]) == sorted(
        # compose.yaml: PostgreSQL and one instance, for a single machine, as without deploy.
        [*kubernetes, "deploy/kubernetes/migrate/job.yaml", "tests/test_deploy.py", "compose.yaml"]
    )
    assert deploy_files(projects["raw-kubernetes"]) == sorted([*kubernetes, "tests/test_deploy.py"])
    compose = ["compose.yaml", "deploy/compose/haproxy.cfg", "tests/test_deploy.py"]
    assert deploy_files(projects["routed-compose"]) == compose
    assert deploy_files(projects["fastapi-postgres-compose"]) == compose


def test_the_default_renders_no_deployment(tmp_path: Path) -> None:
    project = render(tmp_path / "shop", {"style": "routed"})
    assert deploy_files(project) == []
    assert "kubernetes-validate" not in (project / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"style": "fastapi", "deploy": "kubernetes"}, "SQLite cannot be"),
        ({"style": "raw", "deploy": "compose", "docker": False}, "answer docker=true"),
    ],
)
def test_a_deployment_it_cannot_run_is_refused(
    tmp_path: Path, data: dict[str, object], reason: str
) -> None:
    with pytest.raises(AsgigenError, match=reason):
        render(tmp_path / "shop", data)
    assert not (tmp_path / "shop").exists()


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_contract_waits_on_readiness_and_probes_both(
    projects: dict[str, Path], name: str
) -> None:
    table = contract(projects[name])
    assert table["ready"] == "/readyz"
    probed = {
        probe["path"]: probe for probe in table["http"] if probe.get("method", "GET") == "GET"
    }
    assert probed["/livez"]["json"] == {"status": "ok"}
    assert probed["/readyz"]["json"] == {"status": "ready"}
    assert probed["/health"]["json"] == {"status": "ok"}


def test_the_compose_migration_runs_first(projects: dict[str, Path]) -> None:
    project = projects["fastapi-postgres-compose"]
    services = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))["services"]
    assert services["app"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert services["proxy"]["depends_on"] == {"app": {"condition": "service_healthy"}}
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])


def test_the_ci_workflow_validates_the_deployment(projects: dict[str, Path]) -> None:
    def commands(project: Path) -> list[str]:
        path = project / ".github" / "workflows" / "ci.yml"
        steps = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]["test"]["steps"]
        return [step["run"] for step in steps if "run" in step]

    assert commands(projects["fastapi-postgres-kubernetes"])[-1] == (
        "python -m kubernetes_validate --strict -k 1.33.0 deploy/kubernetes/*.yaml "
        "deploy/kubernetes/migrate/*.yaml"
    )
    assert commands(projects["routed-compose"])[-1] == "docker compose config --quiet"


@pytest.mark.parametrize("name", ["routed-compose", "fastapi-postgres-compose"])
def test_haproxy_accepts_the_proxy_configuration(projects: dict[str, Path], name: str) -> None:
    haproxy = system_tool("haproxy", "apt-get install haproxy")
    config = projects[name] / "deploy" / "compose" / "haproxy.cfg"
    result = subprocess.run(
        [haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_explain_shows_where_readiness_asks_the_database(projects: dict[str, Path]) -> None:
    project = projects["fastapi-postgres-kubernetes"]
    result = run_asgigen("explain", str(project), cwd=project)
    assert result.returncode == 0, result.stderr
    assert "src/shop/routers/root.py:" in result.stdout
    assert "readyz" in result.stdout
    assert "src/shop/database.py:" in result.stdout
    assert "ping" in result.stdout
    assert "not found" not in result.stdout
