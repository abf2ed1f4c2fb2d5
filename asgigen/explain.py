"""`asgigen explain`: how one request travels through a project, from the client to its app and
back.

The server and ASGI steps are the same for every project, so they live here; they name the
project's real start command and app object (from its contract, or discovered). The steps
inside the app belong to the project: `[[tool.asgigen.explain]]` entries in its contract, each
a title, a text and optionally the file and the def or class it happens in, found by name so
that a line number is always current. A style of the built-in template is explained by
rendering it into a temporary directory: its walkthrough comes from the template too.
"""

from __future__ import annotations

import re
import shlex
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgigen.contract import CONTRACT_FILE, Contract, discover, load_contract
from asgigen.errors import BadInputError
from asgigen.generate import GenerateRequest, new_project
from asgigen.project_layout import candidates, is_python_project, locate
from asgigen.pyproject_file import PyprojectFile, read_pyproject, read_toml
from asgigen.styles import builtin_styles

DEFAULT_STYLE = "routed"
_WIDTH = 96
_STEP_KEYS = ("title", "text", "file", "symbol")
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_HOW_TO_DECLARE = (
    'declare it in pyproject.toml: [tool.asgigen] app = "package.module:app" '
    '(and pythonpath = ["src"] for a src layout)'
)


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    where: str | None = None  # "src/demo/app.py:42 create_api", or why the place can't be shown
    stale: bool = False  # it names a file or symbol the project no longer has


@dataclass(frozen=True)
class DeclaredStep:
    """One `[[tool.asgigen.explain]]` entry, as the project declares it."""

    title: str
    text: str
    file: str | None = None  # relative to the project
    symbol: str | None = None  # a def, async def or class in `file`


def explain(target: str | None) -> str:
    """The walkthrough for a project path, a style of the built-in template, or (None) the
    project the current directory is in."""
    if target is None:
        project = enclosing_project(Path.cwd())
        if project is None:
            return explain_style(DEFAULT_STYLE, note="not inside a project, so the default")
        return walkthrough(project, str(project))
    path = Path(target).expanduser()
    if path.is_dir() and is_project(path):
        return walkthrough(path, target)
    if path.is_dir() and (is_python_project(path) or candidates(path)):
        project = locate(path)  # as `check` finds it: one subfolder, or an error naming them
        shown = target if project == path else str(Path(target) / project.relative_to(path))
        return walkthrough(project, shown)

    styles = builtin_styles()
    if target in styles:
        return explain_style(target)
    hint = (
        f"give a project's directory (asgigen explain ./myproject) or a style: {', '.join(styles)}"
    )
    if path.exists():
        raise BadInputError(
            f"{target} is not a Python project (no pyproject.toml, no ASGI app)", hint=hint
        )
    raise BadInputError(f"{target!r} is neither a style nor a project directory", hint=hint)


def is_project(path: Path) -> bool:
    """A Python project: packaging metadata, or an ASGI app asgigen can discover."""
    if any((path / name).is_file() for name in _PROJECT_FILES):
        return True
    return discover(path).app is not None


def enclosing_project(start: Path) -> Path | None:
    """The nearest directory from `start` upwards with packaging metadata."""
    for directory in (start, *start.parents):
        if any((directory / name).is_file() for name in _PROJECT_FILES):
            return directory
    return None


def explain_style(style: str, note: str | None = None) -> str:
    """Render the built-in template's `style` into a temporary project and explain that."""
    with tempfile.TemporaryDirectory(prefix="asgigen-explain-") as tmp:
        project = Path(tmp) / "demo"
        new_project(GenerateRequest(target=project, style=style, defaults=True, interactive=False))
        about = f"(the built-in template's {style} style, rendered as the project demo)"
        if note:
            about = f"({note}; give a project's directory or a style to choose)\n{about}"
        return walkthrough(project, None, heading=f"a {style} project\n{about}")


def walkthrough(project: Path, shown: str | None, heading: str | None = None) -> str:
    """Every step of one request through `project`, with the places it happens in."""
    pyproject = read_pyproject(project)
    contract = load_contract(project, pyproject)
    declared, source = declared_steps(project, pyproject)
    steps = [
        Step(
            "client → server",
            "The client opens a TCP connection and sends HTTP bytes. "
            + _server_sentence(contract)
            + " Uvicorn accepts the connection on its event loop (uvloop when installed, "
            "asyncio otherwise).",
            _run_module_file(contract),
        ),
        Step(
            "server → protocol parser",
            "Uvicorn feeds the bytes to an HTTP parser: httptools when installed "
            "(uvicorn[standard] installs it), h11 otherwise. The application never sees raw "
            "HTTP.",
        ),
        Step(
            "parser → ASGI",
            "From the parsed request Uvicorn builds the scope: a dict with type 'http', method, "
            "path (percent-decoded), root_path, query_string and headers as lower-cased byte "
            "pairs. receive() yields http.request messages (body chunks, until more_body is "
            "false) or http.disconnect; send() takes http.response.start (status, headers) and "
            "then http.response.body.",
        ),
        _app_step(contract),
        *(_locate(project, step, source) for step in declared),
        Step(
            "response → client",
            "The app's http.response.start and http.response.body events go back through "
            "send(); Uvicorn turns them into bytes on the connection, and keeps it open for the "
            "next request (keep-alive) unless told to close.",
        ),
    ]
    lines = [f"How a request travels through {heading or f'the project {shown}'}", ""]
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step.title}")
        lines += textwrap.wrap(step.text, _WIDTH, initial_indent="   ", subsequent_indent="   ")
        if step.where:
            lines.append(f"   → {step.where}")
        lines.append("")
    stale = sum(step.stale for step in steps)
    if not declared:
        lines += _wrap(
            "This project declares no steps inside its app. Its template or owner can add "
            "them to its contract as [[tool.asgigen.explain]] entries: title, text, and the "
            "file and symbol (def or class) where the step happens."
        )
    elif stale:
        lines += _wrap(
            f"{stale} step{'s' if stale > 1 else ''} above name{'s' if stale == 1 else ''} "
            f"code the project no longer has: update [[tool.asgigen.explain]] in {source}."
        )
    lines += _wrap(
        "WebSockets take the same road with scope['type'] == 'websocket' (websocket.connect, "
        "then accept, receive and send messages); lifespan events arrive once per process."
    )
    return "\n".join(lines)


def _wrap(text: str) -> list[str]:
    return [*textwrap.wrap(text, _WIDTH + 3), ""]


def _server_sentence(contract: Contract) -> str:
    if contract.run:
        command = " ".join(shlex.quote(part) for part in contract.run)
        address = (
            f"; it reads the address from {contract.host_env} and {contract.port_env}"
            if contract.host_env and contract.port_env
            else ""
        )
        return (
            f"The project starts Uvicorn with its own command, `{command}` (the run of its "
            f"contract{address})."
        )
    if contract.app is None:
        return "Uvicorn would serve it as `uvicorn module:app` once its app is known."
    return f"Uvicorn serves it with `{_uvicorn_command(contract)}`."


def _uvicorn_command(contract: Contract) -> str:
    assert contract.app is not None
    paths = [entry for entry in contract.pythonpath if entry not in ("", ".")]
    if not paths:
        return f"uvicorn {contract.app}"
    if len(paths) == 1:
        return f"uvicorn --app-dir {shlex.quote(paths[0])} {contract.app}"
    return f"PYTHONPATH={shlex.quote(':'.join(paths))} uvicorn {contract.app}"


def _run_module_file(contract: Contract) -> str | None:
    """For a run command `python -m package`, the file it runs: package/__main__.py."""
    run = contract.run
    if len(run) < 3 or not Path(run[0]).name.startswith("python") or run[1] != "-m":
        return None
    module = run[2].replace(".", "/")
    for root in (*contract.pythonpath, "."):
        for candidate in (f"{module}/__main__.py", f"{module}.py"):
            path = contract.project / root / candidate
            if path.is_file():
                return _relative(contract.project, path)
    return None


def _app_step(contract: Contract) -> Step:
    title = "ASGI → app"
    if contract.app is None:
        if contract.declared:
            return Step(
                title,
                f"The contract ({contract.source}) names no app object, only a run command. To "
                'have it named here, add app = "package.module:app" to it.',
            )
        return Step(
            title,
            "No ASGI app was found: asgigen looks for `app` in app.py, main.py or asgi.py "
            "under src/<package>/, <package>/ and the project root. To have it named here, "
            + _HOW_TO_DECLARE
            + ".",
        )
    how = "declared in " + contract.source if contract.declared else "found by asgigen"
    text = (
        f"The server calls the application object {contract.app} ({how}) as "
        "app(scope, receive, send): once per HTTP request, once per WebSocket connection, and "
        "once per process for lifespan."
    )
    file = contract.app_file
    if file is None:
        module = contract.app.split(":")[0]
        roots = [_relative(contract.project, Path(p)) for p in contract.import_paths]
        where = ", ".join(dict.fromkeys([*roots, "."]))
        raise BadInputError(
            f"{contract.project.name}: the app {contract.app} ({contract.source}) is in no "
            f"file: there is no module {module} under {where}",
            hint=f"restore the module, or name the app where it now is in {contract.source}",
        )
    attribute = contract.app.split(":")[1].split(".")[0]
    line = _assignment_line(file, attribute)
    relative = _relative(contract.project, file)
    if line is None:
        return Step(title, text, f"{relative}: no `{attribute}` defined in it", stale=True)
    return Step(title, text, f"{relative}:{line} {attribute}")


def _locate(project: Path, step: DeclaredStep, source: str) -> Step:
    if step.file is None:
        return Step(step.title, step.text)
    path = project / step.file
    if not path.is_file():
        return Step(step.title, step.text, f"{step.file}: file not found", stale=True)
    if step.symbol is None:
        return Step(step.title, step.text, step.file)
    line = _definition_line(path, step.symbol)
    if line is None:
        where = f"{step.file}: {step.symbol} not found (no def or class {step.symbol} in it)"
        return Step(step.title, step.text, where, stale=True)
    return Step(step.title, step.text, f"{step.file}:{line} {step.symbol}")


def _line_of(text: str, pattern: str) -> int | None:
    found = re.search(pattern, text, re.M)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def _definition_line(file: Path, symbol: str) -> int | None:
    """The line where `symbol` is defined by def, async def or class, at any depth."""
    name = re.escape(symbol)
    return _line_of(_read(file), rf"^[ \t]*(?:async[ \t]+def|def|class)[ \t]+{name}\b")


def _assignment_line(file: Path, name: str) -> int | None:
    """The line that binds a module attribute: assignment, def, class, or an import."""
    text, name = _read(file), re.escape(name)
    defines = rf"(?:(?:async[ \t]+)?def|class)[ \t]+{name}\b|{name}[ \t]*(?::[^=\n]*)?=(?!=)"
    for pattern in (
        rf"^(?:{defines})",  # at module level first
        rf"^[ \t]+(?:{defines})",  # then inside an if or a try
        rf"^[ \t]*(?:from[ \t]+\S+[ \t]+)?import[ \t][^\n]*\b{name}\b",
    ):
        line = _line_of(text, pattern)
        if line is not None:
            return line
    return None


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _relative(project: Path, path: Path) -> str:
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return str(path)


def declared_steps(
    project: Path, pyproject: PyprojectFile | None = None
) -> tuple[list[DeclaredStep], str]:
    """The project's `explain` entries, from where its contract lives, and that place.
    `pyproject`: the project's file when the caller read it already."""
    table: Any = (pyproject or read_pyproject(project)).table("tool").get("asgigen")
    source = "pyproject.toml"
    if not isinstance(table, dict) and (project / CONTRACT_FILE).is_file():
        table, source = read_toml(project / CONTRACT_FILE), CONTRACT_FILE
    if not isinstance(table, dict):
        return [], source
    entries = table.get("explain", [])
    key = "[[tool.asgigen.explain]]" if source == "pyproject.toml" else "[[explain]]"
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise BadInputError(f"{project.name}: {source}: explain must be an array of tables ({key})")
    return [
        _step(entry, f"{project.name}: {source}: explain[{i}]") for i, entry in enumerate(entries)
    ], source


def _step(entry: dict[str, Any], where: str) -> DeclaredStep:
    unknown = sorted(set(entry) - set(_STEP_KEYS))
    if unknown:
        raise BadInputError(
            f"{where}: unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(_STEP_KEYS)}"
        )
    values = {}
    for key in _STEP_KEYS:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise BadInputError(f"{where}: {key} must be text, got {value!r}")
        values[key] = value
    if not values["title"] or not values["text"]:
        raise BadInputError(f"{where}: a step needs a title and a text")
    if values["symbol"] and not values["file"]:
        raise BadInputError(f"{where}: symbol {values['symbol']!r} needs the file it is in")
    return DeclaredStep(
        title=" ".join(values["title"].split()),
        text=" ".join(values["text"].split()),
        file=values["file"],
        symbol=values["symbol"],
    )
