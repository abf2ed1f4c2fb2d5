"""The CI examples in docs/examples work: their `asgigen validate` commands are run here as
written, on a small template, with what the CI would put in their variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import asgigen_env
from tests.template_tree import small_template

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
pytestmark = pytest.mark.e2e


def workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def asgigen_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if "asgigen validate" in step.get("run", "")]


def expand(script: str, values: dict[str, str]) -> str:
    """GitHub's `${{ expression }}` replaced as the runner would; any other one is an error."""

    def one(match: re.Match[str]) -> str:
        return values[match[1].strip()]

    return re.sub(r"\$\{\{(.*?)\}\}", one, script)


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The script as CI runs it: bash, -e, with `asgigen` on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=asgigen_env(PATH=path, **env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def junit_ok(report: Path) -> int:
    """The number of test cases in a JUnit report that has no failure and no error."""
    root = ET.parse(report).getroot()
    cases = list(root.iter("testcase"))
    assert cases
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    return len(cases)


# The small template with two questions that vary (a choice and a bool): four answer sets, the
# fewest that a pairwise cover under four servers splits into three non-empty shards, so each
# example's shard runs one or two renders instead of four.
QUESTIONS = """
    _answers_file: .copier-answers.yml
    _asgigen:
      name_question: service_name
    service_name:
      type: str
      help: Name of the service
    flavour:
      type: str
      default: plain
      choices: [plain, json]
    greeting:
      type: str
      default: hello
    indent:
      type: int
      default: 2
    shout:
      type: bool
      default: false
"""


def steps_of(cases: list[str]) -> int:
    """The fewest steps a report of these cases has: each answer set's render and tests, and
    one boot per case (a case is `answer-set@server`)."""
    return 2 * len({case.split("@")[0] for case in cases}) + len(cases)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return small_template(tmp_path / "template", QUESTIONS)


def test_github_workflow_lists_a_pairwise_matrix_and_runs_a_case(template: Path) -> None:
    jobs = workflow("validate-templates.yml")["jobs"]
    (listing,) = asgigen_steps(jobs["cases"])
    assert jobs["cases"]["outputs"]["matrix"] == f"${{{{ steps.{listing['id']}.outputs.matrix }}}}"
    output = template.parent / "github-output"
    output.write_text("")
    listed = bash(listing["run"], template, GITHUB_OUTPUT=str(output))
    assert listed.returncode == 0, listed.stderr
    # GitHub's multi-line output: NAME<<DELIMITER, the value, DELIMITER.
    match = re.fullmatch(r"matrix<<(\w+)\n(.*)\n\1\n", output.read_text(), re.DOTALL)
    assert match, output.read_text()
    matrix = json.loads(match[2])
    assert list(matrix) == ["include"]
    assert {entry["server"] for entry in matrix["include"]} == {
        "uvicorn",
        "hypercorn",
        "daphne",
        "granian",
    }
    assert jobs["validate"]["strategy"]["matrix"] == ("${{ fromJSON(needs.cases.outputs.matrix) }}")
    (run,) = asgigen_steps(jobs["validate"])
    case = matrix["include"][0]
    values = {f"matrix.{key}": str(value) for key, value in case.items()}
    ran = bash(expand(run["run"], values), template)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert junit_ok(template / "report.xml") >= 3  # render, tests, the boot


def test_github_sharded_workflow_runs_its_shard_and_records_durations(template: Path) -> None:
    job = workflow("validate-templates-sharded.yml")["jobs"]["validate"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    (run,) = asgigen_steps(job)
    script = run["run"]
    assert f"/{len(shards)}" in script
    # Every shard's case list: disjoint, together the whole pairwise cover.
    listing = script.split("--durations")[0].replace("\\\n", " ").splitlines()[-1]
    assert listing.strip().startswith("asgigen validate")
    parts = []
    for shard in shards:
        command = expand(listing, {"matrix.shard": str(shard)}) + " --list"
        listed = bash(command, template)
        assert listed.returncode == 0, listed.stderr
        parts.append(listed.stdout.split())
    whole = bash(listing.split("--shard")[0] + " --list", template)
    assert sorted(name for part in parts for name in part) == sorted(whole.stdout.split())
    # The first shard for real, as the runner runs it, with no durations recorded yet.
    ran = bash(expand(script, {"matrix.shard": "1"}), template)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert "durations file durations/2.json not found: shards balanced by count" in ran.stderr
    assert junit_ok(template / "report.xml") >= steps_of(parts[0])
    recorded = json.loads((template / "durations" / "1.json").read_text())
    assert sorted(recorded["cases"]) == sorted(parts[0])
    assert all(seconds > 0 for seconds in recorded["cases"].values())


def test_gitlab_parallel_matrix_runs_its_shard(template: Path) -> None:
    job = workflow("gitlab-ci.yml")["validate-template"]
    (matrix,) = job["parallel"]["matrix"]
    shards = matrix["SHARD"]
    assert shards == [f"{k}/{len(shards)}" for k in range(1, len(shards) + 1)]
    script = "\n".join(job["script"])
    listings = []
    for shard in shards:
        listed = bash(script.splitlines()[0], template, SHARD=shard)
        assert listed.returncode == 0, listed.stderr
        listings.append(listed.stdout.split())
    flat = [name for part in listings for name in part]
    whole = bash(script.splitlines()[0].split("--shard")[0], template)
    assert sorted(flat) == sorted(whole.stdout.split())  # disjoint, and together the whole
    ran = bash(script, template, SHARD=shards[-1])
    assert ran.returncode == 0, ran.stderr + ran.stdout
    report = template / job["artifacts"]["reports"]["junit"]
    assert junit_ok(report) >= steps_of(listings[-1])
    suites = {suite.get("name") for suite in ET.parse(report).getroot().iter("testsuite")}
    assert suites == {name.split("@")[0] for name in listings[-1]}
