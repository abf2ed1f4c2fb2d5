"""Projects made with any shipped version of the built-in template update to the current one.

For every released version older than the live template, and every style: render the project
as that version did, commit, make an owner's edits (a changed line, a new module, a new test),
run `asgigen update`, then check that any conflict is reported (exit 1, named) and that the
project is exactly the current version's rendering plus the owner's edits, file for file.

So every version of a style updates to the same project, and `asgigen check` proves that
project once per style (test_the_updated_project_passes_check) rather than once per version:
the nine checks of a style all checked identical files.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import generate, naming
from asgigen import template_history as history
from tests.conftest import CliResult
from tests.test_update import commit_all

STYLES = ["raw", "routed", "fastapi"]
OLD_VERSIONS = [v for v in history.released_versions() if v != history.template_version()]
DESCRIPTION = 'description = "An ASGI service"'
MINE = 'description = "The shop we run"'
EXTRA = "def double(value: int) -> int:\n    return 2 * value\n"
EXTRA_TEST = (
    "from shop.extra import double\n\n\ndef test_double() -> None:\n    assert double(21) == 42\n"
)


def render_version(repo: Path, version: str, target: Path, style: str) -> Path:
    """The project `asgigen new --style STYLE` made when `version` was the live template."""
    from copier import run_copy

    run_copy(
        str(repo),
        target,
        data={"project_name": target.name, "style": style},
        vcs_ref=version,
        defaults=True,
        quiet=True,
        unsafe=True,
    )
    generate.record_builtin_source(target / generate.ANSWERS_FILE, version)
    return target


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def live_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live template as it is now: a frozen copy, in case templates/ is being edited."""
    from asgigen.template import builtin_template

    frozen = tmp_path_factory.mktemp("live") / "template"
    shutil.copytree(builtin_template(), frozen, ignore=shutil.ignore_patterns("__pycache__"))
    return frozen


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory: pytest.TempPathFactory, live_template: Path) -> Path:
    repo = tmp_path_factory.mktemp("history") / "repo"
    return history.build_repo(repo, live_template, history.template_version())


@pytest.fixture(scope="module")
def current_files(
    history_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, bytes]]:
    """The files the current version renders for a style: the same for every old version, so
    rendered once per style."""
    rendered: dict[str, dict[str, bytes]] = {}

    def of(style: str) -> dict[str, bytes]:
        if style not in rendered:
            target = tmp_path_factory.mktemp(f"new-{style}") / "shop"
            rendered[style] = files(
                render_version(history_repo, history.template_version(), target, style)
            )
        return rendered[style]

    return of


def expected_project(current: dict[str, bytes]) -> dict[str, bytes]:
    """What an updated project holds: the current rendering with the owner's edits."""
    pyproject = current["pyproject.toml"].replace(DESCRIPTION.encode(), MINE.encode())
    return current | {
        "pyproject.toml": pyproject,
        "src/shop/extra.py": EXTRA.encode(),
        "tests/test_extra.py": EXTRA_TEST.encode(),
    }


def update_with_owners_edits(
    run_cli: Callable[..., CliResult], history_repo: Path, version: str, project: Path, style: str
) -> tuple[CliResult, CliResult]:
    """Render `project` with template `version`, commit the owner's edits, then `update
    --pretend` and `update` it (both --no-verify): their results."""
    render_version(history_repo, version, project, style)
    commit_all(project, f"made with template {version}")
    pyproject = project / "pyproject.toml"
    assert DESCRIPTION in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(DESCRIPTION, MINE))
    (project / "src/shop/extra.py").write_text(EXTRA)
    (project / "tests/test_extra.py").write_text(EXTRA_TEST)
    commit_all(project, "the owner's edits")

    before = files(project)
    # --no-verify: `asgigen check` proves the updated project (test_the_updated_project_passes_
    # check), so the verified update's own proof of the merged copy would run the same proof
    # twice; that proof is tested in tests/test_verified_update.py.
    preview = run_cli("update", "--pretend", "--no-verify", str(project))
    assert files(project) == before  # --pretend changed nothing
    return preview, run_cli("update", "--no-verify", str(project))


@pytest.mark.e2e
@pytest.mark.skipif(not OLD_VERSIONS, reason="only the live version is released")
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_project_from_a_shipped_version_updates_to_the_current_one(
    run_cli: Callable[..., CliResult],
    history_repo: Path,
    live_template: Path,
    current_files: Callable[[str], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    version: str,
    style: str,
) -> None:
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live_template)
    newest = history.template_version()
    project = tmp_path / "old" / "shop"
    preview, result = update_with_owners_edits(run_cli, history_repo, version, project, style)
    assert f"shop: template {version} → {newest}; " in preview.stdout, preview.stderr
    assert f"what changed in the template:\n  {newest}\n" in preview.stdout

    assert f"shop: template {version} → {newest}" in result.stdout, result.stderr
    assert "what changed in the template:" in result.stdout
    assert f"\n  {newest}\n" in result.stdout
    updated = files(project)
    conflicted = {name for name, text in updated.items() if b"\n<<<<<<< " in b"\n" + text}
    if result.exit_code == 1:  # conflicts are named, and only they hold markers
        named = result.stderr.splitlines()[0].split(": ", 2)[-1].split(", ")
        assert result.stderr.startswith("error: update left conflicts in"), result.stderr
        assert conflicted == set(named)
    else:
        assert result.exit_code == 0, result.stdout + result.stderr
        assert conflicted == set()
    if conflicted:
        pytest.fail(f"template {version} → {newest} conflicts with plain owner edits: {conflicted}")
    # The template's changes arrived, the owner's edits stayed, and nothing else is there: the
    # project is the current version's rendering plus the edits, answers file included
    # (`_commit` is the newest version).
    expected = expected_project(current_files(style))
    assert sorted(updated) == sorted(expected)
    for name, text in expected.items():
        assert updated[name] == text, f"{name} differs from template {newest} plus the edits"
    assert f"_commit: '{newest}'" in (project / generate.ANSWERS_FILE).read_text()


@pytest.mark.e2e
@pytest.mark.skipif(not OLD_VERSIONS, reason="only the live version is released")
@pytest.mark.parametrize("style", STYLES)
def test_the_updated_project_passes_check(
    run_cli: Callable[..., CliResult],
    history_repo: Path,
    live_template: Path,
    current_files: Callable[[str], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    style: str,
) -> None:
    # Every old version of a style updates to the same files (the test above asserts each is
    # the current rendering plus the owner's edits), so proving one proves them all: the
    # oldest, which has the most to merge.
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live_template)
    project = tmp_path / "old" / "shop"
    _, result = update_with_owners_edits(run_cli, history_repo, OLD_VERSIONS[0], project, style)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert files(project) == expected_project(current_files(style))
    subprocess.run(["git", "add", "--all"], cwd=project, check=True)
    checked = run_cli("check", str(project))
    assert checked.exit_code == 0, checked.stdout + checked.stderr


@pytest.mark.e2e
def test_a_longer_package_name_recorded_before_the_limit_still_updates(
    run_cli: Callable[..., CliResult],
    history_repo: Path,
    live_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # 0.3.5 refuses to choose an import name over naming.MAX_PACKAGE_NAME_LENGTH; a project
    # that recorded one before still updates: copier runs the template's validators again on
    # update, and those leave the length out.
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live_template)
    name = "a-shop-with-a-rather-long-name-past-the-limit"
    assert len(naming.derive_package_name(name)) > naming.MAX_PACKAGE_NAME_LENGTH
    project = render_version(history_repo, "0.3.4", tmp_path / name, "raw")
    commit_all(project, "made with template 0.3.4")

    # --no-verify: this test is about the merge accepting the recorded name. A verified update
    # truthfully refuses this project: with a name past the limit the rendered code is not
    # ruff-clean (an import line too long to leave unwrapped): why naming.MAX_PACKAGE_NAME_LENGTH.
    result = run_cli("update", "--no-verify", str(project))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"template 0.3.4 → {history.template_version()}" in result.stdout
    answers = (project / generate.ANSWERS_FILE).read_text(encoding="utf-8")
    assert f"package_name: {naming.derive_package_name(name)}\n" in answers
