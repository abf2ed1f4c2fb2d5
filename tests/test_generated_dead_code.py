"""Generated projects carry no dead or duplicated code, and depend only on what they use.

Every name a generated module defines at top level (functions, classes, constants, loggers)
and every method of its classes is used somewhere in the project's own source; no two
modules define the same constant; the `test` extra lists only what the tests import.
"""

from __future__ import annotations

import ast
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from asgigen import generate

STYLES = ["raw", "routed", "fastapi"]
# Meant for the project's owner rather than used by the demo itself: documented API (raw's
# source has no middleware, so only its tests and its owner's code type an app as `ASGIApp`).
PUBLIC_API = {"Request.method", "RequestIdLogFilter.filter", "ItemStore.get", "ASGIApp"}
# What Alembic reads from a migration module by name.
ALEMBIC_NAMES = {"revision", "down_revision", "branch_labels", "depends_on"}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dead-code")
    made = {}
    for style in STYLES:
        request = generate.GenerateRequest(
            target=root / style / "demo", style=style, defaults=True, interactive=False
        )
        made[style] = generate.new_project(request).path
    return made


def modules(project: Path) -> dict[str, ast.Module]:
    return {
        str(path.relative_to(project)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((project / "src").rglob("*.py"))
    }


def used_names(trees: dict[str, ast.Module], own: str) -> Counter[str]:
    """The names module `own` uses itself, plus what the other modules take from it: names
    they import, attributes they reach, and dotted names in strings (a logging config)."""
    seen: Counter[str] = Counter()
    for filename, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if filename == own:
                    seen[node.id] += 1
            elif isinstance(node, ast.Attribute):
                seen[node.attr] += 1
            elif isinstance(node, ast.alias):
                seen[node.name.rsplit(".", 1)[-1]] += 1
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for part in node.value.replace(":", ".").split("."):
                    seen[part] += 1
    return seen


@pytest.mark.parametrize("style", STYLES)
def test_every_definition_is_used(projects: dict[str, Path], style: str) -> None:
    trees = modules(projects[style])
    unused = []
    for filename, tree in trees.items():
        used = used_names(trees, filename)
        for node in tree.body:
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                # A decorated function is registered by its decorator (a FastAPI route...).
                names = [] if node.decorator_list else [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            for name in names:
                if name.startswith("__") or name in {"app", "main"} or name in PUBLIC_API:
                    continue
                if "/migrations/versions/" in filename and name in ALEMBIC_NAMES:
                    continue
                if used[name] == 0:
                    unused.append(f"{filename}: {name}")
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        continue
                    qualified = f"{node.name}.{item.name}"
                    if item.name.startswith("__") or qualified in PUBLIC_API:
                        continue
                    if used[item.name] == 0 and not _is_override(item):
                        unused.append(f"{filename}: {qualified}")
    assert unused == []


def _is_override(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Pydantic validators and the like are called by their framework, not by name."""
    return bool(function.decorator_list)


@pytest.mark.parametrize("style", STYLES)
def test_nothing_is_defined_twice(projects: dict[str, Path], style: str) -> None:
    definitions: Counter[str] = Counter()
    for tree in modules(projects[style]).values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                text = ast.unparse(node.value)
                if text != "logging.getLogger(__name__)":  # one logger per module, by design
                    definitions[text] += 1
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                definitions[ast.unparse(node.args) + ast.unparse(ast.Module(node.body, []))] += 1
    assert [text for text, count in definitions.items() if count > 1] == []


@pytest.mark.parametrize("style", STYLES)
def test_no_method_repeats_a_helper(projects: dict[str, Path], style: str) -> None:
    # A method named like a module-level helper is a second copy of it (Request.header
    # once repeated messages.header): call the helper instead.
    trees = modules(projects[style]).values()
    functions = {
        node.name
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    methods = {
        f"{node.name}.{item.name}"
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert sorted(m for m in methods if m.split(".")[1] in functions) == []


@pytest.mark.parametrize("style", STYLES)
def test_dependencies_are_the_ones_used(projects: dict[str, Path], style: str) -> None:
    project = projects[style]
    config = tomllib.loads((project / "pyproject.toml").read_text())
    runtime = {spec.split(">")[0].split("[")[0] for spec in config["project"]["dependencies"]}
    test = {
        spec.split(">")[0].split("[")[0]
        for spec in config["project"]["optional-dependencies"]["test"]
    }
    # wsproto: the WebSocket implementation `python -m` asks Uvicorn for.
    assert "wsproto" in runtime
    assert '"ws": "wsproto"' in (project / "src" / "demo" / "__main__.py").read_text()
    if style == "fastapi":
        # TestClient runs on httpx2 (Starlette 1.6+, which fastapi>=0.165 requires): not httpx.
        # asyncpg: the driver SQLAlchemy loads for {PKG}_TEST_DATABASE_URL=postgresql://...
        # (the tests on PostgreSQL); named by the URL, never imported.
        assert test == {"pytest", "httpx2", "asyncpg"}
    elif style == "routed":
        assert test == {"pytest", "hypothesis"}
    else:
        assert test == {"pytest"}
