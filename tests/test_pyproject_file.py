"""One model of a project's pyproject.toml: read once, one error, the same data for every part
of asgigen that needs it (asgigen/pyproject_file.py)."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asgigen import check, environments, gates
from asgigen.contract import has_declared_contract, load_contract
from asgigen.discovery import find_app
from asgigen.explain import declared_steps, walkthrough
from asgigen.pyproject_file import PyprojectFile, TomlFileError, read_pyproject
from asgigen.requirements import read_requirements, run_prefix
from asgigen.shadowing import shadowed
from asgigen.steps import StepResult
from tests.inline_projects import write_files

APP = "async def app(scope, receive, send):\n    pass\n"
BROKEN = '[project]\nname = "shop"\n[tool.asgigen\napp = "shop.app:app"\n'


def test_a_missing_file_is_an_empty_model(tmp_path: Path) -> None:
    found = read_pyproject(tmp_path)
    assert (found.path, found.data, found.exists) == (tmp_path / "pyproject.toml", {}, False)
    assert found.table("tool", "asgigen") == {}


def test_table_is_empty_when_a_key_is_no_table(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": 'tool = "x"\n[project]\nname = "a"\n'})
    found = read_pyproject(tmp_path)
    assert found.exists
    assert found.table("tool", "mypy") == {}
    assert found.table("project") == {"name": "a"}


def test_invalid_toml_is_one_line_naming_the_line(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": BROKEN})
    with pytest.raises(TomlFileError) as caught:
        read_pyproject(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'pyproject.toml'}: not valid TOML at line 3, column 14: "
        "Expected ']' at the end of a table declaration"
    )
    assert (
        caught.value.hint == "fix line 3 of pyproject.toml (TOML syntax: https://toml.io/en/v1.0.0)"
    )
    assert caught.value.exit_code == 2


def test_a_file_cut_short_and_one_not_utf8(tmp_path: Path) -> None:
    write_files(tmp_path / "short", {"pyproject.toml": "[project]\nname = "})
    with pytest.raises(TomlFileError, match=r"pyproject.toml: not valid TOML at its end: Invalid"):
        read_pyproject(tmp_path / "short")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(TomlFileError) as caught:
        read_pyproject(tmp_path / "latin1")
    assert caught.value.message.endswith(
        "pyproject.toml: not valid TOML at line 2: byte 0xe9 is not UTF-8"
    )
    assert caught.value.hint == "save pyproject.toml as UTF-8, the only encoding TOML allows"


def test_an_unreadable_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path, {"pyproject.toml": "[project]\n"})

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(TomlFileError) as caught:
        read_pyproject(tmp_path)
    assert (
        caught.value.message == f"{tmp_path / 'pyproject.toml'}: cannot be read: Permission denied"
    )


# Every part of asgigen that reads pyproject.toml, each reading it itself.
READERS: dict[str, Callable[[Path], object]] = {
    "open_project": check.open_project,
    "contract": load_contract,
    "declared contract": has_declared_contract,
    "gates": gates.configured,
    "requirements": read_requirements,
    "run prefix": lambda project: run_prefix(project, "uv"),
    "explain": lambda project: walkthrough(project, str(project)),
    "explain steps": declared_steps,
    "discovery": find_app,
}


@pytest.mark.parametrize("reader", READERS.values(), ids=list(READERS))
def test_every_reader_fails_with_the_same_message(
    tmp_path: Path, reader: Callable[[Path], object]
) -> None:
    """Before this model the gates and discovery took a broken file for an empty one, and the
    others each said `cannot be read as TOML` in words of their own."""
    project = write_files(tmp_path / "shop", {"pyproject.toml": BROKEN, "shop/app.py": APP})
    with pytest.raises(TomlFileError) as caught:
        reader(project)
    assert caught.value.message.startswith(
        f"{project / 'pyproject.toml'}: not valid TOML at line 3, column 14: "
    )


def test_shadowing_takes_a_broken_file_for_no_dependencies(tmp_path: Path) -> None:
    """Rendering checks shadowing before anything else reads the file: `check` reports it."""
    project = write_files(tmp_path / "shop", {"pyproject.toml": BROKEN})
    assert shadowed(project) == []


def test_every_consumer_sees_the_data_it_is_given(tmp_path: Path) -> None:
    """Given the model, no consumer reads the file: this project has none on disk."""
    project = write_files(tmp_path / "shop", {"src/shop/app.py": APP, "src/pytest/__init__.py": ""})
    given = PyprojectFile(
        project / "pyproject.toml",
        {
            "project": {"name": "shop", "dependencies": ["starlette"]},
            "dependency-groups": {"test": ["pytest"]},
            "tool": {
                "ruff": {},
                "mypy": {"files": ["src"]},
                "fastapi": {"entrypoint": "shop.app:app"},
                "asgigen": {
                    "app": "shop.app:app",
                    "explain": [{"title": "routing", "text": "a dict", "file": "src/shop/app.py"}],
                },
            },
        },
        exists=True,
    )
    assert not (project / "pyproject.toml").exists()
    assert load_contract(project, given).app == "shop.app:app"
    assert has_declared_contract(project, given)
    assert gates.configured(project, given) == ["ruff", "mypy"]
    assert gates._mypy_targets(project, given) == [str(project / "src")]
    requirements = read_requirements(project, given)
    assert (requirements.runtime, requirements.test) == (["starlette"], ["pytest"])
    assert run_prefix(project, "uv", given) == "uv run"
    (step,), source = declared_steps(project, given)
    assert (step.title, source) == ("routing", "pyproject.toml")
    found = find_app(project, given)
    assert found is not None
    assert found.app == "shop.app:app"
    assert shadowed(project, given) == [("pytest", "pytest")]


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every TOML text asgigen parses, whichever module parses it."""
    parsed: list[str] = []
    loads = tomllib.loads

    def counting(text: str, **kwargs: Any) -> dict[str, Any]:
        parsed.append(text)
        return loads(text, **kwargs)

    monkeypatch.setattr(tomllib, "loads", counting)
    return parsed


@pytest.mark.parametrize(
    "tool",
    [
        '[tool.asgigen]\napp = "shop.app:app"\n',  # declared
        '[tool.fastapi]\nentrypoint = "shop.app:app"\n',  # discovered
    ],
    ids=["declared", "discovered"],
)
def test_a_check_reads_pyproject_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    """Contract, discovery, gates, environment: one parse of the file per check (it was five
    or six)."""
    project = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["starlette"]\n\n'
            '[project.optional-dependencies]\ntest = ["pytest"]\n\n'
            '[tool.ruff]\n\n[tool.mypy]\nfiles = ["src"]\n\n' + tool,
            "src/shop/__init__.py": "",
            "src/shop/app.py": APP,
        },
    )
    wanted: list[list[str]] = []

    def environment(project: Path, **options: Any) -> environments.Environment:
        wanted.append(environments.needed(project, **options)[1])  # the requirements, read
        return environments.Environment(sys.executable, tmp_path / "venv", None)

    def passes(name: str, command: list[str], *args: object, **kwargs: object) -> tuple[Any, str]:
        return StepResult(name, "passed", 0.0, " ".join(command[-2:])), ""

    def tests(python: str, found: check.Project, services: object = None) -> StepResult:
        return StepResult("tests", "passed", 0.0, "1 passed")

    def boot(python: str, found: check.Project, spec: object, services: object) -> StepResult:
        return StepResult("serve:uvicorn", "passed", 0.0, "booted")

    monkeypatch.setattr(environments, "cached_environment", environment)
    monkeypatch.setattr(gates, "run_step", passes)
    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    parsed = count_parses(monkeypatch)
    report = check.run_checks(project)
    assert report.ok, report.to_dict()
    assert [step.name for step in report.steps] == [
        "ruff",
        "ruff-format",
        "mypy",
        "tests",
        "serve:uvicorn",
    ]
    assert report.steps[2].summary.endswith(str(project / "src"))  # the mypy files it was given
    # Two environments: the check environment and the run-time one servers boot in.
    (packages,) = [each for each in wanted if "pytest" in each]
    (runtime,) = [each for each in wanted if "pytest" not in each]
    assert (packages[:2], packages[-2:]) == (["starlette", "pytest"], ["ruff", "mypy"])
    assert "starlette" in runtime
    assert "ruff" not in runtime
    assert len(parsed) == 1


def test_explain_reads_pyproject_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": '[project]\nname = "shop"\n\n[tool.asgigen]\napp = "shop.app:app"\n'
            'pythonpath = ["src"]\n',
            "src/shop/app.py": APP,
        },
    )
    parsed = count_parses(monkeypatch)
    assert "src/shop/app.py:1 app" in walkthrough(project, "shop")
    assert len(parsed) == 1
