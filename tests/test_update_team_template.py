"""End to end with a team's own copier template (tests/team_template.py, tags v1.0.0 and
v2.0.0): `asgigen new` from v1, the owner's committed edits, `asgigen update` to v2."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.test_update import commit_all, edit

Cli = Callable[..., CliResult]


@pytest.fixture
def orders(run_cli: Cli, team_template_repo: Path, tmp_path: Path) -> Path:
    """A service made from v1.0.0 of the team template, committed by `asgigen new`."""
    project = tmp_path / "orders"
    made = run_cli(
        "new", str(project), "--template", str(team_template_repo), "--vcs-ref", "v1.0.0",
        "--defaults", "--no-check",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""  # `new` committed it
    return project


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_update_to_v2_keeps_the_owners_edit(run_cli: Cli, orders: Path) -> None:
    main = orders / "orders_svc" / "main.py"
    edit(orders, "orders_svc/main.py", "a plain ASGI service.", "the order service we run.")
    (orders / "NOTES.md").write_text("on call: me\n")
    commit_all(orders, "the owner's edits")
    assert run_cli("update", "--check", str(orders)).exit_code == 3

    result = run_cli("update", str(orders))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("orders: template v1.0.0 → v2.0.0; ")
    text = main.read_text()
    assert '"""orders: the order service we run."""' in text  # the owner's edit
    assert 'elif path == "/v1/version":' in text  # the template's change
    assert "Version 2 adds `GET /v1/version`." in (orders / "README.md").read_text()
    assert (orders / "NOTES.md").read_text() == "on call: me\n"
    assert "_commit: v2.0.0" in (orders / ".copier-answers.yml").read_text()
    commit_all(orders, "update to v2")
    current = run_cli("update", "--check", "--json", str(orders))
    assert current.exit_code == 0, current.stderr
    assert json.loads(current.stdout)["latest_version"] == "v2.0.0"


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_same_line_changed_by_owner_and_template_is_a_named_conflict(
    run_cli: Cli, orders: Path
) -> None:
    edit(orders, "pyproject.toml", 'version = "1.0.0"', 'version = "1.5.0"')
    commit_all(orders, "our own release number")

    result = run_cli("update", str(orders))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: update left conflicts in 1 file(s): pyproject.toml"
    )
    pyproject = (orders / "pyproject.toml").read_text()
    assert '<<<<<<< before updating\nversion = "1.5.0"' in pyproject
    assert 'version = "2.0.0"\n>>>>>>> after updating' in pyproject
    assert "  pyproject.toml: changed by you and by the template" in result.stdout


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_vcs_ref_moves_to_the_named_tag(run_cli: Cli, orders: Path) -> None:
    result = run_cli("update", "--vcs-ref", "v1.0.0", str(orders))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("orders: template v1.0.0 (unchanged); nothing changed")
