"""`asgigen check --replicas N`: the project as N processes on one database behind HAProxy.

Three steps, each a StepResult like the boots (docs/replicas.md):
- `replicas:probes`: N replicas and the balancer start; the contract's probes pass through the
  balancer, every replica got requests, and the probes run once more each on the next replica
  in turn, so what one replica writes (a probe's `capture`) another one reads;
- `replicas:rolling`: under steady load through the balancer, each replica in turn gets
  SIGTERM, must be marked DOWN by the balancer (its readiness fails), exits, and is replaced
  by a new process the balancer marks UP. Requests sent, failed (any fails the step), p99;
- `replicas:outage` (projects on a throwaway PostgreSQL): the database stops, every replica's
  readiness answers 503 while its liveness answers 200; it starts again, and both recover.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from asgigen import balancer as lb
from asgigen import services
from asgigen.contract import Contract
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.probes import check_http, request, run_probes
from asgigen.servers import RunningServer, ServerSpec, running_server
from asgigen.steps import StepResult

# How long one replica may take to be marked DOWN, to exit after SIGTERM, to come back UP.
DRAIN_TIMEOUT = 30.0
EXIT_TIMEOUT = 30.0
UP_TIMEOUT = 60.0
OUTAGE_TIMEOUT = 30.0
# The steady client: a request every LOAD_PAUSE seconds at most, LOAD_MAX_REQUESTS in all.
LOAD_PAUSE = 0.002
LOAD_MAX_REQUESTS = 50_000
LOAD_TIMEOUT = 10.0
DRAIN_HINT = (
    f"on SIGTERM, answer 503 on readiness and keep serving until the balancer stops sending"
    f" (it checks every {lb.CHECK_INTER_MS} ms, {lb.CHECK_FALL} misses), then shut down"
)
_LIVENESS_HINT = 'declare the liveness path in the contract: liveness = "/livez"'


def refusal(contract: Contract, count: int) -> str | None:
    """Why `count` replicas of this project cannot be proven, or None when they can.

    A project shares state across replicas through the database its contract declares in
    `[tool.asgigen.services]`: PostgreSQL is one server for all of them; SQLite is a file on
    one machine, which replicas on several machines cannot share. A contract with no service
    declares no state, and its replicas need no shared database."""
    if count < 1:
        return f"--replicas {count}: give at least 1"
    kinds = {service.kind for service in contract.services}
    if count > 1 and "sqlite" in kinds:
        return (
            f"--replicas {count}: the project keeps its state in SQLite, a file no two machines "
            "can share; replicas need database=postgres"
        )
    return None


def check_refusal(contract: Contract, count: int) -> None:
    reason = refusal(contract, count)
    if reason is not None:
        raise BadInputError(reason, hint="asgigen check without --replicas proves one instance")


def p99(latencies: list[float]) -> float | None:
    """The 99th percentile by nearest rank: the smallest value at least 99 % of them reach."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class LoadReport:
    """What the steady client saw."""

    sent: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    first_failures: list[str] = field(default_factory=list)

    def record(self, seconds: float, failure: str | None) -> None:
        self.sent += 1
        self.latencies.append(seconds)
        if failure is not None:
            self.failed += 1
            if len(self.first_failures) < 10:
                self.first_failures.append(failure)

    def summary(self) -> str:
        worst = p99(self.latencies)
        latency = f"p99 {worst * 1000:.1f} ms" if worst is not None else "no latency"
        return f"{self.sent} requests, {self.failed} failed, {latency}"


class SteadyLoad:
    """A client thread sending `path` through the balancer until stopped (bounded in count)."""

    def __init__(self, host: str, port: int, path: str, status: int) -> None:
        self.host, self.port, self.path, self.status = host, port, path, status
        self.report = LoadReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asgigen-load", daemon=True)

    def __enter__(self) -> SteadyLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set() and self.report.sent < LOAD_MAX_REQUESTS:
            started = time.perf_counter()
            failure = None
            try:
                status, _, _ = request(self.host, self.port, "GET", self.path, timeout=LOAD_TIMEOUT)
                if status != self.status:
                    failure = f"GET {self.path} answered {status}"
            except (OSError, http.client.HTTPException) as err:
                failure = f"GET {self.path} failed: {err}"
            self.report.record(time.perf_counter() - started, failure)
            self._stop.wait(LOAD_PAUSE)


@dataclass
class Replica:
    server: RunningServer
    stack: contextlib.ExitStack

    def close(self) -> None:
        self.stack.close()


class Replicas:
    """N running instances of the project; each stopped on exit."""

    def __init__(
        self, spec: ServerSpec, python: str, contract: Contract, services: dict[str, str]
    ) -> None:
        self.spec, self.python, self.contract, self.services = spec, python, contract, services
        self.items: list[Replica] = []

    def start_one(self) -> Replica:
        stack = contextlib.ExitStack()
        try:
            server = stack.enter_context(
                running_server(
                    self.spec, python=self.python, contract=self.contract, services=self.services
                )
            )
        except BaseException:
            stack.close()
            raise
        return Replica(server, stack)

    def close(self) -> None:
        for replica in self.items:
            replica.close()


@contextlib.contextmanager
def replicas_behind_balancer(
    spec: ServerSpec, python: str, contract: Contract, services: dict[str, str], count: int
) -> Iterator[tuple[Replicas, lb.Balancer]]:
    group = Replicas(spec, python, contract, services)
    try:
        for _ in range(count):
            group.items.append(group.start_one())
        ports = [replica.server.port for replica in group.items]
        with lb.running_balancer(contract.ready, ports) as balancer:
            yield group, balancer
    finally:
        group.close()


def run_replicas(
    python: str,
    contract: Contract,
    spec: ServerSpec,
    count: int,
    services: dict[str, str],
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """The three replica steps (see the module's doc); never raises for a failing step."""
    steps: list[StepResult] = []

    def add(step: StepResult) -> None:
        steps.append(step)
        if on_step:
            on_step(step)

    started = time.perf_counter()
    try:
        with replicas_behind_balancer(spec, python, contract, services, count) as (group, front):
            add(_timed("replicas:probes", started, lambda: probes_through(group, front)))
            add(_timed("replicas:rolling", time.perf_counter(), lambda: rolling(group, front)))
            database = _database_url(contract, services)
            if database is not None:
                add(outage_step(group, front, contract, database))
    except CheckFailedError as err:
        seconds = time.perf_counter() - started
        name = "replicas:probes" if not steps else "replicas"
        add(StepResult(name, "failed", seconds, err.message, err.details or "", err.hint))
    return steps


def _timed(name: str, started: float, body: Callable[[], str]) -> StepResult:
    try:
        summary = body()
    except CheckFailedError as err:
        seconds = time.perf_counter() - started
        return StepResult(name, "failed", seconds, err.message, err.details or "", err.hint)
    return StepResult(name, "passed", time.perf_counter() - started, summary)


def probes_through(group: Replicas, front: lb.Balancer) -> str:
    """The contract's probes through the balancer; every replica reached; the probes once
    more, each on the next replica, so one replica reads what another wrote."""
    contract = group.spec.probed(group.contract)  # Daphne: HTTP probes only (servers.py)
    before = {name: state.sessions for name, state in front.states().items()}
    run_probes(front.host, front.port, contract)
    for _ in range(2 * len(group.items)):
        try:
            request(front.host, front.port, "GET", contract.ready)
        except (OSError, http.client.HTTPException) as err:
            raise CheckFailedError(f"GET {contract.ready} through HAProxy failed: {err}") from None
    after = front.states()
    reached = {name: after[name].sessions - before.get(name, 0) for name in after}
    idle = sorted(name for name, sessions in reached.items() if sessions == 0)
    if idle:
        raise CheckFailedError(f"the balancer sent no request to {', '.join(idle)}")
    crossed = _probes_across(group, contract)
    counts = " ".join(f"{name}:{sessions}" for name, sessions in sorted(reached.items()))
    summary = (
        f"{len(group.items)} replicas behind HAProxy :{front.port}, requests {counts}; {crossed}"
    )
    if contract is not group.contract:
        summary += f"; WebSocket probes not run: {group.spec.websocket_reason}"
    return summary


def _probes_across(group: Replicas, contract: Contract) -> str:
    """Each probe on the next replica in turn; a value one captured is used on another."""
    captured: dict[str, str] = {}
    crossings = 0
    origin: dict[str, int] = {}
    for index, probe in enumerate(contract.http):
        target = group.items[index % len(group.items)].server
        path = probe.path
        for name, value in captured.items():
            if "{" + name + "}" in path:
                crossings += origin[name] != index % len(group.items)
            path = path.replace("{" + name + "}", value)
        got = check_http(target.host, target.port, replace(probe, path=path))
        for name in got:
            origin[name] = index % len(group.items)
        captured |= got
    if crossings:
        return f"state written on one replica read on another ({crossings}x)"
    return "the contract declares no create-then-read probes (capture), so no state crossed"


def _load_target(contract: Contract) -> tuple[str, int]:
    """What the steady client asks: the contract's first plain GET probe, else readiness."""
    for probe in contract.http:
        if probe.method == "GET" and "{" not in probe.path and not probe.send:
            return probe.path, probe.status
    return contract.ready, 200


def rolling(group: Replicas, front: lb.Balancer) -> str:
    """Each replica in turn drained (SIGTERM, marked DOWN), stopped, replaced, marked UP,
    under steady load through the balancer; fails on any failed request."""
    path, status = _load_target(group.contract)
    problems: list[str] = []
    with SteadyLoad(front.host, front.port, path, status) as load:
        for index in range(len(group.items)):
            problems += _replace(group, front, index)
            if any("did not come back" in problem for problem in problems):
                break
    report = load.report
    summary = f"rolling restart of {len(group.items)} replicas: {report.summary()}"
    if report.failed or problems:
        details = "\n".join([*problems, *report.first_failures])
        raise CheckFailedError(
            summary + (f"; {problems[0]}" if problems else ""),
            details=details,
            hint=DRAIN_HINT,
        )
    return summary


def _replace(group: Replicas, front: lb.Balancer, index: int) -> list[str]:
    name = lb.server_name(index)
    old = group.items[index]
    problems: list[str] = []
    process = old.server.process
    process.send_signal(signal.SIGTERM)
    down = front.wait_for(name, "DOWN", time.monotonic() + DRAIN_TIMEOUT)
    if down is None:
        problems.append(f"{name} was not marked DOWN within {DRAIN_TIMEOUT:.0f} s of SIGTERM")
    elif not down.check.startswith("L7STS"):
        problems.append(
            f"{name} was marked DOWN on {down.check or 'a failed check'} (it stopped answering),"
            " not on a readiness answer: it was not drained before it stopped"
        )
    try:
        process.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        problems.append(f"{name} did not exit within {EXIT_TIMEOUT:.0f} s of SIGTERM")
    code = process.returncode
    old.close()
    if code not in (0, -15, None):
        problems.append(f"{name} exited with code {code} on SIGTERM")
    new = group.start_one()
    group.items[index] = new
    front.move(name, new.server.port)
    if front.wait_for(name, "UP", time.monotonic() + UP_TIMEOUT) is None:
        problems.append(f"{name} did not come back UP within {UP_TIMEOUT:.0f} s")
    return problems


def _database_url(contract: Contract, services: dict[str, str]) -> str | None:
    for service in contract.services:
        if service.kind == "postgres" and service.url_env in services:
            return services[service.url_env]
    return None


def outage_step(
    group: Replicas, front: lb.Balancer, contract: Contract, database: str
) -> StepResult:
    name = "replicas:outage"
    if not services.is_throwaway(database):
        return StepResult(
            name,
            "skipped",
            0.0,
            "the database is the caller's own: asgigen stops only a throwaway one",
            hint="unset the database URL variable so check starts a throwaway PostgreSQL",
        )
    if contract.liveness is None:
        return StepResult(
            name, "failed", 0.0, "the contract declares no liveness path", hint=_LIVENESS_HINT
        )
    started = time.perf_counter()
    try:
        services.stop_again(database)
        try:
            down = _wait_all(group, contract, ready=503, deadline=time.monotonic() + OUTAGE_TIMEOUT)
        finally:
            services.start_again(database)
        back = _wait_all(group, contract, ready=200, deadline=time.monotonic() + OUTAGE_TIMEOUT)
        for index in range(len(group.items)):
            if front.wait_for(lb.server_name(index), "UP", time.monotonic() + UP_TIMEOUT) is None:
                raise CheckFailedError(f"{lb.server_name(index)} was not UP again after the outage")
    except CheckFailedError as err:
        seconds = time.perf_counter() - started
        return StepResult(name, "failed", seconds, err.message, err.details or "", err.hint)
    summary = (
        f"database down: readiness {contract.ready} 503 on all {len(group.items)} in {down:.1f} s"
        f", liveness {contract.liveness} 200; back: readiness 200 in {back:.1f} s"
    )
    return StepResult(name, "passed", time.perf_counter() - started, summary)


def _wait_all(group: Replicas, contract: Contract, *, ready: int, deadline: float) -> float:
    """Poll each replica until its readiness answers `ready`, its liveness 200 all along;
    the seconds it took. Raise when liveness fails or the deadline passes."""
    assert contract.liveness is not None
    started = time.monotonic()
    pending = dict.fromkeys(range(len(group.items)), 0)
    while pending:
        for index in list(pending):
            server = group.items[index].server
            live = _status(server, contract.liveness)
            if live != 200:
                raise CheckFailedError(
                    f"liveness {contract.liveness} answered {live} on {lb.server_name(index)}"
                    f" while readiness should answer {ready}",
                    hint="liveness must not touch the database: a restart cannot fix an outage",
                )
            pending[index] = _status(server, contract.ready)
            if pending[index] == ready:
                del pending[index]
        if pending and time.monotonic() > deadline:
            seen = ", ".join(f"{lb.server_name(i)} {s}" for i, s in pending.items())
            raise CheckFailedError(
                f"readiness {contract.ready} did not answer {ready} within "
                f"{OUTAGE_TIMEOUT:.0f} s: {seen}"
            )
        if pending:
            time.sleep(0.05)
    return time.monotonic() - started


def _status(server: RunningServer, path: str) -> int:
    try:
        status, _, _ = request(server.host, server.port, "GET", path, timeout=5)
    except (OSError, http.client.HTTPException):
        return 0
    return status
