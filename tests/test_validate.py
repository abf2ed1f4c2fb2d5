"""`asgigen validate`: broken variants fail precisely; reports parse."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_asgigen

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_asgigen("validate", "--jobs", "2", *args, cwd=cwd, timeout=900)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(ROOT / "templates", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def declared_variants() -> dict[str, dict[str, object]]:
    """The variants the built-in template declares under `_asgigen` in its copier.yml."""
    import yaml

    config = yaml.safe_load((ROOT / "templates" / "copier.yml").read_text(encoding="utf-8"))
    variants = config["_asgigen"]["variants"]
    assert isinstance(variants, dict)
    return variants


def undeployed(style: str) -> list[str]:
    """The declared variants of `style` that `--data deploy=none` keeps (none deploys)."""
    return [
        name
        for name, answers in declared_variants().items()
        if answers.get("style") == style and answers.get("deploy", "none") == "none"
    ]


def app_file(template: Path, style: str) -> Path:
    return template / style / "src" / "{{ package_name }}" / "app.py.jinja"


def test_syntax_error_fails_that_style_at_lint(template: Path, tmp_path: Path) -> None:
    app = app_file(template, "raw")
    app.write_text(app.read_text() + "\ndef broken(:\n")
    report = tmp_path / "report.xml"
    result = validate(
        "--template",
        str(template),
        "--style",
        "raw",
        "--style",
        "routed",
        # The deploy variants (their own proof: tests/test_deploy_template.py) left out.
        "--data",
        "deploy=none",
        "--junit-xml",
        str(report),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    # Variants of the chosen styles: the default answers (routed), raw and the awkward ones.
    raw, routed = undeployed("raw"), ["default", *undeployed("routed")]
    assert {"raw", "raw-awkward"} <= set(raw)
    assert "routed-awkward" in routed
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


def test_missing_dependency_fails_at_install(template: Path, tmp_path: Path) -> None:
    pyproject = template / "routed" / "pyproject.toml.jinja"
    text = pyproject.read_text()
    assert '"uvicorn[standard]>=0.30,<1",' in text
    pyproject.write_text(
        text.replace(
            '"uvicorn[standard]>=0.30,<1",',
            '"uvicorn[standard]>=0.30,<1",\n    "asgigen-no-such-dependency-x==1.0",',
        )
    )
    result = validate(
        "--template", str(template), "--style", "routed", "--data", "deploy=none", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    names = [f"{name}@uvicorn" for name in ["default", *undeployed("routed")]]
    assert "routed-awkward@uvicorn" in names
    assert [case["name"] for case in data["cases"]] == names
    assert not any(case["ok"] for case in data["cases"])
    for variant in data["variants"]:
        # Nothing runs without its environment: no gate, test or boot step after it.
        assert [s["name"] for s in variant["steps"]] == ["render", "environment"]
        assert variant["steps"][-1]["status"] == "failed"
        assert "asgigen-no-such-dependency-x" in variant["steps"][-1]["output"]
    failed = f"error: {len(names)} of {len(names)} cases failed: {', '.join(names)}"
    assert failed in result.stderr


def test_failing_test_fails_that_step_only(template: Path, tmp_path: Path) -> None:
    (template / "fastapi" / "tests" / "test_zz_broken.py").write_text(
        "def test_broken() -> None:\n    assert 1 + 1 == 3\n"
    )
    result = validate(
        "--template",
        str(template),
        "--variant",
        "fastapi",
        "--variant",
        "fastapi-awkward",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [variant["name"] for variant in data["variants"]] == ["fastapi", "fastapi-awkward"]
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


def checked_elsewhere() -> list[str]:
    """The declared variants tests/test_deploy_template.py proves with `asgigen check` (the
    same gates, tests, app and boot as validate's), with exactly the answers declared here,
    and the one tests/test_replicas_generated_e2e.py proves with `check --replicas 3`."""
    from tests import test_deploy_template as deploy

    test = deploy.test_check_runs_the_projects_own_deployment_tests
    (mark,) = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
    declared = declared_variants()
    names = list(mark.args[1])
    assert names
    for name in names:  # a drifted declaration would go unproved
        assert declared.get(name) == deploy.VARIANTS[name], name
    replicated = {"style": "fastapi", "database": "postgres", "deploy": "kubernetes"}
    assert declared["fastapi-postgres-kubernetes"] == replicated
    return [*names, "fastapi-postgres-kubernetes"]


def test_built_in_template_passes(tmp_path: Path) -> None:
    """Every declared variant passes: here, or (the deploy variants' costly own proof) in
    tests/test_deploy_template.py."""
    declared = declared_variants()
    elsewhere = checked_elsewhere()
    variants = ["default", *(name for name in declared if name not in elsewhere)]
    report = tmp_path / "junit.xml"
    chosen = [arg for name in variants for arg in ("--variant", name)]
    result = validate(*chosen, "--junit-xml", str(report), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    count = len(variants)
    assert result.stdout.strip().splitlines()[-1].startswith(f"{count} of {count} cases passed")
    suites = ET.parse(report).getroot()
    names = [s.get("name") for s in suites.iter("testsuite")]
    assert names == variants
    assert all(s.get("failures") == "0" for s in suites.iter("testsuite"))
    assert all(s.get("skipped") == "0" for s in suites.iter("testsuite"))
    # Every variant ran its gates, its tests and a boot.
    for suite in suites.iter("testsuite"):
        steps = [case.get("name") for case in suite.iter("testcase")]
        plain = [step for step in steps if not step.startswith("service:") and step != "setup"]
        # "app": Uvicorn boots through the contract's run, so the declared app is loaded first.
        assert plain == ["render", "ruff", "ruff-format", "mypy", "tests", "app", "serve:uvicorn"]
        # A fastapi variant with a database also provides it, and migrates before the boot.
        name = str(suite.get("name"))
        answers = {"style": "routed", **declared.get(name, {})}
        if answers["style"] == "fastapi" and answers.get("database") != "none":
            database = f"service:{answers.get('database', 'sqlite')}"
            assert steps.index(database) < steps.index("tests")
            assert steps.index("setup") < steps.index("serve:uvicorn")
        else:
            assert steps == plain


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


def test_case_runs_exactly_that_case(tmp_path: Path) -> None:
    result = validate("--case", "raw@daphne", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == [{"name": "raw@daphne", "ok": True}]
    (variant,) = data["variants"]
    assert variant["name"] == "raw"
    steps = {s["name"]: s for s in variant["steps"]}
    assert list(steps) == ["render", "ruff", "ruff-format", "mypy", "tests", "serve:daphne"]
    assert steps["serve:daphne"]["summary"].startswith("daphne 127.0.0.1:")


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
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    result = validate(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(message)
    assert list(tmp_path.iterdir()) == []
