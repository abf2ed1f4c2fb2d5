"""Mutation testing of the code that decides pass or fail (docs/mutation.md).

    .venv/bin/python -m pip install 'mutmut<3'    # or: uv pip install 'mutmut<3'
    .venv/bin/python scripts/mutate_decisions.py [--dest DIR] [--modules requirements,contract]

Copies the committed tree (git archive HEAD) to DIR, marks every line outside the decision
functions below `# pragma: no mutate`, and runs mutmut 2 there with the fast unit tests that
judge them, so that the working tree is never mutated. `--modules` restricts the run to some
modules (by file stem) and their tests. Results: `mutmut results` in DIR.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", -1)  # Python 3.12+
# module → the functions (Class.method for methods) whose every line is mutated.
DECISIONS = {
    "asgigen/probes.py": ["run_probes", "_ready", "check_http", "matches"],
    "asgigen/pytest_outcome.py": ["Outcome.ok", "parse_junit"],
    "asgigen/check.py": ["CheckReport.ok", "judge_tests", "boot", "_websockets_not_run"],
    # What the check environment installs: which requirements, extras and groups.
    "asgigen/requirements.py": [
        "Requirements.found",
        "read_requirements",
        "_pyproject",
        "_read_pep621",
        "_expand",
        "dependency_group",
        "_read_uv_lock",
        "poetry_constraint",
        "_poetry_clause",
        "poetry_requirement",
        "python_markers",
        "_read_poetry",
        "_pin_to_lock",
        "requirement_files",
        "read_requirement_file",
        "_read_requirement_files",
        "_keep_dev_when_it_holds_the_tests",
        "mentions",
    ],
    # What the contract says: how to boot the project and which answers prove it.
    "asgigen/contract.py": [
        "load_contract",
        "has_declared_contract",
        "_parse",
        "_additions",
        "_services",
        "_probe",
        "expects_json",
        "_path",
        "_optional_str",
        "_str_list",
        "_tables",
        "_pairs",
        "_read_toml",
    ],
}
# module → the tests that judge it (files, then names to leave out: slow runs of real tools).
VERDICT_TESTS = ["tests/test_probe_verdicts.py", "tests/test_pytest_outcome.py"]
TESTS: dict[str, tuple[list[str], list[str]]] = {
    "asgigen/probes.py": (VERDICT_TESTS, ["real_pytest"]),
    "asgigen/pytest_outcome.py": (VERDICT_TESTS, ["real_pytest"]),
    "asgigen/check.py": (
        [*VERDICT_TESTS, "tests/test_daphne_websockets.py", "tests/test_undeclared_boot.py"],
        ["real_pytest", "boots_a_routed_project"],  # generating a project takes seconds
    ),
    "asgigen/requirements.py": (
        ["tests/test_requirements_decisions.py", "tests/test_requirements.py"],
        # Not judged here: a real check's environment and Python (tests/test_environments.py).
        [
            "installed_tested_and_proved",
            "pyenv_installed",
            "nothing_was_found",
            "uv_lock_is_honoured",
        ],
    ),
    "asgigen/contract.py": (["tests/test_contract_parsing.py", "tests/test_probe_verdicts.py"], []),
}


def spans(source: str, names: list[str]) -> list[tuple[int, int]]:
    """The line ranges of the named functions (methods as Class.method)."""
    found = []
    for node in ast.parse(source).body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for member in members:
            if isinstance(member, ast.FunctionDef) and prefix + member.name in names:
                found.append((member.lineno, member.end_lineno or member.lineno))
    missing = len(names) - len(found)
    if missing:
        sys.exit(f"{missing} of {names} not found: update DECISIONS")
    return found


def in_strings(source: str) -> set[int]:
    """The lines that end inside a string spanning several lines (a comment added there would
    change the string)."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, FSTRING_MIDDLE) and token.end[0] > token.start[0]:
            lines.update(range(token.start[0], token.end[0]))
    return lines


def protect(path: Path, names: list[str]) -> None:
    """Mark each code line outside `names` `# pragma: no mutate` (after its comment, if it
    has one: mutmut looks for the words anywhere in the line)."""
    source = path.read_text(encoding="utf-8")
    keep = spans(source, names)
    strings = in_strings(source)
    lines = []
    for number, line in enumerate(source.splitlines(), 1):
        inside = any(start <= number <= end for start, end in keep)
        code = line.strip() and number not in strings and not line.endswith("\\")
        if not inside and code and "pragma: no mutate" not in line:
            line += "  # pragma: no mutate"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("/tmp/asgigen-mutation"))
    parser.add_argument("--modules", help="comma-separated stems, e.g. requirements,contract")
    args = parser.parse_args()
    dest = args.dest.resolve()
    chosen = [m for m in DECISIONS if not args.modules or Path(m).stem in args.modules.split(",")]
    if not chosen:
        sys.exit(f"no module among {args.modules}: choose from {', '.join(DECISIONS)}")
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    for module in chosen:
        protect(dest / module, DECISIONS[module])
    files = list(dict.fromkeys(f for module in chosen for f in TESTS[module][0]))
    skipped = list(dict.fromkeys(name for module in chosen for name in TESTS[module][1]))
    selection = [*files, *(["-k", " and ".join(f"not {name}" for name in skipped)] * bool(skipped))]
    runner = dest / "run_tests.sh"
    tests = " ".join(f"'{part}'" for part in selection)
    runner.write_text(
        f"#!/bin/sh\ncd {dest} && PYTHONPATH={dest} {sys.executable} -m pytest -x -q "
        f"-p no:xdist -p no:cacheprovider {tests}\n"
    )
    runner.chmod(0o755)
    mutmut = Path(sys.executable).parent / "mutmut"
    command = [str(mutmut), "run", "--paths-to-mutate", ",".join(chosen)]
    command += ["--runner", str(runner), "--tests-dir", "tests"]
    command += ["--disable-mutation-types", "fstring", "--no-progress"]  # messages, not verdicts
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    sys.exit(subprocess.run(command, cwd=dest, env=env, check=False).returncode)


if __name__ == "__main__":
    main()
