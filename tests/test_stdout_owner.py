"""Only the CLI writes to stdout: every other module returns its result (text or a dataclass)
and cli.py prints it, so a command's stdout is its result and nothing else (progress and
errors go to stderr through asgigen/console.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import asgigen

PACKAGE = Path(asgigen.__file__).parent
# The modules that may write to stdout, and why.
ALLOWED = {
    "cli.py": "prints each command's result",
}


def _writes_stdout(call: str, keywords: dict[str | None, str]) -> bool:
    """Whether a call of `call` with these keyword arguments (as source) writes to stdout."""
    if call == "print":
        return keywords.get("file", "sys.stdout") == "sys.stdout"
    if call in ("typer.echo", "echo"):
        return keywords.get("err") != "True"
    return call in ("sys.stdout.write", "sys.stdout.writelines", "sys.stdout.buffer.write")


def _stdout_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, call) for each call in `tree` that writes to stdout: print() without a `file`
    other than sys.stdout, sys.stdout.write/writelines, typer.echo without err=True."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            keywords = {keyword.arg: ast.unparse(keyword.value) for keyword in node.keywords}
            if _writes_stdout(ast.unparse(node.func), keywords):
                found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def test_only_the_cli_writes_to_stdout() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"asgigen/{name}:{line}: {call}" for line, call in _stdout_writes(tree)]
    assert offenders == [], "return the text and let cli.py print it:\n" + "\n".join(offenders)


def test_the_guard_sees_each_way_of_writing() -> None:
    source = (
        "import sys\nprint('a')\nprint('b', file=sys.stdout)\nsys.stdout.write('c')\n"
        "typer.echo('d')\nprint('e', file=sys.stderr)\ntyper.echo('f', err=True)\n"
        "sys.stdout.flush()\n"
    )
    assert [line for line, _ in _stdout_writes(ast.parse(source))] == [2, 3, 4, 5]


def test_the_allowed_modules_exist() -> None:
    assert all((PACKAGE / name).is_file() for name in ALLOWED)
