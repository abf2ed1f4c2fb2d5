"""The tests step's verdict comes from pytest's JUnit XML report: it passes only when at least
one test passed and none failed or errored (a suite of skips or xfails proved nothing)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asgigen import check
from asgigen.pytest_outcome import Outcome, parse_junit
from asgigen.steps import StepResult
from tests.inline_projects import write_files


def report(*cases: str) -> str:
    body = "".join(f'<testcase name="c{i}">{case}</testcase>' for i, case in enumerate(cases))
    return f'<?xml version="1.0"?><testsuites><testsuite>{body}</testsuite></testsuites>'


SKIP = '<skipped type="pytest.skip" message="no">x</skipped>'
XFAIL = '<skipped type="pytest.xfail" message="later"/>'
FAIL = '<failure message="boom">trace</failure>'
ERROR = '<error message="fixture">trace</error>'


@pytest.mark.parametrize(
    ("cases", "expected", "ok"),
    [
        (("", ""), Outcome(passed=2), True),
        (("", SKIP), Outcome(passed=1, skipped=1), True),
        ((SKIP, SKIP), Outcome(skipped=2), False),
        ((XFAIL,), Outcome(skipped=1), False),
        (("", FAIL), Outcome(passed=1, failed=1), False),
        (("", ERROR), Outcome(passed=1, errors=1), False),
        ((FAIL + ERROR,), Outcome(failed=1), False),  # failed in the call, errored at teardown
        ((), Outcome(), False),
        ((FAIL, FAIL, ERROR, ERROR, ERROR), Outcome(failed=2, errors=3), False),
    ],
)
def test_each_case_counts_once_and_only_a_pass_proves(
    cases: tuple[str, ...], expected: Outcome, ok: bool
) -> None:
    outcome = parse_junit(report(*cases))
    assert outcome == expected
    assert outcome.ok is ok


def test_a_bare_testsuite_root_is_read_too() -> None:
    text = '<testsuite name="pytest"><testcase name="a"/><testcase name="b"/></testsuite>'
    assert parse_junit(text) == Outcome(passed=2)


@pytest.mark.parametrize("text", ["", "not xml", "<html><body/></html>"])
def test_what_is_not_a_report_is_an_error(text: str) -> None:
    with pytest.raises(ValueError, match="pytest report"):
        parse_junit(text)


@pytest.mark.parametrize(
    ("outcome", "summary"),
    [
        (Outcome(passed=3, skipped=1), "3 passed, 1 skipped"),
        (Outcome(skipped=4), "no test passed: 4 skipped"),
        (Outcome(passed=1, failed=2, errors=2), "2 failed, 1 passed, 2 errors"),
        (Outcome(errors=1), "1 error"),
        (Outcome(), "no tests ran (the project has no tests pytest can find)"),
    ],
)
def test_summaries(outcome: Outcome, summary: str) -> None:
    assert outcome.summary() == summary


def test_a_zero_exit_with_a_report_of_skips_fails() -> None:
    step = StepResult("tests", "passed", 0.1, "1 skipped in 0.01s")
    judged = check.judge_tests(step, "s\n1 skipped in 0.01s", report(SKIP))
    assert (judged.status, judged.summary) == ("failed", "no test passed: 1 skipped")


def test_a_failing_exit_fails_even_when_every_case_passed() -> None:
    step = StepResult("tests", "failed", 0.1, "FAIL Required test coverage of 90% not reached")
    judged = check.judge_tests(step, "..\nFAIL Required test coverage", report("", ""))
    assert judged.status == "failed"
    assert judged.summary.startswith("2 passed, yet pytest failed: FAIL Required")


def test_no_report_fails() -> None:
    step = StepResult("tests", "passed", 0.1, "ok")
    judged = check.judge_tests(step, "ok", "")
    assert (judged.status, judged.summary, judged.output) == (
        "failed",
        "pytest wrote no report; ok",
        "ok",
    )
    silent = check.judge_tests(StepResult("tests", "passed", 0.1, "exit code 0"), "", "")
    assert silent.summary == "pytest wrote no report; it printed nothing"


def test_a_report_that_is_not_xml_fails_saying_so() -> None:
    judged = check.judge_tests(StepResult("tests", "passed", 0.1, "ok"), "ok", "<testsuites")
    assert judged.status == "failed"
    assert judged.summary.startswith("the pytest report is not XML: ")


def test_a_timeout_keeps_its_own_summary() -> None:
    step = StepResult("tests", "failed", 600.0, "timed out after 600 s", "...", "cd x")
    judged = check.judge_tests(step, "...", "")
    assert (judged.status, judged.summary) == ("failed", "timed out after 600 s")


def test_a_failing_outcome_shows_what_pytest_printed() -> None:
    step = StepResult("tests", "passed", 0.1, "1 skipped")
    judged = check.judge_tests(step, "SKIPPED [1] tests/test_a.py: later", report(SKIP))
    assert judged.output == "SKIPPED [1] tests/test_a.py: later"


# End to end: pytest itself runs the tests of tiny projects written here.
PYPROJECT = '[project]\nname = "tiny"\nversion = "0"\n\n[tool.asgigen]\napp = "tiny:app"\n'


def run_tests_of(tmp_path: Path, test_file: str) -> StepResult:
    write_files(tmp_path, {"pyproject.toml": PYPROJECT, "tests/test_it.py": test_file})
    return check.run_tests(sys.executable, check.open_project(tmp_path))


SUITES = {
    "all skipped": (
        "import pytest\n\n@pytest.mark.skip(reason='later')\ndef test_a():\n    pass\n\n"
        "def test_b():\n    pytest.skip('not today')\n",
        "failed",
        "no test passed: 2 skipped",
    ),
    "only an xfail": (
        "import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_a():\n    assert False\n",
        "failed",
        "no test passed: 1 skipped",
    ),
    "no tests": ("X = 1\n", "failed", "no tests ran (the project has no tests pytest can find)"),
    "a pass and a skip": (
        "import pytest\n\ndef test_a():\n    pass\n\n@pytest.mark.skip\ndef test_b():\n    pass\n",
        "passed",
        "1 passed, 1 skipped",
    ),
    "a failure": (
        "def test_a():\n    pass\n\ndef test_b():\n    assert 1 == 2\n",
        "failed",
        "1 failed, 1 passed",
    ),
    "a collection error": ("import no_such_module_here\n", "failed", "1 error"),
}


@pytest.mark.parametrize("suite", list(SUITES))
def test_the_verdict_of_a_real_pytest_run(tmp_path: Path, suite: str) -> None:
    text, status, summary = SUITES[suite]
    step = run_tests_of(tmp_path, text)
    assert (step.status, step.summary) == (status, summary), step.output
    if status == "failed":
        assert step.hint is not None
        assert step.hint.endswith("-m pytest")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml", "tests"]
