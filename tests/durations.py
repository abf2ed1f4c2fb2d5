"""Slow tests start first under `pytest -n`, ordered by how long they took last time.

Each run records every test's duration (setup, call and teardown) in pytest's cache
(`.pytest_cache`, key `asgigen/durations`); the next run sorts the test files by their slowest
test, longest first, so that no long test starts last and runs alone while the other workers
idle. A file's tests stay together and in their order: tests sharing a module-scoped fixture
set it up once. With no record (a fresh clone, `-p no:cacheprovider`), the order is the
files' own. Ordering only: every test runs whatever the record says.
"""

from __future__ import annotations

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files with the slowest tests first; the same order on every xdist worker."""
    durations = recorded(config)
    slowest: dict[str, float] = defaultdict(float)
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        slowest[path] = max(slowest[path], float(durations.get(item.nodeid, 0.0)))
    items.sort(key=lambda item: -slowest[item.nodeid.split("::", 1)[0]])  # stable
