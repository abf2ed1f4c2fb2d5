"""The jobs behind `asgigen new` and `asgigen check`, with their progress lines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from asgigen.console import Console


def _display(path: Path) -> str:
    """`path` as the user would type it from here: relative when that is short."""
    relative = os.path.relpath(path, Path.cwd())
    if relative == ".":
        return "."
    if relative.startswith(os.pardir + os.sep + os.pardir):
        return str(path)
    return relative if relative.startswith(os.pardir) else f"./{relative}"


def create(
    path: Path,
    *,
    style: str | None,
    package: str | None,
    description: str | None,
    data: list[str],
    data_file: Path | None,
    defaults: bool,
    check: bool,
    template: Path | None = None,
    git: bool = True,
    force: bool,
    dry_run: bool,
    console: Console,
) -> str:
    """Generate a project, check it, and return the block printed on stdout."""
    from asgigen import generate

    answers: dict[str, Any] = {}
    if data_file is not None:
        answers.update(generate.load_data_file(data_file))
    answers.update(generate.parse_data_pairs(data))
    request = generate.GenerateRequest(
        target=path,
        style=style,
        package=package,
        description=description,
        data=answers,
        defaults=defaults,
        template=template,
        force=force,
        dry_run=dry_run,
    )
    result = generate.new_project(request)
    if dry_run:
        return "\n".join(result.files)
    shown = _display(result.path)
    console.step(
        "rendered",
        f"{result.style} template into {shown} ({len(result.files)} files)",
        result.seconds,
    )
    if git:
        init_git(result.path, console)
    if check:
        from asgigen.check import check_project

        check_project(result.path, console=console)
    if console.quiet:
        return str(result.path)  # for scripts: cd "$(asgigen new x -q)"
    cd = f"cd {shown} && " if result.path != Path.cwd() else ""
    port = result.answers.get("port", 8000)
    commands = [
        (
            f"{cd}python -m {result.package}",
            f"http://127.0.0.1:{port} ({result.package.upper()}_PORT to change)",
        ),
        (f"asgigen check {shown}", "tests + live boot again"),
        (f"asgigen explain {shown}", "how a request travels through it"),
    ]
    width = max(len(command) for command, _ in commands)
    lines = [f"{result.path.name} is ready: {result.path}"]
    lines += [f"  {command:<{width}}  # {comment}" for command, comment in commands]
    return "\n".join(lines)


def init_git(project: Path, console: Console) -> None:
    """Make the project a git repository with one commit, so `asgigen update` can merge."""
    import shutil
    import subprocess
    import time

    if shutil.which("git") is None:
        console.info(
            "  git        not installed: the project is not a repository (asgigen update needs one)"
        )
        return
    started = time.perf_counter()

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=project, capture_output=True, text=True, check=False
        )

    inside = git("rev-parse", "--show-toplevel")
    if inside.returncode == 0 and Path(inside.stdout.strip()).resolve() != project.resolve():
        console.info(f"  git        inside the repository {inside.stdout.strip()}: not nesting one")
        return
    identity: list[str] = []
    if not git("config", "user.email").stdout.strip():
        identity = ["-c", "user.name=asgigen", "-c", "user.email=asgigen@localhost"]
    steps = (
        ["init", "--quiet"],
        ["add", "--all"],
        [*identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit from asgigen"],
    )
    for args in steps:
        result = git(*args)
        if result.returncode != 0:
            console.info(f"  git        {' '.join(args[-3:])} failed: {result.stderr.strip()}")
            return
    console.step("git", "initialised with one commit", time.perf_counter() - started)


def check(
    path: Path, *, servers: list[str], isolated: bool, as_json: bool, console: Console
) -> str:
    """Run the checks; return the JSON report or a one-line verdict for stdout."""
    from asgigen.check import check_project, run_checks
    from asgigen.errors import CheckFailedError

    if as_json:
        report = run_checks(path, servers=servers, isolated=isolated, console=console)
        text = json.dumps(report.to_dict(), indent=2)
        if not report.ok:
            print(text)
            failing = ", ".join(step.name for step in report.failures)
            raise CheckFailedError(f"{report.project.path.name}: {failing} failed")
        return text
    report = check_project(path, servers=servers, isolated=isolated, console=console)
    return f"{report.project.path.name}: all checks passed"


def update(path: Path, *, data: list[str], pretend: bool) -> str:
    """Re-apply the template; return what changed, for stdout."""
    from asgigen import generate
    from asgigen.update import preview_update, update_project

    answers = generate.parse_data_pairs(data)
    run = preview_update if pretend else update_project
    result = run(path, data=answers)
    versions = (
        f"template {result.old_version} → {result.new_version}"
        if result.old_version != result.new_version
        else f"template {result.new_version} (unchanged)"
    )
    verb = "would change" if pretend else "changed"
    if not result.changed:
        return f"{result.path.name}: {versions}; nothing {verb}"
    lines = [f"{result.path.name}: {versions}; {len(result.changed)} file(s) {verb}:"]
    lines += [f"  {name}" for name in result.changed]
    if not pretend:
        lines.append("review with `git diff`, then commit")
    return "\n".join(lines)


def validate(
    *,
    template: str | None,
    styles: list[str],
    servers: list[str],
    isolated: bool,
    jobs: int | None,
    as_json: bool,
    junit_xml: Path | None,
    console: Console,
) -> str:
    """Validate a template; return the table (or JSON) for stdout, raise if a case failed."""
    from asgigen.errors import CheckFailedError
    from asgigen.validate import failure_details
    from asgigen.validate import validate as run_validation

    report = run_validation(
        template=template,
        styles=styles,
        servers=servers,
        isolated=isolated,
        jobs=jobs,
        junit_xml=junit_xml,
        console=console,
    )
    text = json.dumps(report.to_dict(), indent=2) if as_json else report.table()
    if report.ok:
        return text
    print(text)
    # Each failing case by its first failing step: later ones usually fail as a consequence.
    first = [
        f"{result.case.name}:{next(s.name for s in result.steps if s.status == 'failed')}"
        for result in report.results
        if not result.ok
    ]
    raise CheckFailedError(
        f"{len(first)} of {len(report.results)} cases failed: {', '.join(first)}",
        details=failure_details(report),
    )
