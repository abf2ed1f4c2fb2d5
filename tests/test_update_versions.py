"""Projects made with any shipped version of the built-in template update to the current one.

For every released version older than the live template, and every style: render the project
as that version did, commit, make an owner's edits (a changed line, a new module, a new test),
run `asgigen update`, then check that any conflict is reported (exit 1, named) and that the
project is exactly the current version's rendering plus the owner's edits, file for file.

Two kinds of case stand for others, so that the matrix costs only what it proves:
- A release that left a style alone renders that style byte for byte as an older version did
  (SAME_RENDERING): updating such a project is the same merge (the same base, the same owner's
  files, the same target; only the answers file's `_commit` differs, which the merge leaves
  out), so the older version's case stands for it, after proving that the renders are
  identical.
- `--pretend` is the same update on a throwaway clone: it is proved once per style, from the
  oldest version, which has the most to merge.

Every version of a style updates to the same project, and that project is the current
rendering plus three plain edits, so `asgigen check` proves it once: for fastapi
(test_the_updated_fastapi_project_passes_check). The current rendering of every style passes
`check` in tests/test_e2e.py::test_new_generates_and_proves_each_style, and a raw project
updated across built-in versions passes the verified update's proof in
tests/test_verified_update.py::test_an_update_across_builtin_versions_is_proved_before_it_is_written.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import generate, naming
from asgigen import template_history as history
from tests.conftest import CliResult
from tests.test_update import commit_all

STYLES = ["raw", "routed", "fastapi"]
OLD_VERSIONS = [v for v in history.released_versions() if v != history.template_version()]
OLDEST = OLD_VERSIONS[0] if OLD_VERSIONS else ""
DESCRIPTION = 'description = "An ASGI service"'
MINE = 'description = "The shop we run"'
EXTRA = "def double(value: int) -> int:\n    return 2 * value\n"
EXTRA_TEST = (
    "from shop.extra import double\n\n\ndef test_double() -> None:\n    assert double(21) == 42\n"
)

# (version, style) → the older version whose rendering of the style it repeats, byte for byte
# but for the answers file: the release changed other styles only. Its case is the older
# version's, which renders it and asserts so. A new release is in the matrix for every style
# until it is listed here.
SAME_RENDERING: dict[tuple[str, str], str] = {
    ("0.3.1", "raw"): "0.3.0",
    ("0.3.5", "raw"): "0.3.4",
    ("0.3.6", "raw"): "0.3.4",
    ("0.3.6", "routed"): "0.3.5",
    ("0.3.1", "fastapi"): "0.3.0",
    ("0.3.2", "fastapi"): "0.3.0",
    ("0.3.3", "fastapi"): "0.3.0",
}
# Updated, with --pretend and `check`, by test_the_updated_fastapi_project_passes_check.
CHECKED = (OLDEST, "fastapi")
MATRIX = [
    (version, style)
    for version in OLD_VERSIONS
    for style in STYLES
    if (version, style) not in SAME_RENDERING and (version, style) != CHECKED
]


def stood_for(version: str, style: str) -> list[str]:
    """The versions whose update of `style` the case of `version` stands for."""
    return [v for (v, s), same in SAME_RENDERING.items() if s == style and same == version]


def render_version(repo: Path, version: str, target: Path, style: str) -> Path:
    """The project `asgigen new --style STYLE` made when `version` was the live template,
    rendered from the history repository `repo` (tests/test_verified_update.py uses it)."""
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
def released(history_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each version's template as a plain directory, written out of the history once per
    module: as `asgigen new` rendered it when it was live (from the installed package, not
    from git), and without a clone of the history per render."""
    exported: dict[str, Path] = {}

    def of(version: str) -> Path:
        if version not in exported:
            archive = subprocess.run(
                ["git", "archive", "--format=tar", f"refs/tags/{version}"],
                cwd=history_repo, capture_output=True, check=True,
            )  # fmt: skip
            target = tmp_path_factory.mktemp(f"template-{version}") / "template"
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(target, filter="tar")
            exported[version] = target
        return exported[version]

    return of


def render_released(template: Path, version: str, target: Path, style: str) -> Path:
    """render_version, from the version's template written out by `released`."""
    from copier import run_copy

    run_copy(
        str(template),
        target,
        data={"project_name": target.name, "style": style},
        defaults=True,
        quiet=True,
        unsafe=True,
    )
    generate.record_builtin_source(target / generate.ANSWERS_FILE, version)
    return target


@pytest.fixture(scope="module")
def current_files(
    live_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, bytes]]:
    """The files the current version renders for a style: the same for every old version, so
    rendered once per style."""
    rendered: dict[str, dict[str, bytes]] = {}

    def of(style: str) -> dict[str, bytes]:
        if style not in rendered:
            target = tmp_path_factory.mktemp(f"new-{style}") / "shop"
            newest = history.template_version()
            rendered[style] = files(render_released(live_template, newest, target, style))
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


def without_answers(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {name: text for name, text in tree.items() if name != generate.ANSWERS_FILE}


def update_with_owners_edits(
    run_cli: Callable[..., CliResult], project: Path, *, pretend: bool
) -> CliResult:
    """Commit the rendered `project`, then the owner's edits, then `update` it (--no-verify),
    after `update --pretend` if asked, whose output must announce the same move."""
    version = generate.load_yaml((project / generate.ANSWERS_FILE).read_text())["_commit"]
    newest = history.template_version()
    commit_all(project, f"made with template {version}")
    pyproject = project / "pyproject.toml"
    assert DESCRIPTION in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(DESCRIPTION, MINE))
    (project / "src/shop/extra.py").write_text(EXTRA)
    (project / "tests/test_extra.py").write_text(EXTRA_TEST)
    commit_all(project, "the owner's edits")

    # --no-verify: `asgigen check` proves the updated project (test_the_updated_fastapi_
    # project_passes_check), so the verified update's own proof of the merged copy would run
    # the same proof again per version; that proof is tested in tests/test_verified_update.py.
    if pretend:
        before = files(project)
        preview = run_cli("update", "--pretend", "--no-verify", str(project))
        assert files(project) == before  # --pretend changed nothing
        assert f"shop: template {version} → {newest}; " in preview.stdout, preview.stderr
        assert f"what changed in the template:\n  {newest}\n" in preview.stdout
    return run_cli("update", "--no-verify", str(project))


def assert_updated(
    result: CliResult, project: Path, version: str, current: dict[str, bytes]
) -> None:
    """Any conflict is named, and the project is the current rendering plus the edits."""
    newest = history.template_version()
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
    expected = expected_project(current)
    assert sorted(updated) == sorted(expected)
    for name, text in expected.items():
        assert updated[name] == text, f"{name} differs from template {newest} plus the edits"
    assert f"_commit: '{newest}'" in (project / generate.ANSWERS_FILE).read_text()


def test_every_shipped_version_and_style_has_a_case() -> None:
    # Each (version, style) is updated by its own case, by the case of the version whose
    # rendering it repeats, or by the check of the updated fastapi project.
    assert set(SAME_RENDERING) <= {(v, s) for v in OLD_VERSIONS for s in STYLES}
    for (version, style), same in SAME_RENDERING.items():
        assert (same, style) in MATRIX  # whose case renders it and asserts the same files
        assert OLD_VERSIONS.index(same) < OLD_VERSIONS.index(version)
    covered = set(MATRIX) | set(SAME_RENDERING) | ({CHECKED} if OLD_VERSIONS else set())
    assert covered == {(v, s) for v in OLD_VERSIONS for s in STYLES}
    # The tuned releases (0.3.3 to 0.3.6) get plain code back in every style they changed.
    for version in ("0.3.3", "0.3.4", "0.3.5", "0.3.6"):
        if version in OLD_VERSIONS:
            assert [s for s in STYLES if (version, s) in MATRIX], version


@pytest.mark.e2e
@pytest.mark.skipif(not OLD_VERSIONS, reason="only the live version is released")
@pytest.mark.parametrize(("version", "style"), MATRIX, ids=[f"{v}-{s}" for v, s in MATRIX])
def test_project_from_a_shipped_version_updates_to_the_current_one(
    run_cli: Callable[..., CliResult],
    released: Callable[[str], Path],
    live_template: Path,
    current_files: Callable[[str], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    version: str,
    style: str,
) -> None:
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live_template)
    project = render_released(released(version), version, tmp_path / "old" / "shop", style)
    rendered = without_answers(files(project))
    for same in stood_for(version, style):  # so this update is theirs too
        other = render_released(released(same), same, tmp_path / same / "shop", style)
        assert without_answers(files(other)) == rendered, f"{same} renders {style} otherwise"

    result = update_with_owners_edits(run_cli, project, pretend=version == OLDEST)

    assert_updated(result, project, version, current_files(style))


@pytest.mark.e2e
@pytest.mark.skipif(not OLD_VERSIONS, reason="only the live version is released")
def test_the_updated_fastapi_project_passes_check(
    run_cli: Callable[..., CliResult],
    released: Callable[[str], Path],
    live_template: Path,
    current_files: Callable[[str], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Every old version of a style updates to the same files (the test above asserts each is
    # the current rendering plus the owner's edits), so proving one proves them all: the
    # oldest, which has the most to merge.
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live_template)
    version, style = CHECKED
    project = render_released(released(version), version, tmp_path / "old" / "shop", style)

    result = update_with_owners_edits(run_cli, project, pretend=True)

    assert_updated(result, project, version, current_files(style))
    subprocess.run(["git", "add", "--all"], cwd=project, check=True)
    checked = run_cli("check", str(project))
    assert checked.exit_code == 0, checked.stdout + checked.stderr


@pytest.mark.e2e
def test_a_longer_package_name_recorded_before_the_limit_still_updates(
    run_cli: Callable[..., CliResult],
    released: Callable[[str], Path],
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
    project = render_released(released("0.3.4"), "0.3.4", tmp_path / name, "raw")
    commit_all(project, "made with template 0.3.4")

    # --no-verify: this test is about the merge accepting the recorded name. A verified update
    # truthfully refuses this project: with a name past the limit the rendered code is not
    # ruff-clean (an import line too long to leave unwrapped): why naming.MAX_PACKAGE_NAME_LENGTH.
    result = run_cli("update", "--no-verify", str(project))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"template 0.3.4 → {history.template_version()}" in result.stdout
    answers = (project / generate.ANSWERS_FILE).read_text(encoding="utf-8")
    assert f"package_name: {naming.derive_package_name(name)}\n" in answers
