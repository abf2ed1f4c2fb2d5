"""`asgigen --help` stays instant: heavy libraries load only when a command needs them.

Each command must also have done its job (exit 0 and its output): a command that crashed
before importing anything would otherwise pass for a light one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import asgigen

HEAVY = [
    *("copier", "questionary", "prompt_toolkit", "fastapi", "yaml", "jinja2", "uvicorn"),
    *("websockets", "packaging", "httpx", "rich"),
]
# What `asgigen --help` may load of asgigen itself: the CLI and what it needs to report an
# error. A command's modules load when it runs (`# lazy: keeps --help fast` in cli.py).
HELP_MODULES = ["asgigen", "asgigen.cli", "asgigen.console", "asgigen.errors", "asgigen.processes"]
PACKAGE = Path(asgigen.__file__).parent
# Typer itself imports pydantic to coerce a subcommand's options; the top level stays clear.
TOP_LEVEL = [["--help"], ["--version"]]
# What each command prints when it worked.
PRINTS = {
    "--help": "Usage: asgigen",
    "--version": "asgigen ",
    "styles": "routed",
    "new --help": "Usage: asgigen new",
}


@pytest.mark.parametrize("argv", [*TOP_LEVEL, ["styles"], ["new", "--help"]])
def test_light_commands_import_nothing_heavy(argv: list[str]) -> None:
    heavy = [*HEAVY, "pydantic"] if argv in TOP_LEVEL else HEAVY
    if argv == ["styles"]:  # it reads the styles from the template's copier.yml
        heavy = [name for name in heavy if name != "yaml"]
    code = (
        "import sys\n"
        f"sys.argv = ['asgigen', *{argv!r}]\n"
        "from asgigen.cli import main\n"
        "try:\n    main()\n    code = 0\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "sys.stdout.flush()\n"
        "print('EXIT', code)\n"
        f"print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    *output, exit_line, loaded_line = result.stdout.strip().splitlines()
    assert exit_line in ("EXIT 0", "EXIT None"), result.stdout + result.stderr
    assert PRINTS[" ".join(argv)] in "\n".join(output), result.stdout + result.stderr
    assert loaded_line == "LOADED []"


def test_help_loads_only_the_cli_of_asgigen() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['asgigen', '--help']\n"
        "from asgigen.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] == 'asgigen'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == f"LOADED {sorted(HELP_MODULES)}"


def _function_imports() -> list[tuple[str, int, str, str]]:
    """(module file, line, imported module, the line's text) for each import inside a function
    of asgigen."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    module = node.names[0].name
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                else:
                    continue
                name = path.relative_to(PACKAGE.parent).as_posix()
                found.append((name, node.lineno, module, lines[node.lineno - 1]))
    return found


def test_the_standard_library_is_imported_at_the_top() -> None:
    """It costs nothing worth deferring; an import inside a function hides a dependency."""
    inside = [
        f"{name}:{line}: {text.strip()}"
        for name, line, module, text in _function_imports()
        if module.split(".")[0] in sys.stdlib_module_names
    ]
    assert inside == []


def test_each_import_left_in_a_function_says_why() -> None:
    """Heavy libraries (copier, jinja2, yaml, websockets, packaging), a command's modules in
    cli.py, import cycles: each such import carries `# lazy: <why>`."""
    unexplained = [
        f"{name}:{line}: {text.strip()}"
        for name, line, _, text in _function_imports()
        if "# lazy: " not in text
    ]
    assert unexplained == []
