"""The jobs behind `asgigen new` and `asgigen check`, with their progress lines."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
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
    template: str | None = None,
    vcs_ref: str | None = None,
    trust: bool = False,
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
        vcs_ref=vcs_ref,
        trust=trust,
        force=force,
        dry_run=dry_run,
    )
    result = generate.new_project(request)
    overwritten = set(result.overwritten)
    if dry_run:
        return "\n".join(
            f"{name}  (overwrites yours)" if name in overwritten else name for name in result.files
        )
    shown = _display(result.path)
    if overwritten:
        console.info(
            f"  overwrote  {len(overwritten)} existing file(s): {', '.join(sorted(overwritten))}"
        )
    console.step(
        "rendered",
        f"{result.template} template into {shown} ({len(result.files)} files)",
        result.seconds,
    )
    if git:
        init_git(result.path, result.files, console)
    if check:
        from asgigen.check import check_project

        check_project(result.path, console=console, with_gates=False)
    if console.quiet:
        return str(result.path)  # for scripts: cd "$(asgigen new x -q)"
    return next_steps(result.path, shown)


def next_steps(project: Path, shown: str) -> str:
    """What to run next, each command working verbatim in a fresh shell."""
    from asgigen.check import open_project
    from asgigen.environments import uv_binary

    contract = open_project(project).contract
    cd = f"cd {shlex.quote(shown)} && " if project != Path.cwd() else ""
    uv = "uv" if shutil.which("uv") else shlex.quote(uv_binary())
    asgigen = _asgigen_command()
    commands = []
    if contract.run:
        # uv makes the project's .venv with its dependencies on first use: no other step.
        run = " ".join(shlex.quote(part) for part in contract.run)
        where = f"{contract.host_env}, {contract.port_env} to change where it listens"
        commands.append((f"{cd}{uv} run {run}", where))
    elif contract.app:
        commands.append((f"{cd}{uv} run uvicorn {contract.app}", "http://127.0.0.1:8000"))
    quoted = shlex.quote(shown)
    commands += [
        (f"{asgigen} check {quoted}", "tests + live boot again, after every edit"),
        (f"{asgigen} explain {quoted}", "how a request travels through it"),
    ]
    width = max(len(command) for command, _ in commands)
    lines = [f"{project.name} is ready: {project}"]
    lines += [f"  {command:<{width}}  # {comment}" for command, comment in commands]
    return "\n".join(lines)


def _asgigen_command() -> str:
    """How to run this asgigen from a fresh shell, whether or not its venv is activated."""
    if shutil.which("asgigen"):
        return "asgigen"
    beside = Path(sys.executable).parent / "asgigen"
    if beside.is_file():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m asgigen"


def init_git(project: Path, files: list[str], console: Console) -> None:
    """Make the project a git repository with one commit of the files asgigen wrote.

    Only in a directory that was not a repository already, and only those files: whatever
    else the directory held (with --force) stays the user's, uncommitted.
    """
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
    if inside.returncode == 0:
        console.info(f"  git        inside the repository {inside.stdout.strip()}: not committing")
        return
    identity: list[str] = []
    if not git("config", "user.email").stdout.strip():
        identity = ["-c", "user.name=asgigen", "-c", "user.email=asgigen@localhost"]
    steps = (
        ["init", "--quiet"],
        ["add", "--", *files],
        [*identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit from asgigen"],
    )
    for args in steps:
        result = git(*args)
        if result.returncode != 0:
            console.info(f"  git        {args[0]} failed: {result.stderr.strip()}")
            return
    console.step(
        "git", f"initialised with one commit of {len(files)} files", time.perf_counter() - started
    )


def check(
    path: Path | None, *, servers: list[str], isolated: bool, as_json: bool, console: Console
) -> str:
    """Run the checks; return the JSON report or a one-line verdict for stdout."""
    from asgigen.check import raise_for, run_checks

    report = run_checks(path, servers=servers, isolated=isolated, console=console)
    if as_json:
        text = json.dumps(report.to_dict(), indent=2)
        if not report.ok:
            print(text)
        raise_for(report)
        return text
    raise_for(report)
    return f"{report.project.name}: all {len(report.steps)} checks passed"


def update(
    path: Path,
    *,
    data: list[str],
    pretend: bool,
    vcs_ref: str | None = None,
    conflict: str = "inline",
    defaults: bool = False,
    skip_answered: bool = False,
) -> str:
    """Re-apply the template; return what changed, for stdout; raise if conflicts are left."""
    from asgigen import generate
    from asgigen.errors import BadInputError, UpdateConflictError
    from asgigen.update import Conflict, preview_update, update_project

    if conflict not in ("inline", "rej"):
        raise BadInputError(f"--conflict {conflict!r}: choose inline or rej")
    answers = generate.parse_data_pairs(data)
    mode: Conflict = "rej" if conflict == "rej" else "inline"
    if pretend:
        result = preview_update(path, data=answers, vcs_ref=vcs_ref, conflict=mode)
    else:
        ask = generate.is_interactive() and not defaults
        result = update_project(
            path, data=answers, vcs_ref=vcs_ref, ask=ask, skip_answered=skip_answered,
            conflict=mode,
        )  # fmt: skip
    versions = (
        f"template {result.old_version} → {result.new_version}"
        if result.old_version != result.new_version
        else f"template {result.new_version} (unchanged)"
    )
    verb = "would change" if pretend else "changed"
    count = f"{len(result.changed)} file(s) {verb}:" if result.changed else f"nothing {verb}"
    lines = [f"{result.path.name}: {versions}; {count}"]
    lines += [f"  {name}" for name in result.changed]
    lines += _changelog(result.changes)
    if result.conflicts:
        lines.append("needs your attention:")
        lines += [f"  {name}: {why}" for name, why in sorted(result.conflicts.items())]
        print("\n".join(lines))
        names = ", ".join(sorted(result.conflicts))
        would = "would leave" if pretend else "left"
        how = "apply the .rej hunks by hand" if mode == "rej" else "resolve the <<<<<<< markers"
        raise UpdateConflictError(
            f"update {would} conflicts in {len(result.conflicts)} file(s): {names}",
            hint=None if pretend else f"{how} (see above for each file), then git add and commit",
        )
    if result.changed and not pretend:
        lines.append("review with `git diff`, then commit")
    return "\n".join(lines)


def _changelog(changes: dict[str, str]) -> list[str]:
    """The template's changelog entries a project moves across, indented under a heading."""
    if not changes:
        return []
    lines = ["what changed in the template:"]
    for version, text in changes.items():
        lines += [f"  {version}", *(f"    {line}" for line in text.splitlines())]
    return lines


def update_status(path: Path, *, as_json: bool) -> tuple[str, int]:
    """`update --check`: the report for stdout, and 0 when up to date, EXIT_BEHIND when not."""
    from asgigen.update import EXIT_BEHIND, check_update

    status = check_update(path)
    if as_json:
        text = json.dumps(status.to_dict(), indent=2)
    elif status.behind:
        lines = [f"{status.path.name}: template {status.current} → {status.latest} available"]
        lines += [*_changelog(status.changes), "run `asgigen update` to bring it in"]
        text = "\n".join(lines)
    else:
        text = f"{status.path.name}: template {status.current} is the newest"
    return text, EXIT_BEHIND if status.behind else 0


def validate(
    *,
    template: str | None,
    vcs_ref: str | None,
    trust: bool,
    variants: list[str],
    styles: list[str],
    servers: list[str],
    case: str | None,
    list_only: bool,
    isolated: bool,
    jobs: int | None,
    as_json: bool,
    junit_xml: Path | None,
    console: Console,
) -> str:
    """Validate a template (or list its cases); return the table or JSON, raise on failure."""
    from asgigen.errors import CheckFailedError
    from asgigen.validate import failure_details, list_cases
    from asgigen.validate import validate as run_validation

    if list_only:
        cases = list_cases(
            template=template, vcs_ref=vcs_ref, variants=variants, styles=styles, servers=servers
        )
        if not as_json:
            return "\n".join(case.name for case in cases)
        # The shape a CI matrix takes as it is: GitHub's `strategy.matrix: ${{ fromJSON(...) }}`.
        include = [{"case": c.name, "variant": c.variant, "server": c.server} for c in cases]
        return json.dumps({"include": include}, indent=2)
    report = run_validation(
        template=template,
        vcs_ref=vcs_ref,
        trust=trust,
        variants=variants,
        styles=styles,
        servers=servers,
        case=case,
        isolated=isolated,
        jobs=jobs,
        junit_xml=junit_xml,
        console=console,
    )
    text = json.dumps(report.to_dict(), indent=2) if as_json else report.table()
    if report.ok:
        return text
    print(text)
    failed = [case.name for case, ok in report.cases if not ok]
    raise CheckFailedError(
        f"{len(failed)} of {len(report.cases)} cases failed: {', '.join(failed)}",
        details=failure_details(report),
    )
