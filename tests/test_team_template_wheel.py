"""The team template end to end from the built wheel: new, check, validate, explain, update."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.team_template import make_template_repo

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def run(
    command: list[str], cwd: Path, *, expect: int | None = 0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    for name in ("PYTEST_ADDOPTS", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if expect is not None:
        assert result.returncode == expect, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def git(*args: str, cwd: Path) -> str:
    return run(["git", "-c", "user.name=o", "-c", "user.email=o@localhost", *args], cwd).stdout


def test_the_team_template_from_the_wheel(wheel_asgigen: str, tmp_path: Path) -> None:
    repo = make_template_repo(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    asgigen = wheel_asgigen

    # new at v1, proved by the project's own contract
    made = run([asgigen, "new", "orders", "--template", str(repo), "--vcs-ref", "v1.0.0"], work)
    assert "GET /ping 200" in made.stderr
    project = work / "orders"

    # check after the owner's edit: a new route with its probe stays green
    main = project / "orders_svc" / "main.py"
    main.write_text(
        main.read_text().replace(
            '    if path == "/ping":',
            '    if path == "/v1/owner":\n'
            '        status, body, kind = 200, b"mine", b"text/plain"\n'
            '    elif path == "/ping":',
        )
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[[tool.asgigen.http]]\npath = "/v1/owner"\nbody = "mine"\n'
    )
    checked = run([asgigen, "check", "orders", "--server", "hypercorn"], work)
    assert "GET /v1/owner 200" in checked.stderr
    git("commit", "--quiet", "-am", "owner: /v1/owner", cwd=project)

    # validate: the matrix and one case
    listed = run([asgigen, "validate", "--template", str(repo), "--list", "--json"], work)
    assert [c["case"] for c in json.loads(listed.stdout)["include"]] == [
        "default@uvicorn",
        "bare@uvicorn",
    ]
    run([asgigen, "validate", "--template", str(repo), "--case", "bare@uvicorn"], work)

    # explain names the real app, file and line
    explained = run([asgigen, "explain", "orders"], work)
    assert "orders_svc.main:app" in explained.stdout
    assert "orders_svc/main.py:" in explained.stdout

    # update v1 -> v2: the template's change arrives, the owner's edit stays
    updated = run([asgigen, "update", "orders"], work)
    assert "v1.0.0" in updated.stdout
    assert "v2.0.0" in updated.stdout
    text = main.read_text()
    assert '"/v1/version"' in text  # the template's change
    assert '"/v1/owner"' in text  # the owner's edit
    git("commit", "--quiet", "-am", "update to v2", cwd=project)
    run([asgigen, "check", "orders"], work)


def test_a_real_conflict_is_reported_with_exit_1(wheel_asgigen: str, tmp_path: Path) -> None:
    repo = make_template_repo(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    run([wheel_asgigen, "new", "clash", "--template", str(repo), "--vcs-ref", "v1.0.0"], work)
    project = work / "clash"
    readme = project / "README.md"
    # v2 appends a line to the README; the owner appends a different one at the same place.
    readme.write_text(readme.read_text() + "\nOwned by the billing team.\n")
    git("commit", "--quiet", "-am", "owner: README", cwd=project)
    result = run([wheel_asgigen, "update", "clash"], work, expect=1)
    assert "README.md" in result.stderr
    assert "conflict" in result.stderr
    assert "<<<<<<<" in readme.read_text()
