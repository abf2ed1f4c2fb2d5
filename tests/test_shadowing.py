"""`new` refuses a package name that shadows a dependency of the chosen variant: what the
variant depends on comes from the project the template rendered, not from asgigen's Python."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen.shadowing import dependency_names, import_name, own_packages, shadowed
from tests.conftest import CliResult, snapshot
from tests.inline_projects import write_files


def test_every_kind_of_dependency_is_read() -> None:
    pyproject = {
        "project": {
            "dependencies": [
                "SQLAlchemy[asyncio]>=2.0,<3",
                "zope.interface",
                " ruamel-yaml ; os_name",
            ],
            "optional-dependencies": {"test": ["pytest>=8", "httpx"]},
        },
        "dependency-groups": {"dev": ["mypy", {"include-group": "lint"}], "lint": ["ruff"]},
    }
    assert dependency_names(pyproject) == [
        "SQLAlchemy",
        "zope.interface",
        "ruamel-yaml",
        "pytest",
        "httpx",
        "mypy",
        "ruff",
    ]
    assert [import_name(name) for name in ("SQLAlchemy", "zope.interface", "ruamel-yaml")] == [
        "sqlalchemy",
        "zope_interface",
        "ruamel_yaml",
    ]


def test_own_packages_and_what_they_shadow(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "My.App"\ndependencies = ["Alembic>=1"]\n'
            '[dependency-groups]\ntest = ["pytest", "my-app[test]"]\n',
            "src/alembic/__init__.py": "",
            "src/my_app/__init__.py": "",
            "tests/__init__.py": "",
            "pytest/__init__.py": "",
            "ok/__init__.py": "",
        },
    )
    assert own_packages(tmp_path) == ["alembic", "my_app", "ok", "pytest"]
    assert shadowed(tmp_path) == [("alembic", "Alembic"), ("pytest", "pytest")]


@pytest.mark.parametrize(
    ("package", "data", "distribution"),
    [
        ("sqlalchemy", [], "sqlalchemy"),
        ("alembic", [], "alembic"),
        ("aiosqlite", [], "aiosqlite"),
        ("asyncpg", ["--data", "database=postgres"], "asyncpg"),
    ],
)
def test_new_refuses_a_package_that_shadows_a_dependency_of_the_variant(
    run_cli: Callable[..., CliResult],
    workdir: Path,
    package: str,
    data: list[str],
    distribution: str,
) -> None:
    before = snapshot(workdir)
    result = run_cli(
        "new", "shop", "--style", "fastapi", "--package", package, *data, "--no-check", cwd=workdir
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: package name {package!r} would shadow {distribution!r}, which this project "
        "depends on",
        "hint: pass --package NAME to choose another import name",
    ]
    assert result.stdout == ""
    assert snapshot(workdir) == before  # nothing half-written


@pytest.mark.parametrize(
    ("style", "data"),
    [("fastapi", ["--data", "database=none"]), ("raw", [])],
)
def test_a_variant_without_the_dependency_takes_the_name(
    run_cli: Callable[..., CliResult], workdir: Path, style: str, data: list[str]
) -> None:
    result = run_cli(
        "new",
        "shop",
        "--style",
        style,
        "--package",
        "alembic",
        *data,
        "--no-check",
        "--no-git",
        cwd=workdir,
    )
    assert result.exit_code == 0, result.stderr
    assert (workdir / "shop" / "src" / "alembic" / "__init__.py").is_file()


@pytest.mark.parametrize("style", ["raw", "routed", "fastapi"])
def test_the_package_named_after_the_project_is_not_its_own_dependency(
    run_cli: Callable[..., CliResult], workdir: Path, style: str
) -> None:
    # The project's test extra pulls in the project itself (shop-api[test]): not a dependency.
    result = run_cli("new", "shop-api", "--style", style, "--no-check", "--no-git", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert (workdir / "shop-api" / "src" / "shop_api" / "__init__.py").is_file()
