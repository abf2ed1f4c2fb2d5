"""A shard of the built-in template's pairwise cover, run for real: one cheap case."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_asgigen

pytestmark = pytest.mark.e2e

# Every question pinned: the pairwise cover of what is left is one answer set.
PINNED = ["style=raw", "python_version=3.11", "docker=false", "deploy=none", "ci=false"]


def test_a_pinned_shard_of_the_built_in_template_runs_green_with_junit(tmp_path: Path) -> None:
    data = [arg for pin in PINNED for arg in ("--data", pin)]
    args = ["validate", "--pairwise", *data, "--shard", "1/1"]
    listed = run_asgigen(*args, "--list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (case,) = json.loads(listed.stdout)["include"]
    assert case["answers"]["style"] == "raw"
    assert case["answers"]["docker"] is False
    report = tmp_path / "report.xml"
    durations = tmp_path / "durations.json"
    ran = run_asgigen(
        *args, "--junit-xml", str(report), "--durations-out", str(durations), cwd=tmp_path,
        timeout=900,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert ran.stdout.strip().splitlines()[-1].startswith("1 of 1 cases passed")
    root = ET.parse(report).getroot()
    steps = [c.get("name") for c in root.iter("testcase")]
    # "app": Uvicorn boots through the contract's run, so the declared app is loaded first.
    assert steps == ["render", "ruff", "ruff-format", "mypy", "tests", "app", "serve:uvicorn"]
    assert not [c for c in root.iter("testcase") if len(c)]  # no failure, no skip
    assert list(json.loads(durations.read_text())["cases"]) == [case["name"]]
