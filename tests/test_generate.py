"""Generation is atomic: it either places a whole project or leaves the disk as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asgigen import generate
from asgigen.errors import BadInputError, TemplateError
from tests.conftest import snapshot

ROOT = Path(__file__).resolve().parent.parent


def _request(target: Path, template: Path, **kwargs: object) -> generate.GenerateRequest:
    return generate.GenerateRequest(
        target=target,
        template=template,
        defaults=True,
        interactive=False,
        **kwargs,  # type: ignore[arg-type]
    )


def test_renders_into_new_directory(tmp_path: Path, mini_template: Path) -> None:
    result = generate.new_project(_request(tmp_path / "out" / "my-shop", mini_template))
    assert result.path == tmp_path / "out" / "my-shop"
    assert result.answers["package_name"] == "my_shop"
    assert set(result.files) == {".copier-answers.yml", "pyproject.toml", "src/my_shop/app.py"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["my-shop"]


def test_dry_run_writes_nothing(tmp_path: Path, mini_template: Path) -> None:
    before = snapshot(tmp_path)
    result = generate.new_project(_request(tmp_path / "a" / "shop", mini_template, dry_run=True))
    assert "src/shop/app.py" in result.files
    assert snapshot(tmp_path) == before


def test_force_keeps_user_files_and_replaces_template_files(
    tmp_path: Path, mini_template: Path
) -> None:
    target = tmp_path / "shop"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "pyproject.toml").write_text("old")
    with pytest.raises(BadInputError, match="already exists and is not empty"):
        generate.new_project(_request(target, mini_template))
    generate.new_project(_request(target, mini_template, force=True))
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "pyproject.toml").read_text().startswith("[project]")


def test_empty_existing_directory_is_used(tmp_path: Path, mini_template: Path) -> None:
    (tmp_path / "shop").mkdir()
    generate.new_project(_request(tmp_path / "shop", mini_template))
    assert (tmp_path / "shop" / "src" / "shop" / "app.py").is_file()


def test_broken_template_leaves_nothing(tmp_path: Path, mini_template: Path) -> None:
    (mini_template / "routed" / "broken.txt.jinja").write_text("{% if %}\n")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(TemplateError, match="rendering the template failed"):
        generate.new_project(_request(work / "deep" / "er" / "shop", mini_template))
    assert list(work.iterdir()) == []


def test_interrupt_mid_render_leaves_nothing(
    tmp_path: Path, mini_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = generate._fresh_copy_worker()

    class Interrupted(worker):  # type: ignore[misc,valid-type]
        def run_copy(self) -> None:
            super().run_copy()  # files are on disk in the staging dir ...
            raise KeyboardInterrupt  # ... when Ctrl-C arrives

    monkeypatch.setattr(generate, "_fresh_copy_worker", lambda: Interrupted)
    work = tmp_path / "work"
    (work / "existing").mkdir(parents=True)
    (work / "existing" / "keep.txt").write_text("mine")
    before = snapshot(work)
    with pytest.raises(KeyboardInterrupt):
        generate.new_project(_request(work / "new" / "shop", mini_template))
    with pytest.raises(KeyboardInterrupt):
        generate.new_project(_request(work / "existing", mini_template, force=True))
    assert snapshot(work) == before


@pytest.fixture
def slow_template(mini_template: Path) -> Path:
    """Enough files that rendering takes a while, so a signal lands mid-way."""
    bulk = mini_template / "routed" / "bulk"
    bulk.mkdir()
    for index in range(3000):
        (bulk / f"f{index}.txt.jinja").write_text("{{ project_name }} " * 50)
    return mini_template


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_generation_leaves_nothing(
    tmp_path: Path, slow_template: Path, signum: int
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "CI": "true", "NO_COLOR": "1"}
    command = [
        sys.executable,
        "-m",
        "asgigen",
        "new",
        "shop",
        "--style",
        "routed",
        "--no-check",
        "--template",
        str(slow_template),
    ]
    process = subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        staged = [p for p in work.iterdir() if p.name.startswith(".shop.asgigen-")]
        if staged and any(staged[0].rglob("*.txt")):
            break
        time.sleep(0.005)
    else:
        pytest.fail("rendering never started")
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    expected = "error: interrupted" if signum == signal.SIGINT else "error: terminated"
    assert stderr.decode().strip().splitlines() == [expected]
    assert stdout == b""
    assert list(work.iterdir()) == []


def test_data_file_answers(tmp_path: Path, mini_template: Path) -> None:
    data = tmp_path / "answers.json"
    data.write_text('{"description": "From a file", "port": 9000}')
    answers = generate.load_data_file(data)
    result = generate.new_project(_request(tmp_path / "shop", mini_template, data=answers))
    assert result.answers["port"] == 9000
    assert 'description = "From a file"' in (tmp_path / "shop" / "pyproject.toml").read_text()


def test_fresh_copy_skips_only_a_method_copier_has() -> None:
    """The per-file git index sync that new projects skip is a real Worker method."""
    from copier._main import Worker

    worker = generate._fresh_copy_worker()
    assert issubclass(worker, Worker)
    skipped = "_sync_git_index_executable_bit"
    assert skipped in vars(worker)
    assert callable(getattr(Worker, skipped, None)), "copier renamed it: drop the override"
