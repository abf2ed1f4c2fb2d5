"""The benchmark scripts still run (in a tiny mode) and still measure what they claim.

Their numbers live in benchmarks/README.md. Here: every row comes out, each ratio is a real
measurement (not zero, not infinite, not wildly off), and each pair of sides did the same work
(the same answers from both servers, the same files from both generators).
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.tools import system_tool

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e
_spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
assert _spec is not None
assert _spec.loader is not None
run_all = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_all)

# The quick mode measures a few runs, under whatever else the machine (and xdist) is doing;
# a ratio of 0.104 has been seen for `asgigen --help` / `copier --help` (about 0.22 when
# quiet). Outside this band one side did something else than the other: failed fast, hung,
# or answered from nowhere.
SANE = (0.02, 50.0)


def run_quick(*parts: str, options: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    for tool in ("hyperfine", "wrk"):
        system_tool(tool, "apt-get install hyperfine wrk")
    only = [arg for part in parts for arg in ("--only", part)]
    script = str(ROOT / "benchmarks" / "run_all.py")
    result = subprocess.run(
        [sys.executable, script, "--quick", "--json", *only, *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    for row in rows.values():
        assert math.isfinite(row["ratio"]), row
        assert SANE[0] < row["ratio"] < SANE[1], row
        assert row["ours"] > 0, row
        assert row["reference"] > 0, row
        # The ratio is the two measured sides' (one round in --quick mode, so the median of
        # the per-round ratios is that round's): not a swapped, stale or made-up figure.
        assert math.isclose(row["ratio"], row["ours"] / row["reference"], rel_tol=1e-9), row
    return rows


def test_cli_and_check_benchmarks_run() -> None:
    # The check section times one style here (the smallest, raw): each style's row is the
    # same code with another --style, and the whole table times them all.
    rows = run_quick("cli", "check", options=("--check-style", "raw"))
    assert set(rows) == {
        "CLI start-up: asgigen --help / copier --help",
        "CLI start-up: asgigen --version / copier --help",
        "Generation: asgigen new --no-check / copier copy",
        "asgigen new (tests + live boot), raw",
    }
    generation = rows["Generation: asgigen new --no-check / copier copy"]
    assert generation["checked"].startswith("both wrote the same ")
    # `asgigen new` with its check runs the project's tests and boots it: it must take longer
    # than generating alone, or the timed command proved nothing.
    assert rows["asgigen new (tests + live boot), raw"]["ours"] > generation["ours"]


def test_the_check_section_times_each_style_unless_told(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --check-style, both styles' rows; with it, that style's alone."""
    timed: list[str] = []

    def fake_hyperfine(commands: dict[str, str], *args: Any, **kwargs: Any) -> dict[str, float]:
        timed.extend(commands)
        return dict.fromkeys(commands, 1.0)

    monkeypatch.setattr(run_all, "need", lambda tool: tool)
    monkeypatch.setattr(run_all, "hyperfine", fake_hyperfine)
    for options, styles in (([], ["raw", "fastapi"]), (["--check-style", "fastapi"], ["fastapi"])):
        timed.clear()
        argv = ["run_all.py", "--quick", "--json", "--only", "check", *options]
        monkeypatch.setattr(sys, "argv", argv)
        run_all.main()
        rows = json.loads(capsys.readouterr().out)
        assert timed == styles
        assert [row["name"] for row in rows] == [
            f"asgigen new (tests + live boot), {style}" for style in styles
        ]


def test_app_benchmarks_run() -> None:
    rows = run_quick("apps")
    loaded = {
        "SimpleASGIApp / itself: noise floor (req/s)": "GET /: 200 text/plain",
        "raw app / SimpleASGIApp, GET / (req/s)": "GET /: 200 text/plain",
        "routed / Starlette, last of 5 routes (req/s)": "GET /last/7: 200 application/json",
        "routed / Starlette, last of 100 routes (req/s)": "GET /last/7: 200 application/json",
        "fastapi app / bare FastAPI, GET / (req/s)": "GET /: 200 text/plain",
        "fastapi app / bare FastAPI + APIRouter (req/s)": "GET /: 200 text/plain",
    }
    derived = {
        "routed: 100 routes / 5 routes, last route",
        "Starlette: 100 routes / 5 routes, last route",
    }
    assert set(rows) == set(loaded) | derived
    for name, answer in loaded.items():
        assert rows[name]["checked"].startswith(f"same answer to {answer}"), rows[name]


def test_the_printed_table_has_each_rows_numbers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json, one line per row: its name, then ours, reference and ratio as numbers."""
    rows = [
        run_all.Row(
            "CLI start-up: asgigen --help / copier --help", 0.07, 0.33, 0.07 / 0.33, "t", ""
        ),
        run_all.Row("Generation: asgigen new --no-check / copier copy", 0.5, 0.5, 1.0, "t", ""),
    ]
    monkeypatch.setattr(run_all, "need", lambda tool: tool)
    monkeypatch.setattr(run_all, "bench_cli", lambda root, runs: rows)
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--quick", "--only", "cli"])
    run_all.main()
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["benchmark", "ours", "reference", "ratio", "target"]
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line.startswith(row.name)
        ours, reference, ratio, target = line[len(row.name) :].split()
        assert (float(ours), float(reference), float(ratio)) == (
            round(row.ours, 3),
            round(row.reference, 3),
            round(row.ratio, 3),
        )
        assert target == row.target


def test_different_answers_are_not_compared(tmp_path: Path) -> None:
    """Two servers that answer a path differently are refused before any load."""
    reference = run_all.HERE / "reference"
    with (
        run_all.uvicorn("simple_app:app", reference) as simple,
        run_all.uvicorn("starlette_app:app", reference) as starlette,
    ):
        # Both say hello at /, alike...
        checked = run_all.same_answer(simple, starlette, "/", ("simple", "starlette"))
        assert checked.startswith("same answer to GET /: 200 text/plain")
        # ...but only Starlette has /items/7.
        with pytest.raises(run_all.NotComparable, match="GET /items/7"):
            run_all.same_answer(simple, starlette, "/items/7", ("simple", "starlette"))


def test_missing_tool_is_reported() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "cli"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: hyperfine is not installed"


@pytest.mark.parametrize("rounds", ["0", "-3", "many"])
def test_a_round_count_below_one_is_refused_in_one_line(rounds: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--rounds", rounds],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("run_all.py: error: argument --rounds:")
    assert "Traceback" not in result.stderr


def test_each_round_loads_a_fresh_pair_of_servers_in_flipped_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process's luck (memory layout, hash seed) must vary between rounds like the rest of
    the noise, and neither side may always go first."""
    import contextlib
    import itertools

    started: list[tuple[str, int]] = []
    loads: list[int] = []
    ports = itertools.count(1)

    @contextlib.contextmanager
    def fake_uvicorn(app: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
        port = next(ports)
        started.append((app, port))
        yield port

    # Ours answers 90, 110, 100 requests/s in its three rounds; the reference always 100.
    ours = iter([90.0, 110.0, 100.0])

    def fake_wrk(port: int, path: str, seconds: int) -> float:
        loads.append(port)
        return next(ours) if port % 2 else 100.0

    monkeypatch.setattr(run_all, "uvicorn", fake_uvicorn)
    monkeypatch.setattr(run_all, "wrk", fake_wrk)
    monkeypatch.setattr(run_all, "same_answer", lambda *args: "same answer to GET /")
    result = run_all.compare(("a:app", ROOT), ("b:app", ROOT), "/", 1, 3)

    assert started == [
        ("a:app", 1),
        ("b:app", 2),
        ("a:app", 3),
        ("b:app", 4),
        ("a:app", 5),
        ("b:app", 6),
    ]
    assert loads == [1, 2, 4, 3, 5, 6]  # A B, then B A, then A B
    assert result == (100.0, 100.0, 1.0, "same answer to GET /")
    # Each round's own ratio goes to stderr: the spread between rounds is the noise.
    assert capsys.readouterr().err.splitlines() == [
        "  round 1: 90 / 100 = 0.900",
        "  round 2: 110 / 100 = 1.100",
        "  round 3: 100 / 100 = 1.000",
    ]
