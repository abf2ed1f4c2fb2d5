"""How a check saves time without doing less: its boots run beside the project's tests, and
bytecode is kept in the check environment (never in the project's tree)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

from asgigen import check, environments
from asgigen.steps import StepResult, project_env

PYPROJECT = """\
[project]
name = "speedy"
version = "0"

[tool.asgigen]
app = "speedy:app"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    env = environments.Environment(sys.executable, tmp_path / "venv", None)
    monkeypatch.setattr(environments, "cached_environment", lambda *args, **kwargs: env)
    return tmp_path


def test_the_boot_runs_while_the_tests_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests step finishes only once a boot has started: run one after the other, the
    # tests would wait in vain (and fail), and no boot would ever start.
    booted = threading.Event()

    def tests(python: str, project: check.Project, services: object = None) -> StepResult:
        ok = booted.wait(timeout=60)
        return StepResult("tests", "passed" if ok else "failed", 0.0, "waited for the boot")

    def boot(python: str, project: check.Project, spec: object, services: object) -> StepResult:
        booted.set()
        return StepResult("serve:uvicorn", "passed", 0.0, "booted")

    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    report = check.run_checks(project, with_gates=False)
    assert [(step.name, step.status) for step in report.steps] == [
        ("tests", "passed"),
        ("serve:uvicorn", "passed"),
    ]


def test_with_services_the_tests_share_the_boots_run_after_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service whose URL the tests get too (test-url-env): tests first, then the boot.
    text = PYPROJECT + '[tool.asgigen.services]\nsqlite = { url-env = "DB", test-url-env = "DB" }\n'
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    order: list[str] = []

    def tests(python: str, project: check.Project, services: object = None) -> StepResult:
        order.append("tests")
        return StepResult("tests", "passed", 0.0, "")

    def boot(python: str, project: check.Project, spec: object, services: object) -> StepResult:
        order.append("boot")
        return StepResult("serve:uvicorn", "passed", 0.0, "")

    monkeypatch.setattr(check, "run_tests", tests)
    monkeypatch.setattr(check, "boot", boot)
    report = check.run_checks(project, with_gates=False)
    assert order == ["tests", "boot"]
    assert [step.name for step in report.steps] == ["service:sqlite", "tests", "serve:uvicorn"]


def test_bytecode_lives_in_the_check_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = str(venv / "bin" / "python")
    # An environment asgigen built has its bytecode directory: read and written there.
    (venv / environments.BYTECODE).mkdir()
    env = project_env(python=python)
    assert env["PYTHONPYCACHEPREFIX"] == str(venv / environments.BYTECODE)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    # Any other interpreter: no bytecode written at all, so none lands in the project.
    other = project_env(python=sys.executable)
    assert other["PYTHONDONTWRITEBYTECODE"] == "1"
    assert other.get("PYTHONPYCACHEPREFIX") != str(venv / environments.BYTECODE)


def test_an_environment_compiles_a_module_when_first_imported_and_keeps_it(tmp_path: Path) -> None:
    # Not at install: most of what an environment holds is never imported by a check.
    venv = tmp_path / "venv"
    environments._install(environments.uv_binary(), venv, sys.executable, ["iniconfig"], tmp_path)
    python = str(venv / "bin" / "python")
    kept = venv / environments.BYTECODE
    (site_packages,) = venv.glob("lib/python*/site-packages")
    assert not list(kept.rglob("iniconfig/*.pyc"))
    subprocess.run([python, "-c", "import iniconfig"], env=project_env(python=python), check=True)
    # Compiled on that import, into the environment's bytecode directory, where the next
    # command finds it; nothing beside the package's sources.
    assert list(kept.rglob("iniconfig/__init__.*.pyc"))
    assert not (site_packages / "iniconfig" / "__pycache__").exists()


# --- mypy: a new project's cache starts from the modules its environment provides


def mypy_project(root: Path, name: str, count: str) -> Path:
    """A project whose tests/test_values.py (the same relative path in every such project)
    sets COUNT to `count`."""
    project = root / name
    (project / "src" / name).mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\n[tool.mypy]\nstrict = true\nfiles = ["src", "tests"]\n',
        encoding="utf-8",
    )
    (project / "src" / name / "__init__.py").write_text(
        "import json\n\n\ndef dump(value: int) -> str:\n    return json.dumps(value)\n"
    )
    (project / "tests" / "test_values.py").write_text(f"COUNT: int = {count}\n")
    return project


def test_a_seeded_mypy_cache_never_trusts_another_projects_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgigen import gates, mypy_cache

    # An environment directory whose site-packages (this interpreter's, with mypy) is where
    # a check environment's would be; each project's mypy cache goes under it.
    environment = tmp_path / "env"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (environment / "lib" / version).mkdir(parents=True)
    (environment / "lib" / version / "site-packages").symlink_to(sysconfig.get_paths()["purelib"])
    seeded: list[Path | None] = []
    real_seed = mypy_cache.seed

    def recording_seed(*args: Path) -> Path | None:
        seeded.append(real_seed(*args))
        return seeded[-1]

    monkeypatch.setattr(mypy_cache, "seed", recording_seed)
    one = mypy_project(tmp_path, "one", "111")
    two = mypy_project(tmp_path, "two", '"1"')  # the same size, a type error
    moment = 1_700_000_000
    for project in (one, two):
        os.utime(project / "tests" / "test_values.py", (moment, moment))

    (first,) = gates.run_gates(sys.executable, one, ["mypy"], environment)
    assert first.status == "passed", first.output
    assert seeded == [None]  # the environment's first project: nothing to start from
    (second,) = gates.run_gates(sys.executable, two, ["mypy"], environment)
    # Seeded from one's cache, which has a module at tests/test_values.py of the same size
    # and mtime: mypy would have trusted it and passed. Only the environment's modules came.
    assert seeded[1] is not None
    assert seeded[1].parent == environment / "mypy-cache"
    assert second.status == "failed", second.output
    assert "tests/test_values.py:1: error: Incompatible types in assignment" in second.output


def make_cache(root: Path, keys: list[str]) -> Path:
    """A mypy cache of the file-per-module layout holding `keys` (paths under 3.11/)."""
    (root / "3.11").mkdir(parents=True)
    (root / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    for key in keys:
        (root / "3.11" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "3.11" / key).write_text("{}")
    return root


def test_strip_keeps_the_environments_modules_in_either_layout(tmp_path: Path) -> None:
    import sqlite3

    from asgigen.mypy_cache import strip

    keys = [
        "fastapi/routing.meta.json",
        "fastapi/__init__.data.json",
        "typing.meta.json",
        "shop/app.meta.json",
        "tests.meta.json",
        "@plugins_snapshot.json",
    ]
    kept = ["fastapi/routing.meta.json", "fastapi/__init__.data.json", "typing.meta.json"]
    files = make_cache(tmp_path / "files", keys)
    strip(files, {"fastapi", "typing"}.__contains__)
    modules = files / "3.11"
    left = sorted(str(p.relative_to(modules)) for p in modules.rglob("*") if p.is_file())
    assert left == sorted([*kept, "@plugins_snapshot.json"])
    assert (files / "CACHEDIR.TAG").is_file()

    database = make_cache(tmp_path / "sqlite", []) / "3.11" / "cache.0.db"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE files2 (path TEXT UNIQUE NOT NULL, mtime REAL, data BLOB)")
    rows = [(key.replace(".json", ".ff"), 1.0, b"") for key in keys]
    connection.executemany("INSERT INTO files2 VALUES (?, ?, ?)", rows)
    connection.commit()
    connection.close()
    strip(database.parent.parent, {"fastapi", "typing"}.__contains__)
    connection = sqlite3.connect(database)
    left = sorted(row[0] for row in connection.execute("SELECT path FROM files2"))
    connection.close()
    assert left == sorted(key.replace(".json", ".ff") for key in [*kept, "@plugins_snapshot.json"])


def fake_environment(root: Path, *packages: str) -> Path:
    """A check environment's directory whose site-packages holds `packages`."""
    for package in packages:
        (root / "lib" / "python3.11" / "site-packages" / package).mkdir(parents=True)
    (root / "mypy-cache").mkdir()
    return root


def test_seed_skips_a_busy_cache_and_one_it_cannot_read(tmp_path: Path) -> None:
    import fcntl

    from asgigen.mypy_cache import seed

    environment = fake_environment(tmp_path / "envs" / "one", "fastapi")
    project = tmp_path / "shop"
    (project / "src" / "shop").mkdir(parents=True)
    caches = environment / "mypy-cache"
    readable = make_cache(caches / "a", ["fastapi.meta.json", "shop.meta.json"])
    busy = make_cache(caches / "b", ["fastapi.meta.json"])
    odd = make_cache(caches / "c", ["fastapi.meta.json"])
    (odd / "3.11" / "cache.db-wal").write_text("")  # a layout this version does not know
    for age, path in enumerate([odd, busy, readable]):  # newest first: odd, busy, readable
        os.utime(path, (2_000_000 - age, 2_000_000 - age))
    target = caches / "new"
    with open(caches / "b.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a mypy run is writing b
        assert seed(target, project, environment) == readable
    assert sorted(p.name for p in (target / "3.11").iterdir()) == ["fastapi.meta.json"]
    # Nothing half-made is left beside the caches.
    assert sorted(p.name for p in caches.iterdir() if p.is_dir()) == ["a", "b", "c", "new"]


def test_seed_takes_another_environments_cache_the_most_alike_first(tmp_path: Path) -> None:
    from asgigen.mypy_cache import seed

    envs = tmp_path / "envs"
    environment = fake_environment(envs / "servers", "fastapi", "pydantic", "daphne")
    project = tmp_path / "shop"
    (project / "src" / "shop").mkdir(parents=True)
    # With no cache anywhere, mypy starts cold.
    assert seed(environment / "mypy-cache" / "new", project, environment) is None
    assert list((environment / "mypy-cache").iterdir()) == []
    raw = fake_environment(envs / "raw", "uvicorn")
    fastapi = fake_environment(envs / "fastapi", "fastapi", "pydantic")
    newer = make_cache(raw / "mypy-cache" / "r", ["typing.meta.json"])
    alike = make_cache(fastapi / "mypy-cache" / "f", ["fastapi.meta.json", "typing.meta.json"])
    os.utime(alike, (1_000_000, 1_000_000))
    os.utime(newer, (2_000_000, 2_000_000))
    target = environment / "mypy-cache" / "new"
    assert seed(target, project, environment) == alike  # two packages in common, not none
    # typing: mypy's typeshed is not in this fake environment, so it goes too.
    assert sorted(p.name for p in (target / "3.11").iterdir()) == ["fastapi.meta.json"]
