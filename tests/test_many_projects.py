"""`asgigen check PATH...` and `asgigen update --check PATH...`: a line per project, a summary.

The projects come from the tagged template of tests/test_verified_update.py: v1 is behind,
v2+good is current and green, v2+bad fails its new test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen.check import CheckReport, Project
from asgigen.contract import Contract
from asgigen.many_projects import ManyChecks
from asgigen.steps import StepResult
from tests.conftest import CliResult
from tests.test_update import copy_project
from tests.test_verified_update import releases_repo

Cli = Callable[..., CliResult]


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return releases_repo(tmp_path_factory.mktemp("releases"))


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_update_check_of_several_projects_says_which_are_behind(
    run_cli: Cli, releases: Path, tmp_path: Path
) -> None:
    old = copy_project(str(releases), tmp_path / "old", ref="v1", name="old")
    new = copy_project(str(releases), tmp_path / "new", ref="v2+good", name="new")

    result = run_cli("update", "--check", str(old), str(new))

    assert result.exit_code == 3, result.stderr  # as for one project: 3 = behind
    assert result.stdout.splitlines() == [
        "old  behind   v1 → v2+good",
        "new  current  v2+good is the newest",
        "1 of 2 projects behind their template: old",
    ]
    as_json = run_cli("update", "--check", "--json", str(old), str(new))
    assert as_json.exit_code == 3
    report = json.loads(as_json.stdout)
    assert [p["update_available"] for p in report["projects"]] == [True, False]
    assert report["projects"][0]["project"] == str(old)
    assert report["summary"] == {"projects": 2, "behind": ["old"], "errors": []}

    current = run_cli("update", "--check", str(new), str(new))
    assert current.exit_code == 0, current.stderr
    assert current.stdout.splitlines()[-1] == "0 of 2 projects behind their template"


def test_update_check_names_a_project_it_cannot_read_and_goes_on(
    run_cli: Cli, releases: Path, tmp_path: Path
) -> None:
    new = copy_project(str(releases), tmp_path / "new", ref="v2+good", name="new")
    missing = tmp_path / "missing"

    result = run_cli("update", "--check", str(missing), str(new))

    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert re.fullmatch(rf"{re.escape(str(missing))} +error +.* is not a directory", lines[0])
    assert lines[1].startswith("new")
    assert lines[2] == "0 of 2 projects behind their template; 1 could not be read"


def test_update_of_several_projects_without_check_is_refused(run_cli: Cli, tmp_path: Path) -> None:
    result = run_cli("update", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: update brings a template into one project at a time; several go with --check"
    )
    assert result.stderr.splitlines()[1].startswith("hint: asgigen update --check ")


@pytest.mark.e2e
def test_check_of_several_projects_prints_a_line_each_and_fails_if_one_is_broken(
    run_cli: Cli, releases: Path, tmp_path: Path
) -> None:
    good = copy_project(str(releases), tmp_path / "good", ref="v2+good", name="good")
    bad = copy_project(str(releases), tmp_path / "bad", ref="v2+bad", name="bad")

    result = run_cli("check", str(good), str(bad))

    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "good  ok      all 2 checks passed"
    assert lines[1].startswith("bad   FAILED  tests failed: 1 failed, 1 passed")
    assert "(tests/test_version.py::test_version)" in lines[1]
    assert lines[2] == "1 of 2 projects pass their checks; broken: bad"
    assert result.stderr.splitlines()[-1] == "error: 1 of 2 projects failed their checks: bad"


def _report(name: str, *statuses: str) -> CheckReport:
    path = Path(f"/srv/{name}")
    project = Project(path, name, Contract(path, "discovered", None))
    steps = [StepResult(f"step{i}", status, 0.1, "why") for i, status in enumerate(statuses)]
    return CheckReport(project, "python", steps)


def test_check_json_of_several_projects_is_a_list_and_a_summary() -> None:
    from asgigen.errors import BadInputError

    many = ManyChecks(
        [
            (Path("/srv/a"), _report("a", "passed")),
            (Path("/srv/b"), _report("b", "passed", "skipped")),  # a skip is not a pass
            (Path("/srv/c"), BadInputError("/srv/c is not a directory")),
        ]
    )
    report = many.to_dict()
    assert [p["ok"] for p in report["projects"]] == [True, False, False]
    assert report["projects"][2] == {
        "project": "/srv/c",
        "ok": False,
        "error": "/srv/c is not a directory",
    }
    assert report["summary"] == {"projects": 3, "broken": ["b", "/srv/c"]}
    assert many.text().splitlines()[-1] == "1 of 3 projects pass their checks; broken: b, /srv/c"
