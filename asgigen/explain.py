"""`asgigen explain`: how one request travels through a project of a given style."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from asgigen.errors import BadInputError
from asgigen.styles import STYLES


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    file: str | None = None  # relative to the project, `{pkg}` for the package
    symbol: str | None = None  # a function or class defined in `file`


SERVER_STEPS = [
    Step(
        "client → server",
        "The client opens a TCP connection and sends HTTP bytes. Uvicorn accepts it on its event "
        "loop (uvloop when installed, asyncio otherwise).",
        "src/{pkg}/__main__.py",
        "main",
    ),
    Step(
        "server → protocol parser",
        "Uvicorn feeds the bytes to an HTTP parser: httptools when installed (uvicorn[standard] "
        "installs it), h11 otherwise. The application never sees raw HTTP.",
    ),
    Step(
        "parser → ASGI",
        "From the parsed request Uvicorn builds the scope: a dict with type 'http', method, path "
        "(percent-decoded), root_path, query_string and headers as lower-cased byte pairs. It "
        "then calls app(scope, receive, send). receive() yields http.request messages (body "
        "chunks, until more_body is false) or http.disconnect; send() takes "
        "http.response.start (status, headers) and then http.response.body.",
    ),
]

RESPONSE_STEP = Step(
    "response → client",
    "The app's http.response.start and http.response.body events go back through send(); "
    "Uvicorn turns them into bytes on the connection, and keeps it open for the next request "
    "(keep-alive) unless told to close.",
)

GUARD_STEP = Step(
    "errors",
    "guard_errors turns an exception before the response started into a logged 500; after "
    "that it propagates, except an OSError (almost always the client hanging up), which is "
    "only logged.",
    "src/{pkg}/messages.py",
    "guard_errors",
)

STYLE_STEPS: dict[str, list[Step]] = {
    "raw": [
        Step(
            "ASGI → app",
            "Uvicorn calls the App instance; __call__ dispatches on "
            "scope['type']: http, websocket or lifespan.",
            "src/{pkg}/app.py",
            "App",
        ),
        Step(
            "app → handler",
            "App._http picks the handler from the method and the path with "
            "root_path removed (route_path): 404 for an unknown path, 405 with Allow for a "
            "wrong method.",
            "src/{pkg}/app.py",
            "_http",
        ),
        Step(
            "handler",
            "App.echo reads the body with read_body, chunk by chunk, refusing more "
            "than MAX_BODY_SIZE (413); send_response sends start and body with a byte-correct "
            "content-length.",
            "src/{pkg}/messages.py",
            "read_body",
        ),
        GUARD_STEP,
    ],
    "routed": [
        Step(
            "ASGI → app",
            "Uvicorn calls the App instance; lifespan is answered there, http "
            "and websocket scopes go on to the middleware.",
            "src/{pkg}/app.py",
            "App",
        ),
        Step(
            "app → middleware",
            "RequestIdMiddleware wraps send so http.response.start gains an x-request-id header.",
            "src/{pkg}/middleware.py",
            "RequestIdMiddleware",
        ),
        Step(
            "middleware → router",
            "Router walks its tree of path segments (static, then "
            "{id:int}, {name}, {rest:path}) with root_path removed: no route is a 404, a route "
            "without the method a 405 naming every allowed method, a Mount passes the request "
            "on with its prefix added to root_path.",
            "src/{pkg}/routing.py",
            "Router",
        ),
        Step(
            "router → handler",
            "The endpoint gets a Request (scope, receive, path_params) and "
            "returns a Response, which the router sends as start and body events.",
            "src/{pkg}/app.py",
            "item",
        ),
        GUARD_STEP,
    ],
    "fastapi": [
        Step(
            "ASGI → app",
            "Uvicorn calls the FastAPI object made by create_app(); FastAPI is "
            "Starlette underneath.",
            "src/{pkg}/app.py",
            "create_app",
        ),
        Step(
            "app → middleware",
            "The middleware stack runs first: BodySizeLimitMiddleware "
            "answers 413 before the body is read, RequestIdMiddleware adds x-request-id.",
            "src/{pkg}/middleware.py",
            "BodySizeLimitMiddleware",
        ),
        Step(
            "middleware → router",
            "The router matches path and method against the routes "
            "included from routers/: 404 for no path, 405 with Allow for a wrong method.",
            "src/{pkg}/app.py",
            "method_not_allowed",
        ),
        Step(
            "router → handler",
            "FastAPI resolves dependencies (Depends(get_store)), validates "
            "path and query parameters, calls the path operation and serialises its return "
            "value through the response model.",
            "src/{pkg}/routers/items.py",
            "read_item",
        ),
    ],
}


def _defines(file: Path, symbol: str) -> bool:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError:
        return False
    return (
        re.search(rf"^\s*(async\s+def|def|class)\s+{re.escape(symbol)}\b", text, re.M) is not None
    )


def explain(target: str | None) -> str:
    """The walkthrough for a style name or a generated project's path."""
    from asgigen.check import inspect_project

    project: Path | None = None
    package = "<package>"
    if target is None:
        style = "routed"
    elif target in STYLES:
        style = target
    elif Path(target).exists():
        info = inspect_project(Path(target))
        if info.style not in STYLES:
            raise BadInputError(f"{info.path} does not record a known style in its answers file")
        project, package, style = info.path, info.package, info.style
    else:
        raise BadInputError(
            f"{target!r} is neither a style nor a project directory",
            hint=f"styles: {', '.join(STYLES)}; or the path of a generated project",
        )
    steps = [*SERVER_STEPS, *STYLE_STEPS[style], RESPONSE_STEP]
    where = f"the project {project}" if project else f"a {style} project"
    lines = [f"How a request travels through {where}", ""]
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {step.title}")
        lines += textwrap.wrap(step.text, 96, initial_indent="   ", subsequent_indent="   ")
        if step.file and step.symbol:
            relative = step.file.format(pkg=package)
            if project is None or _defines(project / relative, step.symbol):
                lines.append(f"   → {relative}: {step.symbol}")
        lines.append("")
    lines += textwrap.wrap(
        "WebSockets take the same road with scope['type'] == 'websocket' (websocket.connect, "
        "then accept, receive and send messages); lifespan events arrive once per process.",
        99,
    )
    return "\n".join(lines)
