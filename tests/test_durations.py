"""tests/durations.py: the record of the last run orders the next one, files kept whole."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

FILES = {
    "test_a.py": "def test_a1():\n    pass\n\ndef test_a2():\n    pass\n",
    "test_b.py": "def test_b1():\n    pass\n\ndef test_b2():\n    pass\n",
    "test_c.py": "def test_c1():\n    pass\n",
}


def collected(pytester: pytest.Pytester) -> list[str]:
    result = pytester.runpytest("-p", "tests.durations", "--collect-only", "-q")
    return [line for line in result.outlines if "::" in line]


def test_without_a_record_the_files_keep_their_order(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{name.removesuffix(".py"): text for name, text in FILES.items()})
    assert collected(pytester) == [
        "test_a.py::test_a1",
        "test_a.py::test_a2",
        "test_b.py::test_b1",
        "test_b.py::test_b2",
        "test_c.py::test_c1",
    ]


def test_the_file_with_the_slowest_test_starts_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{name.removesuffix(".py"): text for name, text in FILES.items()})
    record = pytester.path / ".pytest_cache" / "v" / "asgigen" / "durations"
    record.parent.mkdir(parents=True)
    record.write_text(
        json.dumps({"test_b.py::test_b2": 30.0, "test_c.py::test_c1": 5.0, "gone::x": 99.0})
    )
    assert collected(pytester) == [
        "test_b.py::test_b1",  # with its slow neighbour: a module's fixtures are set up once
        "test_b.py::test_b2",
        "test_c.py::test_c1",
        "test_a.py::test_a1",
        "test_a.py::test_a2",
    ]


def test_a_run_records_each_tests_duration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**{name.removesuffix(".py"): text for name, text in FILES.items()})
    pytester.runpytest("-p", "tests.durations", "-k", "a1 or c1").assert_outcomes(passed=2)
    record = json.loads((pytester.path / ".pytest_cache/v/asgigen/durations").read_text())
    assert sorted(record) == ["test_a.py::test_a1", "test_c.py::test_c1"]
    assert all(isinstance(seconds, float) and seconds >= 0 for seconds in record.values())
    # A later run of other tests keeps what it did not measure.
    pytester.runpytest("-p", "tests.durations", "-k", "b1").assert_outcomes(passed=1)
    record = json.loads((pytester.path / ".pytest_cache/v/asgigen/durations").read_text())
    assert sorted(record) == ["test_a.py::test_a1", "test_b.py::test_b1", "test_c.py::test_c1"]
