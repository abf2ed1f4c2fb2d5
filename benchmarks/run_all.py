"""Run every asgigen benchmark side by side with its reference and print the ratios.

    python benchmarks/run_all.py            # full run (about eight minutes on 2 cores)
    python benchmarks/run_all.py --quick    # a smoke run: short and noisy, for tests

Tools: hyperfine and wrk (Debian: `apt-get install hyperfine wrk`). Every figure is a ratio
against a reference measured in the same run, since a shared 2-core machine is noisy.
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
from collections.abc import Iterator
from pathlib import Path

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


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        print(f"error: {tool} is not installed", file=sys.stderr)
        print(f"hint: apt-get install {tool}", file=sys.stderr)
        raise SystemExit(2)
    return path


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
        "1",
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
    subprocess.run([*base, "-d1s", url], check=True, capture_output=True)
    out = subprocess.run(
        [*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors is not None:
        raise RuntimeError(f"wrk failed or got errors:\n{out}")
    return float(match.group(1))


def render(root: Path, name: str, style: str) -> Path:
    subprocess.run(
        [*ASGIGEN, "new", name, "--style", style, "--no-check", "--no-git", "-q"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return root / name


def bench_cli(root: Path, runs: int) -> list[tuple[str, float, float, float, str]]:
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
            (
                f"CLI start-up: {name} / copier --help",
                times[name],
                ref,
                times[name] / ref,
                "<= 0.45",
            )
        )
    template = subprocess.run(
        [
            sys.executable,
            "-c",
            "from asgigen.generate import builtin_template;print(builtin_template())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    times = hyperfine(
        {
            "asgigen new": f"{ASGIGEN[0]} new gen-a --style routed --no-check --no-git"
            " --defaults -q",
            "copier copy": f"{copier} copy --defaults --trust --quiet --data project_name=gen-b"
            f" --data style=routed {template} gen-b",
        },
        runs,
        root,
        prepare="rm -rf gen-a gen-b",
    )
    rows.append(
        (
            "Generation: asgigen new --no-check / copier copy",
            times["asgigen new"],
            times["copier copy"],
            times["asgigen new"] / times["copier copy"],
            "<= 1.05",
        )
    )
    return rows


def bench_check(root: Path, runs: int) -> list[tuple[str, float, float, float, str]]:
    rows = []
    for style, target in (("raw", 2.5), ("fastapi", 4.0)):
        times = hyperfine(
            {style: f"{ASGIGEN[0]} new chk-{style} --style {style} --no-git -q"},
            runs,
            root,
            prepare=f"rm -rf chk-{style}",
        )
        rows.append(
            (
                f"asgigen new (tests + live boot), {style}",
                times[style],
                target,
                times[style] / target,
                f"<= {target} s",
            )
        )
    return rows


def compare(
    ours: tuple[str, Path],
    reference: tuple[str, Path],
    path: str,
    seconds: int,
    rounds: int,
    env: dict[str, str] | None = None,
) -> tuple[float, float, float]:
    """Median req/s of two apps and the median of their per-round ratios.

    Both servers run at once and are loaded in turns, the order flipping each round (A B, B A,
    A B...), so neither drift nor going first favours one side; each round's ratio compares
    two runs made seconds apart.
    """
    import statistics

    results: tuple[list[float], list[float]] = ([], [])
    with uvicorn(*ours, env) as port_a, uvicorn(*reference, env) as port_b:
        for round_number in range(rounds):
            order = (0, 1) if round_number % 2 == 0 else (1, 0)
            for side in order:
                results[side].append(wrk((port_a, port_b)[side], path, seconds))
    ratios = [a / b for a, b in zip(*results, strict=True)]
    return statistics.median(results[0]), statistics.median(results[1]), statistics.median(ratios)


def bench_apps(root: Path, seconds: int, rounds: int) -> list[tuple[str, float, float, float, str]]:
    rows = []
    # The noise floor: the reference against a second copy of itself. A ratio far from 1.00
    # here says how much to trust the rows below.
    simple = ("reference.simple_app:app", HERE)
    ours, ref, ratio = compare(simple, simple, "/", seconds, rounds)
    rows.append(("SimpleASGIApp / itself: noise floor (req/s)", ours, ref, ratio, "~1.00"))

    raw = render(root, "bench-raw", "raw")
    ours, ref, ratio = compare(("bench_raw.app:app", raw), simple, "/", seconds, rounds)
    rows.append(("raw app / SimpleASGIApp, GET / (req/s)", ours, ref, ratio, ">= 0.95"))

    routed = render(root, "bench-routed", "routed")
    per_size: dict[int, tuple[float, float]] = {}
    for size in (5, 100):
        ours, ref, ratio = compare(
            ("routed_many:app", routed),
            ("reference.starlette_app:app", HERE),
            "/last/7",
            seconds,
            rounds,
            {"BENCH_ROUTES": str(size)},
        )
        per_size[size] = (ours, ref)
        rows.append(
            (f"routed / Starlette, last of {size} routes (req/s)", ours, ref, ratio, ">= 1.3")
        )
    # Across sizes the servers ran minutes apart: these two ratios are of medians.
    rows.append(
        (
            "routed: 100 routes / 5 routes, last route",
            per_size[100][0],
            per_size[5][0],
            per_size[100][0] / per_size[5][0],
            "flat (~1.0)",
        )
    )
    rows.append(
        (
            "Starlette: 100 routes / 5 routes, last route",
            per_size[100][1],
            per_size[5][1],
            per_size[100][1] / per_size[5][1],
            "(falls)",
        )
    )

    api = render(root, "bench-api", "fastapi")
    ours, ref, ratio = compare(
        ("bench_api.app:app", api), ("reference.fastapi_bare:app", HERE), "/", seconds, rounds
    )
    rows.append(("fastapi app / bare FastAPI, GET / (req/s)", ours, ref, ratio, ">= 0.95"))
    ours, ref, ratio = compare(
        ("bench_api.app:app", api), ("reference.fastapi_router:app", HERE), "/", seconds, rounds
    )
    rows.append(("fastapi app / bare FastAPI + APIRouter (req/s)", ours, ref, ratio, "(scaffold)"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs, for smoke tests")
    parser.add_argument("--only", choices=["cli", "check", "apps"], action="append")
    args = parser.parse_args()
    need("hyperfine")
    need("wrk")
    runs, seconds, rounds = (2, 1, 1) if args.quick else (10, 3, 6)
    only = set(args.only or ["cli", "check", "apps"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="asgigen-bench-") as tmp:
        root = Path(tmp)
        if "cli" in only:
            rows += bench_cli(root, runs)
        if "check" in only:
            rows += bench_check(root, max(2, runs // 3))
        if "apps" in only:
            rows += bench_apps(root, seconds, rounds)
    print(f"{'benchmark':<58} {'ours':>10} {'reference':>10} {'ratio':>7}  target")
    for name, ours, ref, ratio, target in rows:
        print(f"{name:<58} {ours:>10.3f} {ref:>10.3f} {ratio:>7.3f}  {target}")


if __name__ == "__main__":
    main()
