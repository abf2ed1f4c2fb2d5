"""A boot whose server shares its port among several workers proves that connections reach
more than one of them and that SIGTERM stops them all (asgigen/workers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asgigen import check, workers
from asgigen.contract import load_contract
from asgigen.servers import SERVERS
from tests.template_tree import build_file_tree

UVICORN = SERVERS["uvicorn"]

# /proc/net/tcp as Linux writes it: a listener on 127.0.0.1:8000 (inode 111) and the server's
# end of a connection from 127.0.0.1:50000 (inode 222), then the client's end (inode 333).
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1
   1: 0100007F:1F40 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1
   2: 0100007F:C350 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 333 1
"""


def test_proc_net_tcp_lookups() -> None:
    server, client = ("127.0.0.1", 8000), ("127.0.0.1", 50000)
    assert workers.socket_inode(TCP, server, client) == 222
    assert workers.socket_inode(TCP, client, server) == 333
    assert workers.socket_inode(TCP, server, ("127.0.0.1", 50001)) is None
    assert workers.listening_inode(TCP, server) == 111
    assert workers.listening_inode(TCP, client) is None


APP = """\
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    status = 200 if scope["path"] == "/" else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _project(tmp_path: Path, count: int) -> Path:
    return build_file_tree(
        tmp_path / f"w{count}",
        {
            "wapp.py": APP,
            "pyproject.toml": f"""
                [project]
                name = "w{count}"
                version = "0"

                [tool.asgigen]
                run = ["python", "-m", "uvicorn", "--workers", "{count}", "wapp:app"]
                host-env = "UVICORN_HOST"
                port-env = "UVICORN_PORT"
                pythonpath = ["."]
            """,
        },
    )


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.e2e
def test_two_workers_are_proven_to_share_the_load_and_stop(tmp_path: Path) -> None:
    root = _project(tmp_path, 2)
    step = check.boot(sys.executable, check.Project(root, "w2", load_contract(root)), UVICORN)
    assert step.status == "passed", (step.summary, step.output)
    assert "2 workers answered" in step.summary
    assert "SIGTERM stopped all" in step.summary


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_one_process_has_no_workers_to_prove(tmp_path: Path) -> None:
    root = _project(tmp_path, 1)
    step = check.boot(sys.executable, check.Project(root, "w1", load_contract(root)), UVICORN)
    assert step.status == "passed", (step.summary, step.output)
    assert "workers answered" not in step.summary


# Three processes hold the listening socket, as with several workers, but only the first one
# ever accepts: the other two just sleep.
IDLE_WORKERS = """\
import os, signal
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler)
children = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        while True:
            signal.pause()
    children.append(pid)


def stop(*_):
    for pid in children:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
server.serve_forever()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_that_never_answer_fail_the_boot(tmp_path: Path) -> None:
    root = build_file_tree(
        tmp_path / "idle",
        {
            "server.py": IDLE_WORKERS,
            "pyproject.toml": """
                [project]
                name = "idle"
                version = "0"

                [tool.asgigen]
                run = ["python", "server.py"]
                host-env = "HOST"
                port-env = "PORT"
            """,
        },
    )
    step = check.boot(sys.executable, check.Project(root, "idle", load_contract(root)), UVICORN)
    assert step.status == "failed"
    assert "were all answered by one process" in step.summary, step.summary
