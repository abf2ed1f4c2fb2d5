"""asgigen on copier templates teams really publish (kept as git bundles, see
tests/fixtures/real_templates/README.md): Poetry, a PEP 735 dependency group, a project in a
`{{project_slug}}/` subfolder, a custom answers file name, a copier extension and a
`git init` task. Each runs `asgigen` from the CLI in a subprocess, as a user would.

The first run of each builds the project's check environment from PyPI (cached afterwards).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import asgigen_env, run_asgigen

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


def step_line(stderr: str, label: str) -> str:
    return next(line for line in stderr.splitlines() if line.strip().startswith(label))


def git_log(project: Path) -> list[str]:
    return subprocess.run(
        ["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_every_bundle_has_its_licence_and_a_readme_entry() -> None:
    readme = (BUNDLES / "README.md").read_text(encoding="utf-8")
    bundles = sorted(BUNDLES.glob("*.bundle"))
    assert len(bundles) >= 3
    for bundle in bundles:
        assert (BUNDLES / f"{bundle.stem}.LICENSE").is_file(), bundle
        assert bundle.stem in readme
        assert bundle.stat().st_size < 2_000_000


# --- Poetry, the project in a {{project_slug}}/ subfolder, no answers file


def test_poetry_project_in_a_subfolder_is_found_installed_and_proved(tmp_path: Path) -> None:
    template = clone("jordanmarcelino-copier-fastapi-ml", tmp_path)
    result = run_asgigen(
        "new", "mlsvc", "--template", str(template), "--defaults",
        "--data", "description=demo", "--data", "author_name=Ann",
        "--data", "postgres_password=pw", "--data", "postgres_database=db",
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = tmp_path / "mlsvc" / "mlsvc"  # the template renders into {{project_slug}}/
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
    # The generated repository is the render's root, the check finds the project below it.
    checked = run_asgigen("check", str(tmp_path / "mlsvc"), cwd=tmp_path, timeout=900)
    assert checked.returncode == 0, checked.stderr
    assert "15 passed" in checked.stderr


# --- a PEP 735 dependency group, copier extensions, a `git init` task


GARRETT_ANSWERS = (
    "--data", "copyright_holder_name=Ann", "--data", "copyright_holder_email=ann@example.com",
    "--data", "project_description=demo", "--data", "project_keywords=api",
    "--data", "vcs_github_path=ann/orders",
)  # fmt: skip


def test_dependency_group_extensions_and_a_git_init_task(tmp_path: Path) -> None:
    template = clone("garrett-he-copier-python-fastapi", tmp_path)
    result = run_asgigen(
        "new", "orders", "--template", str(template), "--trust", "--defaults", *GARRETT_ANSWERS,
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
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
    project = tmp_path / "orders"
    assert git_log(project) == ["Initial commit from asgigen"]
    assert "initialised with one commit" in step_line(result.stderr, "git")
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""


def test_an_extension_that_cannot_be_installed_is_named_with_its_install_command(
    tmp_path: Path,
) -> None:
    template = clone("garrett-he-copier-python-fastapi", tmp_path)
    offline = asgigen_env(
        UV_OFFLINE="1",
        ASGIGEN_CACHE_DIR=str(tmp_path / "empty-cache"),
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
    )
    result = run_asgigen(
        "new", "orders", "--template", str(template), "--trust", "--defaults", *GARRETT_ANSWERS,
        cwd=tmp_path, env=offline,
    )  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == (
        "error: the template loads the Jinja extension module 'copier_templates_extensions' "
        "(its _jinja_extensions), which is not installed beside asgigen"
    )
    assert lines[-1].startswith("hint: ")
    assert lines[-1].endswith(f"pip install --python {sys.executable} copier-templates-extensions")
    assert not (tmp_path / "orders").exists()  # nothing half-written


# --- Poetry, a custom answers file name, tagged releases: update


def test_custom_answers_file_update_check_and_update(tmp_path: Path) -> None:
    template = clone("worldworm-copier-fastapi", tmp_path)
    # The template's task runs `poetry install`; a stand-in records that it ran (the check
    # builds its own environment from the Poetry tables either way).
    tools = tmp_path / "bin"
    tools.mkdir()
    log = tmp_path / "poetry.log"
    stub = tools / "poetry"
    stub.write_text(f'#!/bin/sh\necho "poetry $*" >> {log}\n', encoding="utf-8")
    stub.chmod(0o755)
    env = asgigen_env(PATH=f"{tools}:{asgigen_env()['PATH']}")
    result = run_asgigen(
        "new", "ledger", "--template", str(template), "--vcs-ref", "v1.1.1", "--trust",
        "--defaults", "--data", "repository_username=ann", "--data", "project_description=demo",
        cwd=tmp_path, env=env, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert log.read_text() == "poetry install\n"
    project = tmp_path / "ledger"
    assert (project / ".copier-answers.fastapi.yml").is_file()  # its `_answers_file`
    assert not (project / ".copier-answers.yml").exists()
    assert "answers" not in [line.split()[0] for line in result.stderr.splitlines() if line]
    assert "poetry (6 dependencies, group dev)" in step_line(result.stderr, "deps")

    check = run_asgigen("update", "ledger", "--check", cwd=tmp_path, env=env)
    assert check.returncode == 3, check.stderr
    assert "v1.1.1 → v1.1.2 available" in check.stdout

    # The project configures mypy (strict); the template's own code fails it with the mypy
    # its version range now installs: a real failure, not asgigen's. So the verified update is
    # truthfully red: it refuses, names the mypy failure, leaves the project as it was and
    # keeps the merged copy for inspection; `--no-verify`, which its hint names, applies it.
    answers = (project / ".copier-answers.fastapi.yml").read_text()
    refused = run_asgigen("update", "ledger", cwd=tmp_path, env=env, timeout=900)
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
    assert "_commit: v1.1.2" in (merged / ".copier-answers.fastapi.yml").read_text()
    shutil.rmtree(merged.parent)  # the scratch directory asgigen kept

    updated = run_asgigen("update", "--no-verify", "ledger", cwd=tmp_path, env=env, timeout=900)
    assert updated.returncode == 0, updated.stderr
    assert "v1.1.1 → v1.1.2" in updated.stdout
    assert "pyproject.toml" in updated.stdout
    assert "proof: not proved (--no-verify)" in updated.stdout
    import yaml

    recorded = yaml.safe_load((project / ".copier-answers.fastapi.yml").read_text())
    assert recorded["_commit"] == "v1.1.2"
    # The check of the applied update gives the same verdict, red, naming the mypy failure.
    checked = run_asgigen("check", "ledger", cwd=tmp_path, env=env, timeout=900)
    assert checked.returncode == 1, checked.stderr
    assert "1 passed" in step_line(checked.stderr, "tests")
    assert "error: ledger: mypy failed" in checked.stderr
    assert 'ledger/models/pagination.py:12: error: Unused "type: ignore" comment' in checked.stderr
    assert "python -m mypy" in checked.stderr.splitlines()[-1]  # the command that reproduces it


# --- validate: every real template asks questions without defaults, supplied with --data


def validated(template: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """`asgigen validate --json` of `template` (one case: its defaults under Uvicorn)."""
    result = run_asgigen(
        "validate", "--template", str(template), "--json", "-j", "1", *args,
        cwd=template.parent, env=env, timeout=900,
    )  # fmt: skip
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    steps = {step["name"]: step for step in report["variants"][0]["steps"]}
    return result, report, steps


def test_validate_a_poetry_template_in_a_subfolder_is_green(tmp_path: Path) -> None:
    template = clone("jordanmarcelino-copier-fastapi-ml", tmp_path)
    result, report, steps = validated(
        template, "--data", "description=demo", "--data", "author_name=Ann",
        "--data", "postgres_password=pw", "--data", "postgres_database=db",
    )  # fmt: skip
    # Its project is found in {{project_slug}}/, its 15 tests pass, its OpenAPI paths answer.
    assert result.returncode == 0, result.stderr
    assert report["ok"] is True
    assert [case["name"] for case in report["cases"]] == ["default@uvicorn"]
    assert steps["tests"]["summary"].startswith("15 passed")
    assert steps["serve:uvicorn"]["status"] == "passed"
    assert "discovered, not declared" in steps["serve:uvicorn"]["summary"]


def test_validate_a_template_whose_app_has_no_routes_is_red(tmp_path: Path) -> None:
    template = clone("garrett-he-copier-python-fastapi", tmp_path)
    result, report, steps = validated(template, "--trust", *GARRETT_ANSWERS)
    # Its extension is provided before its questions are read; its one test passes; its app
    # answers 404 to everything: booted, nothing proved, and so the case fails.
    assert result.returncode == 1, result.stderr
    assert report["ok"] is False
    assert steps["render"]["status"] == "passed"
    assert steps["tests"]["summary"].startswith("1 passed")
    assert steps["serve:uvicorn"]["status"] == "failed"
    assert steps["serve:uvicorn"]["summary"].startswith("booted; nothing proved")
    assert "error: 1 of 1 cases failed: default@uvicorn" in result.stderr


def test_validate_a_template_failing_its_own_strict_mypy_is_red(tmp_path: Path) -> None:
    template = clone("worldworm-copier-fastapi", tmp_path)
    tools = tmp_path / "bin"  # its task runs `poetry install`: a stand-in
    tools.mkdir()
    (tools / "poetry").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (tools / "poetry").chmod(0o755)
    env = asgigen_env(PATH=f"{tools}:{asgigen_env()['PATH']}")
    result, report, steps = validated(
        template, "--trust", "--data", "repository_username=ann",
        "--data", "project_description=demo", env=env,
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
