"""`asgigen update`: template changes arrive, the user's edits stay, conflicts are reported."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from asgigen import generate
from asgigen.errors import BadInputError, UpdateConflictError
from asgigen.update import TemplateVersion, build_history_repo, snapshot, update_project
from tests.conftest import CliResult
from tests.conftest import snapshot as tree_snapshot

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def git(project: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=project, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture
def versions(mini_template: Path, tmp_path: Path) -> list[TemplateVersion]:
    """Two releases of a template: 2.0.0 changes app.py and asks a new question."""
    v1 = mini_template
    for style in ("raw", "routed", "fastapi"):
        (v1 / style / "README.md.jinja").write_text("# {{ project_name }}\n\nIntro.\n")
    v2 = tmp_path / "template-v2"
    shutil.copytree(v1, v2)
    for style in ("raw", "routed", "fastapi"):
        app = v2 / style / "src" / "{{ package_name }}" / "app.py.jinja"
        app.write_text(app.read_text() + "GREETING = {{ greeting | python_string }}\n")
        (v2 / style / "README.md.jinja").write_text("# {{ project_name }}\n\nNew intro.\n")
    (v2 / "copier.yml").write_text(
        (v2 / "copier.yml").read_text() + "\ngreeting:\n  type: str\n  default: hello\n"
    )
    return [TemplateVersion("1.0.0", v1), TemplateVersion("2.0.0", v2)]


@pytest.fixture
def project(tmp_path: Path, versions: list[TemplateVersion]) -> Path:
    """A project made with version 1.0.0 of the built-in template, committed."""
    request = generate.GenerateRequest(
        target=tmp_path / "shop",
        template=versions[0].source,
        style="routed",
        defaults=True,
        interactive=False,
    )
    path = generate.new_project(request).path
    generate.record_builtin_source(path / generate.ANSWERS_FILE, "1.0.0")
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "initial")
    return path


def answers(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


def test_template_change_arrives_and_user_edit_stays(
    project: Path, versions: list[TemplateVersion]
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.mine]\nkeep = true\n")
    git(project, "commit", "--quiet", "-am", "my edit")

    result = update_project(project, history=versions, data={"greeting": "hi there"})

    assert (result.old_version, result.new_version) == ("1.0.0", "2.0.0")
    assert "[tool.mine]" in pyproject.read_text()  # the user's edit
    assert 'GREETING = "hi there"' in (project / "src/shop/app.py").read_text()  # the template's
    assert (project / "README.md").read_text() == "# shop\n\nNew intro.\n"
    recorded = answers(project)
    assert recorded["_commit"] == "2.0.0"
    assert recorded["_src_path"] == generate.BUILTIN_SOURCE  # no temporary path recorded
    assert recorded["greeting"] == "hi there"
    assert "src/shop/app.py" in result.changed


def test_conflicting_edit_leaves_markers_and_fails(
    project: Path, versions: list[TemplateVersion]
) -> None:
    (project / "README.md").write_text("# shop\n\nMy own intro.\n")
    git(project, "commit", "--quiet", "-am", "rewrite the intro")
    with pytest.raises(UpdateConflictError, match=r"conflicts in 1 file\(s\): README.md"):
        update_project(project, history=versions)
    readme = (project / "README.md").read_text()
    assert "<<<<<<<" in readme
    assert "My own intro." in readme
    assert "New intro." in readme


def test_update_from_another_install_location(
    project: Path, versions: list[TemplateVersion], tmp_path: Path
) -> None:
    # A teammate's asgigen lives elsewhere: the same versions, at other paths.
    elsewhere = []
    for entry in versions:
        moved = tmp_path / "other-install" / entry.version
        shutil.copytree(entry.source, moved)
        elsewhere.append(TemplateVersion(entry.version, moved))
    shutil.rmtree(versions[0].source)  # the original install is gone
    update_project(project, history=elsewhere)
    assert "GREETING" in (project / "src/shop/app.py").read_text()


def test_snapshots_work_as_history(
    project: Path, versions: list[TemplateVersion], tmp_path: Path
) -> None:
    archives = [
        TemplateVersion(v.version, snapshot(v.source, v.version, tmp_path / "history"))
        for v in versions
    ]
    assert [a.source.name for a in archives] == ["1.0.0.tar.gz", "2.0.0.tar.gz"]
    update_project(project, history=archives)
    assert "GREETING" in (project / "src/shop/app.py").read_text()


def test_history_repo_has_a_tag_per_version(
    versions: list[TemplateVersion], tmp_path: Path
) -> None:
    repo = build_history_repo(versions, tmp_path / "repo")
    assert git(repo, "tag").split() == ["1.0.0", "2.0.0"]


def test_dirty_tree_is_refused(project: Path, versions: list[TemplateVersion]) -> None:
    (project / "notes.txt").write_text("wip")
    with pytest.raises(BadInputError, match="has uncommitted changes") as info:
        update_project(project, history=versions)
    assert info.value.hint is not None
    assert "git add -A && git commit" in info.value.hint


def test_not_a_repository_is_refused(project: Path, versions: list[TemplateVersion]) -> None:
    shutil.rmtree(project / ".git")
    with pytest.raises(BadInputError, match="is not a git repository") as info:
        update_project(project, history=versions)
    assert info.value.hint is not None
    assert "git init" in info.value.hint


def test_unknown_version_is_refused(project: Path, versions: list[TemplateVersion]) -> None:
    with pytest.raises(BadInputError, match=r"template version 1\.0\.0, which this asgigen"):
        update_project(project, history=versions[1:])


def test_pretend_changes_nothing(
    project: Path, versions: list[TemplateVersion], monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgigen import update

    monkeypatch.setattr(update, "builtin_history", lambda: versions)
    before = tree_snapshot(project)
    result = update.preview_update(project)
    assert result.pretend
    assert "src/shop/app.py" in result.changed
    assert tree_snapshot(project) == before


def test_cli_update_of_a_fresh_project_reports_no_changes(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    made = run_cli("new", str(tmp_path / "fresh"), "--style", "raw", "--no-check")
    assert made.exit_code == 0, made.stderr
    result = run_cli("update", str(tmp_path / "fresh"))
    assert result.exit_code == 0, result.stderr
    assert "nothing changed" in result.stdout
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=tmp_path / "fresh",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status == ""


def test_cli_update_outside_git_is_exit_2(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    made = run_cli("new", str(tmp_path / "nogit"), "--style", "raw", "--no-check", "--no-git")
    assert made.exit_code == 0, made.stderr
    result = run_cli("update", str(tmp_path / "nogit"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == f"error: {tmp_path / 'nogit'} is not a git repository; the update merge needs one"
    )
    assert lines[1].startswith("hint: cd ")
