"""A pytest plugin for template authors: render a project, then test, lint and boot it.

    def test_routed_variant(asgigen_project):
        project = asgigen_project(style="routed", port=9000)
        assert project.run_tests().ok
        assert project.boot("uvicorn").ok

The template comes from the `template` argument, else the `asgigen_template` ini option
(relative to the rootdir), else asgigen's built-in one. pytest loads this module in every
session where asgigen is installed, so it imports nothing heavy until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from asgigen.console import Console

if TYPE_CHECKING:
    from asgigen.steps import StepResult


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("asgigen_template", "copier template the asgigen_project fixture renders")


@dataclass
class GeneratedProject:
    """A rendered project; each method runs what `asgigen check` runs, in its environment."""

    path: Path
    answers: dict[str, Any]
    isolated: bool = False

    def check(self, servers: tuple[str, ...] = ("uvicorn",)) -> list[StepResult]:
        """Gates the project configures, its tests and a live boot under each server."""
        from asgigen.check import run_checks  # lazy: pytest loads this plugin in every run

        report = run_checks(
            self.path, servers=list(servers), isolated=self.isolated, console=Console(quiet=True)
        )
        return report.steps

    def run_tests(self) -> StepResult:
        from asgigen.check import run_checks  # lazy: pytest loads this plugin in every run

        steps = run_checks(self.path, with_gates=False, console=Console(quiet=True)).steps
        return next(step for step in steps if step.name in {"tests", "environment"})

    def boot(self, server: str = "uvicorn") -> StepResult:
        return self.check((server,))[-1]


@pytest.fixture
def asgigen_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., GeneratedProject]:
    """A factory: `asgigen_project(template=..., vcs_ref=..., isolated=..., **answers)`."""
    from asgigen import generate  # lazy: pytest loads this plugin in every run

    configured = request.config.getini("asgigen_template")
    default_template = Path(str(request.config.rootpath)) / str(configured) if configured else None

    def make(
        style: str | None = None,
        *,
        template: str | Path | None = None,
        vcs_ref: str | None = None,
        project_name: str = "demo",
        isolated: bool = False,
        **answers: Any,
    ) -> GeneratedProject:
        root = tmp_path_factory.mktemp("asgigen-project")
        chosen = template if template is not None else default_template
        if style is not None:
            answers["style"] = style
        result = generate.new_project(
            generate.GenerateRequest(
                target=root / project_name,
                template=chosen,
                vcs_ref=vcs_ref,
                data=answers,
                defaults=True,
                trust=True,
                interactive=False,
            )
        )
        return GeneratedProject(result.path, result.answers, isolated)

    return make
