"""Pins the copier internals asgigen's one adapter relies on, across the supported range."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

from asgigen import copier_adapter

COPIER = Version(metadata.version("copier"))


def test_open_template_reads_questions_and_undeclared_settings(team_template_repo: Path) -> None:
    with copier_adapter.open_template(str(team_template_repo), "v1.0.0") as template:
        assert template.commit == "v1.0.0"
        assert set(template.questions) == {"service_name", "module_name", "pong", "with_contract"}
        # copier keeps settings it does not know, so `_asgigen` reaches asgigen.
        assert template.config["_asgigen"]["name_question"] == "service_name"
        clone = template.path
        assert (clone / "copier.yml").is_file()
    assert not clone.exists()  # the clone is removed on exit


def test_render_uses_the_loaded_clone_and_records_the_version(
    team_template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copier import _template

    with copier_adapter.open_template(str(team_template_repo), "v1.0.0") as template:
        clones: list[str] = []
        real_clone = _template.clone  # what copier's Template calls to clone a git template
        monkeypatch.setattr(
            _template, "clone", lambda *a, **k: clones.append(str(a[0])) or real_clone(*a, **k)
        )
        answers = copier_adapter.render(
            template, tmp_path / "svc", {"service_name": "svc"}, ask=False, trust=False
        )
    assert clones == []  # rendered from the clone open_template made: one clone, not two
    assert answers["module_name"] == "svc_svc"
    recorded = (tmp_path / "svc" / ".copier-answers.yml").read_text()
    assert "_commit: v1.0.0" in recorded


def test_the_skipped_git_sync_is_a_method_copier_has_or_predates() -> None:
    from copier._main import Worker

    worker = copier_adapter._fresh_copy_worker()
    if Version("9.15") <= COPIER:
        # If copier renames it, our override silently stops saving a git call per file.
        assert hasattr(Worker, "_sync_git_index_executable_bit")
        assert worker._sync_git_index_executable_bit is not Worker._sync_git_index_executable_bit
    else:
        assert not hasattr(Worker, "_sync_git_index_executable_bit")
