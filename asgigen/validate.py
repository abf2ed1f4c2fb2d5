"""`asgigen validate`: render every variant of a template and prove each one, in parallel."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import check, generate
from asgigen.console import Console, paint, use_colour
from asgigen.errors import AsgigenError, BadInputError, CheckFailedError
from asgigen.servers import ServerSpec
from asgigen.styles import STYLES

# Free text that has broken templates before: quotes, backslashes, Jinja markers, emoji.
AWKWARD_DESCRIPTION = 'Ünïcode "quoted" \\ it\'s {{ not jinja }} {% raw %} 🚀 中文'
REQUIRED_QUESTIONS = {"project_name", "package_name", "description", "style"}


@dataclass(frozen=True)
class Case:
    name: str
    style: str
    project_name: str
    description: str | None = None


@dataclass
class CaseResult:
    case: Case
    steps: list[check.StepResult] = field(default_factory=list)
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass
class ValidationReport:
    template: str
    results: list[CaseResult]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failures(self) -> list[tuple[CaseResult, check.StepResult]]:
        return [(r, s) for r in self.results for s in r.steps if s.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "cases": [
                {
                    "name": r.case.name,
                    "style": r.case.style,
                    "ok": r.ok,
                    "steps": [
                        {
                            "name": s.name,
                            "status": s.status,
                            "seconds": round(s.seconds, 3),
                            "summary": s.summary,
                            "output": s.output,
                        }
                        for s in r.steps
                    ],
                }
                for r in self.results
            ],
        }

    def table(self) -> str:
        rows = [("case", "step", "result", "time")]
        for result in self.results:
            for step in result.steps:
                rows.append((result.case.name, step.name, step.status, f"{step.seconds:.2f} s"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        passed = sum(result.ok for result in self.results)
        lines.append(f"{passed} of {len(self.results)} cases passed in {self.seconds:.1f} s")
        return "\n".join(lines)

    def write_junit(self, path: Path) -> None:
        import xml.etree.ElementTree as ET

        suites = ET.Element("testsuites", name="asgigen validate", time=f"{self.seconds:.3f}")
        for result in self.results:
            steps = result.steps
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=result.case.name,
                tests=str(len(steps)),
                failures=str(sum(s.status == "failed" for s in steps)),
                skipped=str(sum(s.status == "skipped" for s in steps)),
                errors="0",
                time=f"{result.seconds:.3f}",
            )
            for step in steps:
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=result.case.name,
                    name=step.name,
                    time=f"{step.seconds:.3f}",
                )
                if step.status == "failed":
                    failure = ET.SubElement(case, "failure", message=step.summary)
                    failure.text = step.output
                elif step.status == "skipped":
                    ET.SubElement(case, "skipped", message=step.summary)
        tree = ET.ElementTree(suites)
        ET.indent(tree)
        tree.write(path, encoding="utf-8", xml_declaration=True)


def plan(styles: list[str]) -> list[Case]:
    cases = []
    for style in styles:
        cases.append(Case(style, style, f"{style}-default"))
        cases.append(Case(f"{style}-awkward", style, "my-awkward-app", AWKWARD_DESCRIPTION))
    return cases


def _run(command: list[str], cwd: Path, name: str, hint: str) -> check.StepResult:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    seconds = time.perf_counter() - started
    output = (result.stdout + result.stderr).strip()
    last = output.splitlines()[-1] if output else f"exit code {result.returncode}"
    if result.returncode == 0:
        return check.StepResult(name, "passed", seconds, last[:80])
    return check.StepResult(name, "failed", seconds, last[:200], output[-6000:], hint=hint)


def _tool(python: str, module: str) -> list[str] | None:
    """How to run a tool for this project: its own interpreter first, then asgigen's."""
    if check.module_available(python, module):
        return [python, "-m", module]
    if check.module_available(sys.executable, module):
        return [sys.executable, "-m", module]
    return None


def lint_steps(project: Path, python: str) -> list[check.StepResult]:
    steps = []
    ruff = _tool(python, "ruff")
    mypy = _tool(python, "mypy")
    hint = "pip install ruff mypy (or asgigen[test])"
    if ruff is None:
        steps += [
            check.StepResult(n, "skipped", 0.0, "ruff is not installed", hint=hint)
            for n in ("ruff", "ruff-format")
        ]
    else:
        steps.append(
            _run(
                [*ruff, "check", "--no-cache", "."],
                project,
                "ruff",
                f"cd {project} && ruff check .",
            )
        )
        steps.append(
            _run(
                [*ruff, "format", "--check", "--no-cache", "."],
                project,
                "ruff-format",
                f"cd {project} && ruff format .",
            )
        )
    if mypy is None:
        steps.append(check.StepResult("mypy", "skipped", 0.0, "mypy is not installed", hint=hint))
    else:
        # The project's interpreter, so mypy sees the project's own dependencies.
        command = [*mypy, "--strict", "--no-incremental", "--python-executable", python]
        steps.append(_run(command, project, "mypy", f"cd {project} && mypy --strict"))
    return steps


def run_case(
    case: Case,
    *,
    template: Path,
    workdir: Path,
    servers: list[ServerSpec],
    isolated: bool,
    report_step: Any,
) -> CaseResult:
    result = CaseResult(case)

    def add(step: check.StepResult) -> bool:
        result.steps.append(step)
        report_step(case, step)
        return step.ok

    started = time.perf_counter()
    request = generate.GenerateRequest(
        target=workdir / case.name / case.project_name,
        template=template,
        style=case.style,
        description=case.description,
        defaults=True,
        interactive=False,
    )
    try:
        rendered = generate.new_project(request)
    except AsgigenError as err:
        add(
            check.StepResult(
                "render", "failed", time.perf_counter() - started, err.message, err.details
            )
        )
        return result
    result.path = rendered.path
    add(check.StepResult("render", "passed", rendered.seconds, f"{len(rendered.files)} files"))
    info = check.inspect_project(rendered.path)
    try:
        python = check.choose_python(info, isolated=isolated, console=Console(quiet=True))
    except CheckFailedError as err:
        add(check.StepResult("install", "failed", 0.0, err.message, err.details or ""))
        return result
    for step in lint_steps(rendered.path, python):
        add(step)
    add(check.run_tests(python, rendered.path))
    for spec in servers:
        add(check.boot(python, info, spec))
    return result


class Progress:
    """One line per finished step without a terminal; a live status line with one."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.live = use_colour(console.err) and not console.quiet

    def step(self, case: Case, step: check.StepResult) -> None:
        with self.lock:
            if step.status == "failed":
                self.failed += 1
            if self.live:
                status = paint(
                    step.status, "red" if step.status == "failed" else "green", self.console.err
                )
                line = f"\r\033[K[{self.done}/{self.total} cases] {case.name}: {step.name} {status}"
                self.console.err.write(line)
                self.console.err.flush()
            else:
                self.console.info(
                    f"  {case.name:<18} {step.name:<16} {step.status:<8} {step.seconds:6.2f} s"
                )

    def case_done(self) -> None:
        with self.lock:
            self.done += 1
            if self.live and self.done == self.total:
                self.console.err.write("\r\033[K")
                self.console.err.flush()


@contextmanager
def _template_dir(template: str | None) -> Iterator[Path]:
    """A local template directory: the built-in one, a directory, or a cloned git repo."""
    if template is None:
        yield generate.builtin_template()
        return
    path = Path(template).expanduser()
    if path.is_dir():
        yield path.resolve()
        return
    if path.exists() or not re.match(r"^(https?://|git@|ssh://|file://|gh:|gl:)", template):
        raise BadInputError(f"template {template} is not a directory or a git URL")
    with tempfile.TemporaryDirectory(prefix="asgigen-template-") as tmp:
        clone = subprocess.run(
            ["git", "clone", "--quiet", "--depth", "1", template, tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        if clone.returncode != 0:
            raise BadInputError(f"cannot clone template {template}: {clone.stderr.strip()}")
        yield Path(tmp)


def validate(
    *,
    template: str | None = None,
    styles: list[str] | None = None,
    servers: list[str] | None = None,
    isolated: bool = False,
    jobs: int | None = None,
    junit_xml: Path | None = None,
    keep: Path | None = None,
    console: Console | None = None,
) -> ValidationReport:
    """Validate every case; never raises for a failing case (the report says)."""
    console = console or Console()
    for style in styles or []:
        if style not in STYLES:
            raise BadInputError(
                f"unknown style {style!r}", hint=f"choose from: {', '.join(STYLES)}"
            )
    specs = check.resolve_servers(servers or [])
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise BadInputError(f"--jobs must be at least 1, got {jobs}")
    if junit_xml is not None and not junit_xml.absolute().parent.is_dir():
        raise BadInputError(
            f"cannot write {junit_xml}: {junit_xml.absolute().parent} does not exist"
        )
    started = time.perf_counter()
    with _template_dir(template) as template_dir:
        questions = generate.load_questions(template_dir)
        missing = REQUIRED_QUESTIONS - set(questions)
        if missing:
            raise BadInputError(
                f"template {template_dir} does not ask {', '.join(sorted(missing))}",
                hint="a template for asgigen asks the built-in template's questions",
            )
        cases = plan(list(dict.fromkeys(styles or list(STYLES))))
        progress = Progress(console, len(cases))
        with tempfile.TemporaryDirectory(prefix="asgigen-validate-") as tmp:
            workdir = keep or Path(tmp)

            def one(case: Case) -> CaseResult:
                try:
                    return run_case(
                        case,
                        template=template_dir,
                        workdir=workdir,
                        servers=specs,
                        isolated=isolated,
                        report_step=progress.step,
                    )
                finally:
                    progress.case_done()

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(one, cases))
    report = ValidationReport(template or "built-in", results, time.perf_counter() - started)
    if junit_xml is not None:
        report.write_junit(junit_xml)
    return report


def failure_details(report: ValidationReport) -> str:
    """The output of each failing step, for stderr."""
    blocks = []
    for result, step in report.failures:
        blocks.append(f"--- {result.case.name}: {step.name} failed: {step.summary}")
        if step.output:
            blocks.append("\n".join(step.output.rstrip().splitlines()[-40:]))
    return "\n".join(blocks)
