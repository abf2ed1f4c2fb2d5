"""A verified update: the merge is proved in a scratch copy and written only when green.

The template is built here: a tiny copier template in a git repository with the tags v1,
v2+bad (a new route whose new test fails) and v2+good (the same route, its test right): copier
needs PEP 440 tags, so the variants of release 2 are local version labels.
Its projects carry a contract, so `check` proves them: their tests, then a boot with probes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_wheel_asgigen
from tests.scratch_dirs import left_over, temp_dir_in
from tests.template_tree import build_file_tree
from tests.test_update import commit_all, copy_project, git, tagged_repo

Cli = Callable[..., CliResult]

PYPROJECT = """\
[project]
name = "{{ name }}"
version = "1"
requires-python = ">=3.11"
dependencies = []

[project.optional-dependencies]
test = ["pytest>=8"]

[tool.pytest.ini_options]
pythonpath = ["."]

[tool.asgigen]
app = "svc.main:app"
pythonpath = ["."]
ready = "/ping"

[[tool.asgigen.http]]
path = "/ping"
body = "pong"
"""
APP = '''"""A plain ASGI service."""

ROUTES = {"/ping": b"pong"%s}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = ROUTES.get(scope["path"])
    status = 404 if body is None else 200
    body = b"not found" if body is None else body
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
'''
CALL = """import asyncio

from svc.main import app


def call(path):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "path": path, "method": "GET"}, receive, send))
    return sent[0]["status"], sent[1]["body"]
"""
TEST_PING = (
    "from tests.call import call\n\n\ndef test_ping():\n"
    "    assert call('/ping') == (200, b'pong')\n"
)
TEST_VERSION = (
    "from tests.call import call\n\n\ndef test_version():\n"
    "    assert call('/version') == (200, b'%s')\n"
)


def write_release(root: Path, release: str) -> Path:
    """v1; v2+bad: GET /version and a test expecting the wrong body; v2+good: the test right;
    v2+broken-probe: no route, no test, but a contract probe of GET /version; v2+bad-contract:
    a contract asgigen cannot read."""
    v2 = release in ("v2+bad", "v2+good")
    pyproject = PYPROJECT
    if release == "v2+bad-contract":
        pyproject = PYPROJECT.replace('app = "svc.main:app"', 'app = "svc.main"')
    files = {
        "copier.yml": "_answers_file: .copier-answers.yml\nname:\n  type: str\n  default: shop\n",
        "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
        ".gitignore": "*.local\n",
        "README.md.jinja": "# {{ name }}\n\n" + ("Now with a version.\n" if v2 else "Intro.\n"),
        "pyproject.toml.jinja": pyproject
        + (
            '\n[[tool.asgigen.http]]\npath = "/version"\nbody = "2"\n' if "probe" in release else ""
        ),
        "svc/__init__.py": "",
        "svc/main.py": APP % (', "/version": b"2"' if v2 else ""),
        "tests/__init__.py": "",
        "tests/call.py": CALL,
        "tests/test_ping.py": TEST_PING,
    }
    if v2:
        files["tests/test_version.py"] = TEST_VERSION % ("3" if release == "v2+bad" else "2")
    return build_file_tree(root, files)


def releases_repo(tmp: Path) -> Path:
    tags = ("v1", "v2+bad", "v2+bad-contract", "v2+broken-probe", "v2+good")  # PEP 440 order
    trees = {tag: write_release(tmp / f"tree-{tag}", tag) for tag in tags}
    return tagged_repo(tmp / "template", trees)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return releases_repo(tmp_path_factory.mktemp("releases"))


def state(project: Path) -> dict[str, str]:
    """A hash of every file under the project, .git's HEAD, index and objects included."""
    git(project, "status", "--porcelain")  # settle the index's stat cache before hashing
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


def kept_copy(stderr: str) -> Path:
    found = re.search(r"the merged copy is kept for inspection: cd ([^;\s]+)", stderr)
    assert found, stderr
    kept = Path(found[1])
    assert kept.is_dir()
    return kept


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The merged copies a red update keeps land under tmp_path, never in /tmp; each test
    removes the ones it provoked."""
    folder = temp_dir_in(monkeypatch, tmp_path / "tmp")
    yield folder
    assert left_over(folder) == []


@pytest.fixture
def shop(releases: Path, tmp_path: Path) -> Path:
    project = copy_project(str(releases), tmp_path / "shop", ref="v1")
    (project / "notes.local").write_text("the owner's ignored file\n")
    return project


@pytest.mark.e2e
def test_a_release_whose_new_test_fails_leaves_the_project_untouched(
    run_cli: Cli, shop: Path
) -> None:
    before = state(shop)

    result = run_cli("update", "--vcs-ref", "v2+bad", str(shop))

    assert result.exit_code == 1, result.stdout + result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert error.startswith("error: update to template v2+bad not applied, the project is")
    assert "tests/test_version.py::test_version" in error
    assert "  tests failed: 1 failed, 1 passed" in result.stdout
    assert state(shop) == before
    merged = kept_copy(result.stderr)
    try:
        assert (merged / "tests/test_version.py").read_text() == TEST_VERSION % "3"
        assert "_commit: v2+bad" in (merged / ".copier-answers.yml").read_text()
    finally:
        shutil.rmtree(merged.parent)
    assert "asgigen update --no-verify --vcs-ref v2+bad " in result.stderr

    applied = run_cli("update", "--vcs-ref", "v2+bad", "--no-verify", str(shop))

    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "proof: not proved (--no-verify)" in applied.stdout
    assert "tests   " not in applied.stderr  # no check ran
    assert (shop / "tests/test_version.py").read_text() == TEST_VERSION % "3"
    assert git(shop, "log", "--format=%s") == "initial\n"  # nothing committed for the user


@pytest.mark.e2e
def test_a_good_release_is_proved_and_applied_as_a_plain_update_would(
    run_cli: Cli, releases: Path, shop: Path, tmp_path: Path
) -> None:
    from asgigen.update import update_project

    plain = copy_project(str(releases), tmp_path / "plain" / "shop", ref="v1")
    update_project(plain, vcs_ref="v2+good")
    before = state(shop)
    preview = run_cli("update", "--pretend", "--vcs-ref", "v2+good", str(shop))
    assert preview.exit_code == 0, preview.stdout + preview.stderr
    assert "proof: all 2 checks passed on the merged project" in preview.stdout
    assert state(shop) == before

    result = run_cli("update", "--vcs-ref", "v2+good", str(shop))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "proof: all 2 checks passed on the merged project" in result.stdout
    assert re.search(r"tests +2 passed", result.stderr), result.stderr  # the new test ran
    assert re.search(r"serve +uvicorn .*GET /ping 200", result.stderr), result.stderr
    assert "review with `git diff`, then commit" in result.stdout
    assert (shop / "notes.local").read_text() == "the owner's ignored file\n"
    (shop / "notes.local").unlink()
    ours = {k: v for k, v in state(shop).items() if not k.startswith(".git/")}
    theirs = {k: v for k, v in state(plain).items() if not k.startswith(".git/")}
    assert ours == theirs
    assert git(shop, "status", "--porcelain") == git(plain, "status", "--porcelain")
    assert git(shop, "log", "--format=%s") == "initial\n"


@pytest.mark.e2e
def test_a_release_whose_probe_fails_names_the_probe(run_cli: Cli, shop: Path) -> None:
    before = state(shop)

    result = run_cli("update", "--vcs-ref", "v2+broken-probe", str(shop))

    assert result.exit_code == 1, result.stdout + result.stderr
    error = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    assert "not applied, the project is unchanged: serve:uvicorn failed: " in error
    assert "GET /version" in error
    assert re.search(r"tests +1 passed", result.stderr), result.stderr
    assert state(shop) == before
    shutil.rmtree(kept_copy(result.stderr).parent)


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_a_release_whose_contract_cannot_be_read_is_not_applied(run_cli: Cli, shop: Path) -> None:
    before = state(shop)

    result = run_cli("update", "--vcs-ref", "v2+bad-contract", str(shop))

    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[1] == (
        "error: update to template v2+bad-contract not applied, the project is unchanged: "
        "the merged project cannot be checked: shop: pyproject.toml [tool.asgigen]: "
        "app = 'svc.main' is not 'module:attribute'"
    )
    assert state(shop) == before
    assert (kept_copy(result.stderr) / "tests/test_ping.py").is_file()
    shutil.rmtree(kept_copy(result.stderr).parent)


@pytest.mark.e2e
def test_pretend_shows_the_proofs_verdict(run_cli: Cli, shop: Path) -> None:
    before = state(shop)

    result = run_cli("update", "--pretend", "--vcs-ref", "v2+bad", str(shop))

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "shop: template v1 → v2+bad; 4 file(s) would change:" in result.stdout
    assert "proof: the merged project fails:" in result.stdout
    assert "error: update to template v2+bad would fail: tests failed" in result.stderr
    assert "tests/test_version.py::test_version" in result.stderr
    assert state(shop) == before
    shutil.rmtree(kept_copy(result.stderr).parent)


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_conflicts_are_reported_before_any_proof(run_cli: Cli, shop: Path) -> None:
    (shop / "README.md").write_text("# shop\n\nMy own intro.\n")
    commit_all(shop, "mine")

    result = run_cli("update", "--vcs-ref", "v2+good", str(shop))

    assert result.exit_code == 1
    assert "  README.md: changed by you and by the template" in result.stdout
    assert result.stderr.splitlines()[0] == "error: update left conflicts in 1 file(s): README.md"
    assert "env " not in result.stderr  # no check ran
    assert "tests " not in result.stderr
    assert "proof:" not in result.stdout
    # as a plain update leaves them: the markers in the project, the rest of the merge beside
    assert "<<<<<<< " in (shop / "README.md").read_text()
    assert (shop / "tests/test_version.py").is_file()
    assert "README.md" in git(shop, "ls-files", "--unmerged")


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_an_update_that_changes_nothing_proves_nothing(run_cli: Cli, shop: Path) -> None:
    before = state(shop)
    result = run_cli("update", "--vcs-ref", "v1", str(shop))
    assert result.exit_code == 0, result.stderr
    assert "nothing changed" in result.stdout
    assert "proof:" not in result.stdout
    assert state(shop) == before


def test_no_scratch_copy_is_left_behind(
    run_cli: Cli, shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    result = run_cli("update", "--no-verify", "--vcs-ref", "v2+good", str(shop))
    assert result.exit_code == 0, result.stderr
    assert not [p for p in scratch.iterdir() if p.name.startswith("asgigen-update-")]
    assert (shop / "tests/test_version.py").is_file()


@pytest.mark.e2e
def test_an_update_across_builtin_versions_is_proved_before_it_is_written(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgigen import template_history as history
    from asgigen.template import builtin_template
    from tests.test_update_versions import render_version

    newest = history.template_version()
    older = [v for v in history.released_versions() if v != newest]
    if not older:
        pytest.skip("only the live version is released")
    live = tmp_path / "live"
    shutil.copytree(builtin_template(), live, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("asgigen.template.builtin_template", lambda: live)
    repo = history.build_repo(tmp_path / "history", live, newest)
    project = render_version(repo, older[-1], tmp_path / "shop", "raw")
    commit_all(project, f"made with template {older[-1]}")

    result = run_cli("update", str(project))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"shop: template {older[-1]} → {newest}; " in result.stdout
    assert re.search(r"^proof: all \d+ checks passed on the merged project$", result.stdout, re.M)
    assert re.search(r"^  tests +\d+ passed", result.stderr, re.M), result.stderr
    assert f"_commit: '{newest}'" in (project / ".copier-answers.yml").read_text()
    assert git(project, "log", "--format=%s") == f"made with template {older[-1]}\n"


@pytest.mark.e2e  # an update through a git template repository: copier runs and many git commands
def test_inside_a_larger_repository_only_the_projects_files_change(
    run_cli: Cli, releases: Path, tmp_path: Path
) -> None:
    monorepo = tmp_path / "mono"
    monorepo.mkdir()
    git(monorepo, "init", "--quiet")
    (monorepo / "ROOT.md").write_text("the monorepo\n")
    project = copy_project(str(releases), monorepo / "services" / "shop", ref="v1")  # commits
    assert git(monorepo, "status", "--porcelain") == ""
    (monorepo / "ROOT.md").write_text("an uncommitted edit outside the project\n")

    result = run_cli("update", "--no-verify", "--vcs-ref", "v2+good", str(project))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert (monorepo / "ROOT.md").read_text() == "an uncommitted edit outside the project\n"
    assert (project / "tests/test_version.py").read_text() == TEST_VERSION % "2"
    assert "Now with a version." in (project / "README.md").read_text()
    changed = {line[3:] for line in git(monorepo, "status", "--porcelain").splitlines()}
    assert "ROOT.md" in changed
    assert all(name == "ROOT.md" or name.startswith("services/shop/") for name in changed)


@pytest.mark.e2e
def test_from_the_built_wheel_a_red_release_is_refused_and_a_green_one_applied(
    wheel_asgigen: str, shop: Path
) -> None:
    def update(*args: str) -> subprocess.CompletedProcess[str]:
        return run_wheel_asgigen(wheel_asgigen, "update", *args, str(shop))

    before = state(shop)
    red = update("--vcs-ref", "v2+bad")
    assert red.returncode == 1, red.stdout + red.stderr
    assert "tests/test_version.py::test_version" in red.stderr
    assert state(shop) == before  # byte for byte
    shutil.rmtree(kept_copy(red.stderr).parent)

    green = update("--vcs-ref", "v2+good")

    assert green.returncode == 0, green.stdout + green.stderr
    assert (shop / "tests/test_version.py").read_text() == TEST_VERSION % "2"
