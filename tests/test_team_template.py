"""A team's own copier template, sharing nothing with ours: new, check, validate on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_asgigen as asgigen

pytestmark = pytest.mark.e2e


def answers(project: Path) -> dict[str, str]:
    import yaml

    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_new_from_the_newest_tag_is_checked_by_its_own_contract(
    team_template_repo: Path, tmp_path: Path
) -> None:
    result = asgigen("new", "billing", "--template", str(team_template_repo), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "billing"
    recorded = answers(project)
    assert recorded["service_name"] == "billing"  # the target's name answers the name question
    assert recorded["_commit"] == "v2.0.0"
    assert recorded["_src_path"] == str(team_template_repo)
    serve = next(line for line in result.stderr.splitlines() if line.strip().startswith("serve"))
    # The team's own probes, from the project's contract, including v2's new route.
    assert "GET /ping 200" in serve
    assert "GET /v1/version 200" in serve
    assert "GET /v1/users/7 200" in serve
    assert "2 passed" in result.stderr


def test_vcs_ref_picks_the_version_and_is_recorded(
    team_template_repo: Path, tmp_path: Path
) -> None:
    result = asgigen(
        "new",
        "old",
        "--template",
        str(team_template_repo),
        "--vcs-ref",
        "v1.0.0",
        "--no-check",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert answers(tmp_path / "old")["_commit"] == "v1.0.0"
    assert "/v1/version" not in (tmp_path / "old" / "old_svc" / "main.py").read_text()


def test_a_git_url_works_too(team_template_repo: Path, tmp_path: Path) -> None:
    url = f"file://{team_template_repo}"
    result = asgigen("new", "viaurl", "--template", url, "--no-check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert answers(tmp_path / "viaurl")["_src_path"] == f"git+{url}"
    assert answers(tmp_path / "viaurl")["_commit"] == "v2.0.0"


@pytest.mark.parametrize(
    ("option", "question"),
    [("--style=raw", "style"), ("--package=x", "package_name"), ("--description=x", "description")],
)
def test_options_of_our_template_are_refused_with_a_hint(
    team_template_repo: Path, tmp_path: Path, option: str, question: str
) -> None:
    result = asgigen("new", "svc", "--template", str(team_template_repo), option, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: --")
    assert f"ask {question!r}" in lines[0]
    assert lines[1].startswith("hint: pass its answers with --data")
    assert not (tmp_path / "svc").exists()


def test_an_unknown_question_names_the_ones_the_template_asks(
    team_template_repo: Path, tmp_path: Path
) -> None:
    result = asgigen(
        "new",
        "svc",
        "--template",
        str(team_template_repo),
        "--data",
        "package_name=x",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "error: unknown question 'package_name'" in result.stderr
    assert "service_name" in result.stderr


def test_the_templates_validator_gives_a_one_line_error(
    team_template_repo: Path, tmp_path: Path
) -> None:
    result = asgigen("new", "Bad_Name", "--template", str(team_template_repo), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "service_name: lowercase letters, digits and '-'" in result.stderr
    assert not (tmp_path / "Bad_Name").exists()


def test_a_missing_template_is_a_one_line_error(tmp_path: Path) -> None:
    result = asgigen("new", "svc", "--template", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: template ")
    assert "Traceback" not in result.stderr


def test_an_undeclared_project_is_proved_by_discovery(
    team_template_repo: Path, tmp_path: Path
) -> None:
    result = asgigen(
        "new",
        "plain",
        "--template",
        str(team_template_repo),
        "--data",
        "with_contract=false",
        "--no-check",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "[tool.asgigen]" not in (tmp_path / "plain" / "pyproject.toml").read_text()
    checked = asgigen("check", "plain", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    report = json.loads(checked.stdout)
    # Its README says `uvicorn plain_svc.main:app`; it answers 404 on `/` and publishes no
    # OpenAPI document, and its health path `/ping` answering 200 is what proves it.
    assert report["contract"] == "discovered in README.md"
    assert report["app"] == "plain_svc.main:app"
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["tests"]["status"] == "passed"
    summary = steps["serve:uvicorn"]["summary"]
    assert "ready GET / 404" in summary
    assert "unknown path 404" in summary
    assert summary.endswith("GET /ping 200, discovered, not declared")


def test_validate_lists_cases_for_a_ci_matrix_and_runs_one(
    team_template_repo: Path, tmp_path: Path
) -> None:
    listed = asgigen(
        "validate",
        "--template",
        str(team_template_repo),
        "--server",
        "all",
        "--list",
        "--json",
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)
    servers = ["uvicorn", "hypercorn", "daphne", "granian"]
    names = [entry["case"] for entry in cases["include"]]
    assert names == [f"{v}@{s}" for v in ("default", "bare") for s in servers]
    assert list(cases) == ["include"]  # a GitHub matrix as it is: no other axis
    assert cases["include"][5] == {
        "name": "bare@hypercorn",
        "case": "bare@hypercorn",
        "variant": "bare",
        "server": "hypercorn",
        "answers": {
            "service_name": "bare-app",
            "module_name": "bare_app_svc",
            "pong": "pong",
            "with_contract": False,
        },
    }
    one = asgigen(
        "validate",
        "--template",
        str(team_template_repo),
        "--case",
        "bare@hypercorn",
        "--json",
        cwd=tmp_path,
    )
    assert one.returncode == 0, one.stderr + one.stdout
    report = json.loads(one.stdout)
    assert report["cases"] == [{"name": "bare@hypercorn", "ok": True}]
    names = [step["name"] for step in report["variants"][0]["steps"]]
    assert names == ["render", "tests", "serve:hypercorn"]  # no ruff/mypy: not configured
    unknown = asgigen(
        "validate", "--template", str(team_template_repo), "--case", "nope@uvicorn", cwd=tmp_path
    )
    assert unknown.returncode == 2
    assert "has no case 'nope@uvicorn'" in unknown.stderr


def test_validate_runs_every_variant(team_template_repo: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "report.xml"
    result = asgigen(
        "validate",
        "--template",
        str(team_template_repo),
        "--junit-xml",
        str(report_file),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("2 of 2 cases passed")
    assert 'failures="0"' in report_file.read_text()
