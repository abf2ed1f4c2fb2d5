"""Slow tests start first under `pytest -n`, ordered by how long they took last time.

Each run records every test's duration (setup, call and teardown) in pytest's cache
(`.pytest_cache`, key `asgigen/durations`); the next run sorts the test files by their slowest
test, longest first, so that no long test starts last and runs alone while the other workers
idle. A file's tests stay together and in their order: tests sharing a module-scoped fixture
set it up once. A file none of whose tests is recorded (a fresh clone, as in CI, a new file,
`-p no:cacheprovider`) is judged by its marks: with `e2e` tests it goes first (they are the
slow kind, and an unknown one must not start last), without them last; files in a group keep
their own order. Ordering only: every test runs whatever the record says.

The order holds only if xdist hands tests out as workers free up. Its `load` scheduling
first gives each worker a contiguous eighth of the collection: with the slow files first,
one worker got nearly all of them while the other finished the rest and idled (simulated on
a recorded run of the suite: 1073 s instead of 705 s). So unless `--maxschedchunk` is given,
it is 2: tests go out two at a time, the next ones to whichever worker is free.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

KEY = "asgigen/durations"


def recorded(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    found = cache.get(KEY, {}) if cache is not None else {}
    return found if isinstance(found, dict) else {}


class Recorder:
    """This session's durations; under xdist the controller receives every worker's reports
    and alone writes the record."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.measured: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.measured[report.nodeid] += report.duration

    def pytest_sessionfinish(self) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is None or hasattr(self.config, "workerinput") or not self.measured:
            return
        fresh = {nodeid: round(seconds, 3) for nodeid, seconds in self.measured.items()}
        cache.set(KEY, {**recorded(self.config), **fresh})


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Recorder(config), "asgigen-durations")
    if getattr(config.option, "maxschedchunk", False) is None:  # xdist's, not given
        config.option.maxschedchunk = SCHEDULE_CHUNK


SCHEDULE_CHUNK = 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files with the slowest tests first; the same order on every xdist worker."""
    durations = recorded(config)
    slowest: dict[str, float] = {}  # file → its slowest recorded test (absent: none recorded)
    end_to_end: set[str] = set()  # files holding e2e tests
    for item in items:
        path = file_of(item)
        if item.nodeid in durations:
            slowest[path] = max(slowest.get(path, 0.0), float(durations[item.nodeid]))
        if item.get_closest_marker("e2e") is not None:
            end_to_end.add(path)
    for path in end_to_end - slowest.keys():
        slowest[path] = math.inf  # unknown, and of the slow kind

    items.sort(key=lambda item: -slowest.get(file_of(item), 0.0))  # stable: files stay whole


def file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]
