"""`asgigen validate`: broken variants fail precisely; reports parse; every variant the
built-in template declares is proved, here or by the test named for it.

Failures are provoked on a tiny inline template (`TINY`): its gates, tests and boots take a
second, where the built-in template's take a minute.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import subprocess
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from asgigen import generate
from tests.conftest import CliResult, run_asgigen
from tests.template_tree import build_file_tree
from tests.tools import venv_tool

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e

# A template of two styles: a plain ASGI app that Uvicorn boots through the project's own
# command (so every check loads the declared app first, an `app` step), its test, and a
# pyproject.toml that turns on both gates. Three declared variants and the default answers.
TINY: dict[str, str] = {
    "copier.yml": """
        _answers_file: .copier-answers.yml
        _asgigen:
          variants:
            raw: {style: raw}
            raw-shout: {style: raw, shout: true}
            routed-shout: {style: routed, shout: true}
        style:
          type: str
          default: routed
          choices: [raw, routed]
        shout:
          type: bool
          default: false
    """,
    "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "pyproject.toml.jinja": """
        [project]
        name = "tiny"
        version = "1.0.0"
        requires-python = ">=3.11"
        dependencies = []

        [project.optional-dependencies]
        test = ["pytest>=8"]

        [tool.pytest.ini_options]
        pythonpath = ["."]

        # Both gates run: ruff (check and format) and mypy.
        [tool.ruff]

        [tool.mypy]
        ignore_missing_imports = true  # uvicorn is there only when it serves the project

        [tool.asgigen]
        app = "svc.main:app"
        # Uvicorn boots through the project's own command: the app is loaded first.
        run = ["python", "-m", "svc"]
        host-env = "SVC_HOST"
        port-env = "SVC_PORT"
        pythonpath = ["."]
        ready = "/hello"

        [[tool.asgigen.http]]
        path = "/hello"
        body = "{{ 'HELLO' if shout else 'hello' }}"
    """,
    "svc/__init__.py": "",
    "svc/__main__.py": """
        import os

        import uvicorn

        host, port = os.environ["SVC_HOST"], int(os.environ["SVC_PORT"])
        uvicorn.run("svc.main:app", host=host, port=port)
    """,
    "svc/main.py.jinja": '''
        """A {{ style }} service."""

        GREETING = b"{{ 'HELLO' if shout else 'hello' }}"


        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            status, body = (200, GREETING) if scope["path"] == "/hello" else (404, b"not found")
            headers = [(b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
    ''',
    "tests/test_main.py.jinja": """
        import asyncio

        from svc.main import GREETING, app


        def test_hello():
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                sent.append(message)

            asyncio.run(app({"type": "http", "path": "/hello"}, receive, send))
            assert (sent[0]["status"], sent[1]["body"]) == (200, GREETING)
    """,
}


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_asgigen("validate", "--jobs", "2", *args, cwd=cwd, timeout=900)


def tiny_template(root: Path, appended: dict[str, str] | None = None) -> Path:
    """TINY at root/template, with text appended to some of its files (or new files)."""
    files = {name: textwrap.dedent(text) for name, text in TINY.items()}
    for name, text in (appended or {}).items():
        files[name] = files.get(name, "") + text
    return build_file_tree(root / "template", files)


def tiny_variants(style: str) -> list[str]:
    """TINY's variants of `style`, the default answers (style routed) among them."""
    config = yaml.safe_load(textwrap.dedent(TINY["copier.yml"]))
    declared = {"default": {}, **config["_asgigen"]["variants"]}
    return [name for name, answers in declared.items() if answers.get("style", "routed") == style]


def test_syntax_error_fails_that_style_at_lint(tmp_path: Path) -> None:
    broken = "{%- if style == 'raw' %}\ndef broken(:\n{%- endif %}\n"
    template = tiny_template(tmp_path, {"svc/main.py.jinja": broken})
    report = tmp_path / "report.xml"
    result = validate(
        "--template", str(template), "--style", "raw", "--style", "routed",
        "--junit-xml", str(report), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    raw, routed = tiny_variants("raw"), tiny_variants("routed")
    assert (raw, routed) == (["raw", "raw-shout"], ["default", "routed-shout"])
    total = len(raw) + len(routed)
    failed = ", ".join(f"{name}@uvicorn" for name in raw)
    assert error == [f"error: {len(raw)} of {total} cases failed: {failed}"]
    assert "--- raw: ruff failed" in result.stderr
    table = result.stdout
    for name in routed:
        assert re.search(rf"^{name} +serve:uvicorn +passed", table, re.M), name
    assert table.strip().splitlines()[-1].startswith(f"{len(routed)} of {total} cases passed")
    suites = ET.parse(report).getroot()
    counts = {s.get("name"): int(s.get("failures", "0")) for s in suites.iter("testsuite")}
    assert set(counts) == {*raw, *routed}
    assert all(counts[name] == 0 for name in routed)
    # ruff, ruff-format, mypy, tests and the app's import all fail on a syntax error; the
    # live boot is then skipped, which fails it too (a failure element, counted as skipped).
    assert all(counts[name] == 5 for name in raw), counts
    for name in raw:
        suite = suites.find(f"testsuite[@name='{name}']")
        assert suite is not None
        assert suite.get("skipped") == "1"
        boot = suite.find("testcase[@name='serve:uvicorn']/failure")
        assert boot is not None
        assert boot.get("message") == "skipped: not booted: app failed"
    failure = suites.find("testsuite[@name='raw']/testcase[@name='ruff']/failure")
    assert failure is not None
    assert "SyntaxError" in (failure.text or "") or "invalid-syntax" in (failure.text or "")


def test_missing_dependency_fails_at_install(tmp_path: Path) -> None:
    template = tiny_template(tmp_path)
    pyproject = template / "pyproject.toml.jinja"
    text = pyproject.read_text()
    assert "dependencies = []" in text
    pyproject.write_text(
        text.replace("dependencies = []", 'dependencies = ["asgigen-no-such-dependency-x==1.0"]')
    )
    result = validate("--template", str(template), "--style", "routed", "--json", cwd=tmp_path)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    names = [f"{name}@uvicorn" for name in tiny_variants("routed")]
    assert names == ["default@uvicorn", "routed-shout@uvicorn"]
    assert [case["name"] for case in data["cases"]] == names
    assert not any(case["ok"] for case in data["cases"])
    for variant in data["variants"]:
        # Nothing runs without its environment: no gate, test or boot step after it.
        assert [s["name"] for s in variant["steps"]] == ["render", "environment"]
        assert variant["steps"][-1]["status"] == "failed"
        assert "asgigen-no-such-dependency-x" in variant["steps"][-1]["output"]
    failed = f"error: {len(names)} of {len(names)} cases failed: {', '.join(names)}"
    assert failed in result.stderr


def test_failing_test_fails_that_step_only(tmp_path: Path) -> None:
    broken = "def test_broken() -> None:\n    assert 1 + 1 == 3\n"
    template = tiny_template(tmp_path, {"tests/test_zz_broken.py": broken})
    result = validate(
        "--template", str(template), "--variant", "raw", "--variant", "raw-shout", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [variant["name"] for variant in data["variants"]] == ["raw", "raw-shout"]
    for variant in data["variants"]:
        statuses = {
            s["name"]: s["status"]
            for s in variant["steps"]
            if not s["name"].startswith("service:") and s["name"] != "setup"
        }
        assert statuses == {
            "render": "passed",
            "ruff": "passed",
            "ruff-format": "passed",
            "mypy": "passed",
            "tests": "failed",
            "app": "passed",
            "serve:uvicorn": "passed",
        }
    tests = next(s for s in data["variants"][0]["steps"] if s["name"] == "tests")
    assert "1 failed" in tests["summary"]


def test_case_runs_exactly_that_case(tmp_path: Path) -> None:
    template = tiny_template(tmp_path)
    result = validate("--template", str(template), "--case", "raw@daphne", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == [{"name": "raw@daphne", "ok": True}]
    (variant,) = data["variants"]
    assert variant["name"] == "raw"
    steps = {s["name"]: s for s in variant["steps"]}
    # Daphne loads the declared app itself: no `app` step before it.
    assert list(steps) == ["render", "ruff", "ruff-format", "mypy", "tests", "serve:daphne"]
    assert steps["serve:daphne"]["summary"].startswith("daphne 127.0.0.1:")


# --- The built-in template: each declared variant passes, proved once.


def declared_variants() -> dict[str, dict[str, object]]:
    """The variants the built-in template declares under `_asgigen` in its copier.yml."""
    config = yaml.safe_load((ROOT / "templates" / "copier.yml").read_text(encoding="utf-8"))
    variants = config["_asgigen"]["variants"]
    assert isinstance(variants, dict)
    return variants


def parametrized(test: Callable[..., None]) -> list[Any]:
    """The values a test is parametrized with (its one parametrize mark)."""
    (mark,) = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    return list(mark.args[1])


def proved_elsewhere() -> dict[str, str]:
    """Variant → the test that runs `asgigen check` on exactly its answers, with validate's
    gates, tests, app and boot (and more servers): asserted here, so that a drifted
    declaration or a dropped parameter leaves no variant unproved."""
    from tests import (
        test_add_e2e,
        test_add_resource_e2e,
        test_database,
        test_e2e,
        test_readme_session,
        test_replicas_generated_e2e,
    )

    declared = {"default": {"style": "routed"}, **declared_variants()}
    proofs: dict[str, str] = {}

    def proof(test: Callable[..., None], case: str = "") -> str:
        return f"tests/{test.__module__.rsplit('.', 1)[-1]}.py::{test.__name__}{case}"

    # `new --style S` with the default answers, the checks `new` runs (tests, a boot): the
    # README's session (routed) and the commands `new` prints (raw), each `check`ed again.
    for name, test in (
        ("default", test_readme_session.test_the_readme_session_is_what_asgigen_prints),
        ("raw", test_e2e.test_the_commands_new_prints_work_verbatim),
    ):
        assert declared[name] == {"style": declared[name]["style"]}, name
        assert f'"--style", "{declared[name]["style"]}"' in inspect.getsource(test), name
        proofs[name] = proof(test)
    # The default answers plus what `asgigen add` writes (it only adds), `check --server all`.
    fastapi = test_add_resource_e2e.test_added_route_websocket_and_resource_pass_one_check_under_every_server  # noqa: E501 (the test's name)
    assert declared["fastapi"] == {"style": "fastapi"}
    assert '"--style", "fastapi", "--defaults"' in inspect.getsource(fastapi)
    proofs["fastapi"] = proof(fastapi)
    # A deployment answer plus what `add` writes, `check --server all` and the project's own
    # deployment tests.
    deployed = test_add_e2e.test_added_route_passes_check_on_a_live_server_under_every_server
    for style in parametrized(deployed):
        key, value = test_add_e2e.DEPLOYMENT[style].split("=")
        name = f"{style}-{value}"
        assert declared[name] == {"style": style, key: value}, name
        proofs[name] = proof(deployed, f"[{style}]")
    # `check --replicas 3` on a kubernetes project: its gates, tests, boots and replicas.
    replicated = {"style": "fastapi", "database": "postgres", "deploy": "kubernetes"}
    assert declared["fastapi-postgres-kubernetes"] == replicated
    replicas = test_replicas_generated_e2e.test_generated_postgres_project_passes_three_replicas
    proofs["fastapi-postgres-kubernetes"] = proof(replicas)
    # test_database.make(tmp_path, "postgres"): the fastapi style, database postgres.
    assert declared["fastapi-postgres"] == {"style": "fastapi", "database": "postgres"}
    database = test_database.test_check_boots_a_postgres_project_under_every_server_on_the_database_the_caller_names  # noqa: E501 (the test's name)
    proofs["fastapi-postgres"] = proof(database)
    return proofs


# Variants that differ from a proved one (their twin) only in a free-text answer or in files
# the twin adds: test_a_variant_passes_as_its_twin_does proves that they pass as it does.
TWINS = {
    "raw-awkward": "raw",
    "routed-awkward": "default",
    "fastapi-awkward": "fastapi",
    "fastapi-nodb": "fastapi-nodb-compose",
}
# The variants nothing else proves: validated here, through the whole pipeline.
VALIDATED_HERE = ["fastapi-nodb-compose"]


def test_every_declared_variant_is_proved_once() -> None:
    declared = ["default", *declared_variants()]
    elsewhere = proved_elsewhere()
    proved = [*elsewhere, *TWINS, *VALIDATED_HERE]
    assert sorted(proved) == sorted(declared)  # each exactly once: none unproved, none twice
    for twin in TWINS.values():
        assert twin in elsewhere or twin in VALIDATED_HERE, twin


def render(root: Path, name: str) -> generate.GenerateResult:
    answers = {"style": "routed", **({} if name == "default" else declared_variants()[name])}
    data = {key: value for key, value in answers.items() if key != "style"}
    request = generate.GenerateRequest(
        target=root / name / "shop", style=str(answers["style"]), data=data, defaults=True,
        interactive=False,
    )  # fmt: skip
    return generate.new_project(request)


def without(value: object, text: str) -> str:
    """Python source with every string constant equal to `text` replaced by a marker."""
    tree = ast.parse(str(value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == text:
            node.value = "<answer>"
    return ast.dump(tree)


def imported(source: Path) -> set[str]:
    """The top-level packages a Python file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def strings(source: Path) -> set[str]:
    """The string constants of a Python file that code can read (docstrings left out)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    }


@pytest.mark.parametrize("variant", list(TWINS))
def test_a_variant_passes_as_its_twin_does(tmp_path: Path, variant: str) -> None:
    """Its files are its twin's, but where its own answers land, and there they land intact;
    where it leaves out files of its twin, nothing it keeps needs them."""
    twin = TWINS[variant]
    mine, theirs = render(tmp_path, variant), render(tmp_path, twin)
    differs = {
        name
        for name in set(mine.files) & set(theirs.files)
        if (mine.path / name).read_bytes() != (theirs.path / name).read_bytes()
    }
    # No code of it reads a file other than Python that differs from its twin's.
    read = set().union(*(strings(mine.path / n) for n in mine.files if n.endswith(".py")))
    for name in differs - {n for n in differs if n.endswith(".py")}:
        assert not [s for s in read if Path(name).name in s], name
    if variant.endswith("-awkward"):
        text = str(mine.answers["description"])
        assert set(mine.files) == set(theirs.files)
        # The description lands in Python strings (the settings' default and the test that
        # asserts OpenAPI shows it), the metadata and the README, nowhere else.
        for name in differs:
            mine_text, their_text = (
                (p / name).read_text(encoding="utf-8") for p in (mine.path, theirs.path)
            )
            if name.endswith(".py"):
                assert without(mine_text, text) == without(
                    their_text, str(theirs.answers["description"])
                ), name
            elif name == "pyproject.toml":
                mine_toml, their_toml = tomllib.loads(mine_text), tomllib.loads(their_text)
                assert mine_toml["project"].pop("description") == text
                their_toml["project"].pop("description")
                assert mine_toml == their_toml
            elif name == ".copier-answers.yml":
                assert yaml.safe_load(mine_text) == {
                    **yaml.safe_load(their_text),
                    "description": text,
                }
            else:
                assert name == "README.md", name  # prose: no gate, test or boot reads it
        # Its Python passes the gates that look at text (mypy and the tests see only
        # the same code with other strings).
        for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
            ran = subprocess.run(
                [venv_tool("ruff"), *command], cwd=mine.path, capture_output=True, text=True
            )
            assert ran.returncode == 0, ran.stdout + ran.stderr
    else:
        # fastapi-nodb is fastapi-nodb-compose without the deployment: its files, minus
        # those, with the deployment's test requirements and CI step gone.
        deployment = {"compose.yaml", "tests/test_deploy.py"}
        extra = {n for n in theirs.files if n in deployment or n.startswith("deploy/")}
        assert set(mine.files) == set(theirs.files) - extra
        assert differs <= {
            "README.md",
            "pyproject.toml",
            ".copier-answers.yml",
            ".github/workflows/ci.yml",
        }
        mine_toml, their_toml = (
            tomllib.loads((p / "pyproject.toml").read_text(encoding="utf-8"))
            for p in (mine.path, theirs.path)
        )
        test_extra = their_toml["project"]["optional-dependencies"]["test"]
        assert [r for r in test_extra if "yaml" not in r.lower()] == (
            mine_toml["project"]["optional-dependencies"]["test"]
        )
        their_toml["project"]["optional-dependencies"]["test"] = []
        mine_toml["project"]["optional-dependencies"]["test"] = []
        assert mine_toml == their_toml
        for name in mine.files:  # nothing it keeps imports YAML
            if name.endswith(".py"):
                assert "yaml" not in imported(mine.path / name), name


def test_built_in_template_passes(tmp_path: Path) -> None:
    """The declared variants no other test proves pass validate: render, gates, tests, the
    declared app and a live boot, each step in the JUnit report."""
    report = tmp_path / "junit.xml"
    chosen = [arg for name in VALIDATED_HERE for arg in ("--variant", name)]
    result = validate(*chosen, "--junit-xml", str(report), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    count = len(VALIDATED_HERE)
    assert result.stdout.strip().splitlines()[-1].startswith(f"{count} of {count} cases passed")
    suites = ET.parse(report).getroot()
    names = [s.get("name") for s in suites.iter("testsuite")]
    assert names == VALIDATED_HERE
    assert all(s.get("failures") == "0" for s in suites.iter("testsuite"))
    assert all(s.get("skipped") == "0" for s in suites.iter("testsuite"))
    for suite in suites.iter("testsuite"):
        steps = [case.get("name") for case in suite.iter("testcase")]
        # "app": Uvicorn boots through the contract's run, so the declared app is loaded first.
        assert steps == ["render", "ruff", "ruff-format", "mypy", "tests", "app", "serve:uvicorn"]


def test_list_names_each_variant_and_server_for_a_ci_matrix(tmp_path: Path) -> None:
    result = validate("--list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    variants = declared_variants()
    assert result.stdout.split() == [f"{name}@uvicorn" for name in ["default", *variants]]
    result = validate(
        "--list", "--json", "--style", "raw", "--server", "daphne", "--server", "granian",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    raw = [name for name, answers in variants.items() if answers.get("style") == "raw"]
    assert {"raw", "raw-awkward"} <= set(raw)
    # A CI matrix as GitHub Actions takes it: one entry per case, nothing else; each entry
    # keeps the keys older workflows read (case, variant, server), with its full answers.
    assert list(data) == ["include"]
    assert [{k: e[k] for k in ("case", "variant", "server")} for e in data["include"]] == [
        {"case": f"{name}@{server}", "variant": name, "server": server}
        for name in raw
        for server in ("daphne", "granian")
    ]
    for entry in data["include"]:
        assert entry["name"] == entry["case"]
        assert entry["answers"]["style"] == "raw"
        assert entry["answers"]["python_version"] == "3.11"  # the defaults, in full
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--template", "nowhere"],
            "error: template nowhere is not a directory, a git repository or a git URL",
        ),
        (["--style", "django"], "error: unknown style 'django'"),
        (["--list", "--style", "django"], "error: unknown style 'django'"),
        (["--variant", "nope"], "error: template built-in has no variant 'nope'"),
        (["--case", "raw@tornado"], "error: template built-in has no case 'raw@tornado'"),
        (["--list", "--server", "tornado"], "error: unknown server 'tornado'"),
        (["--server", "tornado"], "error: unknown server 'tornado'"),
        (["--jobs", "0"], "error: --jobs must be at least 1, got 0"),
        (["--junit-xml", "missing/dir/x.xml"], "error: cannot write missing/dir/x.xml: "),
    ],
)
def test_bad_input(
    run_cli: Callable[..., CliResult], tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("validate", "--jobs", "2", *args, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(message)
    assert list(tmp_path.iterdir()) == []
