"""Projects that declare nothing: where their app is found, and what their OpenAPI document
lets asgigen prove (against a small local HTTP server; a streaming endpoint must not hang)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from asgigen.contract import load_contract
from asgigen.discovery import find_app, probe_paths, prove_undeclared
from asgigen.errors import CheckFailedError


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def test_fastapi_cli_entrypoint_comes_first(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.fastapi]\nentrypoint = "svc.web:api"\n',
            "src/svc/__init__.py": "",
            "src/svc/web.py": "api = make()\n",
            "Dockerfile": 'CMD ["uvicorn", "main:app"]\n',
            "main.py": APP,
        },
    )
    found = find_app(tmp_path)
    assert found is not None
    assert (found.app, found.pythonpath, found.where) == (
        "svc.web:api",
        "src",
        "pyproject.toml [tool.fastapi] entrypoint",
    )


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("Dockerfile", 'CMD ["uvicorn", "shop.main:app", "--host", "0.0.0.0"]'),
        ("Procfile", "web: uvicorn shop.main:app --port $PORT"),
        ("Makefile", "run:\n\tpoetry run uvicorn shop.main:app --reload"),
        ("Justfile", "serve:\n    uv run uvicorn --port 8000 shop.main:app"),
        ("README.md", "Run it with `uvicorn shop.main:app`."),
    ],
)
def test_a_server_command_names_the_app(tmp_path: Path, file: str, line: str) -> None:
    write(tmp_path, {file: line + "\n", "shop/__init__.py": "", "shop/main.py": APP})
    found = find_app(tmp_path)
    assert found is not None
    assert (found.app, found.pythonpath, found.where) == ("shop.main:app", ".", file)
    contract = load_contract(tmp_path)
    assert (contract.app, contract.source, contract.declared) == (
        "shop.main:app",
        f"discovered in {file}",
        False,
    )


def test_a_command_naming_what_the_module_does_not_define_is_passed_over(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "README.md": (
                "uvicorn shop.main:app\n`uvicorn shop.main:App` would not work\n"
                "uvicorn shop.main:application\n"
            ),
            "shop/__init__.py": "",
            "shop/main.py": "class App: ...\n\napplication = App()\n",
        },
    )
    found = find_app(tmp_path)
    assert found is not None
    assert found.app == "shop.main:application"


def test_app_dir_is_honoured(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"Procfile": "web: uvicorn --app-dir backend api.main:app\n", "backend/api/main.py": APP},
    )
    found = find_app(tmp_path)
    assert found is not None
    assert (found.app, found.pythonpath) == ("api.main:app", "backend")


def test_nothing_named_falls_back_to_main_py(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": APP, "README.md": "uvicorn nowhere.main:app\n"})
    assert find_app(tmp_path) is None
    contract = load_contract(tmp_path)
    assert (contract.app, contract.source) == ("main:app", "discovered")


def test_probe_paths_skip_required_parameters_and_put_health_first() -> None:
    document = {
        "paths": {
            "/items": {"get": {"parameters": [{"name": "q", "in": "query", "required": False}]}},
            "/items/{item_id}": {"get": {}},
            "/search": {"get": {"parameters": [{"name": "q", "in": "query", "required": True}]}},
            "/healthz": {"get": {}},
            "/orders": {"post": {}},
        }
    }
    assert probe_paths(document) == ["/healthz", "/items"]


# --- against a running server


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, int]] = {}
    document: ClassVar[dict[str, object] | None] = None
    released: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/openapi.json" and self.document is not None:
            self._send(200, json.dumps(self.document).encode())
        elif self.path == "/events":  # server-sent events: headers, then it never ends
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"data: 1\n\n")
            self.wfile.flush()
            self.released.wait(60)
        elif self.path in self.routes:
            self._send(self.routes[self.path], b"{}")
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[tuple[str, int, type[Handler]]]:
    handler = type("Routes", (Handler,), {"routes": {}, "document": None})
    handler.released = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1], handler
    finally:
        handler.released.set()
        httpd.shutdown()
        httpd.server_close()


def openapi(*paths: str) -> dict[str, object]:
    return {"openapi": "3.1.0", "paths": {path: {"get": {}} for path in paths}}


ONLY_404 = ["ready GET / 404", "unknown path 404"]


def test_every_get_answers_below_500_and_a_stream_does_not_hang(
    server: tuple[str, int, type[Handler]],
) -> None:
    host, port, handler = server
    handler.document = openapi("/health", "/items", "/events")
    handler.routes = {"/health": 200, "/items": 401}
    passed = prove_undeclared(host, port, ONLY_404)
    assert passed[-2] == "/openapi.json: GET /health 200, /events 200, /items 401"
    assert passed[-1] == "discovered, not declared"


def test_a_5xx_operation_fails(server: tuple[str, int, type[Handler]]) -> None:
    host, port, handler = server
    handler.document = openapi("/items", "/report")
    handler.routes = {"/items": 200, "/report": 500}
    with pytest.raises(CheckFailedError, match=r"GET /report \(from /openapi.json\) answered 500"):
        prove_undeclared(host, port, ONLY_404)


def test_a_health_path_must_answer_2xx(server: tuple[str, int, type[Handler]]) -> None:
    host, port, handler = server
    handler.document = openapi("/healthz")
    handler.routes = {"/healthz": 404}
    with pytest.raises(CheckFailedError, match=r"health path GET /healthz answered 404"):
        prove_undeclared(host, port, ONLY_404)


def test_only_404_and_no_openapi_proves_nothing(server: tuple[str, int, type[Handler]]) -> None:
    host, port, _ = server
    with pytest.raises(CheckFailedError, match=r"^booted; nothing proved"):
        prove_undeclared(host, port, ONLY_404)


def test_without_openapi_a_health_path_answering_2xx_proves_it(
    server: tuple[str, int, type[Handler]],
) -> None:
    host, port, handler = server
    handler.routes = {"/ping": 200}
    passed = prove_undeclared(host, port, ONLY_404)
    assert passed == [*ONLY_404, "GET /ping 200", "discovered, not declared"]


def test_a_root_answering_200_without_openapi_is_a_discovered_pass(
    server: tuple[str, int, type[Handler]],
) -> None:
    host, port, _ = server
    passed = prove_undeclared(host, port, ["ready GET / 200", "unknown path 404"])
    assert passed == ["ready GET / 200", "unknown path 404", "discovered, not declared"]
