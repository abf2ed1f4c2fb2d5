"""Autobahn|Testsuite (fuzzingclient) against a generated project's /ws under each ASGI server.

    ~/.pyenv/versions/2.7.18/bin/python -m pip install autobahntestsuite   # wstest: Python 2.7
    python benchmarks/autobahn.py [--styles raw,routed,fastapi]
        [--servers uvicorn,hypercorn,daphne,granian] [--cases '1.*,2.*,...,10.*'] [--wstest PATH]

For each style and server: generate the project (`asgigen new --no-check --no-git`), start the
server on a free loopback port (Uvicorn as `python -m <pkg>`, the others on `<pkg>.app:app`),
run wstest's fuzzingclient with the cases given, and count the verdicts from its JSON report
(OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED) plus tracebacks in the server's log.
Prints one Markdown row per run. Each case is bounded by wstest's own timeouts.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated_project import DidNotStart, free_port, generate, start_server, stop

WSTEST = Path.home() / ".pyenv/versions/2.7.18/bin/wstest"
CASES = ",".join(f"{n}.*" for n in range(1, 11))


def command(server: str, package: str, port: int) -> list[str]:
    bindir = Path(sys.executable).parent
    app = f"{package}.app:app"
    if server == "uvicorn":
        return [sys.executable, "-m", package]
    if server == "hypercorn":
        return [str(bindir / "hypercorn"), "--bind", f"127.0.0.1:{port}", app]
    if server == "daphne":
        return [str(bindir / "daphne"), "-b", "127.0.0.1", "-p", str(port), app]
    return [
        str(bindir / "granian"),
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        app,
    ]


def run(project: Path, package: str, server: str, cases: list[str], wstest: Path) -> str:
    port = free_port()
    log_path = project / f"{server}.log"
    try:
        process = start_server(project, package, command(server, package, port), port, log_path)
    except DidNotStart as err:
        return f"| {server} | did not start: {str(err)[-300:]} |"
    try:
        reports = project / f"reports-{server}"
        spec = project / f"spec-{server}.json"
        spec.write_text(
            json.dumps(
                {
                    "outdir": str(reports),
                    "servers": [{"agent": server, "url": f"ws://127.0.0.1:{port}/ws"}],
                    "cases": cases,
                    "exclude-cases": [],
                    "exclude-agent-cases": {},
                }
            )
        )
        start = time.monotonic()
        subprocess.run(
            [str(wstest), "-m", "fuzzingclient", "-s", str(spec)],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        took = time.monotonic() - start
    finally:
        stop(process)
    index = json.loads((reports / "index.json").read_text())[server]
    verdicts: collections.Counter[str] = collections.Counter()
    failed = []
    for case, result in index.items():
        verdict = result["behavior"]
        if verdict == "OK" and result["behaviorClose"] not in ("OK", "INFORMATIONAL"):
            verdict = result["behaviorClose"]
        verdicts[verdict] += 1
        if verdict == "FAILED":
            failed.append(case)
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    counts = " / ".join(
        str(verdicts[name])
        for name in ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
    )
    shown = ", ".join(sorted(failed, key=lambda c: [int(p) for p in c.split(".")])[:12])
    return f"| {server} | {counts} | {tracebacks} | {took:.0f} s | {shown} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--styles", default="raw,routed,fastapi")
    parser.add_argument("--servers", default="uvicorn,hypercorn,daphne,granian")
    parser.add_argument("--cases", default=CASES)
    parser.add_argument("--wstest", type=Path, default=WSTEST)
    args = parser.parse_args()
    if not args.wstest.exists():
        raise SystemExit(f"error: no wstest at {args.wstest}\nhint: see this script's docstring")
    with tempfile.TemporaryDirectory() as tmp:
        for style in args.styles.split(","):
            project = Path(tmp) / f"ab{style}"
            generate(project, style)
            print(f"\nstyle {style}, cases {args.cases}")
            print(
                "| server | OK / NON-STRICT / INFORMATIONAL / UNIMPLEMENTED / FAILED | "
                "tracebacks | time | failed cases (first 12) |"
            )
            print("|---|---|---|---|---|")
            for server in args.servers.split(","):
                print(
                    run(project, f"ab{style}", server, args.cases.split(","), args.wstest),
                    flush=True,
                )


if __name__ == "__main__":
    main()
