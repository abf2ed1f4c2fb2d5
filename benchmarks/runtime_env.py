"""What the run-time environment (issue 27) costs a check: building it cold, finding it warm.

For each style, a project made with `asgigen new --no-check`; then, in a fresh asgigen cache
(uv's own cache stays warm, as on a developer's machine), the check environment and the
run-time one are each built cold and then looked up warm, ROUNDS times; medians printed.

    python benchmarks/runtime_env.py [--rounds 5] [--style routed --style fastapi]
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
