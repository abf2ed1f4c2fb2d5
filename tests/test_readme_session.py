"""The README's sample session is what `asgigen new ../demo --style routed` prints today.

Compared structurally: the steps, the file and test counts, the probes, the commands printed
and the template version named above the block. Timings, ports, the environment's hash and the
paths asgigen was installed at differ from run to run and machine to machine; they are left out.
When this fails, paste the block it prints into the README (paths as /home/you/...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from asgigen.template_history import template_version
from tests.conftest import run_asgigen

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- session: tests/test_readme_session.py checks this block against a real run -->"


def readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    after = text.split(MARKER, 1)[1]
    return after.split("```\n", 1)[1].split("```", 1)[0]


def structure(block: str) -> dict[str, Any]:
    """What a session block says, without what varies between runs and machines."""
    steps: dict[str, str] = {}
    commands: list[str] = []
    ready = ""
    for line in block.splitlines():
        if re.match(r"  (rendered|git|deps|env|tests|app|serve|setup|service|ruff|mypy)\s", line):
            name, rest = line.strip().split(None, 1)
            steps[name] = re.sub(r"\s+\d+(\.\d+)? s$", "", rest).strip()
            continue
        if " is ready: " in line:
            ready = line.split(" is ready: ")[0]
            continue
        if line.startswith("  "):
            # The installed path of uv / asgigen differs per machine: keep the tool's name.
            command = re.sub(r"\S*/(uv|asgigen)(?=\s)", r"\1", line.split("#")[0]).strip()
            commands.append(re.sub(r"\s+", " ", command))
    serve = steps.get("serve", "")
    return {
        "steps": [name for name in steps if name != "env"],  # env: only when it was built
        "rendered": re.sub(r"\.\./\S+", "PATH", steps.get("rendered", "")),
        "git": steps.get("git", ""),
        "deps": steps.get("deps", ""),
        "app": steps.get("app", ""),
        "tests": re.sub(r" in [\d.]+s$", "", steps.get("tests", "")),
        "probes": serve.split(" ready ", 1)[-1],
        "server": serve.split()[0] if serve else "",
        "ready": ready,
        "commands": commands,
    }


def test_the_readme_names_the_live_template_version() -> None:
    before_block = README.read_text(encoding="utf-8").split(MARKER, 1)[0]
    last_paragraph = before_block.rsplit("\n\n", 2)[-2]
    assert f"with template {template_version()} " in last_paragraph.replace("\n", " ")


def test_the_readme_block_reads_as_a_session() -> None:
    said = structure(readme_block())
    assert said["steps"] == ["rendered", "git", "deps", "tests", "app", "serve"]
    assert said["ready"] == "demo"
    assert len(said["commands"]) == 3


@pytest.mark.e2e
def test_the_readme_session_is_what_asgigen_prints(tmp_path: Path) -> None:
    checkout = tmp_path / "asgigen"
    checkout.mkdir()
    result = run_asgigen("new", "../demo", "--style", "routed", cwd=checkout)
    assert result.returncode == 0, result.stderr
    printed = result.stderr + result.stdout
    assert structure(printed) == structure(readme_block()), (
        "the README's sample session is stale; this run printed:\n" + printed
    )
