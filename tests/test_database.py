"""The database variants proved for real: `asgigen check` boots a fastapi project against a
real PostgreSQL, a throwaway one asgigen starts and removes, or the one the caller names; the
contract keys behind it (services, setup, captured probe values); compose.yaml's structure."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from asgigen import check, environments, generate, services
from asgigen.console import Console
from asgigen.contract import load_contract
from asgigen.errors import BadInputError
from asgigen.servers import SERVERS
from tests.conftest import asgigen_env, run_asgigen
from tests.inline_projects import use_this_python, write_files

pytestmark = pytest.mark.e2e
needs_postgres = pytest.mark.skipif(
    services.postgres_binaries() is None, reason=f"PostgreSQL: {services.INSTALL_HINT}"
)


def make(tmp_path: Path, database: str, name: str = "shop") -> Path:
    request = generate.GenerateRequest(
        target=tmp_path / name,
        style="fastapi",
        data={"database": database},
        defaults=True,
        interactive=False,
    )
    return generate.new_project(request).path


def refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


def fetch(url: str, query: str) -> object:
    import asyncpg

    async def run() -> object:
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetchval(query)
        finally:
            await connection.close()

    return asyncio.run(run())


@needs_postgres
def test_check_boots_a_postgres_project_under_every_server_on_the_database_the_caller_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated postgres project, one `check --server all` on the caller's database: its
    gates, its tests on that database, the migration, then each server's boot with the items'
    whole life probed. (When the caller names none, check starts a throwaway server of its
    own: test_check_gives_its_throwaway_postgres_to_the_tests_and_the_app_then_removes_it.)

    The caller's server is one services.throwaway_postgres() starts here, which this test
    also proves real (a database answers) and removed on exit (its port and directories)."""
    project = make(tmp_path, "postgres")
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp

    def recording(*args: object, **kwargs: object) -> str:
        path = mkdtemp(*args, **kwargs)  # type: ignore[call-overload]
        made.append(str(path))
        return str(path)

    monkeypatch.setattr(tempfile, "mkdtemp", recording)
    with services.throwaway_postgres() as url:  # "the caller's" server, started here
        assert fetch(url, "SELECT current_database()") == "app"
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        password = url.split(":")[2].split("@")[0]
        env = asgigen_env(SHOP_DATABASE_URL=url)
        env.pop("SHOP_TEST_DATABASE_URL", None)  # the tests use the caller's database too
        result = run_asgigen("check", str(project), "--server", "all", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"shop: all \d+ checks passed", result.stdout)
        assert "SHOP_DATABASE_URL as given: postgresql://asgigen:***@127.0.0.1:" in result.stderr
        assert password not in result.stdout + result.stderr
        for gate in ("ruff", "format", "mypy"):
            assert f"\n  {gate} " in result.stderr
        assert "python -m shop migrate" in result.stderr
        for server in ("uvicorn", "hypercorn", "daphne", "granian"):
            assert re.search(
                rf"{server} 127\.0\.0\.1:\d+ .*POST /items 201, GET /items/\d+ 200, "
                r"POST /items 409, DELETE /items/\d+ 204",
                result.stderr,
            ), server
        # Migrated by the contract's setup; the probes cleaned up after themselves.
        assert fetch(url, "SELECT version_num FROM alembic_version") == "0001"
        assert fetch(url, "SELECT count(*) FROM items") == 0
        assert not (project / "shop.db").exists()
    assert refuses(port)
    assert made
    assert not any(Path(path).exists() for path in made)


# A tiny app whose / answers the name of the database it reached (TINY_DATABASE_URL).
TINY_APP = """\
import os

import asyncpg


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    status, body = 404, b""
    if scope["path"] == "/":
        connection = await asyncpg.connect(os.environ["TINY_DATABASE_URL"])
        try:
            status = 200
            body = str(await connection.fetchval("SELECT current_database()")).encode()
        finally:
            await connection.close()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
"""
TINY_TEST = """\
import asyncio
import os

import asyncpg


def test_the_database_answers():
    async def ask():
        connection = await asyncpg.connect(os.environ["TINY_TEST_URL"])
        try:
            return await connection.fetchval("SELECT current_database()")
        finally:
            await connection.close()

    assert asyncio.run(ask()) == "app"
"""


def tiny_postgres_project(root: Path) -> Path:
    """A tiny project whose contract needs PostgreSQL: for asgigen's verdicts, not a
    template's (whose contract declares the same service)."""
    return write_files(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "tiny"\nversion = "0"\n\n[tool.asgigen]\n'
                'app = "tiny:app"\n'
                # The migration's place: it must be given the database's URL too.
                'setup = ["python", "-c", "import os; assert os.environ[\'TINY_DATABASE_URL\']"]\n'
                '[[tool.asgigen.http]]\npath = "/"\nbody = "app"\n'
                "[tool.asgigen.services]\n"
                'postgres = { url-env = "TINY_DATABASE_URL", test-url-env = "TINY_TEST_URL" }\n'
            ),
            "tiny.py": TINY_APP,
            "tests/test_tiny.py": TINY_TEST,
        },
    )


@needs_postgres
def test_check_gives_its_throwaway_postgres_to_the_tests_and_the_app_then_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked in-process with the test's own interpreter (it has asyncpg, pytest, uvicorn).
    project = tiny_postgres_project(tmp_path / "tiny")
    use_this_python(monkeypatch, tmp_path)
    for name in ("TINY_DATABASE_URL", "TINY_TEST_URL", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(name, raising=False)
    report = check.run_checks(project, with_gates=False, console=Console(quiet=True))
    steps = {step.name: step for step in report.steps}
    assert report.ok, [(s.name, s.status, s.summary, s.output) for s in report.steps]
    assert list(steps) == ["service:postgres", "tests", "setup", "serve:uvicorn"]
    found = re.fullmatch(
        r"throwaway PostgreSQL postgresql://asgigen:\*\*\*@127\.0\.0\.1:(\d+)/app",
        steps["service:postgres"].summary,
    )
    assert found, steps["service:postgres"].summary
    assert steps["tests"].summary.startswith("1 passed")  # its test asked that database
    assert "GET / 200" in steps["serve:uvicorn"].summary  # the app answered from it
    assert refuses(int(found.group(1)))  # and it is gone


def test_without_postgres_binaries_the_check_fails_and_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tiny_postgres_project(tmp_path / "tiny")
    use_this_python(monkeypatch, tmp_path)
    monkeypatch.setattr(services, "postgres_binaries", lambda: None)
    monkeypatch.delenv("TINY_DATABASE_URL", raising=False)
    report = check.run_checks(project, with_gates=False, console=Console(quiet=True))
    steps = {step.name: step for step in report.steps}
    assert not report.ok
    service = steps["service:postgres"]
    assert service.status == "failed"
    assert service.hint is not None
    assert "apt-get install postgresql" in service.hint
    # The tests still ran: the service fails the check, and the boot is not run, and that
    # is not a pass either (never a silent pass).
    assert "tests" in steps
    assert steps["serve:uvicorn"].status == "skipped"
    assert "setup" not in steps
    assert [step.name for step in report.failures] == ["service:postgres", "tests", "serve:uvicorn"]


def test_sqlite_project_check_uses_a_throwaway_file(tmp_path: Path) -> None:
    # That `asgigen check` of a SQLite project (the fastapi default) passes on a throwaway file
    # and leaves no database in the project is asserted where that check already runs:
    # tests/test_add_resource_e2e.py (its check under every server; a second full check of
    # the same variant here proved nothing more). Here: what the migration it runs imports.
    project = make(tmp_path, "sqlite", name="cafe")

    # The check runs `python -m cafe migrate` before every boot, beside the project's tests:
    # it imports SQLAlchemy and Alembic, never the web framework or the server.
    checked_with = environments.cached_environment(
        project, tools=[], servers=[SERVERS["uvicorn"].requirement]
    )
    migrate = subprocess.run(
        [checked_with.python, "-X", "importtime", "-m", "cafe", "migrate"],
        cwd=project,
        env={
            **asgigen_env(),
            "CAFE_DATABASE_URL": f"sqlite:///{tmp_path / 'cafe.db'}",
            "PYTHONPATH": str(project / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in migrate.stderr.splitlines()}
    assert "alembic" in imported
    assert not {"fastapi", "starlette", "uvicorn"} & imported


def contract_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.asgigen]\napp = "x:app"\n' + text, encoding="utf-8"
    )
    return tmp_path


def test_contract_reads_services_setup_and_captures(tmp_path: Path) -> None:
    contract = load_contract(
        contract_with(
            tmp_path,
            'setup = ["python", "-m", "x", "migrate"]\n'
            "[[tool.asgigen.http]]\n"
            'method = "POST"\npath = "/items"\nstatus = 201\ncapture = { item = "id" }\n'
            "[tool.asgigen.services]\n"
            'postgres = { url-env = "X_DB", test-url-env = "X_TEST_DB" }\n',
        )
    )
    assert contract.setup == ("python", "-m", "x", "migrate")
    assert [(s.kind, s.url_env, s.test_url_env) for s in contract.services] == [
        ("postgres", "X_DB", "X_TEST_DB")
    ]
    assert contract.http[0].capture == (("item", "id"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.asgigen.services]\nmysql = { url-env = "X" }\n', "unknown service 'mysql'"),
        ('[tool.asgigen.services]\npostgres = { test-url-env = "X" }\n', "needs url-env"),
        ('[tool.asgigen.services]\npostgres = { url = "X" }\n', "unknown key 'url'"),
        ('setup = "migrate"\n', "setup must be a command"),
    ],
)
def test_contract_refuses_bad_services(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        load_contract(contract_with(tmp_path, text))


def test_compose_runs_migrations_before_the_app_on_a_healthy_postgres(tmp_path: Path) -> None:
    # No Docker engine here: the structure is what can be proved.
    project = make(tmp_path, "postgres")
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    db, migrate, app = (compose["services"][name] for name in ("db", "migrate", "app"))
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] == ["db-data:/var/lib/postgresql/data"]
    assert "db-data" in compose["volumes"]
    assert migrate["command"] == ["python", "-m", "shop", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    url = "postgresql://shop:shop@db:5432/shop"
    assert (
        migrate["environment"]["SHOP_DATABASE_URL"]
        == app["environment"]["SHOP_DATABASE_URL"]
        == url
    )
    assert app["ports"] == ["8000:8000"]
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["test"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["SHOP_TEST_DATABASE_URL"].startswith("postgresql://")
    # The other variants have neither.
    sqlite = make(tmp_path, "sqlite", name="cafe")
    assert not (sqlite / "compose.yaml").exists()
    workflow = yaml.safe_load((sqlite / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert "services" not in workflow["jobs"]["test"]


def test_explain_shows_the_database_steps(tmp_path: Path) -> None:
    project = make(tmp_path, "sqlite", name="cafe")
    result = run_asgigen("explain", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for step in ("router → dependency", "pool", "handler → query", "commit"):
        assert step in result.stdout
    for symbol in ("get_session", "create_engine", "read_item", "save"):
        assert symbol in result.stdout
