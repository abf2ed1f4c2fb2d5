"""`asgigen update`: template changes arrive, the owner's edits stay, conflicts are reported.

The templates here are tiny and self-contained (their own copier.yml), in two versions; they
reach update either as the built-in template's history (`history=`) or as a git repository
with a tag per version, the way a project made from any copier template records it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from asgigen import generate
from asgigen.errors import BadInputError
from asgigen.update import TemplateVersion, preview_update, update_project
from tests.conftest import CliResult
from tests.conftest import snapshot as tree_snapshot
from tests.template_tree import build_file_tree

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]

COPIER_YML = """\
_templates_suffix: .jinja
_answers_file: .copier-answers.yml
project_name:
  type: str
  default: shop
package_name:
  type: str
  default: "{{ project_name }}"
port:
  type: int
  default: 8000
"""
APP = '''"""The app."""

PORT = {{ port }}


def main() -> None:
    print("hello")
'''


def git(project: Path, *args: str) -> str:
    result = subprocess.run([*GIT, *args], cwd=project, capture_output=True, text=True, check=True)
    return result.stdout


def write_template(root: Path, version: int) -> Path:
    """Version 1, or version 2: a new question, a line added to app.py, a new README intro."""
    return build_file_tree(
        root,
        {
            "copier.yml": COPIER_YML
            + ("greeting:\n  type: str\n  default: hello\n" if version == 2 else ""),
            "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
            "README.md.jinja": "# {{ project_name }}\n\n"
            + ("New intro.\n" if version == 2 else "Intro.\n"),
            "pyproject.toml.jinja": '[project]\nname = "{{ project_name }}"\n',
            "src/{{ package_name }}/app.py.jinja": APP
            + ('\n\nGREETING = "{{ greeting }}"\n' if version == 2 else ""),
        },
    )


def tagged_repo(root: Path, versions: dict[str, Path]) -> Path:
    """A git repository with one commit per template version, tagged with its name."""
    root.mkdir(parents=True)
    git(root, "init", "--quiet")
    for tag, tree in versions.items():
        for child in root.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(tree, root, dirs_exist_ok=True)
        git(root, "add", "--all")
        git(root, "commit", "--quiet", "-m", f"release {tag}")
        git(root, "tag", tag)
    return root


def copy_project(source: str, target: Path, ref: str | None = None, **data: object) -> Path:
    """Render with plain copier, as any copier user would, then commit."""
    from copier import run_copy

    run_copy(source, target, data=data, vcs_ref=ref, defaults=True, quiet=True, unsafe=True)
    commit_all(target, "initial")
    return target


def commit_all(project: Path, message: str) -> None:
    if not (project / ".git").exists() and not _inside_git(project):
        git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def _inside_git(path: Path) -> bool:
    return (
        subprocess.run(["git", "rev-parse"], cwd=path, capture_output=True, check=False).returncode
        == 0
    )


def answers(project: Path) -> dict[str, object]:
    return dict(yaml.safe_load((project / ".copier-answers.yml").read_text()))


@pytest.fixture
def versions(tmp_path: Path) -> list[TemplateVersion]:
    v1 = write_template(tmp_path / "template-v1", 1)
    v2 = write_template(tmp_path / "template-v2", 2)
    return [TemplateVersion("1.0.0", v1), TemplateVersion("2.0.0", v2)]


@pytest.fixture
def project(tmp_path: Path, versions: list[TemplateVersion]) -> Path:
    """A project made with version 1.0.0 of a built-in template, committed."""
    from copier import run_copy

    path = tmp_path / "shop"
    run_copy(str(versions[0].source), path, defaults=True, quiet=True)
    generate.record_builtin_source(path / generate.ANSWERS_FILE, "1.0.0")
    commit_all(path, "initial")
    return path


def template_repo(tmp_path: Path) -> Path:
    """A template in git, tagged v1 and v2."""
    return tagged_repo(
        tmp_path / "template-repo",
        {
            "v1": write_template(tmp_path / "t1", 1),
            "v2": write_template(tmp_path / "t2", 2),
        },
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return template_repo(tmp_path)


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new))


def test_template_change_arrives_and_user_edit_stays(
    project: Path, versions: list[TemplateVersion]
) -> None:
    edit(project, "src/shop/app.py", '"""The app."""', '"""My app."""')
    (project / "NOTES.md").write_text("mine\n")
    commit_all(project, "my edits")

    result = update_project(project, history=versions, data={"greeting": "hi there"})

    assert (result.old_version, result.new_version) == ("1.0.0", "2.0.0")
    app = (project / "src/shop/app.py").read_text()
    assert '"""My app."""' in app  # the owner's edit
    assert 'GREETING = "hi there"' in app  # the template's change, with the new answer
    assert (project / "README.md").read_text() == "# shop\n\nNew intro.\n"
    assert (project / "NOTES.md").read_text() == "mine\n"
    recorded = answers(project)
    assert recorded["_commit"] == "2.0.0"
    assert recorded["_src_path"] == generate.BUILTIN_SOURCE  # no temporary path recorded
    assert recorded["greeting"] == "hi there"
    assert "src/shop/app.py" in result.changed
    assert result.conflicts == {}


def test_conflicting_edit_leaves_markers_and_is_named(
    project: Path, versions: list[TemplateVersion]
) -> None:
    (project / "README.md").write_text("# shop\n\nMy own intro.\n")
    commit_all(project, "rewrite the intro")
    result = update_project(project, history=versions)
    assert list(result.conflicts) == ["README.md"]
    readme = (project / "README.md").read_text()
    assert "<<<<<<<" in readme
    assert "My own intro." in readme
    assert "New intro." in readme


def test_conflict_rej_leaves_a_rej_file(project: Path, versions: list[TemplateVersion]) -> None:
    (project / "README.md").write_text("# shop\n\nMy own intro.\n")
    commit_all(project, "rewrite the intro")
    result = update_project(project, history=versions, conflict="rej")
    assert list(result.conflicts) == ["README.md"]
    assert "README.md.rej" in result.conflicts["README.md"]
    assert (project / "README.md.rej").is_file()
    assert "<<<<<<<" not in (project / "README.md").read_text()


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


def test_vcs_ref_moves_to_that_version(project: Path, versions: list[TemplateVersion]) -> None:
    result = update_project(project, history=versions, vcs_ref="1.0.0")
    assert (result.old_version, result.new_version) == ("1.0.0", "1.0.0")
    assert "GREETING" not in (project / "src/shop/app.py").read_text()


def test_unknown_vcs_ref_is_refused(project: Path, versions: list[TemplateVersion]) -> None:
    with pytest.raises(
        BadInputError, match=r"^--vcs-ref 9\.9\.9: no such template version$"
    ) as info:
        update_project(project, history=versions, vcs_ref="9.9.9")
    assert info.value.hint == "known versions: 1.0.0, 2.0.0"


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
    with pytest.raises(BadInputError, match=r"made with template version 1\.0\.0, which this"):
        update_project(project, history=versions[1:])


def test_pretend_changes_nothing(project: Path, versions: list[TemplateVersion]) -> None:
    before = tree_snapshot(project)
    result = preview_update(project, history=versions)
    assert result.pretend
    assert "src/shop/app.py" in result.changed
    assert tree_snapshot(project) == before


def test_git_template_moves_to_newest_tag(repo: Path, tmp_path: Path) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    edit(project, "src/shop/app.py", '"""The app."""', '"""My app."""')
    commit_all(project, "mine")
    result = update_project(project)
    assert (result.old_version, result.new_version) == ("v1", "v2")
    app = (project / "src/shop/app.py").read_text()
    assert '"""My app."""' in app
    assert 'GREETING = "hello"' in app
    assert answers(project)["_src_path"] == str(repo)


def test_template_directory_without_git_is_explained(tmp_path: Path) -> None:
    template = write_template(tmp_path / "plain-template", 1)
    project = copy_project(str(template), tmp_path / "shop")
    with pytest.raises(BadInputError, match="records no template version") as info:
        update_project(project)
    assert info.value.hint is not None
    assert "tag per release" in info.value.hint


# --- through the command line


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_cli_update_of_a_fresh_project_reports_no_changes(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    made = run_cli("new", str(tmp_path / "fresh"), "--style", "raw", "--no-check")
    assert made.exit_code == 0, made.stderr
    result = run_cli("update", str(tmp_path / "fresh"))
    assert result.exit_code == 0, result.stderr
    assert "nothing changed" in result.stdout
    status = git(tmp_path / "fresh", "status", "--porcelain")
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


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_cli_conflict_is_exit_1_and_named(
    run_cli: Callable[..., CliResult], repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    (project / "README.md").write_text("# shop\n\nMy own intro.\n")
    commit_all(project, "mine")
    result = run_cli("update", str(project))
    assert result.exit_code == 1
    assert "template v1 → v2" in result.stdout
    assert "  README.md: changed by you and by the template" in result.stdout
    assert result.stderr.splitlines()[0] == "error: update left conflicts in 1 file(s): README.md"


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_cli_defaults_and_skip_answered_never_prompt(
    run_cli: Callable[..., CliResult], repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    result = run_cli("update", str(project), "--defaults", "--skip-answered", "--no-verify")
    assert result.exit_code == 0, result.stderr
    assert answers(project)["greeting"] == "hello"  # the new question's default
    assert answers(project)["port"] == 8000  # the old answer kept


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_cli_check_says_behind_with_exit_3(
    run_cli: Callable[..., CliResult], repo: Path, tmp_path: Path
) -> None:
    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    behind = run_cli("update", "--check", str(project))
    assert behind.exit_code == 3, behind.stderr
    assert behind.stdout.startswith("shop: template v1 → v2 available")
    as_json = run_cli("update", "--check", "--json", str(project))
    assert as_json.exit_code == 3
    import json

    report = json.loads(as_json.stdout)
    assert report["current_version"] == "v1"
    assert report["latest_version"] == "v2"
    assert report["update_available"] is True
    assert run_cli("update", "--no-verify", str(project)).exit_code == 0
    commit_all(project, "update")
    current = run_cli("update", "--check", "--json", str(project))
    assert current.exit_code == 0
    assert json.loads(current.stdout)["update_available"] is False


def test_cli_check_of_a_fresh_builtin_project_is_current(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    made = run_cli("new", str(tmp_path / "fresh"), "--style", "raw", "--no-check")
    assert made.exit_code == 0, made.stderr
    result = run_cli("update", "--check", str(tmp_path / "fresh"))
    assert result.exit_code == 0, result.stderr
    assert "is the newest" in result.stdout


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_file_the_template_drops_but_the_owner_changed_is_kept(
    project: Path, versions: list[TemplateVersion], tmp_path: Path
) -> None:
    v3 = tmp_path / "template-v3"
    shutil.copytree(versions[1].source, v3)
    (v3 / "pyproject.toml.jinja").unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    commit_all(project, "my pyproject")

    result = update_project(project, history=[*versions, TemplateVersion("3.0.0", v3)])

    assert (project / "pyproject.toml").read_text() == '[project]\nname = "shop"\nversion = "1"\n'
    assert list(result.conflicts) == ["pyproject.toml"]
    assert result.conflicts["pyproject.toml"].startswith("yours, kept: template 3.0.0 no longer")


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_file_the_template_drops_unchanged_goes(
    project: Path, versions: list[TemplateVersion], tmp_path: Path
) -> None:
    v3 = tmp_path / "template-v3"
    shutil.copytree(versions[1].source, v3)
    (v3 / "pyproject.toml.jinja").unlink()
    result = update_project(project, history=[*versions, TemplateVersion("3.0.0", v3)])
    assert not (project / "pyproject.toml").exists()
    assert result.conflicts == {}


# --- at a terminal


def _asked(transcript: str) -> list[str]:
    from tests.test_interactive import ESCAPES

    # Each prompt is drawn again as it is answered: the questions once each, in order.
    return list(dict.fromkeys(re.findall(r"🎤 ?(\w+)", ESCAPES.sub("", transcript))))


@pytest.mark.parametrize(
    ("options", "asked"),
    [
        (["--skip-answered"], ["greeting"]),  # only the question v2 added
        ([], ["project_name", "package_name", "port", "greeting"]),  # copier asks all again
        (["--defaults"], []),
    ],
)
@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_at_a_terminal_update_asks_what_the_options_leave_open(
    repo: Path, tmp_path: Path, options: list[str], asked: list[str]
) -> None:
    from tests.test_interactive import drive

    project = copy_project(str(repo), tmp_path / "shop", ref="v1")
    asgigen = str(Path(sys.executable).parent / "asgigen")
    transcript = drive(
        [asgigen, "update", *options, "--no-verify", str(project)], tmp_path, {"greeting": "hey"}
    )
    assert _asked(transcript) == asked
    assert answers(project)["greeting"] == ("hello" if "--defaults" in options else "hey")
    assert answers(project)["port"] == 8000


def test_update_hooks_find_what_they_preset() -> None:
    """copier_adapter.run_update presets two cached properties; pin that they still are."""
    import dataclasses
    from functools import cached_property

    from copier._main import Worker
    from copier._subproject import Subproject

    assert isinstance(Worker.__dict__["template"], cached_property)
    assert isinstance(Subproject.__dict__["template"], cached_property)
    assert "_cleanup_hooks" in {f.name for f in dataclasses.fields(Subproject)}


def test_cli_json_without_check_is_refused(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = run_cli("update", "--json", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: --json goes with --check"
