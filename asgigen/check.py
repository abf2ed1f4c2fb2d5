"""Prove a generated project works: its own tests, then a live boot under real servers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen.console import Console
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.generate import load_yaml
from asgigen.servers import SERVERS, RunningServer, ServerSpec, running_server
from asgigen.styles import STYLES
from asgigen.wsclient import WebSocket, WebSocketError

TEST_TIMEOUT = 600.0
GREETING = "Hello, ASGI world!"


@dataclass
class StepResult:
    name: str
    status: str  # "passed", "failed" or "skipped"
    seconds: float
    summary: str
    output: str = ""
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class ProjectInfo:
    path: Path
    package: str
    style: str | None


@dataclass
class CheckReport:
    project: ProjectInfo
    python: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[StepResult]:
        return [step for step in self.steps if not step.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project.path),
            "package": self.project.package,
            "style": self.project.style,
            "python": self.python,
            "ok": self.ok,
            "steps": [
                {
                    "name": s.name,
                    "status": s.status,
                    "seconds": round(s.seconds, 3),
                    "summary": s.summary,
                }
                for s in self.steps
            ],
        }


def inspect_project(path: Path) -> ProjectInfo:
    """Read the package and style of a generated project from its answers file or layout."""
    import yaml

    path = path.expanduser().absolute()
    if not path.is_dir():
        raise BadInputError(f"{path} is not a directory")
    answers: dict[str, Any] = {}
    answers_file = path / ".copier-answers.yml"
    if answers_file.is_file():
        try:
            loaded = load_yaml(answers_file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            raise BadInputError(f"{answers_file} is not valid YAML") from None
        answers = loaded if isinstance(loaded, dict) else {}
    package = answers.get("package_name")
    if not isinstance(package, str) or not (path / "src" / package).is_dir():
        candidates = sorted(p.parent.name for p in (path / "src").glob("*/app.py"))
        if len(candidates) != 1:
            raise BadInputError(
                f"{path} does not look like a generated project (no src/<package>/app.py)",
                hint="point `asgigen check` at the directory that holds pyproject.toml",
            )
        package = candidates[0]
    style = answers.get("style")
    return ProjectInfo(path, package, style if isinstance(style, str) else None)


# --- which interpreter runs the project -------------------------------------------------


def project_requirements(
    project: Path, extras: tuple[str, ...] = ("test",)
) -> tuple[str | None, list[str]]:
    """The project's distribution name and its requirements, with the given extras."""
    import tomllib

    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise BadInputError(f"{project}/pyproject.toml cannot be read: {err}") from None
    meta = data.get("project", {})
    requirements = list(meta.get("dependencies", []))
    for extra in extras:
        requirements += meta.get("optional-dependencies", {}).get(extra, [])
    name = meta.get("name")
    return (name if isinstance(name, str) else None), [str(r) for r in requirements]


def missing_requirements(requirements: list[str], own_name: str | None = None) -> list[str]:
    """The requirements the current interpreter does not satisfy."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    missing = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            missing.append(text)
            continue
        if own_name and canonicalize_name(requirement.name) == canonicalize_name(own_name):
            continue  # the project's own extras, e.g. dev = ["proj[test]"]
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(text)
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            missing.append(text)
    return missing


def find_uv() -> str | None:
    """uv on PATH, or installed beside this interpreter (as `pip install uv` puts it)."""
    beside = Path(sys.executable).parent / "uv"
    return shutil.which("uv") or (str(beside) if beside.is_file() else None)


def isolated_python(project: Path, console: Console) -> str:
    """A fresh venv with the project and its test extra installed; cached by pyproject."""
    digest = hashlib.sha256(
        (project / "pyproject.toml").read_bytes() + str(project).encode() + sys.version.encode()
    ).hexdigest()[:16]
    venv = Path(tempfile.gettempdir()) / "asgigen-venvs" / digest
    python = venv / "bin" / "python"
    marker = venv / ".asgigen-ready"
    if marker.is_file() and python.exists():
        return str(python)
    shutil.rmtree(venv, ignore_errors=True)
    started = time.perf_counter()
    uv = find_uv()
    commands: list[list[str]]
    if uv:
        commands = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(python), "-e", f"{project}[test]"],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(venv)],
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{project}[test]",
            ],
        ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise CheckFailedError(
                f"installing {project.name} into a fresh venv failed",
                details=(result.stdout + result.stderr)[-4000:],
                hint="check the dependencies in the project's pyproject.toml",
            )
    marker.touch()
    console.step("venv", f"{'uv' if uv else 'venv+pip'} {venv}", time.perf_counter() - started)
    return str(python)


def choose_python(info: ProjectInfo, *, isolated: bool, console: Console) -> str:
    if not isolated:
        name, requirements = project_requirements(info.path)
        if not missing_requirements(requirements, own_name=name):
            return sys.executable
    return isolated_python(info.path, console)


# --- the steps ----------------------------------------------------------------------------

_SUMMARY = re.compile(r"^=*\s*(.*\d+ (passed|failed|error|errors|skipped).*?)\s*=*$", re.M)


def declared_pytest_plugins(project: Path) -> list[str]:
    """pytest plugins (as `-p` modules) from the project's own declared dependencies."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names = set()
    for text in project_requirements(project)[1]:
        try:
            names.add(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    plugins = []
    for entry in metadata.entry_points(group="pytest11"):
        dist = entry.dist
        if dist is not None and canonicalize_name(dist.metadata["Name"]) in names:
            plugins += ["-p", entry.value]
    return plugins


def run_tests(python: str, project: Path) -> StepResult:
    started = time.perf_counter()
    env = dict(os.environ)
    # Keep the project tree as generated: no __pycache__ or .pytest_cache left behind.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault(
        "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "asgigen-hypothesis")
    )
    env.pop("PYTEST_ADDOPTS", None)
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"]
    if python == sys.executable:
        # This interpreter is asgigen's: of its pytest plugins load only those the project
        # declares, as in the project's own environment (and start-up is faster for it).
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        command += declared_pytest_plugins(project)
    try:
        result = subprocess.run(
            command,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=TEST_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout if isinstance(err.stdout, str) else ""
        return StepResult(
            "tests",
            "failed",
            time.perf_counter() - started,
            f"timed out after {TEST_TIMEOUT:.0f} s",
            out[-4000:],
        )
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    found = _SUMMARY.findall(result.stdout)
    summary = found[-1][0] if found else f"pytest exited with code {result.returncode}"
    if result.returncode == 0 and found:
        return StepResult("tests", "passed", seconds, summary)
    if result.returncode == 5:
        summary = "no tests ran"
    return StepResult(
        "tests",
        "failed",
        seconds,
        summary,
        _tail(output, 60),
        hint=f"cd {project} && {Path(python).name} -m pytest",
    )


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _request(
    server: RunningServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on its own connection; header names come back lower-cased."""
    import http.client

    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    except OSError as err:
        raise CheckFailedError(f"{method} {path} failed: {err}") from None
    finally:
        connection.close()


def live_requests(server: RunningServer, extra_paths: tuple[str, ...]) -> list[str]:
    """Real requests against a running server; returns what passed, raises on the first miss."""
    passed = []
    status, headers, body = _request(server, "GET", "/")
    content_type = headers.get("content-type", "")
    _expect(status == 200, f"GET / answered {status}, expected 200")
    _expect(body.decode(errors="replace") == GREETING, f"GET / answered {body[:80]!r}")
    _expect(content_type.startswith("text/plain"), f"GET / has content-type {content_type!r}")
    passed.append("GET / 200")
    status, _, body = _request(server, "GET", "/health")
    _expect(status == 200, f"GET /health answered {status}, expected 200")
    _expect(_json(body) == {"status": "ok"}, f"GET /health answered {body[:80]!r}")
    passed.append("/health 200")
    for path in extra_paths:
        status, _, body = _request(server, "GET", path)
        _expect(status == 200, f"GET {path} answered {status}, expected 200")
        passed.append(f"{path} 200")
    payload = '{"check": "échø ✓"}'.encode()
    status, headers, body = _request(
        server, "POST", "/echo", payload, {"content-type": "application/json"}
    )
    _expect(status == 200, f"POST /echo answered {status}, expected 200")
    _expect(body == payload, f"POST /echo echoed {body[:80]!r}")
    _expect(
        headers.get("content-type", "").startswith("application/json"),
        f"POST /echo answered content-type {headers.get('content-type')!r}",
    )
    passed.append("echo 200")
    status, _, _ = _request(server, "GET", "/no-such-path")
    _expect(status == 404, f"GET /no-such-path answered {status}, expected 404")
    status, headers, _ = _request(server, "DELETE", "/health")
    _expect(status == 405, f"DELETE /health answered {status}, expected 405")
    allow = {method.strip() for method in headers.get("allow", "").split(",")}
    _expect("GET" in allow, f"DELETE /health: 405 without GET in Allow ({allow})")
    passed.append("404, 405")
    try:
        socket = WebSocket(server.host, server.port, "/ws")
        try:
            socket.send("ping ✓")
            text = socket.receive()
            socket.send(b"\x00\xff")
            data = socket.receive()
        finally:
            socket.close()
    except (OSError, WebSocketError) as err:
        raise CheckFailedError(f"websocket /ws failed: {err}") from None
    _expect(text == "ping ✓", f"websocket /ws echoed {text!r} for a text message")
    _expect(data == b"\x00\xff", f"websocket /ws echoed {data!r} for a bytes message")
    passed.append("ws echo")
    return passed


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def module_available(python: str, module: str) -> bool:
    if python == sys.executable:
        from importlib.util import find_spec

        return find_spec(module) is not None
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", probe], check=False).returncode == 0


def boot(python: str, info: ProjectInfo, spec: ServerSpec) -> StepResult:
    name = f"serve:{spec.name}"
    if not module_available(python, spec.module):
        return StepResult(
            name, "skipped", 0.0, f"{spec.name} is not installed", hint=spec.install_hint
        )
    started = time.perf_counter()
    style = STYLES.get(info.style or "")
    extra = style.extra_paths if style else ()
    try:
        with running_server(spec, python=python, project=info.path, package=info.package) as srv:
            passed = live_requests(srv, extra)
            where = f"{srv.host}:{srv.port}"
            log = srv.log_tail
        code = srv.process.returncode
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
        return StepResult(
            name, "failed", seconds, f"{spec.name} exited with code {code} on SIGTERM", log()
        )
    return StepResult(name, "passed", seconds, f"{spec.name} {where}  {', '.join(passed)}")


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


def run_checks(
    path: Path,
    *,
    servers: list[str] | None = None,
    isolated: bool = False,
    console: Console | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> CheckReport:
    """Run the tests and live boots of one project; never raises for a failing step."""
    console = console or Console()
    specs = resolve_servers(servers or [])
    info = inspect_project(path)
    try:
        python = choose_python(info, isolated=isolated, console=console)
    except CheckFailedError as err:
        report = CheckReport(info, sys.executable)
        report.steps.append(StepResult("install", "failed", 0.0, err.message, err.details))
        _show(console, report.steps[-1], on_step)
        return report
    report = CheckReport(info, python)
    report.steps.append(run_tests(python, info.path))
    _show(console, report.steps[-1], on_step)
    for spec in specs:
        report.steps.append(boot(python, info, spec))
        _show(console, report.steps[-1], on_step)
    return report


def _show(console: Console, step: StepResult, on_step: Callable[[StepResult], None] | None) -> None:
    label = step.name.split(":")[0]
    summary = step.summary if step.status != "skipped" else f"skipped: {step.summary}"
    console.step(label, summary, step.seconds, ok=step.ok)
    if step.status == "skipped" and step.hint:
        console.info(f"             hint: {step.hint}")
    if on_step:
        on_step(step)


def check_project(path: Path, **options: Any) -> CheckReport:
    """Run the checks and raise CheckFailedError naming the first failing step."""
    report = run_checks(path, **options)
    failures = report.failures
    if failures:
        first = failures[0]
        names = ", ".join(step.name for step in failures)
        raise CheckFailedError(
            f"{report.project.path.name}: {names} failed: {first.summary}",
            details=first.output,
            hint=first.hint,
        )
    return report
