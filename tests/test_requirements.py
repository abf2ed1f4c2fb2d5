"""Reading what a project installs, per format: PEP 621, PEP 735, Poetry, PDM, uv.lock and
requirements files (small inline projects; no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asgigen import environments
from asgigen.errors import BadInputError, CheckFailedError
from asgigen.requirements import (
    poetry_constraint,
    poetry_requirement,
    read_requirement_file,
    read_requirements,
)


def project(tmp_path: Path, pyproject: str | None = None, **files: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_pep621_dependencies_and_the_test_extra(tmp_path: Path) -> None:
    found = read_requirements(
        project(
            tmp_path,
            '[project]\nname = "shop"\ndependencies = ["fastapi>=0.110"]\n'
            '[project.optional-dependencies]\ntest = ["pytest", "shop[http]"]\nhttp = ["httpx"]\n',
        )
    )
    assert found.runtime == ["fastapi>=0.110"]
    assert found.test == ["pytest", "httpx"]
    assert found.test_extras == ["test"]
    assert found.sources == ["pyproject.toml [project] + extra test"]


def test_a_pep735_dev_group_holding_pytest_is_installed_for_the_tests(tmp_path: Path) -> None:
    found = read_requirements(
        project(
            tmp_path,
            '[project]\nname = "a"\ndependencies = ["fastapi"]\n'
            '[dependency-groups]\nlint = ["ruff"]\n'
            'dev = ["pytest>=8", {include-group = "lint"}]\n',
        )
    )
    assert found.test == ["pytest>=8", "ruff"]  # not only for the gates
    assert found.dev == []
    assert "group dev (PEP 735)" in found.describe()
    _, packages = environments.needed(tmp_path, tools=[], servers=["uvicorn"])
    assert packages == ["fastapi", "pytest>=8", "ruff", "uvicorn"]


def test_a_dev_set_without_the_test_runner_waits_for_the_gates(tmp_path: Path) -> None:
    project(
        tmp_path,
        '[project]\nname = "a"\ndependencies = []\n'
        '[dependency-groups]\ntest = ["pytest"]\ndev = ["mypy"]\n',
    )
    assert environments.needed(tmp_path, tools=[], servers=[])[1] == ["pytest"]
    assert environments.needed(tmp_path, tools=["mypy"], servers=[])[1] == ["pytest", "mypy"]


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.115", ">=0.115,<0.116"),
        ("^2", ">=2,<3"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("*", ""),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">=1.0,<2", ">=1.0,<2"),
        (">=1.0 <2", ">=1.0,<2"),
        ("^1.4.1.post1", ">=1.4.1.post1,<2.0.0"),
    ],
)
def test_poetry_constraints_translate_to_pep440(constraint: str, specifier: str) -> None:
    assert poetry_constraint(constraint) == specifier
    from packaging.specifiers import SpecifierSet

    SpecifierSet(specifier)  # valid PEP 440


def test_poetry_or_constraints_are_refused_by_name() -> None:
    with pytest.raises(BadInputError, match=r"\|\|"):
        poetry_constraint("^1.0 || ^2.0")


def test_poetry_tables_extras_markers_python_and_optional() -> None:
    assert poetry_requirement("uvicorn", {"extras": ["standard"], "version": "^0.34.0"}) == [
        "uvicorn[standard]>=0.34.0,<0.35.0"
    ]
    assert poetry_requirement("tomli", {"version": "^2", "python": "<3.11"}) == [
        "tomli>=2,<3 ; (python_full_version < '3.11')"
    ]
    assert poetry_requirement("gunicorn", {"version": "*", "optional": True}) == []
    from packaging.requirements import Requirement

    Requirement(poetry_requirement("tomli", {"version": "^2", "python": "<3.11"})[0])


def test_poetry_dependencies_and_its_default_groups(tmp_path: Path) -> None:
    found = read_requirements(
        project(
            tmp_path,
            '[tool.poetry]\nname = "app"\n'
            '[tool.poetry.dependencies]\npython = "^3.10"\nfastapi = "^0.115.0"\n'
            'uvicorn = {extras = ["standard"], version = "^0.34.0"}\n'
            '[tool.poetry.group.dev.dependencies]\npytest = "^8.3.5"\n'
            "[tool.poetry.group.docs]\noptional = true\n"
            '[tool.poetry.group.docs.dependencies]\nmkdocs = "*"\n',
        )
    )
    assert found.runtime == ["fastapi>=0.115.0,<0.116.0", "uvicorn[standard]>=0.34.0,<0.35.0"]
    assert found.test == ["pytest>=8.3.5,<9.0.0"]  # the optional docs group is left out
    assert found.requires_python == ">=3.10,<4.0"
    assert found.describe() == "poetry (2 dependencies, group dev): 3 package(s)"


def test_a_poetry_lock_pins_the_direct_requirements(tmp_path: Path) -> None:
    lock = (
        '[[package]]\nname = "FastAPI"\nversion = "0.115.4"\n\n'
        '[[package]]\nname = "uvicorn"\nversion = "0.20.0"\n\n'  # older than the range: stale
        '[[package]]\nname = "pytest"\nversion = "8.3.5"\n\n'
        '[[package]]\nname = "starlette"\nversion = "0.41.0"\n'
    )
    found = read_requirements(
        project(
            tmp_path,
            '[tool.poetry]\nname = "app"\n'
            '[tool.poetry.dependencies]\npython = "^3.10"\nfastapi = "^0.115.0"\n'
            'uvicorn = {extras = ["standard"], version = "^0.34.0"}\n'
            '[tool.poetry.group.dev.dependencies]\npytest = "^8.3.5"\n',
            **{"poetry.lock": lock},
        )
    )
    assert found.runtime == ["fastapi==0.115.4", "uvicorn[standard]>=0.34.0,<0.35.0"]
    assert found.test == ["pytest==8.3.5"]
    assert found.sources[-1] == "pinned by poetry.lock"


def test_pdm_dev_dependencies(tmp_path: Path) -> None:
    found = read_requirements(
        project(
            tmp_path,
            '[project]\nname = "a"\ndependencies = ["starlette"]\n'
            '[tool.pdm.dev-dependencies]\ntest = ["pytest", "-e file:///${PROJECT_ROOT}/x"]\n',
        )
    )
    assert found.runtime == ["starlette"]
    assert found.test == ["pytest"]
    assert "pdm group test" in found.sources


def test_uv_legacy_dev_dependencies(tmp_path: Path) -> None:
    found = read_requirements(
        project(
            tmp_path,
            '[project]\nname = "a"\ndependencies = []\n[tool.uv]\ndev-dependencies = ["pytest"]\n',
        )
    )
    assert found.test == ["pytest"]
    assert found.sources[-1] == "[tool.uv] dev-dependencies"


def test_requirements_files_with_includes_and_a_compiled_in(tmp_path: Path) -> None:
    project(
        tmp_path,
        None,
        **{
            "requirements.in": "fastapi\n",
            "requirements.txt": (
                "fastapi==0.115.0 \\\n    --hash=sha256:abc\nstarlette==0.41  # via\n"
            ),
            "requirements-dev.in": "-r requirements.txt\n-c constraints.txt\npytest\n-e .\n",
        },
    )
    found = read_requirements(tmp_path)
    assert found.runtime == ["fastapi==0.115.0", "starlette==0.41"]
    assert found.test == ["fastapi==0.115.0", "starlette==0.41", "pytest"]
    assert found.sources == ["requirements-dev.in, requirements.txt"]
    assert read_requirement_file(tmp_path / "requirements-dev.in")[-1] == "pytest"


def test_nothing_to_install_is_said_and_fails(tmp_path: Path) -> None:
    project(tmp_path, "[tool.ruff]\nline-length = 100\n")
    with pytest.raises(CheckFailedError, match="found no dependencies to install"):
        environments.needed(tmp_path, tools=[], servers=["uvicorn"])


def test_a_uv_lock_is_honoured(tmp_path: Path) -> None:
    project(
        tmp_path,
        '[project]\nname = "locked"\nversion = "0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["idna"]\n[dependency-groups]\ndev = ["pytest"]\n',
    )
    lock = subprocess.run(
        [environments.uv_binary(), "lock", "--quiet"], cwd=tmp_path, capture_output=True, text=True
    )
    assert lock.returncode == 0, lock.stderr
    found = read_requirements(tmp_path)
    assert found.locked
    assert found.sources[0].startswith("uv.lock")
    assert any(line.startswith("idna==") for line in found.runtime)
    assert any(line.startswith("pytest==") for line in found.test)  # the dev group: tests only


def test_the_printed_run_command_installs_what_the_project_declares(tmp_path: Path) -> None:
    from asgigen.requirements import run_prefix

    pep621 = project(tmp_path / "a", '[project]\nname = "a"\ndependencies = ["fastapi"]\n')
    assert run_prefix(pep621, "uv") == "uv run"
    poetry = project(
        tmp_path / "b", '[tool.poetry]\nname = "b"\n[tool.poetry.dependencies]\nfastapi = "*"\n'
    )
    # `uv run` would run without Poetry's dependencies: Poetry makes the environment.
    assert run_prefix(poetry, "uv") == "uv tool run poetry install && uv tool run poetry run"
    files = project(tmp_path / "c", None, **{"requirements.txt": "fastapi\n"})
    assert run_prefix(files, "uv") == "uv run --no-project --with-requirements requirements.txt"


def test_check_says_where_nothing_was_found_and_fails(tmp_path: Path) -> None:
    from tests.conftest import run_asgigen

    project(tmp_path / "bare", "[tool.ruff]\nline-length = 100\n", **{"main.py": "app = 1\n"})
    result = run_asgigen("check", "bare", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "found no dependencies to install in" in result.stderr
    assert "hint: declare them in pyproject.toml [project] dependencies" in result.stderr


STARLETTE_APP = """\
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request):
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/health", health)])
"""

STARLETTE_TEST = """\
from starlette.testclient import TestClient

from main import app


def test_health():
    assert TestClient(app).get("/health").json() == {"status": "ok"}
"""


@pytest.mark.e2e
@pytest.mark.parametrize("isolated", [False, True])
def test_a_requirements_only_project_is_installed_tested_and_proved(
    tmp_path: Path, isolated: bool
) -> None:
    from tests.conftest import run_asgigen

    project(
        tmp_path / "svc",
        None,
        **{
            "requirements.txt": "starlette>=0.37\n",
            "requirements-dev.txt": "-r requirements.txt\npytest\nhttpx\n",
            "main.py": STARLETTE_APP,
            "tests__test_main.py": STARLETTE_TEST,
            "Procfile": "web: uvicorn main:app --port $PORT\n",
        },
    )
    result = run_asgigen("check", "svc", *(["--isolated"] if isolated else []), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    deps = next(line for line in lines if line.strip().startswith("deps"))
    assert "requirements-dev.txt, requirements.txt" in deps
    assert "main:app in Procfile (discovered, not declared)" in result.stderr
    serve = next(line for line in lines if line.strip().startswith("serve"))
    assert "GET /health 200, discovered, not declared" in serve


def test_a_python_pyenv_installed_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # uv cannot always use pyenv's shims (they fail for a version pyenv has not activated).
    for version in ("3.98.1", "3.99.0", "3.99.2", "pypy3.10-7.3"):
        bin_dir = tmp_path / "versions" / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    from packaging.specifiers import SpecifierSet

    assert environments.pyenv_python(SpecifierSet(">=3.99")) == str(
        tmp_path / "versions" / "3.99.2" / "bin" / "python3"
    )
    assert environments.pyenv_python(SpecifierSet(">=4")) is None
    assert environments.base_python(">=3.99,<3.99.1") == str(
        tmp_path / "versions" / "3.99.0" / "bin" / "python3"
    )
