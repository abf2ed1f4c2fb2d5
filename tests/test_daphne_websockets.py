"""Daphne is not supported for WebSockets (it fails Autobahn 1-10, benchmarks/README.md): its
boot sends no WebSocket probe, says so on its row with the reason, and a contract whose only
probes are WebSocket probes proves nothing under it, so that boot does not pass."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from asgigen import check, replicas
from asgigen.console import Console
from asgigen.contract import Contract, HttpProbe
from asgigen.servers import SERVERS
from tests.conftest import run_asgigen
from tests.inline_projects import write_files
from tests.test_probe_verdicts import SERVER

DAPHNE = SERVERS["daphne"]
NOTE = (
    "WebSocket probes not run: Daphne is HTTP-only here (fails Autobahn: empty and 1 MB messages)"
)


def contract(**fields: Any) -> Contract:
    return Contract(Path("/p"), "test", "p.app:app", **fields)


def test_only_daphne_drops_the_websocket_probes() -> None:
    both = contract(http=(HttpProbe("GET", "/"),), websocket_echo=("/ws", "/chat"))
    assert DAPHNE.probed(both) == replace(both, websocket_echo=())
    assert DAPHNE.probed(both).http == both.http  # the HTTP probes all stay
    for name in ("uvicorn", "hypercorn", "granian"):
        assert SERVERS[name].websocket_reason is None
        assert SERVERS[name].probed(both) is both


def test_a_contract_without_websocket_probes_is_probed_as_it_is() -> None:
    http_only = contract(http=(HttpProbe("GET", "/"),))
    assert DAPHNE.probed(http_only) is http_only


# A stand-in for a server not supported for WebSockets: the project's own `run` command (an
# HTTP server that cannot speak WebSocket, so a probe sent to it would fail the boot).
NO_WEBSOCKETS = replace(SERVERS["uvicorn"], websocket_reason="no WebSockets in this test")


def project(root: Path, probes: str) -> check.Project:
    write_files(
        root,
        {
            "pyproject.toml": '[project]\nname = "p"\n\n[tool.asgigen]\n'
            'run = ["python", "srv.py"]\nhost-env = "APP_HOST"\nport-env = "APP_PORT"\n'
            'env = { EXIT_CODE = "0" }\nwebsocket-echo = ["/ws"]\n' + probes,
            "srv.py": SERVER,
        },
    )
    return check.open_project(root)


def test_with_http_probes_the_boot_passes_saying_websockets_were_not_run(tmp_path: Path) -> None:
    step = check.boot(
        sys.executable, project(tmp_path, '\n[[tool.asgigen.http]]\npath = "/"\n'), NO_WEBSOCKETS
    )
    assert step.status == "passed", step.summary
    assert step.summary.endswith(
        "GET / 200, unknown path 404; WebSocket probes not run: no WebSockets in this test"
    )
    assert "ws /ws" not in step.summary


def test_the_same_probes_are_sent_under_a_server_that_supports_websockets(tmp_path: Path) -> None:
    step = check.boot(
        sys.executable,
        project(tmp_path, '\n[[tool.asgigen.http]]\npath = "/"\n'),
        SERVERS["uvicorn"],
    )
    assert step.status == "failed"
    assert step.summary.startswith("websocket /ws failed")


def test_with_websocket_probes_only_the_boot_proves_nothing_and_does_not_pass(
    tmp_path: Path,
) -> None:
    proj = project(tmp_path, "")
    step = check.boot(sys.executable, proj, NO_WEBSOCKETS)
    assert step.status == "skipped"
    assert step.summary == (
        "booted; nothing proved: the contract's only probes are WebSocket probes. "
        "WebSocket probes not run: no WebSockets in this test"
    )
    assert step.hint == f"asgigen check {tmp_path} --server uvicorn"
    report = check.CheckReport(proj, sys.executable, steps=[step])
    assert not report.ok
    assert report.failures == [step]


@pytest.mark.e2e
def test_daphne_boots_a_routed_project_and_its_row_says_why_no_websocket_probe(
    tmp_path: Path,
) -> None:
    made = run_asgigen("new", "wsd", "--style", "routed", "--no-check", "--no-git", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    routed = check.open_project(tmp_path / "wsd")
    assert routed.contract.websocket_echo == ("/ws",)
    step = check.boot(sys.executable, routed, DAPHNE)
    assert step.status == "passed", step.summary + step.output
    err = io.StringIO()
    Console(err=err).step(check.step_label(step.name), step.summary, step.seconds, ok=step.ok)
    row = err.getvalue()
    assert row.startswith("  serve      daphne 127.0.0.1:")
    assert "GET /health 200" in row
    assert f"unknown path 404; {NOTE}" in row
    assert "ws /ws echo" not in row


def test_replicas_under_daphne_send_no_websocket_probe_and_say_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`check --replicas N --server daphne`: the probes through the balancer are the HTTP
    ones only, and the replicas row says why the WebSocket ones were not run."""
    both = contract(http=(HttpProbe("GET", "/"),), websocket_echo=("/ws",))
    sent: list[Contract] = []
    states = iter([{"app1": SimpleNamespace(sessions=0)}, {"app1": SimpleNamespace(sessions=3)}])
    front = SimpleNamespace(host="127.0.0.1", port=1, states=lambda: next(states))
    monkeypatch.setattr(replicas, "run_probes", lambda host, port, probed: sent.append(probed))
    monkeypatch.setattr(replicas, "request", lambda *args: None)
    monkeypatch.setattr(replicas, "_probes_across", lambda group, probed: "no state crossed")
    group = SimpleNamespace(spec=DAPHNE, contract=both, items=[object()])

    summary = replicas.probes_through(group, front)  # type: ignore[arg-type]

    assert [probed.websocket_echo for probed in sent] == [()]
    assert [probed.http for probed in sent] == [both.http]
    assert summary.endswith(NOTE)
