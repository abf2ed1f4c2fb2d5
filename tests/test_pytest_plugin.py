"""The pytest plugin, used the way a template repository's test suite would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e
def test_template_author_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nasgigen_template = {ROOT / 'templates'}\n")
    pytester.makepyfile(
        """
        def test_raw_variant(asgigen_project):
            project = asgigen_project(style="raw", project_name="my-api", port=9123)
            assert project.answers["package_name"] == "my_api"
            assert project.answers["port"] == 9123
            assert project.path.name == "my-api"
            assert (project.path / "src" / "my_api" / "app.py").is_file()
            steps = project.check()
            assert [s.name for s in steps] == [
                "ruff", "ruff-format", "mypy", "tests", "app", "serve:uvicorn"
            ]
            assert all(s.status == "passed" for s in steps), steps
            assert steps[-1].summary.startswith("uvicorn 127.0.0.1:")
            booted = project.boot("hypercorn")
            assert booted.name == "serve:hypercorn"
            assert booted.status == "passed", booted

        def test_broken_variant_is_reported(asgigen_project, tmp_path):
            project = asgigen_project(style="raw")
            (project.path / "tests" / "test_no.py").write_text("def test_no():\\n    assert 0\\n")
            result = project.run_tests()
            assert result.status == "failed"
            assert "1 failed" in result.summary
            assert "test_no" in result.output
        """
    )
    result = pytester.runpytest_subprocess("-q")  # the plugin loads through its entry point
    result.assert_outcomes(passed=2)


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, asgigen.pytest_plugin;"
        "heavy = {'copier', 'yaml', 'jinja2', 'pydantic', 'fastapi'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
