"""The decisions that make a probe or a boot pass or fail, each tested both ways (these are
the mutants docs/mutation.md says survived before)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from asgigen import check
from asgigen.contract import HttpProbe, load_contract
from asgigen.errors import CheckFailedError
from asgigen.probes import check_http, matches, run_probes
from asgigen.servers import SERVERS
from asgigen.steps import StepResult
from tests.inline_projects import write_files


@pytest.mark.parametrize(
    ("actual", "expected", "verdict"),
    [
        ({"status": "ok", "extra": 1}, {"status": "ok"}, True),
        ({}, {"status": "ok"}, False),
        ({"status": "down"}, {"status": "ok"}, False),
        (["status"], {"status": "ok"}, False),
        ("ok", {"status": "ok"}, False),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, True),
        ({"a": {"b": 2}}, {"a": {"b": 1}}, False),
        ({}, {}, True),
        ([], {}, False),
        ([1, 2], [1, 2], True),
        ([1, 2, 3], [1, 2], False),
        ([1], [1, 2], False),
        ([2, 1], [1, 2], False),
        ({"x": 1}, [], False),
        ([{"a": 1, "b": 2}], [{"a": 1}], True),
        (1, 1, True),
        (True, 1, False),
        (1, True, False),
        (1.0, 1, False),
        (None, None, True),
        (0, None, False),
        ("1", 1, False),
    ],
)
def test_json_matching(actual: Any, expected: Any, verdict: bool) -> None:
    assert matches(actual, expected) is verdict


class Handler(BaseHTTPRequestHandler):
    """GET /json → {"status": "ok", "id": 7}; /text → hello; POST /echo echoes (/shout in
    capitals); else 404."""

    def do_GET(self) -> None:
        if self.path == "/json":
            self.answer(200, b'{"status": "ok", "id": 7}', "application/json")
        elif self.path == "/text":
            self.answer(200, b"hello world", "text/plain")
        elif self.path == "/items/7":
            self.answer(200, b"seven", "text/plain")
        elif self.path == "/bytes":
            self.answer(200, b"\xff\xfe not UTF-8", "application/octet-stream")
        elif self.path == "/boom":
            self.answer(500, b"Internal Server Error", "text/plain")
        else:
            self.answer(404, b"no", "text/plain")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/shout":
            body = body.upper()
        self.answer(200 if self.path in ("/echo", "/shout") else 404, body, "text/plain")

    def answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


PASSING = [
    HttpProbe("GET", "/json", json={"status": "ok"}),
    HttpProbe("GET", "/json", 200, headers=(("content-type", "application/json"),)),
    HttpProbe("GET", "/text", body="hello world"),
    HttpProbe("GET", "/text", contains="world"),
    HttpProbe("GET", "/nope", 404),
    HttpProbe("POST", "/echo", send=b"ping", echo=True),
]
FAILING = [
    (HttpProbe("GET", "/json", json={"status": "down"}), "expected JSON matching"),
    (HttpProbe("GET", "/json", json=None), "expected JSON matching null"),
    (HttpProbe("GET", "/text", json={}), "which is not JSON"),
    (HttpProbe("GET", "/json", 201), "GET /json answered 200, expected 201"),
    (HttpProbe("GET", "/json", headers=(("content-type", "text/plain"),)), "header content-type"),
    (HttpProbe("GET", "/json", headers=(("x-missing", "1"),)), "header x-missing is None"),
    (HttpProbe("GET", "/text", body="hello"), "expected 'hello'"),
    (HttpProbe("GET", "/text", contains="planet"), "no 'planet'"),
    (HttpProbe("GET", "/text", capture=(("id", "id"),)), "with no 'id' to capture"),
]


@pytest.mark.parametrize("probe", PASSING, ids=[p.describe() for p in PASSING])
def test_a_probe_that_matches_passes(server: tuple[str, int], probe: HttpProbe) -> None:
    assert check_http(*server, probe) == {}


@pytest.mark.parametrize(("probe", "message"), FAILING, ids=[str(i) for i in range(len(FAILING))])
def test_a_probe_that_differs_fails_saying_how(
    server: tuple[str, int], probe: HttpProbe, message: str
) -> None:
    with pytest.raises(CheckFailedError) as caught:
        check_http(*server, probe)
    assert message in caught.value.message


def test_an_echo_that_differs_fails(server: tuple[str, int]) -> None:
    check_http(*server, HttpProbe("POST", "/shout", send=b"PING", echo=True))
    with pytest.raises(CheckFailedError, match="echoed b'PING', expected b'ping'"):
        check_http(*server, HttpProbe("POST", "/shout", send=b"ping", echo=True))


def test_captured_values_fill_later_paths(server: tuple[str, int], tmp_path: Path) -> None:
    assert check_http(*server, HttpProbe("GET", "/json", capture=(("item", "id"),))) == {
        "item": "7"
    }
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.asgigen]\napp = "a:app"\nready = "/text"\n\n'
            '[[tool.asgigen.http]]\npath = "/json"\ncapture = { item = "id" }\n\n'
            '[[tool.asgigen.http]]\npath = "/text"\n\n'  # captures nothing: item is kept
            '[[tool.asgigen.http]]\npath = "/items/{item}"\nbody = "seven"\n'
        },
    )
    contract = load_contract(tmp_path)
    assert run_probes(*server, contract) == [
        "ready GET /text 200",
        "GET /json 200",
        "GET /text 200",
        "GET /items/7 200",
        "unknown path 404",
    ]


def test_an_unknown_path_must_be_404_and_readiness_below_500(
    server: tuple[str, int], tmp_path: Path
) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "a:app"\nready = "/nope"\n'})
    assert run_probes(*server, load_contract(tmp_path))[0] == "ready GET /nope 404"
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "a:app"\nready = "/text"\n'})
    contract = load_contract(tmp_path)
    with pytest.raises(CheckFailedError, match="GET /text answered 200, expected 404"):
        run_probes(*server, type(contract)(**{**contract.__dict__, "not_found": "/text"}))


# A server the boot starts: GET / answers 200, anything else 404; on SIGTERM it exits with
# the code in EXIT_CODE (a crash while stopping is a failure, a clean stop is not).
SERVER = """\
import os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

def on_term(signum, frame):
    sys.exit(int(os.environ["EXIT_CODE"]))

if os.environ["EXIT_CODE"] != "signal":  # "signal": SIGTERM's default action ends it
    signal.signal(signal.SIGTERM, on_term)
HTTPServer((os.environ["APP_HOST"], int(os.environ["APP_PORT"])), Handler).serve_forever()
"""


def server_project(root: Path, code: str, more: str = "") -> None:
    write_files(
        root,
        {
            "pyproject.toml": '[project]\nname = "p"\n\n[tool.asgigen]\n'
            'run = ["python", "srv.py"]\n'
            f'host-env = "APP_HOST"\nport-env = "APP_PORT"\nenv = {{ EXIT_CODE = "{code}" }}\n'
            + more,
            "srv.py": SERVER,
        },
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [("0", "passed"), ("signal", "passed"), ("1", "failed"), ("3", "failed")],
)
def test_the_exit_status_after_sigterm_decides(tmp_path: Path, code: str, status: str) -> None:
    server_project(tmp_path, code)
    step = check.boot(sys.executable, check.open_project(tmp_path), SERVERS["uvicorn"])
    assert (step.name, step.status) == ("serve:uvicorn", status), step.summary
    if status == "failed":
        assert step.summary == f"uvicorn exited with code {code} on SIGTERM"
        assert step.hint is not None
        assert step.hint.endswith("srv.py")


def test_json_probes_survive_the_contract_round_trip(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.asgigen]\napp = "a:app"\n\n[[tool.asgigen.http]]\n'
            'path = "/json"\njson = { status = "ok" }\n'
        },
    )
    (probe,) = load_contract(tmp_path).http
    assert json.dumps(probe.json) == '{"status": "ok"}'


def test_a_readiness_path_answering_500_fails(server: tuple[str, int], tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "a:app"\nready = "/boom"\n'})
    with pytest.raises(CheckFailedError, match="readiness GET /boom answered 500"):
        run_probes(*server, load_contract(tmp_path))


def test_a_body_that_is_not_utf8_is_judged_not_crashed_on(server: tuple[str, int]) -> None:
    check_http(*server, HttpProbe("GET", "/bytes", contains="not UTF-8"))
    with pytest.raises(CheckFailedError, match="no 'hello'"):
        check_http(*server, HttpProbe("GET", "/bytes", contains="hello"))


@pytest.mark.parametrize(
    ("statuses", "ok"),
    [((), False), (("passed",), True), (("passed", "failed"), False), (("skipped",), False)],
)
def test_a_report_is_ok_only_when_every_step_ran_and_passed(
    tmp_path: Path, statuses: tuple[str, ...], ok: bool
) -> None:
    write_files(tmp_path, {"pyproject.toml": '[tool.asgigen]\napp = "a:app"\n'})
    report = check.CheckReport(check.open_project(tmp_path), sys.executable)
    report.steps = [StepResult(f"s{i}", status, 0.0, "") for i, status in enumerate(statuses)]
    assert report.ok is ok


def test_a_failing_probe_fails_the_boot_with_the_log_and_the_command(tmp_path: Path) -> None:
    server_project(tmp_path, "0", '\n[[tool.asgigen.http]]\npath = "/"\nbody = "hello"\n')
    step = check.boot(sys.executable, check.open_project(tmp_path), SERVERS["uvicorn"])
    assert (step.name, step.status) == ("serve:uvicorn", "failed")
    assert step.summary == "GET / answered b'', expected 'hello'"
    assert '"GET / HTTP/1.1" 200' in step.output  # what the server logged meanwhile
    assert step.hint is not None
    assert "srv.py   # then request http://127.0.0.1:" in step.hint
    assert "APP_PORT=" in step.hint


def test_no_app_and_no_run_is_a_skip(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": '[project]\nname = "p"\n'})
    step = check.boot(sys.executable, check.open_project(tmp_path), SERVERS["uvicorn"])
    assert (step.name, step.status) == ("serve:uvicorn", "skipped")
    assert step.summary == "no ASGI app found"
