"""What a pytest run proved, read from its JUnit XML report rather than its summary line.

A tests step passes only when at least one test passed and none failed or errored: a suite
whose every test was skipped (or only expected to fail) proved nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """The tests of one run, counted one verdict per test case."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0  # pytest reports an xfail as a skip

    @property
    def ok(self) -> bool:
        return self.passed > 0 and self.failed == 0 and self.errors == 0

    def summary(self) -> str:
        """ "3 passed, 1 skipped", or why the run proved nothing."""
        counts = [
            f"{count} {word}"
            for count, word in (
                (self.failed, "failed"),
                (self.passed, "passed"),
                (self.errors, "errors" if self.errors > 1 else "error"),
                (self.skipped, "skipped"),
            )
            if count
        ]
        if not counts:
            return "no tests ran (the project has no tests pytest can find)"
        if self.passed == 0 and not self.failed and not self.errors:
            return f"no test passed: {', '.join(counts)}"
        return ", ".join(counts)


def parse_junit(text: str) -> Outcome:
    """Count a JUnit XML report's test cases: a failure or error child decides first, then a
    skip; a case with none of them passed. Raises ValueError for text that is not a report."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise ValueError(f"the pytest report is not XML: {err}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ValueError(f"the pytest report is not JUnit XML (its root is <{root.tag}>)")
    passed = failed = errors = skipped = 0
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            failed += 1
        elif "error" in kinds:
            errors += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    return Outcome(passed, failed, errors, skipped)
