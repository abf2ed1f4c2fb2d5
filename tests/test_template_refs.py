"""--vcs-ref: a ref a git template does not have is named with the tags it has; with the
built-in template it renders a released version from the history asgigen ships, or is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from asgigen import template_history
from tests.conftest import run_asgigen

pytestmark = pytest.mark.e2e

BUNDLE = Path(__file__).parent / "fixtures" / "real_templates" / "worldworm-copier-fastapi.bundle"


def error_and_hint(stderr: str) -> tuple[str, str]:
    lines = stderr.strip().splitlines()
    return lines[-2], lines[-1]


def test_a_wrong_ref_names_the_ref_and_the_tags(tmp_path: Path) -> None:
    template = tmp_path / "template"
    subprocess.run(["git", "clone", "--quiet", str(BUNDLE), str(template)], check=True)
    result = run_asgigen(
        "new", "x", "--template", str(template), "--vcs-ref", "v9.9", "--defaults", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    error, hint = error_and_hint(result.stderr)
    assert error == f"error: template {template} has no ref 'v9.9'"
    assert hint == (
        "hint: its tags: v1.0.0, v1.1.0, v1.1.1, v1.1.2; --vcs-ref takes a tag, a branch or a "
        "commit"
    )
    assert not (tmp_path / "x").exists()


def test_an_unknown_builtin_version_is_refused_with_the_released_ones(tmp_path: Path) -> None:
    result = run_asgigen("new", "x", "--vcs-ref", "0.0.1", "--no-check", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    error, hint = error_and_hint(result.stderr)
    assert error == "error: --vcs-ref 0.0.1: the built-in template has no such version"
    assert hint.startswith("hint: released versions: 0.1.0, ")
    assert not (tmp_path / "x").exists()


def test_a_builtin_version_renders_that_release(tmp_path: Path) -> None:
    old = template_history.released_versions()[-2]
    result = run_asgigen(
        "new", "oldie", "--vcs-ref", old, "--style", "raw", "--no-check", "--no-git", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((tmp_path / "oldie" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == old
    assert answers["_src_path"] == "asgigen:builtin"
    assert f"built-in {old} template" in result.stderr
