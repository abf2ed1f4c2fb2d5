"""`asgigen add resource NAME`: a CRUD resource like `items` in a FastAPI project with a
database, its migration made by Alembic's autogenerate in the check environment. The refusals
write nothing; a failing `[[run]]` command leaves the project as it was. (Green under a live
server, migration drift test included: test_add_resource_e2e.py.)"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import add as add_module
from asgigen import generators
from asgigen.errors import CheckFailedError
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def make(run_cli: Cli, where: Path, style: str, *data: str) -> Path:
    extra = [arg for item in data for arg in ("--data", item)]
    made = run_cli(
        "new", str(where / "shop"), "--style", style, *extra, "--defaults", "--no-check", "-q"
    )
    assert made.exit_code == 0, made.stderr
    return where / "shop"


def status(project: Path) -> list[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted(out.splitlines())


@pytest.mark.parametrize(
    ("style", "data", "says"),
    [
        ("raw", (), "this one is raw"),
        ("routed", (), "this one is routed"),
        ("fastapi", ("database=none",), "this one is fastapi, database none"),
    ],
)
def test_refused_without_fastapi_and_a_database(
    run_cli: Cli, tmp_path: Path, style: str, data: tuple[str, ...], says: str
) -> None:
    project = make(run_cli, tmp_path, style, *data)

    result = run_cli("add", "resource", "books", cwd=project)

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: add resource needs a FastAPI project with a database")
    assert says in lines[0]
    assert lines[1] == "hint: usage: asgigen add resource NAME"
    assert status(project) == []


@pytest.mark.parametrize("name", ["Books", "book", "items", "b-ooks", "x" * 40 + "s"])
def test_a_bad_name_is_one_line_and_writes_nothing(run_cli: Cli, tmp_path: Path, name: str) -> None:
    project = make(run_cli, tmp_path, "fastapi")

    result = run_cli("add", "resource", name, cwd=project)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: NAME {name}: ")
    assert len(result.stderr.strip().splitlines()) == 2
    assert status(project) == []


def test_dry_run_shows_the_diff_and_the_commands_it_would_run(run_cli: Cli, tmp_path: Path) -> None:
    project = make(run_cli, tmp_path, "fastapi")

    result = run_cli("add", "resource", "books", "--dry-run", cwd=project)

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "+++ b/src/shop/routers/books.py" in out
    assert "+++ b/tests/test_books.py" in out
    assert "+class BookRow(Base):" in out
    assert "+from shop.routers.books import router as books_router" in out
    assert "+    app.include_router(books_router)" in out
    assert '+path = "/books/{book}"' in out
    assert "# then, not run with --dry-run: python -m alembic revision --autogenerate" in out
    assert status(project) == []


def test_a_failing_run_command_leaves_the_project_as_it_was(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make(run_cli, tmp_path, "fastapi")
    versions = project / "src" / "shop" / "migrations" / "versions"

    def fail(runs: list[generators.Run], where: Path, python: str, console: object) -> None:
        (versions / "half_made.py").write_text("# a command's own output\n")
        raise CheckFailedError("`python -m alembic revision` failed (exit 1); nothing was added")

    monkeypatch.setattr(add_module, "_check_python", lambda *args, **kwargs: "python")
    monkeypatch.setattr(generators, "run_steps", fail)

    result = run_cli("add", "resource", "books", cwd=project)

    assert result.exit_code != 0
    assert "nothing was added" in result.stderr
    assert status(project) == []


def test_the_plan_reads_run_commands_and_refuses_a_malformed_one(tmp_path: Path) -> None:
    plan = tmp_path / generators.PLAN_FILE
    plan.write_text('[[run]]\ncommand = ["python", "-m", "x"]\nenv = { A = "{scratch}/db" }\n')
    read = generators._read_plan(plan, "g")
    assert read.run == [generators.Run(("python", "-m", "x"), (("A", "{scratch}/db"),))]

    plan.write_text('[[run]]\ncommand = "python -m x"\n')
    with pytest.raises(Exception, match=r"run\[0\] needs command, a list of strings"):
        generators._read_plan(plan, "g")


def test_reapply_after_an_update_puts_back_a_dropped_line_and_runs_nothing(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgigen import template

    project = make(run_cli, tmp_path, "fastapi")
    monkeypatch.setattr(add_module, "_check_python", lambda *args, **kwargs: "python")
    monkeypatch.setattr(generators, "run_steps", lambda runs, where, python, console: None)
    assert run_cli("add", "resource", "books", cwd=project).exit_code == 0
    app = project / "src" / "shop" / "app.py"
    included = "    app.include_router(books_router)\n"
    app.write_text(app.read_text().replace(included, ""))  # as a release that dropped it

    def must_not_run(runs: list[generators.Run], where: Path, python: str, console: object) -> None:
        raise AssertionError("reapply ran the plan's commands")

    monkeypatch.setattr(generators, "run_steps", must_not_run)
    with template.load(None) as loaded:
        conflicts = add_module.reapply(project, loaded.path, loaded.declaration.generators)

    assert conflicts == {}
    assert included + "    # asgigen: routers" in app.read_text()
