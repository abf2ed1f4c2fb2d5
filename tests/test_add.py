"""`asgigen add`: the built-in template's generators rendered into projects of each style, and
the errors that write nothing. (Their checks, green under a live server: test_add_e2e.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen.contract import load_contract
from asgigen.errors import TemplateError
from asgigen.generators import parse_generators
from tests.conftest import CliResult, snapshot

Cli = Callable[..., CliResult]
STYLES = ["raw", "routed", "fastapi"]
# Where each style keeps what `add` inserts (the template's business; the tests pin it).
HANDLERS = {"raw": "app.py", "routed": "app.py", "fastapi": "routers/root.py"}
WEBSOCKETS = {"raw": "app.py", "routed": "app.py", "fastapi": "routers/ws.py"}


def make(run_cli: Cli, where: Path, style: str) -> Path:
    made = run_cli("new", str(where / "shop"), "--style", style, "--defaults", "--no-check", "-q")
    assert made.exit_code == 0, made.stderr
    return where / "shop"


def status(project: Path) -> list[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted(out.splitlines())


@pytest.mark.parametrize("style", STYLES)
def test_add_route_writes_handler_test_probe_and_record(
    run_cli: Cli, tmp_path: Path, style: str
) -> None:
    project = make(run_cli, tmp_path, style)

    result = run_cli("add", "route", "GET", "/greet/{name}", cwd=project)

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("added route GET /greet/{name} to shop:\n")
    handlers = f"src/shop/{HANDLERS[style]}"
    assert status(project) == sorted(
        [f" M {handlers}", " M pyproject.toml", "?? tests/test_get_greet_name.py"]
    )
    assert "/greet/{name}" in (project / handlers).read_text()
    contract = load_contract(project)
    probe = contract.http[-1]
    assert (probe.method, probe.path, probe.status) == ("GET", "/greet/ada", 200)
    assert probe.json == {"route": "GET /greet/{name}", "params": {"name": "ada"}}
    assert contract.additions == (("route", {"method": "GET", "path": "/greet/{name}"}),)
    test = (project / "tests" / "test_get_greet_name.py").read_text()
    assert "/greet/ada" in test


@pytest.mark.parametrize("style", STYLES)
def test_added_code_is_ruff_clean(run_cli: Cli, tmp_path: Path, style: str) -> None:
    project = make(run_cli, tmp_path, style)
    for args in (
        ("route", "GET", "/greet/{name}"),
        ("route", "DELETE", "/users/{user_id}/notes/{note}/with/{other_param}"),
        # Laid out over several lines too: not taken for the one before.
        ("route", "PUT", "/users/{user_id}/notes/{note}/with/{other_param}"),
        ("route", "POST", "/status"),
        ("websocket", "/chat"),
    ):
        result = run_cli("add", *args, cwd=project)
        assert result.exit_code == 0, result.stderr
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    for command in (
        [ruff, "check", "--no-cache", "."],
        [ruff, "format", "--check", "--no-cache", "."],
    ):
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert load_contract(project).websocket_echo == ("/ws", "/chat")


def test_dry_run_prints_the_diff_and_writes_nothing(run_cli: Cli, tmp_path: Path) -> None:
    project = make(run_cli, tmp_path, "routed")
    before = snapshot(project)

    result = run_cli("add", "route", "PUT", "/notes/{note_id}", "--dry-run", cwd=project)

    assert result.exit_code == 0, result.stderr
    assert snapshot(project) == before
    assert "--- a/src/shop/app.py\n+++ b/src/shop/app.py\n" in result.stdout
    assert "--- /dev/null\n+++ b/tests/test_put_notes_note_id.py\n" in result.stdout
    assert '+                Route("/notes/{note_id}", put_notes_note_id, methods=["PUT"]),' in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "get", "/x"), "error: METHOD get: one of GET, POST, PUT, PATCH, DELETE"),
        (("route", "GET", "greet"), "error: PATH greet: segments of letters"),
        (("route", "GET", "/x/{a}/{a}"), "error: PATH /x/{a}/{a}: a parameter appears twice"),
        (("route", "GET", "/x/{class}"), "error: PATH /x/{class}: a parameter may not be named"),
        (("route", "GET"), "error: asgigen add route takes 2 argument(s), got 1"),
        (("route", "GET", "/health"), "error: the contract probes GET /health already"),
        (("websocket", "/ws"), 'error: src/shop/app.py has `"/ws",` already'),
        (("resource", "books"), "error: add resource needs a FastAPI project with a database"),
        (("table", "items"), "error: the project's template offers no generator 'table'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    run_cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    project = make(run_cli, tmp_path, "raw")
    before = snapshot(project)

    result = run_cli("add", *args, cwd=project)

    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 2
    assert "\nhint: " in result.stderr
    assert snapshot(project) == before


def test_the_same_route_twice_is_refused(run_cli: Cli, tmp_path: Path) -> None:
    project = make(run_cli, tmp_path, "fastapi")
    assert run_cli("add", "route", "GET", "/greet/{name}", cwd=project).exit_code == 0
    before = snapshot(project)

    again = run_cli("add", "route", "GET", "/greet/{name}", cwd=project)

    assert again.exit_code == 2
    assert "was added before" in again.stderr.splitlines()[0]
    assert snapshot(project) == before


def test_outside_a_project(run_cli: Cli, tmp_path: Path) -> None:
    result = run_cli("add", "route", "GET", "/x", cwd=tmp_path)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path} is not inside a generated project")
    assert "\nhint: cd into a project" in result.stderr


def test_a_missing_anchor_is_named(run_cli: Cli, tmp_path: Path) -> None:
    project = make(run_cli, tmp_path, "routed")
    app = project / "src" / "shop" / "app.py"
    app.write_text(
        "\n".join(line for line in app.read_text().splitlines() if "asgigen: routes" not in line)
        + "\n"
    )
    before = snapshot(project)

    result = run_cli("add", "route", "GET", "/greet/{name}", cwd=project)

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: src/shop/app.py has no line `# asgigen: routes`, where this addition goes\nhint: "
    )
    assert snapshot(project) == before


def test_generators_declaration_is_checked() -> None:
    found = parse_generators({"route": {"path": "_g/route", "arguments": ["p"]}}, "g")
    assert found["route"].arguments == ("p",)
    with pytest.raises(TemplateError, match="unknown key 'paths'"):
        parse_generators({"route": {"path": "x", "paths": []}}, "g")
    with pytest.raises(TemplateError, match="needs path"):
        parse_generators({"route": {}}, "g")


def test_add_alone_lists_what_the_template_offers(run_cli: Cli, tmp_path: Path) -> None:
    project = make(run_cli, tmp_path, "raw")

    result = run_cli("add", cwd=project)

    assert result.exit_code == 0, result.stderr
    usages = [line.split("  ")[0] for line in result.stdout.splitlines()]
    assert usages == [
        "asgigen add resource NAME",
        "asgigen add route METHOD PATH",
        "asgigen add websocket PATH",
    ]
