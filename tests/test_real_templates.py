"""asgigen on copier templates teams really publish (kept as git bundles, see
tests/fixtures/real_templates/README.md): Poetry, a PEP 735 dependency group, requirements
files, a project in a `{{project_slug}}/` subfolder, a custom answers file name, a copier
extension and a `git init` task. Every command runs `asgigen` as installed from its built wheel
(the `wheel_asgigen` fixture), in a subprocess, as a user would; the verdicts asserted are the
README's. A project that tests only read is generated once per module.

The first run of each builds the project's check environment from PyPI (cached afterwards).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import asgigen_env

pytestmark = pytest.mark.e2e

BUNDLES = Path(__file__).parent / "fixtures" / "real_templates"


def clone(name: str, into: Path) -> Path:
    """The bundled template as a git repository of its own (branches and tags)."""
    target = into / name
    subprocess.run(
        ["git", "clone", "--quiet", str(BUNDLES / f"{name}.bundle"), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def run(
    wheel: str,
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """`asgigen ARGS` from the built wheel, in the environment a user's shell gives it: never
    this checkout's asgigen through PYTHONPATH."""
    environ = dict(env if env is not None else asgigen_env())
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        environ.pop(name, None)
    return subprocess.run(
        [wheel, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def step_line(stderr: str, label: str) -> str:
    return next(line for line in stderr.splitlines() if line.strip().startswith(label))


def git_log(project: Path) -> list[str]:
    return subprocess.run(
        ["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.splitlines()


@dataclass
class Made:
    """`asgigen new` of a bundled template, shared by the tests that only read its project."""

    template: Path
    root: Path  # the directory `new` rendered into
    result: subprocess.CompletedProcess[str]


def test_every_bundle_has_its_licence_and_a_readme_entry() -> None:
    readme = (BUNDLES / "README.md").read_text(encoding="utf-8")
    bundles = sorted(BUNDLES.glob("*.bundle"))
    assert len(bundles) >= 4
    for bundle in bundles:
        assert (BUNDLES / f"{bundle.stem}.LICENSE").is_file(), bundle
        assert bundle.stem in readme
        assert bundle.stat().st_size < 2_000_000


def validated(wheel: str, template: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """`asgigen validate --json` of `template` (one case: its defaults under Uvicorn)."""
    result = run(
        wheel, "validate", "--template", str(template), "--json", "-j", "1", *args,
        cwd=template.parent, env=env,
    )  # fmt: skip
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    steps = {step["name"]: step for step in report["variants"][0]["steps"]}
    return result, report, steps


def no_answers_file(wheel: str, root: Path) -> None:
    """A template that writes no answers file: `update --check` cannot know its template."""
    result = run(wheel, "update", "--check", str(root), cwd=root.parent, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == (
        f"error: {root} has no copier answers file (.copier-answers*.yml), so it was not "
        "generated from a template, or its template writes none"
    )
    assert lines[-1].startswith("hint: ")


# --- Poetry, the project in a {{project_slug}}/ subfolder, no answers file

JORDAN_ANSWERS = (
    "--data", "description=demo", "--data", "author_name=Ann",
    "--data", "postgres_password=pw", "--data", "postgres_database=db",
)  # fmt: skip


@pytest.fixture(scope="module")
def jordan(wheel_asgigen: str, tmp_path_factory: pytest.TempPathFactory) -> Made:
    work = tmp_path_factory.mktemp("jordan")
    template = clone("jordanmarcelino-copier-fastapi-ml", work)
    result = run(
        wheel_asgigen, "new", "mlsvc", "--template", str(template), "--defaults",
        *JORDAN_ANSWERS, cwd=work,
    )  # fmt: skip
    return Made(template, work / "mlsvc", result)


def test_poetry_project_in_a_subfolder_is_found_installed_and_proved(jordan: Made) -> None:
    result = jordan.result
    assert result.returncode == 0, result.stderr
    project = jordan.root / "mlsvc"  # the template renders into {{project_slug}}/
    # Its dependencies are Poetry's, its tests in Poetry's dev group; all of them run.
    assert "poetry (12 dependencies, group dev)" in step_line(result.stderr, "deps")
    assert "15 passed" in step_line(result.stderr, "tests")
    # It writes no answers file: said once, with what the template needs to add.
    answers = step_line(result.stderr, "answers")
    assert "writes no answers file" in answers
    assert "{{ _copier_conf.answers_file }}.jinja" in answers
    assert f"is ready: {project}" in result.stdout
    # The run command it prints makes Poetry's environment first (`uv run` would not).
    assert "tool run poetry install && " in result.stdout
    assert "tool run poetry run uvicorn app.main:app" in result.stdout
    # It declares nothing for asgigen: its app is found, and its OpenAPI document (moved under
    # /api/v1) tells what to probe; the summary says it was discovered.
    assert "app.main:app in app/main.py (discovered, not declared)" in result.stderr
    serve = step_line(result.stderr, "serve")
    assert "/api/v1/openapi.json: GET /api/v1/auth/profile 401" in serve
    assert "discovered, not declared" in serve
    # `new` names no template line: its `rendered` line has just said which it was.
    assert not [line for line in result.stderr.splitlines() if line.startswith("  template ")]


def test_poetry_project_in_a_subfolder_checks_green(wheel_asgigen: str, jordan: Made) -> None:
    # The generated repository is the render's root, the check finds the project below it.
    checked = run(wheel_asgigen, "check", str(jordan.root), cwd=jordan.root.parent)
    assert checked.returncode == 0, checked.stderr
    assert "15 passed" in checked.stderr
    assert "template   unknown (no answers file)" in checked.stderr
    assert checked.stdout.endswith("checks passed\n")


def test_poetry_project_without_answers_file_cannot_be_updated(
    wheel_asgigen: str, jordan: Made
) -> None:
    no_answers_file(wheel_asgigen, jordan.root)


def test_validate_a_poetry_template_in_a_subfolder_is_green(
    wheel_asgigen: str, tmp_path: Path
) -> None:
    template = clone("jordanmarcelino-copier-fastapi-ml", tmp_path)
    result, report, steps = validated(wheel_asgigen, template, *JORDAN_ANSWERS)
    # Its project is found in {{project_slug}}/, its 15 tests pass, its OpenAPI paths answer.
    assert result.returncode == 0, result.stderr
    assert report["ok"] is True
    assert [case["name"] for case in report["cases"]] == ["default@uvicorn"]
    assert steps["tests"]["summary"].startswith("15 passed")
    assert steps["serve:uvicorn"]["status"] == "passed"
    assert "discovered, not declared" in steps["serve:uvicorn"]["summary"]


# --- a PEP 735 dependency group, copier extensions, a `git init` task


GARRETT_ANSWERS = (
    "--data", "copyright_holder_name=Ann", "--data", "copyright_holder_email=ann@example.com",
    "--data", "project_description=demo", "--data", "project_keywords=api",
    "--data", "vcs_github_path=ann/orders",
)  # fmt: skip


@pytest.fixture(scope="module")
def garrett(wheel_asgigen: str, tmp_path_factory: pytest.TempPathFactory) -> Made:
    work = tmp_path_factory.mktemp("garrett")
    template = clone("garrett-he-copier-python-fastapi", work)
    result = run(
        wheel_asgigen, "new", "orders", "--template", str(template), "--trust", "--defaults",
        *GARRETT_ANSWERS, cwd=work,
    )  # fmt: skip
    return Made(template, work / "orders", result)


def test_dependency_group_extensions_and_a_git_init_task(garrett: Made) -> None:
    result = garrett.result
    # Its `_jinja_extensions` need copier-templates-extensions: trusted, it is installed for
    # the render (into asgigen's cache, not asgigen's environment), and said so.
    assert "copier-templates-extensions: installed" in step_line(result.stderr, "extensions")
    # pytest sits in the `dev` dependency group: installed for the tests, which pass (one reads
    # the project's own version from its installed metadata).
    assert "group dev (PEP 735)" in step_line(result.stderr, "deps")
    assert "1 passed" in step_line(result.stderr, "tests")
    # Its app has no route yet: it boots and answers 404 to everything, which proves nothing
    # and is not a pass.
    assert "orders.main:app in src/orders/main.py (discovered, not declared)" in result.stderr
    assert step_line(result.stderr, "serve").split(None, 1)[1].startswith("booted; nothing proved")
    assert result.returncode == 1, result.stderr
    # Its tasks ran `git init`: the project still gets its one commit, of the generated files.
    assert git_log(garrett.root) == ["Initial commit from asgigen"]
    assert "initialised with one commit" in step_line(result.stderr, "git")
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=garrett.root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert status.stdout == ""
    # What its `git init` task printed went to stderr: stdout has asgigen's result alone.
    assert "Initialized empty Git repository" not in result.stdout


def test_a_project_whose_app_has_no_routes_checks_red(wheel_asgigen: str, garrett: Made) -> None:
    checked = run(wheel_asgigen, "check", str(garrett.root), cwd=garrett.root.parent)
    assert checked.returncode == 1, checked.stderr
    assert "1 passed" in step_line(checked.stderr, "tests")
    assert step_line(checked.stderr, "serve").split(None, 1)[1].startswith("booted; nothing")
    assert "template   unknown (no answers file)" in checked.stderr
    assert checked.stdout == ""


def test_a_project_without_answers_file_cannot_be_updated(
    wheel_asgigen: str, garrett: Made
) -> None:
    no_answers_file(wheel_asgigen, garrett.root)


def test_an_extension_that_cannot_be_installed_is_named_with_its_install_command(
    wheel_asgigen: str, tmp_path: Path
) -> None:
    template = clone("garrett-he-copier-python-fastapi", tmp_path)
    offline = asgigen_env(
        UV_OFFLINE="1",
        ASGIGEN_CACHE_DIR=str(tmp_path / "empty-cache"),
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
    )
    result = run(
        wheel_asgigen, "new", "orders", "--template", str(template), "--trust", "--defaults",
        *GARRETT_ANSWERS, cwd=tmp_path, env=offline, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == (
        "error: the template loads the Jinja extension module 'copier_templates_extensions' "
        "(its _jinja_extensions), which is not installed beside asgigen"
    )
    # The command installs it beside the asgigen that runs: the wheel's own environment.
    hint = lines[-1]
    assert hint.startswith("hint: ")
    assert f"pip install --python {Path(wheel_asgigen).parent}/python" in hint
    assert hint.endswith(" copier-templates-extensions")
    assert not (tmp_path / "orders").exists()  # nothing half-written


def test_validate_a_template_whose_app_has_no_routes_is_red(
    wheel_asgigen: str, tmp_path: Path
) -> None:
    template = clone("garrett-he-copier-python-fastapi", tmp_path)
    result, report, steps = validated(wheel_asgigen, template, "--trust", *GARRETT_ANSWERS)
    # Its extension is provided before its questions are read; its one test passes; its app
    # answers 404 to everything: booted, nothing proved, and so the case fails.
    assert result.returncode == 1, result.stderr
    assert report["ok"] is False
    assert steps["render"]["status"] == "passed"
    assert steps["tests"]["summary"].startswith("1 passed")
    assert steps["serve:uvicorn"]["status"] == "failed"
    assert steps["serve:uvicorn"]["summary"].startswith("booted; nothing proved")
    assert "error: 1 of 1 cases failed: default@uvicorn" in result.stderr


# --- Poetry, a custom answers file name, tagged releases: update


def poetry_stand_in(folder: Path, log: Path | None = None) -> dict[str, str]:
    """The environment with a `poetry` on PATH that records what it was asked (the template's
    task runs `poetry install`; the check builds its own environment from the Poetry tables
    either way)."""
    tools = folder / "bin"
    tools.mkdir()
    record = f'echo "poetry $*" >> {log}\n' if log else "exit 0\n"
    (tools / "poetry").write_text(f"#!/bin/sh\n{record}", encoding="utf-8")
    (tools / "poetry").chmod(0o755)
    # Temporary files (the merged copy a red update keeps) stay in this test's folder.
    scratch = folder / "tmp"
    scratch.mkdir()
    return asgigen_env(PATH=f"{tools}:{asgigen_env()['PATH']}", TMPDIR=str(scratch))


def test_custom_answers_file_update_check_and_update(wheel_asgigen: str, tmp_path: Path) -> None:
    template = clone("worldworm-copier-fastapi", tmp_path)
    log = tmp_path / "poetry.log"
    env = poetry_stand_in(tmp_path, log)

    def asgigen(*args: str) -> subprocess.CompletedProcess[str]:
        return run(wheel_asgigen, *args, cwd=tmp_path, env=env)

    result = asgigen(
        "new", "ledger", "--template", str(template), "--vcs-ref", "v1.1.1", "--trust",
        "--defaults", "--data", "repository_username=ann", "--data", "project_description=demo",
    )  # fmt: skip
    # `new` runs the tests and boots it (gates are check's): both pass.
    assert result.returncode == 0, result.stderr
    assert "is ready" in result.stdout
    assert log.read_text() == "poetry install\n"
    project = tmp_path / "ledger"
    assert (project / ".copier-answers.fastapi.yml").is_file()  # its `_answers_file`
    assert not (project / ".copier-answers.yml").exists()
    assert "answers" not in [line.split()[0] for line in result.stderr.splitlines() if line]
    assert "poetry (6 dependencies, group dev)" in step_line(result.stderr, "deps")

    check = asgigen("update", "ledger", "--check")
    assert check.returncode == 3, check.stderr
    assert "v1.1.1 → v1.1.2 available" in check.stdout

    # The project configures mypy (strict); the template's own code fails it with the mypy
    # its version range now installs: a real failure, not asgigen's. So the verified update is
    # truthfully red: it refuses, names the mypy failure, leaves the project as it was and
    # keeps the merged copy for inspection; `--no-verify`, which its hint names, applies it.
    answers = (project / ".copier-answers.fastapi.yml").read_text()
    refused = asgigen("update", "ledger")
    assert refused.returncode == 1, refused.stderr
    assert "v1.1.1 → v1.1.2; " in refused.stdout
    assert "would change (not applied):\n" in refused.stdout
    assert (
        "error: update to template v1.1.2 not applied, the project is unchanged: mypy failed"
        in refused.stderr
    )
    assert 'ledger/models/pagination.py:12: error: Unused "type: ignore" comment' in refused.stderr
    assert f"to apply it unproved: asgigen update --no-verify {project}\n" in refused.stderr
    assert (project / ".copier-answers.fastapi.yml").read_text() == answers
    untouched = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert untouched.stdout == ""
    kept = re.search(r"the merged copy is kept for inspection: cd (\S+);", refused.stderr)
    assert kept is not None, refused.stderr
    merged = Path(kept.group(1))
    assert merged.is_relative_to(env["TMPDIR"])  # in this test's folder, not /tmp
    assert "_commit: v1.1.2" in (merged / ".copier-answers.fastapi.yml").read_text()
    shutil.rmtree(merged.parent)  # the scratch directory asgigen kept
    assert list(Path(env["TMPDIR"]).glob("asgigen-update-*")) == []

    updated = asgigen("update", "--no-verify", "ledger")
    assert updated.returncode == 0, updated.stderr
    assert "v1.1.1 → v1.1.2" in updated.stdout
    assert "pyproject.toml" in updated.stdout
    assert "proof: not proved (--no-verify)" in updated.stdout
    import yaml

    recorded = yaml.safe_load((project / ".copier-answers.fastapi.yml").read_text())
    assert recorded["_commit"] == "v1.1.2"
    # The check of the applied update gives the same verdict, red, naming the mypy failure, and
    # says which template and version made the project. (With --json, stderr is what a plain
    # `check` prints: its progress, the failure's line, the command that reproduces it.)
    checked = asgigen("check", "ledger", "--json")
    assert checked.returncode == 1, checked.stderr
    assert step_line(checked.stderr, "template").split(None, 1)[1] == (
        f"{template} v1.1.2 (from .copier-answers.fastapi.yml)"
    )
    assert "1 passed" in step_line(checked.stderr, "tests")
    assert "error: ledger: mypy failed" in checked.stderr
    assert 'ledger/models/pagination.py:12: error: Unused "type: ignore" comment' in checked.stderr
    assert "python -m mypy" in checked.stderr.splitlines()[-1]  # the command that reproduces it
    # Its JSON report says the same, and where the dependencies and the answers came from.
    report = json.loads(checked.stdout)
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["tests"]["status"] == "passed"
    assert steps["mypy"]["status"] == "failed"
    assert report["deps"].startswith("poetry")
    assert report["answers"] == {
        "file": ".copier-answers.fastapi.yml",
        "template": str(template),
        "version": "v1.1.2",
    }


def test_validate_a_template_failing_its_own_strict_mypy_is_red(
    wheel_asgigen: str, tmp_path: Path
) -> None:
    template = clone("worldworm-copier-fastapi", tmp_path)
    result, report, steps = validated(
        wheel_asgigen, template, "--trust", "--data", "repository_username=ann",
        "--data", "project_description=demo", env=poetry_stand_in(tmp_path),
    )  # fmt: skip
    # Its tests pass and it boots, but the mypy (strict) it configures fails on its own code.
    assert result.returncode == 1, result.stderr
    assert report["ok"] is False
    assert steps["tests"]["status"] == "passed"
    assert steps["serve:uvicorn"]["status"] == "passed"
    assert steps["mypy"]["status"] == "failed"
    assert (
        'default_app/models/pagination.py:12: error: Unused "type: ignore" comment'
        in steps["mypy"]["output"]
    )
    assert "--- default: mypy failed" in result.stderr


# --- requirements*.txt beside a pyproject, `copier.yaml`, the project in a subfolder


@pytest.fixture(scope="module")
def klimorg(wheel_asgigen: str, tmp_path_factory: pytest.TempPathFactory) -> Made:
    work = tmp_path_factory.mktemp("klimorg")
    template = clone("klimorg-api-template", work)
    result = run(
        wheel_asgigen, "new", "ledger", "--template", str(template), "--defaults", cwd=work
    )
    return Made(template, work / "ledger", result)


CODECOV = "Because there is no version of codecov==2.1.12"


def test_requirements_files_are_installed_and_a_pin_pypi_no_longer_has_is_named(
    klimorg: Made,
) -> None:
    result = klimorg.result
    # Its project sits in {{project_name}}/; its requirements*.txt are read along with its
    # pyproject. requirements-test.txt pins codecov==2.1.12, which PyPI no longer serves:
    # `pip install -r` fails the same way. The verdict is red and names that pin.
    assert result.returncode == 1, result.stderr
    assert "rendered" in step_line(result.stderr, "rendered")
    assert CODECOV in step_line(result.stderr, "env")
    assert "error: ledger: environment failed: " in result.stderr
    assert "tests" not in [line.split()[0] for line in result.stderr.splitlines() if line]
    assert (klimorg.root / "ledger" / "requirements-test.txt").is_file()
    assert result.stdout == ""


def test_requirements_files_check_red_naming_the_template(
    wheel_asgigen: str, klimorg: Made
) -> None:
    checked = run(wheel_asgigen, "check", str(klimorg.root), cwd=klimorg.root.parent)
    assert checked.returncode == 1, checked.stderr
    # The template line comes before the environment is built, so a failed build keeps it.
    assert step_line(checked.stderr, "template").split(None, 1)[1] == (
        f"{klimorg.template} 43a8e4c (from ../.copier-answers.yml)"  # one folder up
    )
    assert CODECOV in checked.stderr


def test_requirements_files_template_is_the_newest(wheel_asgigen: str, klimorg: Made) -> None:
    # Its answers file is found; the template has no tags, so HEAD is its newest version.
    result = run(wheel_asgigen, "update", "--check", str(klimorg.root), cwd=klimorg.root.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ledger: template 43a8e4c is the newest\n"


def test_validate_requirements_files_template_is_red(wheel_asgigen: str, tmp_path: Path) -> None:
    template = clone("klimorg-api-template", tmp_path)
    result, report, steps = validated(wheel_asgigen, template)
    assert result.returncode == 1, result.stderr
    assert report["ok"] is False
    assert steps["render"]["status"] == "passed"
    failed = [step for step in steps.values() if step["status"] == "failed"]
    assert len(failed) == 1, steps
    assert CODECOV in failed[0]["summary"]
