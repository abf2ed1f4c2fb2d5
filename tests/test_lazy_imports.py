"""`asgigen --help` stays instant: heavy libraries load only when a command needs them.

Each command must also have done its job (exit 0 and its output): a command that crashed
before importing anything would otherwise pass for a light one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["copier", "questionary", "prompt_toolkit", "fastapi", "yaml", "jinja2", "uvicorn"]
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
