"""Which of a project's requirements are run-time ones (what servers boot with) and which are
for its tests only, per format; and the one line that names a boot's missing test requirement.
Small inline projects; no network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from asgigen import environments
from asgigen.requirements import read_requirements
from asgigen.runtime_imports import explain_missing, providing_distribution
from asgigen.steps import StepResult
from tests.inline_projects import write_files

SERVERS = ["uvicorn>=0.30"]


def runtime_packages(project: Path) -> list[str]:
    return environments.needed(project, tools=["mypy"], servers=SERVERS, runtime=True)[1]


def test_pep621_extras_and_pep735_groups_stay_out_of_the_runtime_set(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi"]\n'
            '[project.optional-dependencies]\ntest = ["pytest", "shop[http]"]\n'
            'http = ["httpx"]\ndev = ["ruff"]\n'
            '[dependency-groups]\nlint = ["mypy"]\ntesting = ["respx", {include-group = "lint"}]\n'
        },
    )
    found = read_requirements(tmp_path)
    assert found.runtime == ["fastapi"]
    assert runtime_packages(tmp_path) == ["fastapi", "uvicorn>=0.30"]  # no gate tool either
    full = environments.needed(tmp_path, tools=["mypy"], servers=SERVERS)[1]
    assert full == ["fastapi", "pytest", "httpx", "respx", "mypy", "ruff", "uvicorn>=0.30"]
    assert found.where_declared("pytest") == "the 'test' extra"
    assert found.where_declared("HTTPX") == "the 'test' extra"  # through shop[http]
    assert found.where_declared("respx") == "the 'testing' dependency group"
    assert found.where_declared("mypy") == "the 'testing' dependency group"  # include-group
    assert found.where_declared("ruff") == "the 'dev' extra"
    assert found.where_declared("fastapi") is None
    assert found.runtime_home == "[project] dependencies"


def test_a_package_both_run_time_and_test_is_a_run_time_one(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "a"\ndependencies = ["httpx>=0.27"]\n'
            '[project.optional-dependencies]\ntest = ["httpx[http2]", "pytest"]\n'
        },
    )
    found = read_requirements(tmp_path)
    assert found.where_declared("httpx") is None
    assert runtime_packages(tmp_path) == ["httpx>=0.27", "uvicorn>=0.30"]


def test_poetry_main_group_is_the_runtime_set(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[tool.poetry]\nname = "p"\nversion = "1.0"\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nstarlette = "^0.37"\n'
            '[tool.poetry.group.test.dependencies]\npytest = "^8"\n'
            "[tool.poetry.group.docs]\noptional = true\n"
            '[tool.poetry.group.docs.dependencies]\nmkdocs = "*"\n'
            '[tool.poetry.dev-dependencies]\nblack = "*"\n'
        },
    )
    found = read_requirements(tmp_path)
    assert found.runtime == ["starlette>=0.37,<0.38"]
    assert runtime_packages(tmp_path) == ["starlette>=0.37,<0.38", "uvicorn>=0.30"]
    assert found.where_declared("pytest") == "the Poetry group 'test'"
    assert found.where_declared("black") == "Poetry's dev-dependencies"
    assert found.where_declared("mkdocs") is None  # not installed at all
    assert found.runtime_home == "[tool.poetry.dependencies]"


def test_requirements_txt_is_the_runtime_set_and_the_others_are_not(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "requirements.txt": "starlette\n",
            "requirements-dev.txt": "-r requirements.txt\npytest\n",
            "requirements/test.in": "respx\n",
            "requirements/prod.txt": "gunicorn\n",
            # A name that says nothing of development is taken for a run-time one.
            "requirements/web.txt": "jinja2\n",
            "requirements/lint_ci.txt": "ruff\n",
        },
    )
    found = read_requirements(tmp_path)
    assert runtime_packages(tmp_path) == ["gunicorn", "jinja2", "starlette", "uvicorn>=0.30"]
    assert found.where_declared("ruff") == "requirements/lint_ci.txt"
    assert found.where_declared("pytest") == "requirements-dev.txt"
    assert found.where_declared("respx") == "requirements/test.in"
    assert found.where_declared("starlette") is None  # included by the dev file too
    assert found.runtime_home == "requirements.txt"


def test_pdm_and_legacy_uv_dev_dependencies_are_test_only(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "a"\ndependencies = ["anyio"]\n'
            '[tool.pdm.dev-dependencies]\ncheck = ["pytest"]\n'
            '[tool.uv]\ndev-dependencies = ["respx"]\n'
        },
    )
    found = read_requirements(tmp_path)
    assert runtime_packages(tmp_path) == ["anyio", "uvicorn>=0.30"]
    assert found.where_declared("pytest") == "the PDM group 'check'"
    assert found.where_declared("respx") == "[tool.uv] dev-dependencies"


def test_a_uv_lock_pins_the_runtime_set_apart(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "locked"\nversion = "0"\n'
            'requires-python = ">=3.10"\ndependencies = ["idna"]\n'
            '[project.optional-dependencies]\ntest = ["iniconfig"]\n'
            '[dependency-groups]\ndev = ["pytest"]\n'
        },
    )
    lock = subprocess.run(
        [environments.uv_binary(), "lock", "--quiet"], cwd=tmp_path, capture_output=True, text=True
    )
    assert lock.returncode == 0, lock.stderr
    found = read_requirements(tmp_path)
    assert found.locked
    assert [line.split("==")[0] for line in found.runtime] == ["idna"]
    tested = {line.split("==")[0] for line in found.test}
    assert {"iniconfig", "pytest", "pluggy"} <= tested
    assert "idna" not in tested
    assert found.where_declared("iniconfig") == "the 'test' extra"
    assert found.where_declared("pytest") == "the 'dev' dependency group"
    assert found.where_declared("pluggy") is None  # pytest's dependency, declared nowhere


# --- the failing step's one line


def fake_environment(root: Path, distributions: dict[str, list[str]]) -> Path:
    """A venv-shaped directory whose site-packages holds `name: [files]` distributions."""
    site = root / "lib" / "python3.12" / "site-packages"
    for name, files in distributions.items():
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "RECORD").write_text("".join(f"{file},,\n" for file in files))
    return root


def test_the_distribution_providing_a_module_is_found(tmp_path: Path) -> None:
    venv = fake_environment(
        tmp_path, {"PyYAML": ["yaml/__init__.py", "_yaml/__init__.py"], "six": ["six.py"]}
    )
    assert providing_distribution(venv, "yaml") == "PyYAML"
    assert providing_distribution(venv, "six") == "six"
    assert providing_distribution(venv, "respx") is None


@pytest.mark.parametrize(
    "summary",
    [
        "svc.app:app: importing svc.app failed: ModuleNotFoundError: No module named 'yaml'",
        "uvicorn exited with code 1 before answering: "
        "ModuleNotFoundError: No module named 'yaml.loader'",
    ],
)
def test_a_boot_missing_a_test_requirement_says_where_it_is(tmp_path: Path, summary: str) -> None:
    write_files(
        tmp_path / "project",
        {
            "pyproject.toml": '[project]\nname = "a"\ndependencies = []\n'
            '[project.optional-dependencies]\ntest = ["pyyaml>=6"]\n'
        },
    )
    venv = fake_environment(tmp_path / "venv", {"PyYAML": ["yaml/__init__.py"]})
    step = StepResult("app", "failed", 0.1, summary, hint="cd x && python -c 'import a'")
    explain_missing(step, venv, read_requirements(tmp_path / "project"))
    assert step.summary == (
        f"{summary} (the app imports a package that is not a run-time dependency: "
        "it is only in the 'test' extra; add PyYAML to [project] dependencies)"
    )
    assert step.hint == "cd x && python -c 'import a'"  # still the command that reproduces it


def test_a_module_missing_everywhere_or_a_test_step_is_left_as_it_is(tmp_path: Path) -> None:
    write_files(tmp_path / "project", {"pyproject.toml": '[project]\nname = "a"\n'})
    declared = read_requirements(tmp_path / "project")
    venv = fake_environment(tmp_path / "venv", {"PyYAML": ["yaml/__init__.py"]})
    nowhere = "ModuleNotFoundError: No module named 'respx'"
    for step in (
        StepResult("serve:uvicorn", "failed", 0.1, nowhere),
        StepResult("tests", "failed", 0.1, "ModuleNotFoundError: No module named 'yaml'"),
        StepResult("serve:uvicorn", "passed", 0.1, "No module named 'yaml'"),
    ):
        before = step.summary
        explain_missing(step, venv, declared)
        assert step.summary == before


def test_a_missing_module_only_in_the_output_is_brought_into_the_line(tmp_path: Path) -> None:
    write_files(tmp_path / "project", {"requirements-test.txt": "pyyaml\n"})
    venv = fake_environment(tmp_path / "venv", {"PyYAML": ["yaml/__init__.py"]})
    step = StepResult(
        "serve:hypercorn",
        "failed",
        0.1,
        "hypercorn exited with code 1 before answering",
        output="Traceback ...\nModuleNotFoundError: No module named 'yaml'\n",
    )
    explain_missing(step, venv, read_requirements(tmp_path / "project"))
    assert step.summary == (
        "hypercorn exited with code 1 before answering: ModuleNotFoundError: No module named "
        "'yaml' (the app imports a package that is not a run-time dependency: it is only in "
        "requirements-test.txt; add PyYAML to requirements.txt)"
    )


def test_the_runtime_environment_is_cached_apart_from_the_check_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing to install in either (no dependencies, no server): the same packages, yet two
    # environments, so one never stands in for the other.
    monkeypatch.setenv("ASGIGEN_CACHE_DIR", str(tmp_path / "cache"))
    project = write_files(
        tmp_path / "p", {"pyproject.toml": '[project]\nname = "p"\ndependencies = []\n'}
    )
    full = environments.cached_environment(project, tools=[], servers=[])
    runtime = environments.cached_environment(project, tools=[], servers=[], runtime=True)
    assert full.path != runtime.path
    assert '"set": "runtime"' in (runtime.path / "asgigen-requirements.json").read_text()
    again = environments.cached_environment(project, tools=[], servers=[], runtime=True)
    assert (again.path, again.built) == (runtime.path, None)  # warm: found, not built


def test_a_runtime_environment_that_cannot_be_built_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from asgigen.check import run_checks
    from asgigen.console import Console
    from asgigen.errors import CheckFailedError

    def cached(project: Path, *, runtime: bool = False, **_: object) -> environments.Environment:
        if runtime:
            raise CheckFailedError("installing the project's requirements failed: no such thing")
        return environments.Environment(sys.executable, tmp_path / "venv", None)

    monkeypatch.setattr(environments, "cached_environment", cached)
    write_files(
        tmp_path / "p",
        {
            "pyproject.toml": '[project]\nname = "p"\ndependencies = []\n'
            '[tool.asgigen]\napp = "p:app"\n'
        },
    )
    report = run_checks(tmp_path / "p", with_gates=False, console=Console(quiet=True))
    assert not report.ok
    assert [(step.name, step.summary) for step in report.steps] == [
        ("environment", "installing the project's requirements failed: no such thing")
    ]
