"""`asgigen check --replicas N`: the HAProxy configuration, the report's arithmetic, the
refusals, and (e2e) a tiny inline project as 3 replicas on a throwaway PostgreSQL."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asgigen import balancer, replicas, services
from asgigen.contract import load_contract
from asgigen.servers import SERVERS
from tests.conftest import CliResult
from tests.tools import in_ci

# ---------------------------------------------------------------- the HAProxy configuration


def test_config_health_checks_readiness_round_robin_with_retries(tmp_path: Path) -> None:
    text = balancer.config(8000, "/readyz", [9001, 9002], tmp_path / "admin.sock")
    lines = [line.strip() for line in text.splitlines()]
    assert "bind 127.0.0.1:8000" in lines
    assert "balance roundrobin" in lines
    assert "option httpchk GET /readyz" in lines
    assert "http-check expect status 200" in lines
    assert "retries 3" in lines
    assert "option redispatch" in lines
    assert "server r1 127.0.0.1:9001 check" in lines
    assert "server r2 127.0.0.1:9002 check" in lines
    assert f"stats socket {tmp_path / 'admin.sock'} mode 600 level admin" in lines
    timing = next(line for line in lines if line.startswith("default-server"))
    assert "inter 100ms" in timing
    assert "fall 2" in timing
    assert "rise 2" in timing


def test_config_is_accepted_by_haproxy(tmp_path: Path) -> None:
    binary = balancer.haproxy_binary()
    if binary is None:
        if in_ci():
            pytest.fail(f"haproxy is missing under CI=true: {balancer.INSTALL_HINT}")
        pytest.skip(balancer.INSTALL_HINT)
    path = tmp_path / "haproxy.cfg"
    path.write_text(balancer.config(8000, "/readyz", [9001], tmp_path / "admin.sock"))
    result = subprocess.run([str(binary), "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stat_rows_of_the_replicas_only() -> None:
    text = (
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,check_status,check_code\n"
        "front,FRONTEND,,,0,1,512,7,OPEN,,\n"
        "replicas,r1,0,0,0,1,,4,UP,L7OK,200\n"
        "replicas,r2,0,0,0,1,,3,DOWN,L7STS,503\n"
        "replicas,r3,0,0,0,1,,2,DOWN,L4CON,\n"
        "replicas,BACKEND,0,0,0,1,,9,UP,,\n"
    )
    states = balancer.parse_stat(text)
    assert states == {
        "r1": balancer.ServerState("r1", "UP", 4, "L7OK 200"),
        "r2": balancer.ServerState("r2", "DOWN", 3, "L7STS 503"),
        "r3": balancer.ServerState("r3", "DOWN", 2, "L4CON"),
    }


def test_missing_haproxy_fails_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(balancer, "haproxy_binary", lambda: None)
    from asgigen.errors import CheckFailedError

    with pytest.raises(CheckFailedError) as caught, balancer.running_balancer("/", [1]):
        pass
    assert caught.value.hint is not None
    assert "apt-get install haproxy" in caught.value.hint


# ---------------------------------------------------------------- the report's arithmetic


def test_p99_is_the_nearest_rank() -> None:
    assert replicas.p99([]) is None
    assert replicas.p99([0.5]) == 0.5
    values = [float(n) for n in range(1, 101)]  # 1..100
    assert replicas.p99(values) == 99.0
    assert replicas.p99(list(reversed(values))) == 99.0
    assert replicas.p99([*([1.0] * 199), 7.0]) == 1.0  # 200 values: rank 198 is still 1.0
    assert replicas.p99([*([1.0] * 98), 7.0, 8.0]) == 7.0


def test_load_report_counts_and_summarises() -> None:
    report = replicas.LoadReport()
    for _n in range(99):
        report.record(0.001, None)
    report.record(0.250, "GET / answered 503")
    assert (report.sent, report.failed) == (100, 1)
    assert report.first_failures == ["GET / answered 503"]
    assert report.summary() == "100 requests, 1 failed, p99 1.0 ms"


# ---------------------------------------------------------------- refusals


def _write_project(root: Path, contract: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\nversion = "0"\n\n[tool.asgigen]\n' + textwrap.dedent(contract)
    )
    return root


def test_sqlite_replicas_are_refused_in_one_line(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    project = _write_project(
        tmp_path / "tiny",
        """
        app = "app:app"
        [tool.asgigen.services]
        sqlite = { url-env = "TINY_DATABASE_URL" }
        """,
    )
    before = sorted(p.name for p in project.iterdir())
    result = run_cli("check", str(project), "--replicas", "3")
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: --replicas 3: the project keeps its state in SQLite")
    assert any(line.startswith("hint:") for line in lines)
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in project.iterdir()) == before


def test_refusal_rules(tmp_path: Path) -> None:
    postgres = load_contract(
        _write_project(
            tmp_path / "pg",
            'app = "app:app"\n[tool.asgigen.services]\npostgres = { url-env = "U" }\n',
        )
    )
    stateless = load_contract(_write_project(tmp_path / "none", 'app = "app:app"\n'))
    assert replicas.refusal(postgres, 3) is None
    assert replicas.refusal(stateless, 3) is None
    assert replicas.refusal(stateless, 0) is not None


def test_liveness_is_an_optional_contract_path(tmp_path: Path) -> None:
    from asgigen.errors import BadInputError

    declared = _write_project(tmp_path / "a", 'app = "app:app"\nliveness = "/livez"\n')
    assert load_contract(declared).liveness == "/livez"
    assert load_contract(_write_project(tmp_path / "b", 'app = "app:app"\n')).liveness is None
    with pytest.raises(BadInputError, match="liveness must be a path"):
        load_contract(_write_project(tmp_path / "c", 'app = "app:app"\nliveness = "livez"\n'))


# ---------------------------------------------------------------- e2e: a tiny inline project

# A plain HTTP server: readiness is a TCP connect to the database's port; liveness touches
# nothing; /items stores in a directory all replicas share (like a database). On SIGTERM,
# MODE=good answers readiness 503 and keeps serving until the balancer has stopped sending
# (two 503 checks then a quiet moment); MODE=bad keeps readiness 200 but refuses real requests,
# then exits: a project that loses requests in a rolling restart. MODE=abrupt exits at once,
# as Uvicorn closes its socket on SIGTERM: the balancer's retries may hide it, the check not.
SERVER = r"""
import json, os, signal, socket, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DB = urlsplit(os.environ["TINY_DATABASE_URL"])
STATE = os.environ["TINY_STATE"]
MODE = os.environ["MODE"]
draining = threading.Event()
lock = threading.Lock()
seen = {"ready_503": 0, "last_request": time.monotonic(), "last_any": time.monotonic()}
inflight = [0]


def database_answers():
    try:
        with socket.create_connection((DB.hostname, DB.port), timeout=0.5):
            return True
    except OSError:
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", kind="text/plain"):
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def counted(self, method):  # requests being answered; not idle keep-alive connections
        with lock:
            inflight[0] += 1
        try:
            method()
        finally:
            with lock:
                inflight[0] -= 1

    def do_GET(self):
        self.counted(self.get)

    def do_POST(self):
        self.counted(self.post)

    def get(self):
        with lock:
            seen["last_any"] = time.monotonic()
        if self.path == "/livez":
            return self.answer(200, b"live")
        if self.path == "/readyz":
            ready = database_answers() and not (draining.is_set() and MODE == "good")
            if not ready:
                with lock:
                    seen["ready_503"] += draining.is_set()
            return self.answer(200 if ready else 503, b"ready" if ready else b"not ready")
        with lock:
            seen["last_request"] = time.monotonic()
        if draining.is_set() and MODE == "bad":
            return self.answer(503, b"shutting down")
        if self.path == "/hello":
            return self.answer(200, b"hello")
        if self.path.startswith("/items/"):
            try:
                with open(os.path.join(STATE, self.path.rsplit("/", 1)[1])) as file:
                    return self.answer(200, file.read().encode())
            except (OSError, ValueError):
                return self.answer(404, b"no such item")
        return self.answer(404, b"not found")

    def post(self):
        data = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path != "/items":
            return self.answer(404, b"not found")
        name = f"{os.getpid()}-{time.monotonic_ns()}"
        with open(os.path.join(STATE, name), "wb") as file:
            file.write(data)
        return self.answer(201, json.dumps({"id": name}).encode(), "application/json")


server = ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler)


def drain():
    while True:
        time.sleep(0.05)
        with lock:
            now = time.monotonic()
            quiet = now - seen["last_request"] > 0.3
            forgotten = now - seen["last_any"] > 0.6  # no balancer checks us any more
            if MODE == "good" and seen["ready_503"] >= 2 and quiet or forgotten:
                break
            if MODE == "bad" and now - started > 1.0:
                break
    server.shutdown()
    while True:  # the requests being answered finish; idle keep-alive connections just close
        with lock:
            if inflight[0] == 0:
                os._exit(0)
        time.sleep(0.01)


def on_term(*_):
    global started
    if MODE == "abrupt":
        os._exit(0)
    started = time.monotonic()
    draining.set()
    threading.Thread(target=drain).start()


signal.signal(signal.SIGTERM, on_term)
server.serve_forever()
threading.Event().wait()  # drain() ends the process
"""

CONTRACT = """
run = ["python", "server.py"]
host-env = "HOST"
port-env = "PORT"
ready = "/readyz"
liveness = "/livez"
env = {{ MODE = "{mode}", TINY_STATE = "{state}" }}

[tool.asgigen.services]
postgres = {{ url-env = "TINY_DATABASE_URL" }}

[[tool.asgigen.http]]
method = "POST"
path = "/items"
send = "kept"
status = 201
capture = {{ item = "id" }}

[[tool.asgigen.http]]
path = "/items/{{item}}"
body = "kept"

[[tool.asgigen.http]]
path = "/hello"
body = "hello"
"""


def _tiny(tmp_path: Path, mode: str) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    project = _write_project(tmp_path / f"tiny-{mode}", CONTRACT.format(mode=mode, state=state))
    (project / "server.py").write_text(SERVER)
    return project


@contextlib.contextmanager
def _database(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    if services.postgres_binaries() is None:
        if in_ci():
            pytest.fail(f"PostgreSQL is missing under CI=true: {services.INSTALL_HINT}")
        pytest.skip(services.INSTALL_HINT)
    if balancer.haproxy_binary() is None:
        if in_ci():
            pytest.fail(f"haproxy is missing under CI=true: {balancer.INSTALL_HINT}")
        pytest.skip(balancer.INSTALL_HINT)
    monkeypatch.delenv("TINY_DATABASE_URL", raising=False)
    with services.provide("postgres", "TINY_DATABASE_URL") as (url, _):
        yield {"TINY_DATABASE_URL": url}


@pytest.mark.e2e
def test_three_replicas_pass_a_rolling_restart_and_an_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = load_contract(_tiny(tmp_path, "good"))
    with _database(monkeypatch) as env:
        steps = replicas.run_replicas(sys.executable, contract, SERVERS["uvicorn"], 3, env)
    by_name = {step.name: step for step in steps}
    assert [step.name for step in steps] == [
        "replicas:probes",
        "replicas:rolling",
        "replicas:outage",
    ], [(s.name, s.summary, s.output) for s in steps]
    assert all(step.ok for step in steps), [(s.name, s.summary, s.output) for s in steps]
    probes = by_name["replicas:probes"].summary
    assert "3 replicas behind HAProxy" in probes
    assert "state written on one replica read on another" in probes
    rolling = by_name["replicas:rolling"].summary
    assert "rolling restart of 3 replicas" in rolling
    assert ", 0 failed, p99 " in rolling
    sent = int(rolling.split(": ")[1].split(" requests")[0])
    assert sent > 0
    outage = by_name["replicas:outage"].summary
    assert "readiness /readyz 503 on all 3" in outage
    assert "liveness /livez 200" in outage


@pytest.mark.e2e
def test_a_rolling_restart_that_loses_requests_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = load_contract(_tiny(tmp_path, "bad"))
    with _database(monkeypatch) as env:
        steps = replicas.run_replicas(sys.executable, contract, SERVERS["uvicorn"], 2, env)
    by_name = {step.name: step for step in steps}
    assert by_name["replicas:probes"].ok, by_name["replicas:probes"].summary
    rolling = by_name["replicas:rolling"]
    assert rolling.status == "failed"
    failed = int(rolling.summary.split(" requests, ")[1].split(" failed")[0])
    assert failed > 0, rolling.summary
    assert "answered 503" in rolling.output
    assert "not on a readiness answer" in rolling.summary


@pytest.mark.e2e
def test_a_replica_that_stops_without_draining_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = load_contract(_tiny(tmp_path, "abrupt"))
    with _database(monkeypatch) as env:
        steps = replicas.run_replicas(sys.executable, contract, SERVERS["uvicorn"], 2, env)
    rolling = {step.name: step for step in steps}["replicas:rolling"]
    assert rolling.status == "failed"
    assert "r1 was marked DOWN on L4CON" in rolling.summary, rolling.summary
    assert "not drained" in rolling.summary
