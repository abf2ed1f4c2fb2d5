"""A proof for projects that declare nothing: their app found where people declare it, and
probes read from the OpenAPI document the app publishes.

The app is looked for, in this order: fastapi-cli's `[tool.fastapi] entrypoint` in
pyproject.toml; a `uvicorn module:attr` command (hypercorn, granian, gunicorn likewise) in the
Dockerfile, Procfile, Makefile, Justfile, docker-compose file, pyproject.toml or README; then
`app` in main.py/app.py, as `fastapi dev` finds it (asgigen/contract.py). Each is kept only
when the module is a file of the project.

Booted, such an app is probed as far as it tells: when it serves `/openapi.json`, every GET
operation without required parameters must answer below 500 (status and headers only: a
streaming endpoint is never read), and a health-like path found there must answer 2xx. Without
a document, a health-like path (`/health`, `/healthz`, `/ping`...) answering 2xx is the proof.
A boot whose only answer was a 404 proves nothing, and does not pass.
"""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgigen.errors import CheckFailedError
from asgigen.pyproject_file import FILE, PyprojectFile, read_pyproject

# Files where a project's start command is written, most authoritative first.
COMMAND_FILES = (
    "Dockerfile",
    "Procfile",
    "Makefile",
    "Justfile",
    "justfile",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "pyproject.toml",
    "README.md",
)
_SERVER_COMMAND = re.compile(
    r"\b(?:uvicorn|hypercorn|granian|gunicorn|daphne)\b[^\n]*?"
    r"(?<![\w.:/-])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*)\b(?!\()"
)
_APP_DIR = re.compile(r"--app-dir[= ]+[\"']?([\w./-]+)")
HEALTH_PATHS = ("/health", "/healthz", "/healthcheck", "/livez", "/readyz", "/ping")
# Where FastAPI serves its OpenAPI document by default, then where templates move it
# (`openapi_url=f"{settings.API_V1_STR}/openapi.json"` and the like), first found wins.
OPENAPI_PATHS = (
    "/openapi.json",
    "/api/openapi.json",
    "/api/v1/openapi.json",
    "/v1/openapi.json",
    "/api/v2/openapi.json",
    "/docs/openapi.json",
)
PROBE_TIMEOUT = 10.0
MAX_OPERATIONS = 50


@dataclass(frozen=True)
class FoundApp:
    app: str  # "module:attribute"
    pythonpath: str  # relative to the project: "." or "src" or an --app-dir
    where: str  # "pyproject.toml [tool.fastapi] entrypoint", "Dockerfile", ...


def find_app(project: Path, pyproject: PyprojectFile | None = None) -> FoundApp | None:
    """The app a project names for fastapi-cli or in a server command, if its module exists.
    `pyproject`: the project's file when the caller read it already."""
    pyproject = pyproject or read_pyproject(project)
    entry = _fastapi_entrypoint(pyproject)
    if entry is not None:
        found = _resolve(project, entry, None, "pyproject.toml [tool.fastapi] entrypoint")
        if found is not None:
            return found
    for name in COMMAND_FILES:
        path = project / name
        if name == FILE:
            text = pyproject.text
        elif not path.is_file():
            continue
        else:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
        for line in text.splitlines():
            match = _SERVER_COMMAND.search(line)
            if match is None:
                continue
            app_dir = _APP_DIR.search(line)
            found = _resolve(project, match.group(1), app_dir.group(1) if app_dir else None, name)
            if found is not None:
                return found
    return None


def _fastapi_entrypoint(pyproject: PyprojectFile) -> str | None:
    entry = pyproject.table("tool", "fastapi").get("entrypoint")
    return entry if isinstance(entry, str) and ":" in entry else None


def _resolve(project: Path, ref: str, app_dir: str | None, where: str) -> FoundApp | None:
    """`ref` when its module is a file under the app dir, `src` or the project's root that
    assigns, defines (a function) or imports the attribute. A class is not taken: servers
    want an instance (a README may well say `uvicorn pkg.app:App` would not work)."""
    dotted, attribute = ref.split(":")
    module = dotted.replace(".", "/")
    defines = re.compile(
        rf"^(?:async\s+)?def\s+{attribute}\b|^{attribute}\s*(?::[^=\n]*)?="
        rf"|^(?:from\s+\S+\s+)?import\b[^\n]*\b{attribute}\b",
        re.M,
    )
    roots = [app_dir] if app_dir else ["src", "."]
    for root in roots:
        base = project / root
        for file in (base / f"{module}.py", base / module / "__init__.py"):
            if file.is_file() and defines.search(
                file.read_text(encoding="utf-8", errors="replace")
            ):
                return FoundApp(ref, str(Path(root)), where)
    return None


# --- probing a booted app that declares nothing


def prove_undeclared(host: str, port: int, passed: list[str]) -> list[str]:
    """What the OpenAPI document lets asgigen prove, added to `passed` (the generic probes'
    results); raises CheckFailedError when an operation fails, or when nothing was proved."""
    located = next(
        (found for path in OPENAPI_PATHS if (found := _openapi(host, port, path)) is not None),
        None,
    )
    if located is None:
        # No document: a health-like path answering 2xx still shows the app routes requests.
        healthy = next(
            (
                f"GET {path} {status}"
                for path in HEALTH_PATHS
                if 200 <= (status := status_of(host, port, path)) < 300
            ),
            None,
        )
        if healthy is not None:
            return [*passed, healthy, "discovered, not declared"]
        if all(" 404" in entry for entry in passed):
            raise CheckFailedError(
                "booted; nothing proved: the app answered only 404, publishes no OpenAPI "
                f"document at {', '.join(OPENAPI_PATHS[:3])}... and serves none of "
                f"{', '.join(HEALTH_PATHS)}",
                hint='declare what proves it: [tool.asgigen] http = [{method = "GET", path = '
                '"/your/route", status = 200}] in pyproject.toml (see templates/CONTRACT.md)',
            )
        return [*passed, "discovered, not declared"]
    where, document = located
    paths = probe_paths(document)
    answered: list[str] = []
    for path in paths[:MAX_OPERATIONS]:
        status = status_of(host, port, path)
        if status >= 500:
            raise CheckFailedError(f"GET {path} (from {where}) answered {status}")
        if _health_like(path) and not 200 <= status < 300:
            raise CheckFailedError(f"health path GET {path} answered {status}, expected 2xx")
        answered.append(f"{path} {status}")
    if not answered and all(" 404" in entry for entry in passed):
        raise CheckFailedError(
            "booted; nothing proved: the app answered only 404, and its OpenAPI document has "
            "no GET operation without required parameters",
            hint='declare what proves it: [tool.asgigen] http = [{method = "GET", path = '
            '"/your/route", status = 200}] in pyproject.toml (see templates/CONTRACT.md)',
        )
    listed = f"GET {', '.join(answered)}" if answered else "no GET to probe"
    summary = f"{where}: {listed}"
    return [*passed, summary, "discovered, not declared"]


def probe_paths(document: dict[str, Any]) -> list[str]:
    """The GET operations of an OpenAPI document that need no parameter, health-like first."""
    found = []
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return []
    for path, item in paths.items():
        if not isinstance(item, dict) or not isinstance(item.get("get"), dict):
            continue
        if "{" in str(path):
            continue  # a path parameter is always required
        parameters = [*item.get("parameters", []), *item["get"].get("parameters", [])]
        if any(isinstance(p, dict) and p.get("required") for p in parameters):
            continue
        body = item["get"].get("requestBody")
        if isinstance(body, dict) and body.get("required"):
            continue
        found.append(str(path))
    return sorted(found, key=lambda path: (not _health_like(path), path))


def _health_like(path: str) -> bool:
    return path.rstrip("/").lower() in HEALTH_PATHS or path.rstrip("/").lower().endswith(
        tuple(HEALTH_PATHS)
    )


def _openapi(host: str, port: int, path: str) -> tuple[str, dict[str, Any]] | None:
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status != 200:
            return None
        body = response.read(8_000_000)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("paths"), dict):
        return path, document
    return None


def status_of(host: str, port: int, path: str) -> int:
    """The status of GET `path`, from the response head only: the body is never read, so an
    endpoint streaming forever (server-sent events) answers as fast as any other."""
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException) as err:
        raise CheckFailedError(f"GET {path} (from the OpenAPI document) failed: {err}") from None
    finally:
        connection.close()
