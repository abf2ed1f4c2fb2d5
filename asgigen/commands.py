"""The jobs behind `asgigen new`, `check`, `update` and `validate`: each composes the domain
modules, shows its progress on the console (stderr) and returns a `Result` that cli.py prints.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgigen import answer_space, generate
from asgigen.answers_file import missing_message
from asgigen.cache import entry
from asgigen.check import check_project, open_project, raise_for, resolve_servers, run_checks
from asgigen.console import Console
from asgigen.environments import uv_binary
from asgigen.errors import AsgigenError, BadInputError, CheckFailedError, UpdateConflictError
from asgigen.git import run as run_git
from asgigen.many_projects import check_many, statuses
from asgigen.project_layout import locate
from asgigen.requirements import run_prefix
from asgigen.selection import Request, load_durations
from asgigen.update import EXIT_BEHIND, Conflict, check_update
from asgigen.validate import failure_details, list_cases
from asgigen.validate import validate as run_validation
from asgigen.verified_update import failed_names, verified_update


@dataclass(frozen=True)
class Result:
    """What a command hands the CLI: `text` for stdout, then the error that ends the run
    (its message and hint go to stderr, its exit code is the run's) or else `exit_code`."""

    text: str
    error: AsgigenError | None = None
    exit_code: int = 0


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
) -> Result:
    """Generate a project, check it, and return the block for stdout."""
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
    made_repository: list[GitResult] = []
    if git:
        # In the staging directory, before the move: the project lands with its commit, or
        # (interrupted before) nothing lands at all.
        request.before_move = lambda rendered, files, target: made_repository.append(
            init_git(rendered, files, probe=target if target.exists() else rendered)
        )
    if check and not dry_run:
        entry("envs")  # an unusable cache directory is said before anything is written
    result = generate.new_project(request)
    overwritten = set(result.overwritten)
    if dry_run:
        return Result(
            "\n".join(
                f"{name}  (overwrites yours)" if name in overwritten else name
                for name in result.files
            )
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
    if result.extensions:
        console.info(
            f"  extensions {', '.join(result.extensions)}: installed for the template's "
            "_jinja_extensions (asgigen's cache, not its environment)"
        )
    if result.answers_file is None:
        console.info(f"  answers    {missing_message()}")
    for message, seconds in made_repository:
        if seconds is None:
            console.info(f"  git        {message}")
        else:
            console.step("git", message, seconds)

    project = locate(result.path, result.project_dir)  # the render, or its project folder
    if check:
        check_project(project, console=console, with_gates=False)
    if console.quiet:
        return Result(str(project))  # for scripts: cd "$(asgigen new x -q)"
    return Result(next_steps(project, _display(project)))


def next_steps(project: Path, shown: str) -> str:
    """What to run next, each command working verbatim in a fresh shell."""
    found = open_project(project)
    contract = found.contract
    cd = f"cd {shlex.quote(shown)} && " if project != Path.cwd() else ""
    uv = "uv" if shutil.which("uv") else shlex.quote(uv_binary())
    # `uv run`, or what installs a Poetry/requirements project
    uv_run = run_prefix(project, uv, found.pyproject)
    asgigen = _asgigen_command()
    commands = []
    if contract.run:
        # uv makes the project's .venv with its dependencies on first use: no other step.
        run = " ".join(shlex.quote(part) for part in contract.run)
        where = f"{contract.host_env}, {contract.port_env} to change where it listens"
        commands.append((f"{cd}{uv_run} {run}", where))
    elif contract.app:
        commands.append((f"{cd}{uv_run} uvicorn {contract.app}", "http://127.0.0.1:8000"))
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


# What init_git says: its message, and the seconds it took when it made a repository.
GitResult = tuple[str, float | None]


def init_git(project: Path, files: list[str], *, probe: Path | None = None) -> GitResult:
    """Make the project a git repository with one commit of the files asgigen wrote.

    Only in a directory that was not a repository already (`probe`: where the project will
    be, asked instead of `project`), and only those files: whatever else the directory held
    (with --force) stays the user's, uncommitted. A repository it could not finish (no
    commit) is removed again.
    """
    if shutil.which("git") is None:
        return "not installed: the project is not a repository (asgigen update needs one)", None
    started = time.perf_counter()

    def git(*args: str, cwd: Path = project) -> subprocess.CompletedProcess[str]:
        return run_git(*args, cwd=cwd)

    inside = git("rev-parse", "--show-toplevel", cwd=probe or project)
    # A template whose tasks ran `git init` leaves a repository of its own with no commit yet:
    # it still gets the one commit of the generated files.
    fresh = (
        inside.returncode == 0
        and Path(inside.stdout.strip()).resolve() == project.resolve()
        and git("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0
    )
    if inside.returncode == 0 and not fresh:
        return f"inside the repository {inside.stdout.strip()}: not committing", None
    identity: list[str] = []
    if not git("config", "user.email").stdout.strip():
        identity = ["-c", "user.name=asgigen", "-c", "user.email=asgigen@localhost"]
    steps = (
        *([] if fresh else [["init", "--quiet"]]),
        ["add", "--", *files],
        [*identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit from asgigen"],
    )
    try:
        for args in steps:
            result = git(*args)
            if result.returncode != 0:
                shutil.rmtree(project / ".git", ignore_errors=True)
                return f"{args[0]} failed: {result.stderr.strip()}", None
    except BaseException:
        shutil.rmtree(project / ".git", ignore_errors=True)
        raise
    return f"initialised with one commit of {len(files)} files", time.perf_counter() - started


def check(
    paths: list[Path] | None,
    *,
    servers: list[str],
    isolated: bool,
    as_json: bool,
    console: Console,
    replicas: int = 1,
) -> Result:
    """Run the checks; return the JSON report or a one-line verdict for stdout (several
    projects: a line each and a summary), with the error when one is broken."""
    paths = paths or []
    if len(paths) > 1:
        if replicas != 1:
            raise BadInputError(
                "--replicas proves one project at a time", hint="name a single project path"
            )
        return _check_many(
            paths, servers=servers, isolated=isolated, as_json=as_json, console=console
        )
    path = paths[0] if paths else None  # None: the project the current directory is in
    report = run_checks(
        path, servers=servers, isolated=isolated, console=console, replicas=replicas
    )
    if as_json:
        text = json.dumps(report.to_dict(), indent=2)
        try:
            raise_for(report)
        except AsgigenError as err:
            return Result(text, err)  # the report, and the failure's line on stderr
        return Result(text)
    raise_for(report)
    return Result(f"{report.project.name}: all {len(report.steps)} checks passed")


def _check_many(
    paths: list[Path], *, servers: list[str], isolated: bool, as_json: bool, console: Console
) -> Result:
    many = check_many(paths, servers=servers, isolated=isolated, console=console)
    text = json.dumps(many.to_dict(), indent=2) if as_json else many.text()
    if not many.broken:
        return Result(text)
    return Result(
        text,
        CheckFailedError(
            f"{len(many.broken)} of {len(paths)} projects failed their checks: "
            + ", ".join(many.broken)
        ),
    )


def update(
    path: Path,
    *,
    data: list[str],
    pretend: bool,
    vcs_ref: str | None = None,
    conflict: str = "inline",
    defaults: bool = False,
    skip_answered: bool = False,
    verify: bool = True,
    console: Console | None = None,
) -> Result:
    """Re-apply the template in a scratch copy, prove it, write it when green; return what
    changed, for stdout, with the error when conflicts are left or the proof is red."""
    if conflict not in ("inline", "rej"):
        raise BadInputError(f"--conflict {conflict!r}: choose inline or rej")
    answers = generate.parse_data_pairs(data)
    mode: Conflict = "rej" if conflict == "rej" else "inline"
    ask = not pretend and generate.is_interactive() and not defaults
    outcome = verified_update(
        path, data=answers, vcs_ref=vcs_ref, ask=ask, skip_answered=skip_answered,
        conflict=mode, verify=verify, pretend=pretend, console=console,
    )  # fmt: skip
    result = outcome.result
    versions = (
        f"template {result.old_version} → {result.new_version}"
        if result.old_version != result.new_version
        else f"template {result.new_version} (unchanged)"
    )
    verb = "would change" if pretend else "changed"
    if outcome.report is not None and not outcome.report.ok and not pretend:
        verb = "would change (not applied)"
    count = f"{len(result.changed)} file(s) {verb}:" if result.changed else f"nothing {verb}"
    lines = [f"{result.path.name}: {versions}; {count}"]
    lines += [f"  {name}" for name in result.changed]
    lines += _changelog(result.changes)
    if result.conflicts:
        lines.append("needs your attention:")
        lines += [f"  {name}: {why}" for name, why in sorted(result.conflicts.items())]
        names = ", ".join(sorted(result.conflicts))
        would = "would leave" if pretend else "left"
        how = "apply the .rej hunks by hand" if mode == "rej" else "resolve the <<<<<<< markers"
        return Result(
            "\n".join(lines),
            UpdateConflictError(
                f"update {would} conflicts in {len(result.conflicts)} file(s): {names}",
                hint=None
                if pretend
                else f"{how} (see above for each file), then git add and commit",
            ),
        )
    report = outcome.report
    if report is None:
        if result.changed:
            lines.append(f"proof: {outcome.unproved}")
    elif report.ok:
        lines.append(f"proof: all {len(report.steps)} checks passed on the merged project")
    else:
        lines.append("proof: the merged project fails:")
        lines += [f"  {name}" for name in failed_names(report)]
        first = report.failures[0]
        kept = shlex.quote(str(outcome.scratch))
        again = ["--no-verify", *(["--vcs-ref", vcs_ref] if vcs_ref else [])]
        again += [part for pair in data for part in ("--data", pair)]
        if result.path != Path.cwd():
            again.append(str(result.path))
        return Result(
            "\n".join(lines),
            CheckFailedError(
                f"update to template {result.new_version} "
                + ("would fail" if pretend else "not applied, the project is unchanged")
                + f": {'; '.join(failed_names(report))}",
                details=first.output,
                hint=f"the merged copy is kept for inspection: cd {kept}; "
                f"to apply it unproved: asgigen update {shlex.join(again)}",
            ),
        )
    if result.changed and not pretend:
        lines.append("review with `git diff`, then commit")
    return Result("\n".join(lines))


def _changelog(changes: dict[str, str]) -> list[str]:
    """The template's changelog entries a project moves across, indented under a heading."""
    if not changes:
        return []
    lines = ["what changed in the template:"]
    for version, text in changes.items():
        lines += [f"  {version}", *(f"    {line}" for line in text.splitlines())]
    return lines


def update_status(paths: list[Path], *, as_json: bool) -> Result:
    """`update --check`: the report for stdout, and 0 when up to date, EXIT_BEHIND when not
    (several projects: a line each and a summary; 2 when one could not be read)."""
    if len(paths) > 1:
        many = statuses(paths)
        text = json.dumps(many.to_dict(), indent=2) if as_json else many.text()
        return Result(text, exit_code=many.exit_code)
    path = paths[0] if paths else Path(".")
    status = check_update(path)
    if as_json:
        text = json.dumps(status.to_dict(), indent=2)
    elif status.behind:
        lines = [f"{status.path.name}: template {status.current} → {status.latest} available"]
        lines += [*_changelog(status.changes), "run `asgigen update` to bring it in"]
        text = "\n".join(lines)
    else:
        text = f"{status.path.name}: template {status.current} is the newest"
    return Result(text, exit_code=EXIT_BEHIND if status.behind else 0)


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
    selection: str = "declared",
    data: list[str] | None = None,
    data_file: Path | None = None,
    shard: str | None = None,
    durations: list[Path] | None = None,
    durations_out: Path | None = None,
) -> Result:
    """Validate a template (or list its cases); return the table or JSON, with the error when
    a case failed."""
    answers: dict[str, Any] = {}
    if data_file is not None:
        answers.update(generate.load_data_file(data_file))
    answers.update(generate.parse_data_pairs(data or []))
    request = Request(
        selection=selection,
        variants=variants,
        styles=styles,
        servers=[spec.name for spec in resolve_servers(servers)],
        case=case,
        data=answers,
        shard=None if shard is None else answer_space.parse_shard(shard),
        durations=load_durations(durations or [], console),
    )
    if list_only:
        cases = list_cases(
            template=template, vcs_ref=vcs_ref, request=request, trust=trust, console=console
        )
        if not as_json:
            return Result("\n".join(case.name for case in cases))
        # The shape a CI matrix takes as it is: GitHub's `strategy.matrix: ${{ fromJSON(...) }}`.
        return Result(json.dumps({"include": [c.to_matrix() for c in cases]}, indent=2))
    report = run_validation(
        template=template,
        vcs_ref=vcs_ref,
        trust=trust,
        request=request,
        isolated=isolated,
        jobs=jobs,
        junit_xml=junit_xml,
        durations_out=durations_out,
        console=console,
    )
    text = json.dumps(report.to_dict(), indent=2) if as_json else report.table()
    if report.ok:
        return Result(text)
    failed = [case.name for case, ok in report.cases if not ok]
    return Result(
        text,
        CheckFailedError(
            f"{len(failed)} of {len(report.cases)} cases failed: {', '.join(failed)}",
            details=failure_details(report),
        ),
    )
