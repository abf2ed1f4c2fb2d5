"""`asgigen validate`: render every variant of a template and prove each one, in parallel."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import check, generate, render_extensions
from asgigen.console import Console, paint, use_colour
from asgigen.errors import AsgigenError, BadInputError
from asgigen.project_layout import locate
from asgigen.selection import (
    DEFAULT_VARIANT,
    Case,
    Request,
    project_name_for,
    select,
    variants_of,
)
from asgigen.servers import ServerSpec
from asgigen.steps import StepResult
from asgigen.template import Template, Variant, load

# Kept importable from here: other modules and tests name them as validate's.
__all__ = ["DEFAULT_VARIANT", "Case", "variants_of"]


@dataclass
class VariantResult:
    """A rendered variant: shared steps (render, gates, tests) and one boot per server."""

    variant: Variant
    servers: list[str]
    steps: list[StepResult] = field(default_factory=list)
    path: Path | None = None

    def case_ok(self, server: str) -> bool:
        return all(
            step.ok
            for step in self.steps
            if not step.name.startswith("serve:") or step.name == f"serve:{server}"
        ) and any(step.name == f"serve:{server}" for step in self.steps)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass
class ValidationReport:
    template: str
    results: list[VariantResult]
    seconds: float

    @property
    def cases(self) -> list[tuple[Case, bool]]:
        return [
            (Case(r.variant.name, server), r.case_ok(server))
            for r in self.results
            for server in r.servers
        ]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failures(self) -> list[tuple[VariantResult, StepResult]]:
        return [(r, s) for r in self.results for s in r.steps if not s.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "cases": [{"name": case.name, "ok": ok} for case, ok in self.cases],
            "variants": [
                {
                    "name": r.variant.name,
                    "data": r.variant.data,
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
        rows = [("variant", "step", "result", "time")]
        for result in self.results:
            for step in result.steps:
                rows.append((result.variant.name, step.name, step.status, f"{step.seconds:.2f} s"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        cases = self.cases
        passed = sum(ok for _, ok in cases)
        skipped = sum(s.status == "skipped" for r in self.results for s in r.steps)
        verdict = f"{passed} of {len(cases)} cases passed in {self.seconds:.1f} s"
        if skipped:
            verdict += f" ({skipped} step(s) skipped, which fails their cases)"
        lines.append(verdict)
        return "\n".join(lines)

    def durations(self) -> dict[str, float]:
        """Each case's seconds: its own boot plus its share of the render, gates and tests."""
        found = {}
        for result in self.results:
            shared = sum(s.seconds for s in result.steps if not s.name.startswith("serve:"))
            for server in result.servers:
                own = sum(s.seconds for s in result.steps if s.name == f"serve:{server}")
                found[f"{result.variant.name}@{server}"] = round(
                    shared / len(result.servers) + own, 3
                )
        return found

    def write_durations(self, path: Path) -> None:
        """The file `--durations` reads back to balance shards: {"cases": {name: seconds}}."""
        document = {"format": "asgigen-validate-durations/1", "cases": self.durations()}
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def write_junit(self, path: Path) -> None:
        suites = ET.Element("testsuites", name="asgigen validate", time=f"{self.seconds:.3f}")
        for result in self.results:
            steps = result.steps
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=result.variant.name,
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
                    classname=result.variant.name,
                    name=step.name,
                    time=f"{step.seconds:.3f}",
                )
                if step.status == "failed":
                    failure = ET.SubElement(case, "failure", message=step.summary)
                    failure.text = step.output
                elif step.status == "skipped":
                    # A skip is a failure of the case: JUnit readers must not show it green.
                    failure = ET.SubElement(case, "failure", message=f"skipped: {step.summary}")
                    failure.text = step.hint or ""
        tree = ET.ElementTree(suites)
        ET.indent(tree)
        tree.write(path, encoding="utf-8", xml_declaration=True)


def run_variant(
    template: Template,
    variant: Variant,
    *,
    workdir: Path,
    servers: list[ServerSpec],
    isolated: bool,
    report_step: Callable[[str, StepResult], None],
) -> VariantResult:
    result = VariantResult(variant, [spec.name for spec in servers])

    def add(step: StepResult) -> None:
        result.steps.append(step)
        report_step(variant.name, step)

    name_question = template.declaration.name_question
    data = dict(variant.data)
    default_name = project_name_for(variant.name)
    project_name = str(data.pop(name_question, default_name) if name_question else variant.name)
    started = time.perf_counter()
    request = generate.GenerateRequest(
        target=workdir / variant.name / project_name,
        template=None if template.builtin else template.loaded.url,
        vcs_ref=template.loaded.ref,
        data=data,
        defaults=True,
        trust=True,  # validate was asked to run this template: --trust was checked up front
        interactive=False,
    )
    try:
        rendered = generate.new_project(request)
    except AsgigenError as err:
        add(StepResult("render", "failed", time.perf_counter() - started, err.message, err.details))
        return result
    result.path = rendered.path
    add(StepResult("render", "passed", rendered.seconds, f"{len(rendered.files)} files"))
    try:
        check.run_checks(
            locate(rendered.path, rendered.project_dir),  # the folder _asgigen.project_dir names
            servers=[spec.name for spec in servers],
            isolated=isolated,
            console=Console(quiet=True),
            on_step=add,
        )
    except AsgigenError as err:  # a broken contract fails this variant, not the whole run
        add(StepResult("contract", "failed", 0.0, err.message, err.details, err.hint))
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

    def step(self, variant: str, step: StepResult) -> None:
        with self.lock:
            if step.status == "failed":
                self.failed += 1
            if self.live:
                status = paint(
                    step.status, "red" if step.status == "failed" else "green", self.console.err
                )
                line = f"\r\033[K[{self.done}/{self.total}] {variant}: {step.name} {status}"
                self.console.err.write(line)
                self.console.err.flush()
            else:
                self.console.info(
                    f"  {variant:<18} {step.name:<16} {step.status:<8} {step.seconds:6.2f} s"
                )

    def case_done(self) -> None:
        with self.lock:
            self.done += 1
            if self.live and self.done == self.total:
                self.console.err.write("\r\033[K")
                self.console.err.flush()


def validate(
    *,
    template: str | None = None,
    vcs_ref: str | None = None,
    trust: bool = False,
    request: Request | None = None,
    isolated: bool = False,
    jobs: int | None = None,
    junit_xml: Path | None = None,
    durations_out: Path | None = None,
    keep: Path | None = None,
    console: Console | None = None,
) -> ValidationReport:
    """Validate every case; never raises for a failing case (the report says)."""
    console = console or Console()
    request = request or Request()
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise BadInputError(f"--jobs must be at least 1, got {jobs}")
    for option, path in (("--junit-xml", junit_xml), ("--durations-out", durations_out)):
        if path is not None and not path.absolute().parent.is_dir():
            raise BadInputError(
                f"cannot write {path}: {path.absolute().parent} does not exist",
                hint=f"{option} names a file in a directory that exists",
            )
    started = time.perf_counter()
    with load(template, vcs_ref) as loaded:
        _require_trust(loaded, trust)
        _provide_extensions(loaded)
        cases = select(loaded, request, console)
        by_variant: dict[str, list[str]] = {}
        known: dict[str, Variant] = {}
        for one_case in cases:
            by_variant.setdefault(one_case.variant, []).append(one_case.server)
            known[one_case.variant] = Variant(one_case.variant, dict(one_case.data))
        progress = Progress(console, len(by_variant))
        with tempfile.TemporaryDirectory(prefix="asgigen-validate-") as tmp:
            workdir = keep or Path(tmp)

            def one(name: str) -> VariantResult:
                try:
                    return run_variant(
                        loaded,
                        known[name],
                        workdir=workdir,
                        servers=check.resolve_servers(by_variant[name]),
                        isolated=isolated,
                        report_step=progress.step,
                    )
                finally:
                    progress.case_done()

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(one, list(by_variant)))
        source = loaded.source
    report = ValidationReport(source, results, time.perf_counter() - started)
    if junit_xml is not None:
        report.write_junit(junit_xml)
    if durations_out is not None:
        report.write_durations(durations_out)
    return report


def list_cases(
    *,
    template: str | None,
    vcs_ref: str | None,
    request: Request,
    trust: bool = False,
    console: Console | None = None,
) -> list[Case]:
    with load(template, vcs_ref) as loaded:
        if "_jinja_extensions" in loaded.loaded.config:
            # Reading the questions' conditions loads the template's Jinja extensions.
            _require_trust(loaded, trust)
            _provide_extensions(loaded)
        return select(loaded, request, console or Console())


def _require_trust(template: Template, trust: bool) -> None:
    unsafe = {"_tasks", "_migrations", "_jinja_extensions"} & set(template.loaded.config)
    if unsafe and not trust and not template.builtin:
        raise BadInputError(
            f"template {template.source} runs code when rendered ({', '.join(sorted(unsafe))})",
            hint="read its copier.yml, then pass --trust if you trust it",
        )


def _provide_extensions(template: Template) -> None:
    """Install the missing Jinja extensions of a trusted template (as `new` does, into
    asgigen's cache): reading its questions already loads them."""
    for entry in template.loaded.config.get("_jinja_extensions") or []:
        if not re.fullmatch(r"[A-Za-z_][\w.]*", str(entry)):
            continue  # a file of the template (copier/extensions/x.py:Name), not a module
        module = str(entry).split(".")[0]
        if importlib.util.find_spec(module) is None:
            render_extensions.provide(module)


def failure_details(report: ValidationReport) -> str:
    """The output of each failing step, for stderr."""
    blocks = []
    for result, step in report.failures:
        blocks.append(f"--- {result.variant.name}: {step.name} {step.status}: {step.summary}")
        if step.output:
            blocks.append("\n".join(step.output.rstrip().splitlines()[-40:]))
        elif step.hint:
            blocks.append(f"hint: {step.hint}")
    return "\n".join(blocks)
