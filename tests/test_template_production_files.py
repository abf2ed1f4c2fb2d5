"""Docker, CI, pre-commit and .gitignore files: present exactly when asked for, and sound."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from asgigen import generate

STYLES = ["raw", "routed", "fastapi"]
PRODUCTION_FILES = {".gitignore", ".pre-commit-config.yaml"}
DOCKER_FILES = {"Dockerfile", ".dockerignore"}
CI_FILES = {".github/workflows/ci.yml"}
ALL = PRODUCTION_FILES | DOCKER_FILES | CI_FILES
COMBINATIONS = list(itertools.product(STYLES, [True, False], [True, False]))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool, bool], Path]:
    root = tmp_path_factory.mktemp("production")
    projects = {}
    for style, docker, ci in COMBINATIONS:
        target = root / f"{style}-{docker}-{ci}" / "my-shop"
        request = generate.GenerateRequest(
            target=target,
            style=style,
            data={"docker": docker, "ci": ci},
            defaults=True,
            interactive=False,
        )
        projects[(style, docker, ci)] = generate.new_project(request).path
    return projects


@pytest.mark.parametrize(("style", "docker", "ci"), COMBINATIONS)
def test_files_present_exactly_when_asked(
    rendered: dict[tuple[str, bool, bool], Path], style: str, docker: bool, ci: bool
) -> None:
    project = rendered[(style, docker, ci)]
    present = {name for name in ALL if (project / name).is_file()}
    expected = PRODUCTION_FILES | (DOCKER_FILES if docker else set()) | (CI_FILES if ci else set())
    assert present == expected
    if not ci:
        assert not (project / ".github").exists()


@pytest.mark.parametrize("style", STYLES)
def test_ci_workflow_runs_every_gate(
    rendered: dict[tuple[str, bool, bool], Path], style: str
) -> None:
    path = rendered[(style, True, True)] / ".github" / "workflows" / "ci.yml"
    workflow = yaml.safe_load(path.read_text())
    steps = workflow["jobs"]["test"]["steps"]
    commands = [step.get("run") for step in steps if "run" in step]
    assert commands == [
        "pip install -e '.[dev]'",
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "pytest",
    ]
    versions = workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert versions == ["3.11", "3.12", "3.13"]


@pytest.mark.parametrize("style", STYLES)
def test_dockerfile_structure(rendered: dict[tuple[str, bool, bool], Path], style: str) -> None:
    text = (rendered[(style, True, True)] / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[1] == "FROM python:3.11-slim"
    user = next(line for line in lines if line.startswith("USER "))
    assert user != "USER root"
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/livez" in text  # liveness: the HEALTHCHECK never touches a dependency
    assert lines[-1] == 'CMD ["python", "-m", "my_shop"]'
    assert "MY_SHOP_HOST=0.0.0.0" in text
    # The dependency layer comes before the source, so code edits keep it cached.
    assert text.index("COPY pyproject.toml") < text.index("pip install .") < text.index("COPY src")
    # hadolint lints it in test_docker.py, where a missing hadolint fails.


@pytest.mark.parametrize("style", STYLES)
def test_pre_commit_config_parses(rendered: dict[tuple[str, bool, bool], Path], style: str) -> None:
    config = yaml.safe_load(
        (rendered[(style, False, False)] / ".pre-commit-config.yaml").read_text()
    )
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "mypy"} <= hooks
