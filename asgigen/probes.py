"""Real requests against a running server: the contract's probes and the generic ones.

HTTP goes through http.client and WebSockets through the websockets client, both straight
to the loopback address: a proxy configured in the environment never sees them.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import replace
from typing import Any

from asgigen.contract import Contract, HttpProbe, expects_json
from asgigen.errors import CheckFailedError

# Messages a WebSocket echo must return unchanged: non-ASCII text, and bytes that are not UTF-8.
_ECHO_TEXT = "ping ✓"
_ECHO_BYTES = b"\x00\xff"


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on its own connection; header names come back lower-cased."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def run_probes(host: str, port: int, contract: Contract) -> list[str]:
    """Every probe of the contract, then the generic ones; raise on the first miss."""
    passed = [_ready(host, port, contract.ready)]
    captured: dict[str, str] = {}
    for probe in contract.http:
        path = probe.path
        for name, value in captured.items():
            path = path.replace("{" + name + "}", value)
        probe = replace(probe, path=path)
        captured |= check_http(host, port, probe)
        passed.append(probe.describe())
    status, _, _ = _send(host, port, "GET", contract.not_found)
    _expect(status == 404, f"GET {contract.not_found} answered {status}, expected 404")
    passed.append("unknown path 404")
    for path in contract.websocket_echo:
        check_websocket_echo(host, port, path)
        passed.append(f"ws {path} echo")
    return passed


def _ready(host: str, port: int, path: str) -> str:
    status, _, _ = _send(host, port, "GET", path)
    _expect(status < 500, f"readiness GET {path} answered {status}")
    return f"ready GET {path} {status}"


def check_http(host: str, port: int, probe: HttpProbe) -> dict[str, str]:
    """Send the probe's request; raise CheckFailedError saying what differed. Returns the
    values the probe captures from its JSON answer (for later probes' paths)."""
    what = f"{probe.method} {probe.path}"
    status, headers, body = _send(host, port, probe.method, probe.path, probe.send, probe)
    _expect(status == probe.status, f"{what} answered {status}, expected {probe.status}")
    for name, value in probe.headers:
        got = headers.get(name)
        _expect(got == value, f"{what}: header {name} is {got!r}, expected {value!r}")
    text = body.decode("utf-8", errors="replace")
    if probe.body is not None:
        _expect(text == probe.body, f"{what} answered {_short(body)}, expected {probe.body!r}")
    if probe.contains is not None:
        _expect(probe.contains in text, f"{what} answered {_short(body)}, no {probe.contains!r}")
    if expects_json(probe):
        try:
            document = json.loads(body)
        except ValueError:
            raise CheckFailedError(f"{what} answered {_short(body)}, which is not JSON") from None
        _expect(
            matches(document, probe.json),
            f"{what} answered {_short(body)}, expected JSON matching {json.dumps(probe.json)}",
        )
    if probe.echo:
        _expect(body == probe.send, f"{what} echoed {_short(body)}, expected {_short(probe.send)}")
    captured: dict[str, str] = {}
    if probe.capture:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        for name, key in probe.capture:
            found = isinstance(document, dict) and key in document
            _expect(found, f"{what} answered {_short(body)}, with no {key!r} to capture")
            assert isinstance(document, dict)
            captured[name] = str(document[key])
    return captured


def matches(actual: Any, expected: Any) -> bool:
    """JSON equality, except that an expected object only names the keys it cares about."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected and type(actual) is type(expected))


def check_websocket_echo(host: str, port: int, path: str) -> None:
    """A text and a binary message sent to `path` come back unchanged, each as it was."""
    from websockets.exceptions import WebSocketException  # lazy: 30-120 ms to import
    from websockets.sync.client import connect  # lazy: 30-120 ms to import

    try:
        with connect(
            f"ws://{host}:{port}{path}", open_timeout=10, close_timeout=5, proxy=None
        ) as socket:
            socket.send(_ECHO_TEXT)
            text = socket.recv(timeout=10)
            socket.send(_ECHO_BYTES)
            data = socket.recv(timeout=10)
    except (OSError, TimeoutError, WebSocketException) as err:
        raise CheckFailedError(f"websocket {path} failed: {err}") from None
    _expect(text == _ECHO_TEXT, f"websocket {path} echoed {text!r} for a text message")
    _expect(data == _ECHO_BYTES, f"websocket {path} echoed {data!r} for a bytes message")


def _send(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    probe: HttpProbe | None = None,
) -> tuple[int, dict[str, str], bytes]:
    try:
        return request(host, port, method, path, body, probe.send_headers if probe else ())
    except (OSError, http.client.HTTPException) as err:
        raise CheckFailedError(f"{method} {path} failed: {err}") from None


def _short(body: bytes) -> str:
    return repr(body[:80]) + ("…" if len(body) > 80 else "")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)
