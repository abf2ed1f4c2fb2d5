"""A project and its contract: what `asgigen check` proves about it, read from the project.

The contract lives in the project, where its owner edits it: a `[tool.asgigen]` table in
`pyproject.toml`, or an `asgigen.toml` file (written by `asgigen new` when a template declares
its contract in copier.yml). A project that declares nothing gets what can be discovered: its
app found the way `fastapi dev` finds one, readiness on `GET /`. The schema is documented in
templates/CONTRACT.md.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgigen.discovery import find_app
from asgigen.errors import BadInputError
from asgigen.pyproject_file import PyprojectFile, read_pyproject, read_toml
from asgigen.services import KINDS

CONTRACT_FILE = "asgigen.toml"
_NO_JSON = object()  # a probe that does not look at JSON (None is valid JSON: null)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_APP_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
# Where `fastapi dev` and most templates put an app: module names, most likely first.
_APP_MODULES = ("app", "main", "asgi")
_DEFINES_APP = re.compile(r"^(app\s*(:[^=\n]*)?=|(async\s+)?def\s+app\s*\(|class\s+app\b)", re.M)


@dataclass(frozen=True)
class HttpProbe:
    """One request and what its answer must be."""

    method: str
    path: str
    status: int = 200
    body: str | None = None  # the whole body, exactly
    contains: str | None = None  # text the body must contain
    json: Any = _NO_JSON  # JSON the body must match (objects: a subset)
    headers: tuple[tuple[str, str], ...] = ()  # response headers that must have these values
    send: bytes = b""
    send_headers: tuple[tuple[str, str], ...] = ()
    echo: bool = False  # the body comes back exactly as sent
    # Values of the JSON answer kept for later probes' paths: (name, key) → "{name}" in a path.
    capture: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"{self.method} {self.path} {self.status}"


@dataclass(frozen=True)
class Service:
    """A backing service the project needs (asgigen/services.py provides it), and where the
    project reads its URL: `url-env` for the app and its `setup`, `test-url-env` for its tests."""

    kind: str
    url_env: str
    test_url_env: str | None = None


@dataclass(frozen=True)
class Contract:
    """What a project says about itself: how to boot it and which answers prove it."""

    project: Path
    source: str  # where it was read, for messages: "pyproject.toml [tool.asgigen]", ...
    app: str | None  # "module:attribute"; None when nothing was declared or found
    pythonpath: tuple[str, ...] = ()
    run: tuple[str, ...] = ()  # the project's own start command; "python" is its interpreter
    host_env: str | None = None  # variables `run` reads for the address to bind
    port_env: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # extra environment for every server
    ready: str = "/"
    liveness: str | None = None  # answers 200 while the process serves, whatever its database
    not_found: str = "/asgigen-no-such-path"  # must answer 404, as any ASGI app should
    http: tuple[HttpProbe, ...] = ()
    websocket_echo: tuple[str, ...] = ()
    declared: bool = True
    setup: tuple[str, ...] = ()  # run once before the servers boot, e.g. migrations
    services: tuple[Service, ...] = ()
    # What `asgigen add` added: (generator, its answers), so `asgigen update` can keep them.
    additions: tuple[tuple[str, dict[str, Any]], ...] = ()

    @property
    def import_paths(self) -> list[str]:
        """Where the app and the tests import from (the project is not installed in the check
        environment): the declared python path, else `src` when there is one, else the root."""
        if self.pythonpath:
            return [str(self.project / entry) for entry in self.pythonpath]
        src = self.project / "src"
        return [str(src if src.is_dir() else self.project)]

    @property
    def app_file(self) -> Path | None:
        """The file that defines `app`, when it can be found where the check imports it from:
        the python path, then the project's root (servers run in it)."""
        if self.app is None:
            return None
        module = self.app.split(":")[0].replace(".", "/")
        for root in (*self.import_paths, str(self.project)):
            for candidate in (f"{module}.py", f"{module}/__init__.py"):
                path = Path(root) / candidate
                if path.is_file():
                    return path
        return None


def load_contract(project: Path, pyproject: PyprojectFile | None = None) -> Contract:
    """The project's contract: declared in pyproject.toml or asgigen.toml, else discovered.
    `pyproject`: the project's file when the caller read it already."""
    pyproject = pyproject or read_pyproject(project)
    declared = pyproject.table("tool").get("asgigen")
    if isinstance(declared, dict):
        return _parse(project, declared, "pyproject.toml [tool.asgigen]")
    standalone = project / CONTRACT_FILE
    if standalone.is_file():
        return _parse(project, read_toml(standalone), CONTRACT_FILE)
    return discover(project, pyproject)


def has_declared_contract(project: Path, pyproject: PyprojectFile | None = None) -> bool:
    """The project declares a contract of its own (pyproject.toml or asgigen.toml)."""
    tool = (pyproject or read_pyproject(project)).table("tool")
    return isinstance(tool.get("asgigen"), dict) or (project / CONTRACT_FILE).is_file()


def dump_toml(table: dict[str, Any]) -> str:
    """A contract mapping as TOML: scalars and inline tables first, arrays of tables after."""
    lines: list[str] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in table.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, entries in arrays:
        for entry in entries:
            lines += ["", f"[[{_toml_key(key)}]]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string without ASCII escaping is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    raise BadInputError(f"cannot write {value!r} into a contract")


def discover(project: Path, pyproject: PyprojectFile | None = None) -> Contract:
    """An undeclared project: its app where people name it (asgigen/discovery.py), else
    found the way `fastapi dev` finds one."""
    named = find_app(project, pyproject)
    if named is not None:
        where = f"discovered in {named.where}"
        return Contract(project, where, named.app, pythonpath=(named.pythonpath,), declared=False)
    packages = sorted(p.parent.name for p in (project / "src").glob("*/__init__.py"))
    roots: list[tuple[str, str]] = [("src", package) for package in packages]
    roots += [(".", p.parent.name) for p in sorted(project.glob("*/__init__.py"))]
    roots.append((".", ""))
    for pythonpath, package in roots:
        for module in _APP_MODULES:
            base = project / pythonpath / package if package else project / pythonpath
            file = base / f"{module}.py"
            if file.is_file() and _DEFINES_APP.search(_read_text(file)):
                dotted = f"{package}.{module}" if package else module
                return Contract(
                    project,
                    "discovered",
                    f"{dotted}:app",
                    pythonpath=(pythonpath,),
                    declared=False,
                )
    return Contract(project, "discovered", None, declared=False)


def _parse(project: Path, table: dict[str, Any], source: str) -> Contract:
    where = f"{project.name}: {source}"
    app = _optional_str(table, "app", where)
    if app is not None and not _APP_REF.match(app):
        raise BadInputError(
            f"{where}: app = {app!r} is not 'module:attribute'",
            hint='for example app = "mypkg.app:app"',
        )
    run = table.get("run", [])
    if isinstance(run, str):
        run = shlex.split(run)
    if not isinstance(run, list) or not all(isinstance(part, str) for part in run):
        raise BadInputError(f"{where}: run must be a command, as a list of strings")
    if not app and not run:
        raise BadInputError(
            f"{where} declares neither app nor run, so there is nothing to boot",
            hint='add app = "yourpkg.module:app"',
        )
    host_env = _optional_str(table, "host-env", where)
    port_env = _optional_str(table, "port-env", where)
    if run and not (host_env and port_env):
        raise BadInputError(
            f"{where}: run needs host-env and port-env, the variables it reads for its address",
            hint="asgigen starts the project on a free port by setting them",
        )
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise BadInputError(f'{where}: env must be a table of NAME = "value"')
    setup = table.get("setup", [])
    if not isinstance(setup, list) or not all(isinstance(part, str) for part in setup):
        raise BadInputError(f"{where}: setup must be a command, as a list of strings")
    return Contract(
        project,
        source,
        app,
        pythonpath=tuple(_str_list(table, "pythonpath", where)),
        run=tuple(run),
        host_env=host_env,
        port_env=port_env,
        env=tuple((str(k), str(v)) for k, v in env.items()),
        ready=_path(table.get("ready", "/"), f"{where}: ready"),
        liveness=(
            None
            if table.get("liveness") is None
            else _path(table["liveness"], f"{where}: liveness")
        ),
        http=tuple(
            _probe(entry, f"{where}: http[{i}]")
            for i, entry in enumerate(_tables(table, "http", where))
        ),
        websocket_echo=tuple(
            _path(path, f"{where}: websocket-echo")
            for path in _str_list(table, "websocket-echo", where)
        ),
        setup=tuple(setup),
        services=_services(table.get("services", {}), f"{where}: services"),
        additions=_additions(table, where),
    )


def _additions(table: dict[str, Any], where: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    found = []
    for i, entry in enumerate(_tables(table, "additions", where)):
        generator, data = entry.get("generator"), entry.get("data", {})
        if not isinstance(generator, str) or not isinstance(data, dict):
            raise BadInputError(
                f"{where}: additions[{i}] needs generator (a name) and data (a table)"
            )
        found.append((generator, dict(data)))
    return tuple(found)


def _services(table: Any, where: str) -> tuple[Service, ...]:
    if not isinstance(table, dict):
        raise BadInputError(f'{where} must be a table: postgres = {{ url-env = "APP_DB_URL" }}')
    services = []
    for kind, entry in table.items():
        if kind not in KINDS:
            raise BadInputError(
                f"{where}: unknown service {kind!r}", hint=f"known services: {', '.join(KINDS)}"
            )
        if not isinstance(entry, dict):
            raise BadInputError(f'{where}.{kind} must be a table: {{ url-env = "APP_DB_URL" }}')
        unknown = sorted(set(entry) - {"url-env", "test-url-env"})
        if unknown:
            raise BadInputError(
                f"{where}.{kind}: unknown key {unknown[0]!r}",
                hint="known keys: url-env, test-url-env",
            )
        url_env = _optional_str(entry, "url-env", f"{where}.{kind}")
        if not url_env:
            raise BadInputError(
                f"{where}.{kind} needs url-env, the variable the app reads the service's URL from"
            )
        services.append(Service(kind, url_env, _optional_str(entry, "test-url-env", where)))
    return tuple(services)


def _probe(entry: dict[str, Any], where: str) -> HttpProbe:
    known = {"method", "path", "status", "body", "contains", "json", "headers", "send"}
    known |= {"send-headers", "echo", "capture"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise BadInputError(
            f"{where}: unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(sorted(known))}"
        )
    method = str(entry.get("method", "GET")).upper()
    if method not in _METHODS:
        raise BadInputError(f"{where}: method {method!r} is not one of {', '.join(_METHODS)}")
    status = entry.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadInputError(f"{where}: status must be an HTTP status code, got {status!r}")
    send = entry.get("send", "")
    if not isinstance(send, str):
        raise BadInputError(f"{where}: send must be text")
    return HttpProbe(
        method=method,
        path=_path(entry.get("path"), f"{where}: path"),
        status=status,
        body=_optional_str(entry, "body", where),
        contains=_optional_str(entry, "contains", where),
        json=entry.get("json", _NO_JSON),
        headers=_pairs(entry, "headers", where),
        send=send.encode(),
        send_headers=_pairs(entry, "send-headers", where),
        echo=bool(entry.get("echo", False)),
        capture=_pairs(entry, "capture", where, lower=False),
    )


def expects_json(probe: HttpProbe) -> bool:
    return probe.json is not _NO_JSON


def _path(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise BadInputError(f"{where} must be a path starting with '/', got {value!r}")
    return value


def _optional_str(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise BadInputError(f"{where}: {key} must be text, got {value!r}")
    return value


def _str_list(table: dict[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadInputError(f"{where}: {key} must be a list of strings")
    return value


def _tables(table: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise BadInputError(f"{where}: {key} must be an array of tables ([[tool.asgigen.{key}]])")
    return value


def _pairs(
    table: dict[str, Any], key: str, where: str, *, lower: bool = True
) -> tuple[tuple[str, str], ...]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise BadInputError(f'{where}: {key} must be a table of name = "value"')
    return tuple(
        (str(name).lower() if lower else str(name), str(text)) for name, text in value.items()
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
