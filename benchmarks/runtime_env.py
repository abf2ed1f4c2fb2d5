"""What the run-time environment (issue 27) costs a check: building it cold, finding it warm.

For each style, a project made with `asgigen new --no-check`; then, in a fresh asgigen cache
(uv's own cache stays warm, as on a developer's machine), the check environment and the
run-time one are each built cold and then looked up warm, ROUNDS times; medians printed.

    python benchmarks/runtime_env.py [--rounds 5] [--style routed --style fastapi]

Measured 2026-12-03 on the shared 2-core host (load average 7-9), medians of 5:

    routed   check env cold 1154 ms, warm 2 ms;  run-time env cold 895 ms, warm 2 ms
    fastapi  check env cold 1347 ms, warm 2 ms;  run-time env cold 1087 ms, warm 2 ms

Built one after the other the two cost a cold fastapi check 3.1 s against 1.6 s for the check
environment alone; built at the same time (check.both_environments), 2.0 s. Warm, finding both
takes 4.2 ms against 4.3 ms for one. A cold check also compiles the modules the boots import
once more, in the run-time environment's own bytecode directory: for fastapi with SQLite
(`import fastapi, sqlalchemy.ext.asyncio, alembic.command, pydantic_settings, uvicorn`)
2.3-3.6 s cold against 0.6-1.1 s once compiled. Whole commands (`time asgigen check`, fresh
asgigen cache then again, alternating main's code and this one, 3 rounds) vary more than that
on this host: routed cold 16.0/17.3/10.2 s before, 9.0/13.5/11.5 s after, warm 4.4-5.7 s
before, 3.7-5.5 s after; fastapi cold 23.8/33.7/26.7 s before, 27.9/33.2/37.8 s after, warm
9.6-15.4 s before, 14.2-17.6 s after (its tests step alone, which this change does not touch,
moved 8.9-16.1 s between runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(project: Path, rounds: int) -> dict[str, float]:
    from asgigen import environments, gates
    from asgigen.servers import SERVERS

    tools = gates.configured(project)
    servers = [SERVERS["uvicorn"].requirement]
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="asgigen-bench-cache-") as cache:
            os.environ["ASGIGEN_CACHE_DIR"] = cache
            for label, runtime in (("check env", False), ("run-time env", True)):
                options = {"tools": [] if runtime else tools, "servers": servers}

                def build(runtime: bool = runtime, options: dict[str, list[str]] = options) -> None:
                    environments.cached_environment(project, runtime=runtime, **options)

                samples.setdefault(f"{label} cold", []).append(timed(build))
                samples.setdefault(f"{label} warm", []).append(timed(build))
    return {label: statistics.median(values) for label, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--style", action="append")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asgigen-bench-") as tmp:
        for style in options.style or ["routed", "fastapi"]:
            command = [sys.executable, "-m", "asgigen", "new", "demo-" + style, "--style", style]
            subprocess.run([*command, "--no-check", "--no-git"], cwd=tmp, check=True)
            results = measure(Path(tmp) / f"demo-{style}", options.rounds)
            for label, seconds in results.items():
                print(f"{style:8} {label:18} {seconds * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
