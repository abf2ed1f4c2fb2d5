"""The command line: each command parses its options and calls one domain function."""

from __future__ import annotations

import atexit
import os
import shlex
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from asgigen import __version__, processes
from asgigen.console import Console
from asgigen.errors import EXIT_INTERRUPTED, AsgigenError, BadInputError

if TYPE_CHECKING:
    from asgigen.commands import Result

# Options several commands share, declared once.
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors and the result.")]
Servers = Annotated[
    list[str] | None,
    typer.Option(
        "--server",
        metavar="SERVER",
        help="uvicorn, hypercorn, daphne, granian or all; repeatable.",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
TemplateSource = Annotated[
    str | None,
    typer.Option(
        "--template",
        metavar="PATH|URL",
        help="A copier template: directory, git repository or URL (default: the built-in one).",
    ),
]
VcsRef = Annotated[
    str | None,
    typer.Option("--vcs-ref", metavar="REF", help="Tag, branch or commit of a git template."),
]
DataFile = Annotated[Path | None, typer.Option("--data-file", help="YAML or JSON file of answers.")]
Trust = Annotated[
    bool,
    typer.Option("--trust", help="Let the template run its tasks and extensions (as copier's)."),
]

app = typer.Typer(
    name="asgigen",
    help="Generate ASGI projects (raw, routed, fastapi) and prove each one works.",
    invoke_without_command=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"asgigen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Generate ASGI projects (raw, routed, fastapi) and prove each one works."""
    if debug:
        os.environ["ASGIGEN_DEBUG"] = "1"
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())  # `asgigen` alone: the help, as `asgigen --help`
        raise typer.Exit()


@app.command()
def new(
    path: Annotated[
        Path,
        typer.Argument(help="Where to create the project; its last component is the project name."),
    ],
    style: Annotated[
        str | None, typer.Option("--style", "-s", help="raw, routed or fastapi.")
    ] = None,
    package: Annotated[
        str | None, typer.Option("--package", help="Import name (default: from the project name).")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="One-line description.")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="KEY=VALUE answer to any template question; repeatable.",
        ),
    ] = None,
    data_file: DataFile = None,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use defaults for every answer not given.")
    ] = False,
    template: TemplateSource = None,
    vcs_ref: VcsRef = None,
    trust: Trust = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Skip the tests and the live boot.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Render into a non-empty directory.")
    ] = False,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Don't make the project a git repository.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files that would be written; write nothing.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Create a project from the template, then run its tests and boot it under Uvicorn."""
    from asgigen import commands  # lazy: keeps --help fast

    console = Console(quiet=quiet)
    result = commands.create(
        path,
        style=style,
        package=package,
        description=description,
        data=data or [],
        data_file=data_file,
        defaults=defaults,
        template=template,
        vcs_ref=vcs_ref,
        trust=trust,
        git=not no_git,
        check=not no_check,
        force=force,
        dry_run=dry_run,
        console=console,
    )
    _emit(result)


@app.command()
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Generated projects: one (default: the project you are in), or several for a "
            "line each and a summary.",
            show_default=False,
        ),
    ] = None,
    server: Servers = None,
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Run in a fresh venv (uv when present).")
    ] = False,
    json_output: JsonOutput = False,
    quiet: Quiet = False,
    replicas: Annotated[
        int,
        typer.Option(
            "--replicas",
            metavar="N",
            help="Also boot N instances on one database behind HAProxy (docs/replicas.md).",
        ),
    ] = 1,
) -> None:
    """Run a generated project's tests, then boot it and make real requests."""
    from asgigen import commands  # lazy: keeps --help fast

    _emit(
        commands.check(
            paths or [],
            servers=server or [],
            isolated=isolated,
            replicas=replicas,
            as_json=json_output,
            console=Console(quiet=quiet),
        )
    )


@app.command()
def update(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="A generated project (a clean git tree); several with --check."),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="KEY=VALUE: change or add an answer; repeatable.",
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option("--vcs-ref", metavar="REF", help="Move to this tag or ref (default: newest)."),
    ] = None,
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Show what would change; change nothing.")
    ] = False,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Only say whether a newer version exists (exit 3 if so)."),
    ] = False,
    json_output: JsonOutput = False,
    conflict: Annotated[
        str,
        typer.Option(
            "--conflict", metavar="MODE", help="inline: <<<<<<< markers; rej: .rej files."
        ),
    ] = "inline",
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Answer new questions with their defaults.")
    ] = False,
    skip_answered: Annotated[
        bool, typer.Option("--skip-answered", help="Don't ask again what is answered.")
    ] = False,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify", help="Apply the merge without proving it (gates, tests, boot) first."
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Bring template changes into a project with a three-way merge; your edits stay.

    The merge happens in a scratch copy, which must pass the project's checks (gates, tests,
    boot with probes) before anything is written; --no-verify skips that proof."""
    from asgigen import commands  # lazy: keeps --help fast

    if json_output and not check_only:
        raise BadInputError("--json goes with --check", hint="asgigen update --check --json")
    if check_only:
        _emit(commands.update_status(paths or [Path(".")], as_json=json_output))
        return
    if paths and len(paths) > 1:
        raise BadInputError(
            "update brings a template into one project at a time; several go with --check",
            hint="asgigen update --check " + " ".join(shlex.quote(str(p)) for p in paths),
        )
    _emit(
        commands.update(
            paths[0] if paths else Path("."),
            data=data or [],
            pretend=pretend,
            vcs_ref=vcs_ref,
            conflict=conflict,
            defaults=defaults,
            skip_answered=skip_answered,
            verify=not no_verify,
            console=Console(quiet=quiet),
        )
    )


@app.command()
def add(
    generator: Annotated[
        str | None,
        typer.Argument(
            metavar="GENERATOR",
            help="What to add, as the project's template offers it: route, websocket, ... "
            "(none: list them).",
        ),
    ] = None,
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ARGUMENT",
            help="The generator's arguments, e.g. GET /greet/{name} for route.",
        ),
    ] = None,
    project: Annotated[
        Path, typer.Option("--project", "-p", help="The project (default: the one you are in).")
    ] = Path("."),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff (unified) and write nothing.")
    ] = False,
) -> None:
    """Add a route, a websocket or another generator of the template to the project, with its
    test and its probe: `asgigen add route GET /greet/{name}`, `asgigen add websocket /chat`."""
    from asgigen.add import add as run_add  # lazy: keeps --help fast
    from asgigen.add import offered  # lazy: keeps --help fast

    if generator is None:
        print(offered(project))
        return
    print(run_add(project, generator, arguments or [], dry_run=dry_run).summary().rstrip("\n"))


@app.command()
def validate(
    template: TemplateSource = None,
    vcs_ref: VcsRef = None,
    trust: Trust = False,
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", metavar="NAME", help="Only this variant; repeatable."),
    ] = None,
    style: Annotated[
        list[str] | None,
        typer.Option("--style", metavar="STYLE", help="Only variants of this style; repeatable."),
    ] = None,
    server: Servers = None,
    case: Annotated[
        str | None,
        typer.Option("--case", metavar="NAME", help="Run one case (see --list), e.g. raw@uvicorn."),
    ] = None,
    list_cases: Annotated[
        bool, typer.Option("--list", help="List the cases (for a CI matrix) and exit.")
    ] = False,
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Install each project into its own fresh venv.")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Variants run at once (default: cores).")
    ] = None,
    json_output: JsonOutput = False,
    junit_xml: Annotated[
        Path | None, typer.Option("--junit-xml", help="Write a JUnit XML report here.")
    ] = None,
    pairwise: Annotated[
        bool,
        typer.Option(
            "--pairwise", help="Cases covering every pair of answers (and servers) at least once."
        ),
    ] = False,
    exhaustive: Annotated[
        bool, typer.Option("--exhaustive", help="Every answer set the questions allow.")
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="KEY=VALUE answer for every case (pins it); repeatable.",
        ),
    ] = None,
    data_file: DataFile = None,
    shard: Annotated[
        str | None,
        typer.Option("--shard", metavar="K/N", help="Run part K of N of the selected cases."),
    ] = None,
    durations: Annotated[
        list[Path] | None,
        typer.Option(
            "--durations",
            metavar="FILE",
            help="Case durations of earlier runs (--durations-out), to balance --shard.",
        ),
    ] = None,
    durations_out: Annotated[
        Path | None,
        typer.Option("--durations-out", metavar="FILE", help="Write each case's duration here."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Render every variant of a template; run its gates and tests, boot it under each server."""
    from asgigen import commands  # lazy: keeps --help fast

    if pairwise and exhaustive:
        raise BadInputError("--pairwise and --exhaustive pick different cases", hint="give one")

    _emit(
        commands.validate(
            template=template,
            vcs_ref=vcs_ref,
            trust=trust,
            variants=variant or [],
            styles=style or [],
            servers=server or [],
            case=case,
            list_only=list_cases,
            isolated=isolated,
            jobs=jobs,
            as_json=json_output,
            junit_xml=junit_xml,
            console=Console(quiet=quiet),
            selection="pairwise" if pairwise else "exhaustive" if exhaustive else "declared",
            data=data or [],
            data_file=data_file,
            shard=shard,
            durations=durations or [],
            durations_out=durations_out,
        )
    )


@app.command()
def explain(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A project's directory (default: the project you are in) or a style of the "
            "built-in template (see `asgigen styles`)."
        ),
    ] = None,
) -> None:
    """Explain how one request travels through a project: its server command, app and code."""
    from asgigen.explain import explain as walkthrough  # lazy: keeps --help fast

    print(walkthrough(target))


@app.command()
def styles() -> None:
    """List the styles of the built-in template (the choices of its `style` question)."""
    from asgigen.styles import builtin_styles  # lazy: keeps --help fast

    found = builtin_styles()
    width = max(len(name) for name in found)
    for name, summary in found.items():
        print(f"{name:<{width}}  {summary}".rstrip())


@app.command()
def cache(
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Remove what asgigen cached (and nothing else there)."),
    ] = False,
) -> None:
    """Where the check environments are cached (ASGIGEN_CACHE_DIR), and how much they hold."""
    from asgigen.cache import cache_summary, clean_cache  # lazy: keeps --help fast

    print(clean_cache() if clean else cache_summary())


def _emit(result: Result) -> None:
    """A command's result on stdout; then its error (mapped in main) or its exit code."""
    print(result.text)
    if result.error is not None:
        raise result.error
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _fail(err: AsgigenError) -> NoReturn:
    console = Console()
    if err.details:
        print(err.details.rstrip(), file=sys.stderr)
    console.error(err.message, err.hint)
    sys.exit(err.exit_code)


def main() -> None:
    """Entry point: the one place that turns errors into a message and an exit code."""
    # SIGINT and SIGTERM stop every process asgigen started, then raise Interrupted here.
    processes.install()
    atexit.unregister(processes.stop_all)
    atexit.register(processes.stop_all)
    try:
        code = app(standalone_mode=False, prog_name="asgigen")
        _exit_if_stopped()
    except AsgigenError as err:
        _exit_if_stopped()
        if os.environ.get("ASGIGEN_DEBUG"):
            traceback.print_exc()
        _fail(err)
    except KeyboardInterrupt:
        Console().error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as err:
        _exit_if_stopped()
        if _is_usage_error(err):
            _usage_error(err)
        _crash(err)
    # standalone_mode=False hands back typer.Exit's code instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)


def _exit_if_stopped() -> None:
    """Stopped by a signal: one line and its code (130, 143), whatever the command made of
    the interruption (a step it failed, an error it raised)."""
    signum = processes.stopped_by()
    if signum is not None:
        Console().error(processes.message(signum))
        sys.exit(128 + signum)


def _is_usage_error(err: Exception) -> bool:
    """The command line's own errors (unknown option, missing argument, bad value)."""
    return hasattr(err, "format_message") and hasattr(err, "exit_code")


def _usage_error(err: Exception) -> NoReturn:
    """Typer's usage error as asgigen's one line, not a multi-line box."""
    context = getattr(err, "ctx", None)
    command = context.command_path if context is not None else "asgigen"
    message = err.format_message()  # type: ignore[attr-defined]
    Console().error(
        " ".join(str(message).split()) or "invalid command line", hint=f"see '{command} --help'"
    )
    sys.exit(int(getattr(err, "exit_code", 2)) or 2)


def _crash(err: Exception) -> NoReturn:
    """A bug: one line, and the traceback in a file."""
    if os.environ.get("ASGIGEN_DEBUG"):
        raise err

    fd, log = tempfile.mkstemp(prefix="asgigen-crash-", suffix=".log")
    with os.fdopen(fd, "w") as handle:
        traceback.print_exception(err, file=handle)
    Console().error(
        f"internal error: {type(err).__name__}: {err}",
        hint=f"traceback written to {log}; rerun with --debug to see it here",
    )
    sys.exit(70)
