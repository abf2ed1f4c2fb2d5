"""Generation is atomic: it either places a whole project or leaves the disk as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from asgigen import copier_adapter, generate
from asgigen.errors import BadInputError, TemplateError
from tests.conftest import CliResult, snapshot
from tests.template_tree import build_file_tree

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
    result = generate.new_project(_request(target, mini_template, force=True))
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "pyproject.toml").read_text().startswith("[project]")
    assert result.overwritten == ["pyproject.toml"]
    assert "notes.txt" not in result.files


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
    worker = copier_adapter._fresh_copy_worker()

    class Interrupted(worker):  # type: ignore[misc,valid-type]
        def run_copy(self) -> None:
            super().run_copy()  # files are on disk in the staging dir ...
            raise KeyboardInterrupt  # ... when Ctrl-C arrives

    monkeypatch.setattr(copier_adapter, "_fresh_copy_worker", lambda: Interrupted)
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
    assert process.returncode == 128 + signum, stderr  # 130 for SIGINT, 143 for SIGTERM
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

    worker = copier_adapter._fresh_copy_worker()
    assert issubclass(worker, Worker)
    skipped = "_sync_git_index_executable_bit"
    assert skipped in vars(worker)
    assert callable(getattr(Worker, skipped, None)), "copier renamed it: drop the override"


def test_style_options_are_refused_for_a_template_that_does_not_ask(tmp_path: Path) -> None:
    template = build_file_tree(
        tmp_path / "own",
        {
            "copier.yml": """
                service:
                  type: str
                  default: svc
            """,
            "README.md.jinja": "{{ service }}\n",
        },
    )
    for option in ("style", "package", "description"):
        with pytest.raises(BadInputError, match=rf"^--{option} is for templates that ask"):
            generate.new_project(_request(tmp_path / "out" / "x", template, **{option: "routed"}))
    assert not (tmp_path / "out").exists()


def test_a_declared_contract_lands_in_the_project(tmp_path: Path) -> None:
    from asgigen.contract import load_contract

    template = build_file_tree(
        tmp_path / "own",
        {
            "copier.yml": """
                _asgigen:
                  contract:
                    app: "{{ module }}.main:app"
                    ready: /ping
                    http:
                      - {path: /ping, body: 'pong from {{ module }}'}
                module:
                  type: str
                  default: svc
            """,
            "README.md.jinja": "{{ module }}\n",
        },
    )
    result = generate.new_project(_request(tmp_path / "api", template, data={"module": "billing"}))
    assert "asgigen.toml" in result.files
    contract = load_contract(result.path)
    assert (contract.source, contract.app, contract.ready) == (
        "asgigen.toml",
        "billing.main:app",
        "/ping",
    )
    assert [(p.method, p.path, p.body) for p in contract.http] == [
        ("GET", "/ping", "pong from billing")
    ]


# --- `new --force` into a directory holding the user's files (the built-in template)


def _users_directory(root: Path) -> Path:
    return build_file_tree(
        root / "shop",
        {
            "README.md": "my readme",
            ".gitignore": "my ignores\n",
            "notes.txt": "mine",
            "docs/plan.md": "my plan",
        },
    )


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


NEW = ("new", "shop", "--style", "raw", "--no-check")


def test_force_dry_run_marks_the_files_it_would_overwrite(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    target = _users_directory(tmp_path)
    before = snapshot(tmp_path)
    result = run_cli(*NEW, "--force", "--dry-run", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    marked = sorted(line for line in lines if line.endswith("  (overwrites yours)"))
    assert marked == [".gitignore  (overwrites yours)", "README.md  (overwrites yours)"]
    assert "src/shop/app.py" in lines
    assert not any("notes.txt" in line or "plan.md" in line for line in lines)
    assert snapshot(tmp_path) == before
    assert not (target / ".git").exists()


def test_force_names_what_it_overwrote_and_commits_only_template_files(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    target = _users_directory(tmp_path)
    result = run_cli(*NEW, "--force", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    overwrote = [line for line in result.stderr.splitlines() if "overwrote" in line]
    assert overwrote == ["  overwrote  2 existing file(s): .gitignore, README.md"]
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "docs" / "plan.md").read_text() == "my plan"
    assert (target / "README.md").read_text() != "my readme"
    # The commit holds what asgigen wrote and nothing of the user's own.
    tracked = _git(target, "ls-files").split()
    written = sorted(
        str(p.relative_to(target))
        for p in target.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(target).parts[:1]
    )
    assert sorted(tracked) == sorted(set(written) - {"notes.txt", "docs/plan.md"})
    assert "notes.txt" not in tracked
    assert "docs/plan.md" not in tracked
    assert "src/shop/app.py" in tracked
    assert _git(target, "log", "--format=%s").strip() == "Initial commit from asgigen"
    assert _git(target, "show", "--name-only", "--format=").split() == sorted(tracked)
    status = _git(target, "status", "--porcelain").splitlines()
    assert sorted(status) == ["?? docs/", "?? notes.txt"]


def test_a_directory_inside_a_git_repository_gets_no_commit(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    outer = tmp_path / "mono"
    outer.mkdir()
    _git(outer, "init", "--quiet")
    (outer / "README.md").write_text("the monorepo\n")
    _git(outer, "add", "README.md")
    _git(outer, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "first")
    head = _git(outer, "rev-parse", "HEAD")
    result = run_cli("new", "services/shop", "--style", "raw", "--no-check", cwd=outer)
    assert result.exit_code == 0, result.stderr
    assert not (outer / "services" / "shop" / ".git").exists()
    assert _git(outer, "rev-parse", "HEAD") == head
    assert _git(outer, "ls-files").split() == ["README.md"]  # nothing staged or committed
    assert _git(outer, "diff", "--cached", "--name-only") == ""
    assert f"inside the repository {outer.resolve()}: not committing" in result.stderr
