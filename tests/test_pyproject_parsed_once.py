"""`asgigen new` and `asgigen add` parse the project's pyproject.toml once per text: the
contract, discovery, the shadowing check, the gates and the environment are handed the one
model (asgigen/pyproject_file.py). The same for `check` and `explain`: test_pyproject_file.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asgigen import environments, generators
from asgigen.errors import TemplateError
from asgigen.generate import GenerateRequest, new_project
from asgigen.generators import Generator, render
from asgigen.pyproject_file import TomlFileError
from asgigen.requirements import read_requirements
from tests.conftest import CliResult
from tests.inline_projects import write_files
from tests.test_pyproject_file import count_parses

Cli = Callable[..., CliResult]


def _new(run_cli: Cli, where: Path, *options: str) -> Path:
    made = run_cli("new", str(where / "shop"), *options, "--defaults", "--no-check", "-q")
    assert made.exit_code == 0, made.stderr
    return where / "shop"


def test_new_quiet_parses_the_rendered_pyproject_once(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in template renders its contract into pyproject.toml: the shadowing check
    alone reads it (without -q, the next steps read the moved project once more)."""
    parsed = count_parses(monkeypatch)
    project = _new(run_cli, tmp_path, "--style", "fastapi")
    rendered = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert parsed.count(rendered) == 1


OWN_TEMPLATE = {
    "copier.yml": "_asgigen:\n  contract:\n    app: 'shop.app:app'\n",
    "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["starlette"]\n',
    "shop/app.py": "async def app(scope, receive, send):\n    pass\n",
}


def test_rendering_with_a_declared_contract_parses_the_rendered_pyproject_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering: whether the project declares its own contract, then the shadowing check
    were two parses of the same file. (The `new` command reads the moved project once more
    for its next steps: commands.next_steps.)"""
    template = write_files(tmp_path / "own", OWN_TEMPLATE)
    parsed = count_parses(monkeypatch)
    request = GenerateRequest(
        tmp_path / "shop", template=template, defaults=True, interactive=False
    )
    result = new_project(request)
    assert "asgigen.toml" in result.files  # the declared contract landed
    assert parsed.count(OWN_TEMPLATE["pyproject.toml"]) == 1


def test_new_with_a_declared_contract_refuses_a_pyproject_that_is_not_toml(
    run_cli: Cli, tmp_path: Path
) -> None:
    """As before the one read: the contract cannot be placed beside a file that is not TOML."""
    template = write_files(
        tmp_path / "own", {**OWN_TEMPLATE, "pyproject.toml": '[project\nname = "shop"\n'}
    )
    made = run_cli("new", str(tmp_path / "shop"), "--template", str(template), "--no-check")
    assert made.exit_code == 2
    assert "pyproject.toml: not valid TOML at line 1, column 9: " in made.stderr
    assert not (tmp_path / "shop").exists()


def test_add_route_parses_pyproject_once(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the contract lives, whether it declares one, and the probes it has: three
    parses of the same file before."""
    project = _new(run_cli, tmp_path, "--style", "fastapi")
    before = (project / "pyproject.toml").read_text(encoding="utf-8")
    parsed = count_parses(monkeypatch)

    result = run_cli("add", "route", "GET", "/greet/{name}", cwd=project)

    assert result.exit_code == 0, result.stderr
    after = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert after != before  # the probe and the record went into it
    assert parsed.count(before) == 1
    # The rest: the generator's plan, and the file with the new probes (checked as TOML).
    assert len(parsed) == 3, [text[:60] for text in parsed]


def test_add_with_commands_hands_the_new_pyproject_to_gates_and_environment(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan with [[run]] commands builds the check environment from the file as the
    addition left it: parsed once more, from the text it writes, not read again per reader."""
    project = _new(run_cli, tmp_path, "--style", "fastapi", "--data", "database=sqlite")
    before = (project / "pyproject.toml").read_text(encoding="utf-8")
    given: list[Any] = []

    def environment(project: Path, **options: Any) -> environments.Environment:
        given.append(options["pyproject"])
        return environments.Environment(sys.executable, tmp_path / "venv", None)

    def run_steps(runs: list[Any], *args: Any, **kwargs: Any) -> None:
        assert runs  # the resource generator's migrate, revision and ruff commands

    monkeypatch.setattr(environments, "cached_environment", environment)
    monkeypatch.setattr(generators, "run_steps", run_steps)
    parsed = count_parses(monkeypatch)

    result = run_cli("add", "resource", "notes", cwd=project)

    assert result.exit_code == 0, result.stderr
    after = (project / "pyproject.toml").read_text(encoding="utf-8")
    (model,) = given
    assert model.text == after
    assert model.table("tool", "asgigen")["additions"][-1]["generator"] == "resource"
    assert parsed.count(before) == 1
    assert parsed.count(after) <= 2  # the probes' check, then the model the gates are given


def test_a_broken_generator_plan_says_where_in_the_one_message_shape(tmp_path: Path) -> None:
    """The plan was `generator g: asgigen-add.toml is not valid TOML: <tomllib's words>`."""
    root = tmp_path / "template"
    (root / "g").mkdir(parents=True)
    (root / "g" / "copier.yml").write_text("_templates_suffix: .jinja\n", encoding="utf-8")
    (root / "g" / "asgigen-add.toml").write_text('[[insert]]\nfile = "x\n', encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        render(root, Generator("g", "g", (), ""), {}, {})
    assert caught.value.message.startswith(
        "generator g: asgigen-add.toml: not valid TOML at line 2, column 10: "
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("fix line 2 of asgigen-add.toml")


@pytest.mark.parametrize("lock", ["poetry.lock", "pdm.lock"])
def test_a_broken_lock_file_says_where_in_the_one_message_shape(tmp_path: Path, lock: str) -> None:
    """It was `<lock> cannot be read as TOML: <tomllib's words>`, with no hint."""
    project = write_files(
        tmp_path / "app",
        {
            "pyproject.toml": '[project]\nname = "app"\ndependencies = ["starlette"]\n',
            lock: '[[package]]\nname = "starlette"\nversion = 0.41.0\n',
        },
    )
    with pytest.raises(TomlFileError) as caught:
        read_requirements(project)
    assert caught.value.message.startswith(
        f"{project / lock}: not valid TOML at line 3, column 15: "
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(f"fix line 3 of {lock}")
