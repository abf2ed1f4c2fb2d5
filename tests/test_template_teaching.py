"""The generated projects are teaching code (DESIGN.md, "Teaching code"; issue 28).

Public APIs only: no private module of Python or of a library, no `gc` steering, no frame
inspection. Comments explain why, not what something costs. routed's router reads in one
sitting.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from asgigen import generate

# Every style, and fastapi with each database (engine.py exists only with one).
VARIANTS = {
    "raw": ("raw", {}),
    "routed": ("routed", {}),
    "fastapi": ("fastapi", {"database": "sqlite"}),
    "fastapi-postgres": ("fastapi", {"database": "postgres"}),
    "fastapi-nodb": ("fastapi", {"database": "none"}),
}
# Remarks about speed rather than about what the code means.
COST_WORDS = re.compile(
    r"\b(costs?|costly|cheap\w*|faster|slower|allocat\w*|µs|microseconds?|nanoseconds?"
    r"|times as (much|fast|slow))\b|\bfast path",
    re.IGNORECASE,
)
FRAME_ATTRIBUTES = {"_getframe", "tb_frame", "f_globals", "f_locals", "f_back", "walk_tb"}
FRAME_FUNCTIONS = {"walk_tb", "walk_stack", "currentframe", "stack", "_getframe"}


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    style, data = VARIANTS[request.param]
    target = tmp_path_factory.mktemp(request.param) / "demo"
    generate.new_project(
        generate.GenerateRequest(
            target=target, style=style, data=dict(data), defaults=True, interactive=False
        )
    )
    return target


def python_files(project: Path) -> list[Path]:
    files = sorted(project.rglob("*.py"))
    assert files, f"nothing rendered in {project}"
    return files


def imported_modules(tree: ast.AST) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
            # `from json import _private` is as private as `import _json`.
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
    return modules


def test_no_private_module_and_no_gc(project: Path) -> None:
    offending = []
    for path in python_files(project):
        for module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            private = any(
                part.startswith("_") and not part.startswith("__") for part in module.split(".")
            )
            if private or module == "gc" or module.startswith("gc."):
                offending.append(f"{path.relative_to(project)}: {module}")
    assert offending == []


def test_no_frame_inspection(project: Path) -> None:
    offending = []
    for path in python_files(project):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in FRAME_ATTRIBUTES | FRAME_FUNCTIONS:
                name = node.attr
            elif isinstance(node, ast.Name) and node.id in FRAME_FUNCTIONS - {"stack"}:
                name = node.id
            elif isinstance(node, ast.alias) and node.name in FRAME_FUNCTIONS:
                name = node.name
            if name is not None and (name != "stack" or "inspect" in ast.unparse(node)):
                offending.append(f"{path.relative_to(project)}:{node.lineno}: {name}")
    assert offending == []


def remarks(path: Path) -> list[str]:
    """The comments and docstrings of a Python file, line by line."""
    source = path.read_text(encoding="utf-8")
    lines = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ) and (docstring := ast.get_docstring(node)):
            lines += docstring.splitlines()
    return lines


def test_at_most_two_performance_remarks(project: Path) -> None:
    found = [
        f"{path.relative_to(project)}: {line.strip()}"
        for path in python_files(project)
        for line in remarks(path)
        if COST_WORDS.search(line)
    ]
    for name in ("README.md", "pyproject.toml"):
        text = (project / name).read_text(encoding="utf-8")
        found += [f"{name}: {line}" for line in text.splitlines() if COST_WORDS.search(line)]
    assert len(found) <= 2, "\n".join(found)


def test_the_routed_router_reads_in_one_sitting(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    generate.new_project(
        generate.GenerateRequest(
            target=target, style="routed", data={}, defaults=True, interactive=False
        )
    )
    lines = (target / "src" / "demo" / "routing.py").read_text(encoding="utf-8").splitlines()
    assert len([line for line in lines if line.strip()]) < 200


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    # The checks above pass on nothing at all if their parsing is wrong: prove they bite.
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A module."""\n'
        "import gc\n"
        "import traceback\n"
        "from _json import make_encoder\n"
        "from json import _private\n\n\n"
        "def f(error: BaseException) -> object:\n"
        '    """Three times as fast."""\n'
        "    # a third of the cost\n"
        "    return [frame.f_globals for frame, _ in traceback.walk_tb(error.__traceback__)]\n",
        encoding="utf-8",
    )
    tree = ast.parse(sample.read_text(encoding="utf-8"))
    assert {"gc", "_json", "json._private"} <= set(imported_modules(tree))
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert {"f_globals", "walk_tb"} <= attributes & FRAME_ATTRIBUTES
    assert [line for line in remarks(sample) if COST_WORDS.search(line)] == [
        "# a third of the cost",
        "Three times as fast.",
    ]
