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

if TYPE_CHECKING:
    from asgigen.check import StepResult


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("asgigen_template", "copier template the asgigen_project fixture renders")


@dataclass
class GeneratedProject:
    """A rendered project and the interpreter that can run it."""

    path: Path
    style: str
    package: str
    python: str

    def run_tests(self) -> StepResult:
        from asgigen.check import run_tests

        return run_tests(self.python, self.path)

    def boot(self, server: str = "uvicorn") -> StepResult:
        from asgigen.check import boot, inspect_project, resolve_servers

        (spec,) = resolve_servers([server])
        return boot(self.python, inspect_project(self.path), spec)

    def lint(self) -> list[StepResult]:
        from asgigen.validate import lint_steps

        return lint_steps(self.path, self.python)

    def check(self, servers: tuple[str, ...] = ("uvicorn",)) -> list[StepResult]:
        """Lint, tests and a live boot under each server, as `asgigen validate` runs them."""
        return [*self.lint(), self.run_tests(), *(self.boot(server) for server in servers)]


@pytest.fixture
def asgigen_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., GeneratedProject]:
    """A factory: `asgigen_project(style=..., template=..., isolated=..., **answers)`."""
    from asgigen import generate
    from asgigen.check import choose_python, inspect_project
    from asgigen.console import Console

    configured = request.config.getini("asgigen_template")
    default_template = Path(str(request.config.rootpath)) / str(configured) if configured else None

    def make(
        style: str = "routed",
        *,
        template: str | Path | None = None,
        project_name: str = "demo",
        isolated: bool = False,
        **answers: Any,
    ) -> GeneratedProject:
        root = tmp_path_factory.mktemp(f"asgigen-{style}")
        chosen = Path(template) if template is not None else default_template
        result = generate.new_project(
            generate.GenerateRequest(
                target=root / project_name,
                template=chosen,
                style=style,
                data=answers,
                defaults=True,
                interactive=False,
            )
        )
        info = inspect_project(result.path)
        python = choose_python(info, isolated=isolated, console=Console(quiet=True))
        return GeneratedProject(result.path, result.style, result.package, python)

    return make
