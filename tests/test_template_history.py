"""The built-in template's history: every released version kept, and the version bump policy.

Policy: any change to templates/ that lands comes with a new version (an entry at the top of
asgigen/template_history/CHANGELOG.md) and its snapshot (`python scripts/snapshot_template.py`).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from asgigen import template_history as history
from asgigen.template import builtin_template
from tests.template_tree import build_file_tree

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def released_tree(version: str, tmp_path: Path) -> tuple[str | None, str]:
    """(the tree released as `version` or None, the live template's tree), as git tree ids."""
    repo = history.open_repo(tmp_path / "history")
    return history.tag_tree(repo, version), history.tree_of(builtin_template(), repo)


def test_live_template_is_the_released_snapshot_of_its_version(tmp_path: Path) -> None:
    version = history.template_version()
    released = history.released_versions()
    snapshot, live = released_tree(version, tmp_path)
    assert snapshot is not None, (
        f"template {version} (the top entry of {history.CHANGELOG.name}) has no snapshot yet: "
        f"run `{history.SNAPSHOT_COMMAND}` (released so far: {', '.join(released)})"
    )
    assert snapshot == live, (
        f"templates/ changed since {version} was released: add an entry for the next version "
        f"at the top of asgigen/template_history/{history.CHANGELOG.name}, then run "
        f"`{history.SNAPSHOT_COMMAND}`"
    )


def test_every_version_the_golden_files_record_is_released() -> None:
    recorded = {
        match.group(1)
        for answers in GOLDEN.glob("*/.copier-answers.yml")
        if (match := re.search(r"^_commit: '?([^'\s]+)'?$", answers.read_text(), re.M))
    }
    assert recorded, "the golden answers files record no _commit"
    missing = sorted(recorded - set(history.released_versions()))
    assert not missing, (
        f"golden files record template {', '.join(missing)}, which has no snapshot: "
        f"run `{history.SNAPSHOT_COMMAND}`"
    )


def test_golden_files_record_the_live_version() -> None:
    for answers in GOLDEN.glob("*/.copier-answers.yml"):
        assert f"_commit: '{history.template_version()}'" in answers.read_text(), answers


def test_changelog_has_an_entry_per_release_newest_first() -> None:
    entries = history.changelog()
    versions = list(entries)
    keys = [history.version_key(version) for version in versions]
    assert keys == sorted(keys, reverse=True)
    assert len(set(keys)) == len(keys)
    assert set(history.released_versions()) <= set(versions)
    assert all(text.strip() for text in entries.values())
    assert history.version_key(versions[0]) >= history.version_key(history.released_versions()[-1])


def test_first_release_is_0_1_0_as_committed_at_4f81afd(tmp_path: Path) -> None:
    assert history.released_versions()[0] == "0.1.0"
    repo = history.open_repo(tmp_path / "history")
    expected = subprocess.run(
        ["git", "rev-parse", "4f81afd:templates"], cwd=ROOT, capture_output=True, text=True
    )
    if expected.returncode != 0:
        pytest.skip("not a git checkout with that commit")
    assert history.tag_tree(repo, "0.1.0") == expected.stdout.strip()


def test_changes_between_versions(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# x\n\n## 0.10.0\n\n- ten\n\n## 0.2.0\n\n- two\n\n## 0.1.0\n\n- one\n")
    assert history.template_version(changelog) == "0.10.0"
    assert history.changes_between("0.1.0", "0.10.0", changelog) == {
        "0.10.0": "- ten",
        "0.2.0": "- two",
    }
    assert history.changes_between("0.2.0", "0.2.0", changelog) == {}


def test_tree_ignores_caches_and_any_gitignore(tmp_path: Path) -> None:
    template = build_file_tree(
        tmp_path / "template",
        {"__pycache__/x.cpython-311.pyc": "\0", ".gitignore": "*.jinja\n", "a.txt.jinja": "a\n"},
    )
    repo = history.open_repo(tmp_path / "repo", bundle=None)
    tree = history.tree_of(template, repo)
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", tree], cwd=repo, capture_output=True, text=True
    ).stdout.split()
    assert listed == [".gitignore", "a.txt.jinja"]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("snapshot", ROOT / "scripts/snapshot_template.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snapshot_script_appends_and_refuses_to_rewrite_a_release(tmp_path: Path) -> None:
    script = _script()
    bundle = tmp_path / "history.bundle"
    first, second = tmp_path / "first", tmp_path / "second"
    for tree, text in ((first, "one\n"), (second, "two\n")):
        build_file_tree(tree, {"copier.yml": text})
    assert "recorded template 0.1.0" in script.snapshot(first, "0.1.0", bundle)
    assert "already recorded" in script.snapshot(first, "0.1.0", bundle)
    with pytest.raises(SystemExit, match="released with other content"):
        script.snapshot(second, "0.1.0", bundle)
    with pytest.raises(SystemExit, match=r"has no '## 9\.9\.9' entry"):
        script.snapshot(second, "9.9.9", bundle)
    newest = history.template_version()
    assert f"recorded template {newest}" in script.snapshot(second, newest, bundle)
    assert history.released_versions(bundle) == ["0.1.0", newest]
    other = tmp_path / "other.bundle"
    script.snapshot(second, newest, other)
    with pytest.raises(SystemExit, match=f"0.1.0 is not newer than the last release {newest}"):
        script.snapshot(first, "0.1.0", other)
    repo = history.open_repo(tmp_path / "clone", bundle)
    assert history.tag_tree(repo, newest) == history.tree_of(second, repo)
