"""Prove a project works, as its own contract says: gates, its tests, then real servers."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen import environments, gates, services, workers
from asgigen.app_check import verify_app
from asgigen.console import LABEL_WIDTH, Console
from asgigen.contract import Contract, load_contract
from asgigen.discovery import prove_undeclared
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.explain import enclosing_project
from asgigen.ports import free_port
from asgigen.probes import run_probes
from asgigen.project_layout import locate
from asgigen.project_origin import describe, origin
from asgigen.pyproject_file import PyprojectFile, read_pyproject
from asgigen.pytest_outcome import parse_junit
from asgigen.replicas import check_refusal, run_replicas
from asgigen.runtime_imports import explain_missing
from asgigen.servers import SERVERS, RunningServer, ServerSpec, running_server, server_env
from asgigen.steps import StepResult, project_env, run_step, tail

_NO_APP_HINT = 'declare one: [tool.asgigen] app = "yourpkg.module:app" in pyproject.toml'


@dataclass
class Project:
    """A project on disk: its directory, its name, its contract and its pyproject.toml."""

    path: Path
    name: str
    contract: Contract
    pyproject: PyprojectFile | None = None  # None: not read yet (a Project made by hand)


def open_project(path: Path) -> Project:
    """The project at `path` (or in its one subfolder that is a Python project) and its
    contract."""
    path = Path(os.path.abspath(path.expanduser()))
    if not path.is_dir():
        raise BadInputError(f"{path} is not a directory")

    path = locate(path)  # the directory itself, or the one subfolder holding the project
    pyproject = read_pyproject(path)
    name = pyproject.table("project").get("name")
    name = name if isinstance(name, str) else path.name
    return Project(path, name, load_contract(path, pyproject), pyproject)


@dataclass
class CheckReport:
    project: Project
    python: str
    steps: list[StepResult] = field(default_factory=list)
    runtime_python: str | None = None  # the run-time environment's, that servers boot with
    deps: str | None = None  # where the dependencies came from
    answers: dict[str, Any] | None = None  # the answers file: template and version it names

    @property
    def ok(self) -> bool:
        """Every step passed: a skipped step is not a pass."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[StepResult]:
        return [step for step in self.steps if not step.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project.path),
            "name": self.project.name,
            "contract": self.project.contract.source,
            "app": self.project.contract.app,
            "python": self.python,
            "runtime_python": self.runtime_python,
            "deps": self.deps,
            "answers": self.answers,
            "ok": self.ok,
            "steps": [
                {
                    "name": s.name,
                    "status": s.status,
                    "seconds": round(s.seconds, 3),
                    "summary": s.summary,
                    **({"hint": s.hint} if s.hint else {}),
                }
                for s in self.steps
            ],
        }


def resolve_servers(names: list[str]) -> list[ServerSpec]:
    if not names:
        return [SERVERS["uvicorn"]]
    if "all" in names:
        return list(SERVERS.values())
    unknown = [name for name in names if name not in SERVERS]
    if unknown:
        raise BadInputError(
            f"unknown server {unknown[0]!r}", hint=f"choose from: {', '.join(SERVERS)}, all"
        )
    return [SERVERS[name] for name in dict.fromkeys(names)]


@contextlib.contextmanager
def environment(
    project: Project,
    *,
    tools: list[str],
    specs: list[ServerSpec],
    isolated: bool,
    runtime: bool = False,
) -> Iterator[environments.Environment]:
    """The environment the tests and gates run in, or with `runtime` the one servers boot
    in: the project's run-time dependencies and the servers only (asgigen/environments.py)."""
    servers = [spec.requirement for spec in specs]
    options: dict[str, Any] = {
        "tools": tools,
        "servers": servers,
        "runtime": runtime,
        "pyproject": project.pyproject,
    }
    if isolated:
        with environments.isolated_environment(project.path, **options) as env:
            yield env
    else:
        yield environments.cached_environment(project.path, **options)


@contextlib.contextmanager
def both_environments(
    project: Project, *, tools: list[str], specs: list[ServerSpec], isolated: bool
) -> Iterator[tuple[environments.Environment, environments.Environment]]:
    """The check environment and the run-time one, cached ones built at the same time (the
    run-time one in a thread: uv spends much of a build waiting for the index and the disk);
    `isolated` ones one after the other, as both build the project from its directory."""
    runtime = environment(project, tools=[], specs=specs, isolated=isolated, runtime=True)
    if isolated:
        with environment(project, tools=tools, specs=specs, isolated=True) as env, runtime as run:
            yield env, run
        return
    with contextlib.ExitStack() as run_stack, contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(1, thread_name_prefix="asgigen-env") as pool:
            later = pool.submit(run_stack.enter_context, runtime)
            try:
                env = stack.enter_context(
                    environment(project, tools=tools, specs=specs, isolated=isolated)
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    later.result()  # entered: run_stack removes it
                raise
            run = later.result()
        yield env, run


def run_tests(python: str, project: Project, services: dict[str, str] | None = None) -> StepResult:
    """The project's own tests, as `pytest` in the project runs them (`services`: variables
    naming the URLs of the services the tests use). The verdict comes from pytest's JUnit XML
    report, written outside the project: at least one test passed, none failed or errored."""
    paths = project.contract.import_paths
    env = project_env(
        {
            **(services or {}),
            "PYTHONPATH": os.pathsep.join(paths),
            "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(tempfile.gettempdir()) / "asgigen-hypothesis"),
        },
        python,
    )
    hint = f"cd {shlex.quote(str(project.path))} && {shlex.quote(python)} -m pytest"
    fd, report_name = tempfile.mkstemp(prefix="asgigen-pytest-", suffix=".xml")
    os.close(fd)
    report = Path(report_name)
    try:
        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"]
        command.append(f"--junitxml={report}")
        step, output = run_step("tests", command, project.path, hint=hint, env=env)
        try:
            text = report.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    finally:
        report.unlink(missing_ok=True)
    step = judge_tests(step, output, text)
    if not step.ok:
        step.hint = step.hint or hint
    return step


def judge_tests(step: StepResult, output: str, report: str) -> StepResult:
    """The tests step's verdict from pytest's exit (`step`) and its JUnit XML `report`."""
    if "timed out" in step.summary and not step.ok:
        return step
    try:
        outcome = parse_junit(report) if report.strip() else None
    except ValueError as err:
        outcome, step.summary = None, str(err)
    if outcome is None:
        step.status = "failed"
        if not report.strip():
            step.summary = "pytest wrote no report; " + (
                step.summary if output else "it printed nothing"
            )
        step.output = step.output or tail(output)
        return step
    step.summary = outcome.summary()
    if not outcome.ok or not step.ok:
        step.status = "failed"
        step.output = step.output or tail(output)
        if outcome.ok:  # every test passed, yet pytest failed (a plugin, a coverage floor)
            step.summary = f"{step.summary}, yet pytest failed: " + _last_line(output)
    return step


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1][:200] if lines else "no output"


def run_setup(python: str, project: Project, services: dict[str, str]) -> StepResult:
    """The contract's `setup` command (migrations...), once before the servers boot."""
    command = [python if part == "python" else part for part in project.contract.setup]
    paths = os.pathsep.join(project.contract.import_paths)
    env = project_env({**services, "PYTHONPATH": paths}, python)
    hint = f"cd {shlex.quote(str(project.path))} && {shlex.join(project.contract.setup)}"
    step, _ = run_step("setup", command, project.path, hint=hint, env=env)
    if step.ok:
        step.summary = shlex.join(project.contract.setup)
    return step


def start_services(
    project: Project, stack: contextlib.ExitStack, add: Callable[[StepResult], None]
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Provide each service of the contract until `stack` closes: a step per service. Returns
    the variables for the app and for the tests, or None when one could not be provided."""
    app_env: dict[str, str] = {}
    test_env: dict[str, str] = {}
    for service in project.contract.services:
        started = time.perf_counter()
        name = f"service:{service.kind}"
        try:
            url, origin = stack.enter_context(services.provide(service.kind, service.url_env))
        except CheckFailedError as err:
            seconds = time.perf_counter() - started
            add(StepResult(name, "failed", seconds, err.message, err.details, err.hint))
            return None
        add(StepResult(name, "passed", time.perf_counter() - started, origin))
        app_env[service.url_env] = url
        if service.test_url_env:
            test_env[service.test_url_env] = os.environ.get(service.test_url_env) or url
    return app_env, test_env


def boot(
    python: str, project: Project, spec: ServerSpec, services: dict[str, str] | None = None
) -> StepResult:
    """Start the project under `spec`, run the contract's probes, stop it with SIGTERM."""
    name = f"serve:{spec.name}"
    contract = project.contract
    if contract.app is None and not (spec.name == "uvicorn" and contract.run):
        return StepResult(name, "skipped", 0.0, "no ASGI app found", hint=_NO_APP_HINT)

    probed = spec.probed(contract)  # without the WebSocket probes under Daphne
    started = time.perf_counter()
    try:
        with running_server(spec, python=python, contract=contract, services=services) as server:
            try:
                passed = run_probes(server.host, server.port, probed)
                if not contract.declared:  # what its OpenAPI document tells; 404s prove nothing
                    passed = prove_undeclared(server.host, server.port, passed)
            except CheckFailedError as err:
                # What the server printed meanwhile (a 500's traceback), and how to start it.
                err.details = err.details or server.log_tail(20)
                err.hint = err.hint or f"{server.reproduce}   # then request {server.base_url}"
                raise
            where = f"{server.host}:{server.port}"
            log = server.log_tail
            passed += _several_workers(server, contract)
        code = server.process.returncode
    except CheckFailedError as err:
        return StepResult(
            name,
            "failed",
            time.perf_counter() - started,
            err.message,
            err.details or "",
            hint=err.hint,
        )
    seconds = time.perf_counter() - started
    if code not in (0, -15):
        summary = f"{spec.name} exited with code {code} on SIGTERM"
        return StepResult(name, "failed", seconds, summary, log(), server.reproduce)
    summary = f"{spec.name} {where}  {', '.join(passed)}"
    if probed.websocket_echo == contract.websocket_echo:
        return StepResult(name, "passed", seconds, summary)
    return _websockets_not_run(name, seconds, summary, spec, project)


def _websockets_not_run(
    name: str, seconds: float, summary: str, spec: ServerSpec, project: Project
) -> StepResult:
    """A boot whose WebSocket probes were not sent (the server is not supported for them):
    the summary says so and why. With no HTTP probe in the contract it proved nothing but a
    readiness answer and a 404, and does not pass."""
    note = f"WebSocket probes not run: {spec.websocket_reason}"
    if project.contract.http:
        return StepResult(name, "passed", seconds, f"{summary}; {note}")
    return StepResult(
        name,
        "skipped",
        seconds,
        f"booted; nothing proved: the contract's only probes are WebSocket probes. {note}",
        hint=f"asgigen check {shlex.quote(str(project.path))} --server uvicorn",
    )


def _several_workers(server: RunningServer, contract: Contract) -> list[str]:
    """When the server shares its port among worker processes (the project's settings asked
    for several), connections must reach more than one, and SIGTERM must stop them all
    (asgigen/workers.py); the proof stops the server. Nothing for a single process."""
    if sys.platform != "linux":
        return []

    holders = workers.listeners(server.host, server.port, server.process.pid)
    if holders < 3:  # one process, or a main process and one worker (Granian's)
        return []
    proof = workers.prove_workers(
        server.process, server.host, server.port, contract.ready, holders - 1
    )
    return [proof]


def run_checks(
    path: Path | None,
    *,
    servers: list[str] | None = None,
    isolated: bool = False,
    with_gates: bool = True,
    console: Console | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    replicas: int = 1,
) -> CheckReport:
    """Gates, tests and live boots of one project (None: the project the current directory
    is in, as `explain` finds it), then with `replicas` > 1 the replicas behind a load balancer
    (asgigen/replicas.py); never raises for a failing step."""
    console = console or Console()
    specs = resolve_servers(servers or [])
    if path is None:
        path = enclosing_project(Path.cwd()) or Path.cwd()
    project = open_project(path)
    if replicas != 1:
        check_refusal(project.contract, replicas)
    tools = gates.configured(project.path, project.pyproject) if with_gates else []
    report = CheckReport(project, sys.executable)

    report.answers = origin(project.path, Path(os.path.abspath(path.expanduser())))

    explain: list[Callable[[StepResult], None]] = []  # a boot's missing module, named

    def add(step: StepResult) -> None:
        for annotate in explain:
            annotate(step)
        report.steps.append(step)
        _show(console, step, on_step)

    if with_gates:  # `check`, not `new` (which has just said what it rendered)
        console.step("template", describe(report.answers), None)
    try:
        with both_environments(project, tools=tools, specs=specs, isolated=isolated) as (env, run):
            report.python, report.deps = env.python, env.deps
            report.runtime_python = run.python
            console.step("deps", env.deps, None)
            if not project.contract.declared and project.contract.app:
                console.step("app", _found_where(project), None)
            if env.built is not None:
                console.step("env", f"built {env.path}", env.built)
            if run.built is not None:
                console.step("env", f"built {run.path} (run time: no test requirements)", run.built)
            explain.append(_missing_module_explainer(project, env))
            for step in gates.run_gates(
                env.python, project.path, tools, env.path, project.pyproject
            ):
                add(step)
            with contextlib.ExitStack() as stack:
                provided = start_services(project, stack, add)
                app_env, test_env = provided or ({}, {})
                if provided is None:
                    failed_service = report.steps[-1]
                    add(run_tests(env.python, project, test_env))
                    for spec in specs:
                        add(_not_booted(spec, failed_service))
                elif test_env:
                    # The tests use the servers' services: one after the other.
                    add(run_tests(env.python, project, test_env))
                    for step in setup_and_boots(run.python, project, specs, app_env):
                        add(step)
                else:
                    boots = tests_beside_boots(env.python, project, specs, app_env, run.python)
                    for step in boots:
                        add(step)
                if replicas > 1 and provided is not None:
                    _replicated(run.python, project, specs[0], replicas, app_env, report, add)
    except CheckFailedError as err:
        add(StepResult("environment", "failed", 0.0, err.message, err.details, err.hint))
    return report


def _missing_module_explainer(
    project: Project, tested_in: environments.Environment
) -> Callable[[StepResult], None]:
    """What names the cause of a boot that misses a module the tests had."""

    def annotate(step: StepResult) -> None:
        if not step.ok and step.name != "tests":
            requirements = environments.read_requirements(project.path, project.pyproject)
            explain_missing(step, tested_in.path, requirements)

    return annotate


def _replicated(
    python: str,
    project: Project,
    spec: ServerSpec,
    count: int,
    services: dict[str, str],
    report: CheckReport,
    add: Callable[[StepResult], None],
) -> None:
    """The replica steps, unless the setup they need failed."""
    setup = next((step for step in report.steps if step.name == "setup"), None)
    if setup is not None and not setup.ok:
        add(StepResult("replicas", "skipped", 0.0, "not booted: setup failed", hint=setup.hint))
        return
    run_replicas(python, project.contract, spec, count, services, on_step=add)


def setup_and_boots(
    python: str, project: Project, specs: list[ServerSpec], services: dict[str, str]
) -> list[StepResult]:
    """The contract's setup, if any, then a boot under each server; skipped if a step before
    failed. A server that boots through the project's `run` command may serve some other
    object than the contract's `app`: then the app is imported first, so every check loads
    the app the contract declares (an `app` step)."""
    steps: list[StepResult] = []
    if project.contract.setup:
        steps.append(run_setup(python, project, services))
    contract = project.contract
    unloaded = contract.app is not None and not all(spec.loads_app(contract) for spec in specs)
    if unloaded and (not steps or steps[-1].ok):
        steps.append(load_app(python, project, services))
    if steps and not steps[-1].ok:
        return [*steps, *(_not_booted(spec, steps[-1]) for spec in specs)]
    return [*steps, *(boot(python, project, spec, services) for spec in specs)]


def load_app(python: str, project: Project, services: dict[str, str]) -> StepResult:
    """The contract's app imported in the run-time environment, as a server would see it."""
    env = server_env(project.contract, "127.0.0.1", free_port(), services, python)
    return verify_app(python, project.contract, env)


def tests_beside_boots(
    python: str,
    project: Project,
    specs: list[ServerSpec],
    services: dict[str, str],
    boot_python: str,
) -> list[StepResult]:
    """The tests, and meanwhile in a thread the setup and the boots (with `boot_python`, the
    run-time environment's): for projects whose tests share nothing with the servers (each
    runs in processes of its own, on ports of its own; the tests get no service URL). The
    steps come back in that order."""
    with ThreadPoolExecutor(1, thread_name_prefix="asgigen-boot") as pool:
        boots = pool.submit(setup_and_boots, boot_python, project, specs, services)
        tests = run_tests(python, project)
        return [tests, *boots.result()]


def _found_where(project: Project) -> str:
    """`module:app in FILE (discovered, not declared)`, for a project that declares nothing."""
    contract = project.contract
    where = contract.source.removeprefix("discovered in ")
    if where == "discovered" and contract.app_file is not None:
        where = str(contract.app_file.relative_to(project.path))
    return f"{contract.app} in {where} (discovered, not declared)"


def _not_booted(spec: ServerSpec, cause: StepResult) -> StepResult:
    return StepResult(
        f"serve:{spec.name}", "skipped", 0.0, f"not booted: {cause.name} failed", hint=cause.hint
    )


# Progress labels for step names wider than the label column (the table stays aligned).
_LABELS = {"ruff-format": "format", "environment": "env"}


def step_label(name: str) -> str:
    """The progress table's label of a step: "serve" for serve:uvicorn, "format" for
    ruff-format; never wider than the console's label column."""
    label = name.split(":")[0]
    return _LABELS.get(label, label)[:LABEL_WIDTH]


def _show(console: Console, step: StepResult, on_step: Callable[[StepResult], None] | None) -> None:
    label = step_label(step.name)
    summary = step.summary if step.status != "skipped" else f"skipped: {step.summary}"
    console.step(label, summary, step.seconds, ok=step.ok)
    if step.status == "skipped" and step.hint:
        console.info(f"             hint: {step.hint}")
    if on_step:
        on_step(step)


def check_project(path: Path, **options: Any) -> CheckReport:
    """Run the checks and raise CheckFailedError naming every step that did not pass."""
    report = run_checks(path, **options)
    raise_for(report)
    return report


def raise_for(report: CheckReport) -> None:
    failures = report.failures
    if not failures:
        return
    first = failures[0]
    names = ", ".join(f"{step.name} {step.status}" for step in failures)
    raise CheckFailedError(
        f"{report.project.name}: {names}: {first.summary}",
        details=failure_details(failures),
        hint=first.hint,
    )


def failure_details(failures: list[StepResult]) -> str:
    """What each failed step printed, with the command that reproduces it. One failure: its
    output alone (the error line and its hint follow). Several: a block for each, so that the
    cause of every one is on the screen, not only the first's."""
    failed = [step for step in failures if step.status == "failed"]
    if len(failed) <= 1:
        return failures[0].output
    blocks = []
    for step in failed:
        lines = [f"--- {step.name} failed: {step.summary}"]
        if step.output.strip():
            lines.append(step.output.rstrip())
        if step.hint:
            lines.append(f"hint: {step.hint}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
