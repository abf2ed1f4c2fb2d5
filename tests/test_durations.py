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


MARKED = {
    "test_a.py": "def test_a1():\n    pass\n",
    "test_b.py": "import pytest\n\n@pytest.mark.e2e\ndef test_b1():\n    pass\n\n"
    "def test_b2():\n    pass\n",
    "test_c.py": "def test_c1():\n    pass\n",
    "test_d.py": "import pytest\n\npytestmark = pytest.mark.e2e\n\n"
    "def test_d1():\n    pass\n\ndef test_d2():\n    pass\n",
}


def marked_files(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    e2e: slow\n")
    pytester.makepyfile(**{name.removesuffix(".py"): text for name, text in MARKED.items()})


def test_without_a_record_the_files_with_e2e_tests_start_first(pytester: pytest.Pytester) -> None:
    marked_files(pytester)
    assert collected(pytester) == [
        "test_b.py::test_b1",  # an e2e test, with its fast neighbour
        "test_b.py::test_b2",
        "test_d.py::test_d1",
        "test_d.py::test_d2",
        "test_a.py::test_a1",  # then the others, in their own order
        "test_c.py::test_c1",
    ]


def test_a_file_with_e2e_tests_and_no_record_starts_before_recorded_ones(
    pytester: pytest.Pytester,
) -> None:
    marked_files(pytester)
    record = pytester.path / ".pytest_cache" / "v" / "asgigen" / "durations"
    record.parent.mkdir(parents=True)
    # test_d.py is new since the last run: unknown, and of the slow kind.
    record.write_text(
        json.dumps({"test_a.py::test_a1": 0.5, "test_b.py::test_b1": 20.0, "test_c.py::test_c1": 1})
    )
    assert collected(pytester) == [
        "test_d.py::test_d1",
        "test_d.py::test_d2",
        "test_b.py::test_b1",
        "test_b.py::test_b2",
        "test_c.py::test_c1",
        "test_a.py::test_a1",
    ]


def test_xdist_hands_tests_out_two_at_a_time_unless_told(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    assert pytester.parseconfigure("-p", "tests.durations").option.maxschedchunk == 2
    given = pytester.parseconfigure("-p", "tests.durations", "--maxschedchunk", "9")
    assert given.option.maxschedchunk == 9
