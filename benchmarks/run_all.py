"""Run every asgigen benchmark side by side with its reference and print the ratios.

    python benchmarks/run_all.py            # full run (about eight minutes on 2 cores)
    python benchmarks/run_all.py --quick    # a smoke run: short and noisy, for tests
    python benchmarks/run_all.py --json     # the rows as JSON, for tests and scripts
    python benchmarks/run_all.py --only first   # a section: cli, check, first, apps, fastapi
    python benchmarks/run_all.py --only check --check-style raw   # one style's check

Tools: hyperfine and wrk (Debian: `apt-get install hyperfine wrk`). Every figure is a ratio
against a reference measured in the same run, since a shared 2-core machine is noisy.

A comparison only counts when both sides did the same work: before loading two servers, each
answers the benchmarked request once and the answers must match (status, media type, body);
both generation commands must write the same files; hyperfine stops on any command that
fails. Otherwise the script exits 1 with `error:` naming the difference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ASGIGEN = [str(BIN / "asgigen")]
UVICORN_FLAGS = [
    "--http",
    "httptools",
    "--loop",
    "uvloop",
    "--no-access-log",
    "--log-level",
    "warning",
    "--workers",
    "1",
]


class Row(NamedTuple):
    name: str
    ours: float
    reference: float
    ratio: float
    target: str
    checked: str  # what made the two sides comparable

    @classmethod
    def compared(cls, name: str, result: tuple[float, float, float, str], target: str) -> Row:
        """A row from what `compare` returned."""
        ours, reference, ratio, checked = result
        return cls(name, ours, reference, ratio, target, checked)


class NotComparable(Exception):
    """The two sides of a comparison did not do the same work."""


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        print(f"error: {tool} is not installed", file=sys.stderr)
        print(f"hint: apt-get install {tool}", file=sys.stderr)
        raise SystemExit(2)
    return path


WARMUP = 1  # hyperfine's warm-up runs per command; none in --quick mode
WRK_WARMUP = True  # a 1 s wrk run before each measured one; none in --quick mode


def hyperfine(
    commands: dict[str, str], runs: int, cwd: Path, prepare: str | None = None
) -> dict[str, float]:
    """Median seconds of each command, measured by hyperfine in one interleaved session."""
    out = cwd / "hyperfine.json"
    args = [
        need("hyperfine"),
        "--style",
        "none",
        "--warmup",
        str(WARMUP),
        "--runs",
        str(runs),
        "--export-json",
        str(out),
    ]
    if prepare:
        args += ["--prepare", prepare]
    for name, command in commands.items():
        args += ["--command-name", name, command]
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    results = json.loads(out.read_text())["results"]
    return {r["command"]: float(r["median"]) for r in results}


def pin(core: int) -> list[str]:
    """`taskset -c CORE`, when there are two cores to share out (server on 0, wrk on 1)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cores[core])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn(app: str, cwd: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(cwd / "src"), str(HERE)])
    # The server on core 0, wrk on core 1, so they don't fight over one core.
    command = [*pin(0), str(BIN / "uvicorn"), app, "--port", str(port), *UVICORN_FLAGS]
    process = subprocess.Popen(
        command, cwd=cwd, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                assert process.stderr is not None  # stderr=PIPE
                raise RuntimeError(f"{app} did not start: {process.stderr.read().decode()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start in time")
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(port: int, path: str, seconds: int) -> float:
    """Requests per second: 1 thread, 64 connections, after a 1 s warm-up."""
    url = f"http://127.0.0.1:{port}{path}"
    base = [*pin(1), need("wrk"), "-t1", "-c64"]
    if WRK_WARMUP:
        subprocess.run([*base, "-d1s", url], check=True, capture_output=True)
    out = subprocess.run(
        [*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors is not None:
        raise RuntimeError(f"wrk failed or got errors:\n{out}")
    return float(match.group(1))


def render(root: Path, name: str, style: str, *answers: str) -> Path:
    """A project of `style` in root/name; `answers`: extra `--data` options."""
    subprocess.run(
        [*ASGIGEN, "new", name, "--style", style, "--no-check", "--no-git", "-q", *answers],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return root / name


def bench_cli(root: Path, runs: int) -> list[Row]:
    rows = []
    copier = str(BIN / "copier")
    times = hyperfine(
        {
            "asgigen --help": f"{ASGIGEN[0]} --help",
            "asgigen --version": f"{ASGIGEN[0]} --version",
            "copier --help": f"{copier} --help",
        },
        runs,
        root,
    )
    ref = times["copier --help"]
    for name in ("asgigen --help", "asgigen --version"):
        rows.append(
            Row(
                f"CLI start-up: {name} / copier --help",
                times[name],
                ref,
                times[name] / ref,
                "<= 0.45",
                "both exited 0 (hyperfine stops otherwise)",
            )
        )
    template = subprocess.run(
        [
            sys.executable,
            "-c",
            "from asgigen.template import builtin_template;print(builtin_template())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    generate = {
        "asgigen new": f"{ASGIGEN[0]} new gen-a --style routed --no-check --no-git --defaults -q",
        "copier copy": f"{copier} copy --defaults --trust --quiet --data project_name=gen-b"
        f" --data style=routed {template} gen-b",
    }
    times = hyperfine(generate, runs, root, prepare="rm -rf gen-a gen-b")
    # hyperfine's prepare removed one side's output before the other's last run: once more,
    # untimed, to see that both wrote the same project.
    shutil.rmtree(root / "gen-a", ignore_errors=True)
    shutil.rmtree(root / "gen-b", ignore_errors=True)
    for command in generate.values():
        subprocess.run(command, shell=True, cwd=root, check=True, stdout=subprocess.DEVNULL)
    ours_files, ref_files = files_of(root / "gen-a", "gen"), files_of(root / "gen-b", "gen")
    if not ours_files or ours_files != ref_files:
        raise NotComparable(
            f"asgigen new and copier copy wrote different files: {ours_files ^ ref_files}"
        )
    rows.append(
        Row(
            "Generation: asgigen new --no-check / copier copy",
            times["asgigen new"],
            times["copier copy"],
            times["asgigen new"] / times["copier copy"],
            "<= 1.05",
            f"both wrote the same {len(ours_files)} files",
        )
    )
    return rows


def files_of(project: Path, name: str) -> set[str]:
    """The files under `project`, its own name (gen-a, gen_a...) replaced by `name`."""
    own = project.name
    return {
        str(path.relative_to(project)).replace(own, name).replace(own.replace("-", "_"), name)
        for path in project.rglob("*")
        if path.is_file()
    }


CHECK_TARGETS = {"raw": 2.5, "fastapi": 4.0}  # seconds of `asgigen new` with its check


def bench_check(root: Path, runs: int, styles: list[str]) -> list[Row]:
    rows = []
    for style, target in CHECK_TARGETS.items():
        if style not in styles:
            continue
        times = hyperfine(
            {style: f"{ASGIGEN[0]} new chk-{style} --style {style} --no-git -q"},
            runs,
            root,
            prepare=f"rm -rf chk-{style}",
        )
        rows.append(
            Row(
                f"asgigen new (tests + live boot), {style}",
                times[style],
                target,
                times[style] / target,
                f"<= {target} s",
                "exited 0: its tests passed and it served (hyperfine stops otherwise)",
            )
        )
    return rows


def bench_first_check(root: Path, runs: int) -> list[Row]:
    """The first check after the README's install: `asgigen new x --style S` from a fresh venv
    where only `pip install .` ran. Cold: ASGIGEN_CACHE_DIR and UV_CACHE_DIR empty before each
    run (uv downloads and builds the check environment); warm: both kept from the runs before.
    Timed here rather than by hyperfine, which cannot empty a directory of its own per command.
    """
    import statistics

    venv = root / "fresh-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(HERE.parent)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    caches = {"ASGIGEN_CACHE_DIR": root / "first-asgigen-cache", "UV_CACHE_DIR": root / "first-uv"}
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update({name: str(path) for name, path in caches.items()})
    rows = []
    for style in ("raw", "routed", "fastapi"):
        project = root / f"first-{style}"
        command = [str(venv / "bin" / "asgigen"), "new", project.name, "--style", style, "-q"]
        times: dict[str, list[float]] = {"cold": [], "warm": []}
        for kind in ("cold", "warm"):
            for _ in range(runs):
                shutil.rmtree(project, ignore_errors=True)
                if kind == "cold":
                    for path in caches.values():
                        shutil.rmtree(path, ignore_errors=True)
                started = time.perf_counter()
                subprocess.run(command, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
                times[kind].append(time.perf_counter() - started)
        for kind, target in (("cold", 15.0), ("warm", 4.0)):
            median = statistics.median(times[kind])
            rows.append(
                Row(
                    f"first check, fresh venv (pip install .), {style}, {kind} cache (s)",
                    median,
                    target,
                    median / target,
                    f"<= {target:g} s",
                    f"exited 0: its tests passed and it served ({runs} runs, median of "
                    + " ".join(f"{seconds:.2f}" for seconds in sorted(times[kind]))
                    + ")",
                )
            )
    return rows


def bench_fastapi(root: Path, seconds: int, rounds: int) -> list[Row]:
    """The fastapi style's own cost, against references that do the same work."""
    api = root / "bench-api"
    if not api.is_dir():
        render(root, "bench-api", "fastapi")
    ours = ("bench_api.app:app", api)
    rows = []
    # The scaffold against a hand-written app of its shape and rules.
    handwritten = ("reference.fastapi_handwritten:app", HERE)
    name = "fastapi app / hand-written FastAPI, same routers + rules (req/s)"
    rows.append(Row.compared(name, compare(ours, handwritten, "/", seconds, rounds), ">= 0.97"))
    # The same without the database the default project has (and the reference lacks): the
    # modules SQLAlchemy and Alembic bring make every garbage collection walk a larger heap.
    no_db = render(root, "bench-nodb", "fastapi", "--data", "database=none")
    result = compare(("bench_nodb.app:app", no_db), handwritten, "/", seconds, rounds)
    name = "fastapi app, database=none / hand-written FastAPI (req/s)"
    rows.append(Row.compared(name, result, ">= 0.97"))
    # What HTTPRulesMiddleware costs on a request that needs none of its work.
    without = ("fastapi_without_rules:app", api)
    name = "fastapi app / same app minus HTTPRulesMiddleware (req/s)"
    rows.append(Row.compared(name, compare(ours, without, "/", seconds, rounds), "(its cost)"))
    # FastAPI's own price for an included router: the same endpoint there and on the app.
    router = ("reference.fastapi_router:app", HERE)
    bare = ("reference.fastapi_bare:app", HERE)
    name = "FastAPI: route in an APIRouter / route on the app (req/s)"
    rows.append(Row.compared(name, compare(router, bare, "/", seconds, rounds), "(FastAPI's)"))
    return rows


def answer(port: int, path: str) -> tuple[int, str, object]:
    """Status, media type and body (parsed, if JSON) of one GET."""
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    media_type = (headers.get("content-type") or "").split(";")[0].strip()
    return status, media_type, json.loads(body) if media_type == "application/json" else body


def same_answer(port_a: int, port_b: int, path: str, names: tuple[str, str]) -> str:
    """Check that both servers answer GET `path` alike (and with a 200); say how."""
    a, b = answer(port_a, path), answer(port_b, path)
    if a != b or a[0] != 200:
        raise NotComparable(f"GET {path}: {names[0]} answered {a!r}, {names[1]} {b!r}")
    return f"same answer to GET {path}: {a[0]} {a[1]} {a[2]!r:.40}"


def compare(
    ours: tuple[str, Path],
    reference: tuple[str, Path],
    path: str,
    seconds: int,
    rounds: int,
    env: dict[str, str] | None = None,
) -> tuple[float, float, float, str]:
    """Median req/s of two apps, the median of their per-round ratios, and what both answered.

    Each round starts a fresh pair of servers, both up at once, and loads them in turns, the
    order flipping each round (A B, B A, A B...), so neither drift nor going first favours one
    side; each round's ratio compares two runs made seconds apart. Fresh processes each round,
    so that what a process keeps for as long as it lives (its memory layout, its hash seed)
    varies from round to round and the median takes it in like the rest of the noise.
    """
    import statistics

    results: tuple[list[float], list[float]] = ([], [])
    checked = ""
    for round_number in range(rounds):
        with uvicorn(*ours, env) as port_a, uvicorn(*reference, env) as port_b:
            checked = checked or same_answer(port_a, port_b, path, (ours[0], reference[0]))
            order = (0, 1) if round_number % 2 == 0 else (1, 0)
            for side in order:
                results[side].append(wrk((port_a, port_b)[side], path, seconds))
        # Progress, and each round's own numbers: how far rounds stray is the noise to report.
        a, b = results[0][-1], results[1][-1]
        print(f"  round {round_number + 1}: {a:.0f} / {b:.0f} = {a / b:.3f}", file=sys.stderr)
    ratios = [a / b for a, b in zip(*results, strict=True)]
    medians = statistics.median(results[0]), statistics.median(results[1])
    return *medians, statistics.median(ratios), checked


def bench_apps(root: Path, seconds: int, rounds: int) -> list[Row]:
    rows = []
    # The noise floor: the reference against a second copy of itself. A ratio far from 1.00
    # here says how much to trust the rows below.
    simple = ("reference.simple_app:app", HERE)
    name = "SimpleASGIApp / itself: noise floor (req/s)"
    rows.append(Row.compared(name, compare(simple, simple, "/", seconds, rounds), "~1.00"))

    raw = render(root, "bench-raw", "raw")
    result = compare(("bench_raw.app:app", raw), simple, "/", seconds, rounds)
    rows.append(Row.compared("raw app / SimpleASGIApp, GET / (req/s)", result, ">= 0.95"))

    routed = render(root, "bench-routed", "routed")
    per_size: dict[int, tuple[float, float]] = {}
    for size in (5, 100):
        ours, ref, ratio, checked = compare(
            ("routed_many:app", routed),
            ("reference.starlette_app:app", HERE),
            "/last/7",
            seconds,
            rounds,
            {"BENCH_ROUTES": str(size)},
        )
        per_size[size] = (ours, ref)
        name = f"routed / Starlette, last of {size} routes (req/s)"
        rows.append(Row(name, ours, ref, ratio, ">= 1.3", checked))
    # Across sizes the servers ran minutes apart: these two ratios are of medians.
    rows.append(
        Row(
            "routed: 100 routes / 5 routes, last route",
            per_size[100][0],
            per_size[5][0],
            per_size[100][0] / per_size[5][0],
            "flat (~1.0)",
            "the rows above",
        )
    )
    rows.append(
        Row(
            "Starlette: 100 routes / 5 routes, last route",
            per_size[100][1],
            per_size[5][1],
            per_size[100][1] / per_size[5][1],
            "(falls)",
            "the rows above",
        )
    )

    api = render(root, "bench-api", "fastapi")
    ours_api = ("bench_api.app:app", api)
    result = compare(ours_api, ("reference.fastapi_bare:app", HERE), "/", seconds, rounds)
    rows.append(Row.compared("fastapi app / bare FastAPI, GET / (req/s)", result, ">= 0.95"))
    result = compare(ours_api, ("reference.fastapi_router:app", HERE), "/", seconds, rounds)
    name = "fastapi app / bare FastAPI + APIRouter (req/s)"
    rows.append(Row.compared(name, result, "(scaffold)"))
    return rows


def rounds_count(text: str) -> int:
    """A number of rounds: a median needs at least one."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs, for smoke tests")
    parser.add_argument(
        "--only", choices=["cli", "check", "first", "apps", "fastapi"], action="append"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--check-style",
        choices=sorted(CHECK_TARGETS),
        action="append",
        help="time `asgigen new` with its check for this style only (default: each)",
    )
    # Twelve: on this shared 2-core machine one round's ratio strays by 5 to 10 %, even
    # between two copies of one app, and the median of six moved by 2 to 4 % between runs.
    parser.add_argument(
        "--rounds", type=rounds_count, default=12, help="fresh server pairs per throughput row"
    )
    args = parser.parse_args()
    need("hyperfine")
    need("wrk")
    # --quick: the fewest runs that still measure each side once (a smoke test's numbers).
    runs, seconds, rounds = (1, 1, 1) if args.quick else (10, 3, args.rounds)
    global WARMUP, WRK_WARMUP
    WARMUP = 0 if args.quick else 1
    WRK_WARMUP = not args.quick
    only = set(args.only or ["cli", "check", "first", "apps", "fastapi"])
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="asgigen-bench-") as tmp:
            root = Path(tmp)
            if "cli" in only:
                rows += bench_cli(root, runs)
            if "check" in only:
                rows += bench_check(root, max(1, runs // 3), args.check_style or [*CHECK_TARGETS])
            if "first" in only:
                rows += bench_first_check(root, 1 if args.quick else 3)
            if "apps" in only:
                rows += bench_apps(root, seconds, rounds)
            if "fastapi" in only:
                rows += bench_fastapi(root, seconds, rounds)
    except NotComparable as error:
        print(f"error: not comparable: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.json:
        print(json.dumps([row._asdict() for row in rows], indent=2))
        return
    print(f"{'benchmark':<70} {'ours':>10} {'reference':>10} {'ratio':>7}  target")
    for row in rows:
        print(
            f"{row.name:<70} {row.ours:>10.3f} {row.reference:>10.3f} {row.ratio:>7.3f}"
            f"  {row.target}"
        )


if __name__ == "__main__":
    main()
