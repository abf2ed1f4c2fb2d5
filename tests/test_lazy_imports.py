"""`asgigen --help` stays instant: heavy libraries load only when a command needs them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["copier", "questionary", "prompt_toolkit", "fastapi", "yaml", "jinja2", "uvicorn"]
# Typer itself imports pydantic to coerce a subcommand's options; the top level stays clear.
TOP_LEVEL = [["--help"], ["--version"]]


@pytest.mark.parametrize("argv", [*TOP_LEVEL, ["styles"], ["new", "--help"]])
def test_light_commands_import_nothing_heavy(argv: list[str]) -> None:
    heavy = [*HEAVY, "pydantic"] if argv in TOP_LEVEL else HEAVY
    if argv == ["styles"]:  # it reads the built-in template's copier.yml: YAML, nothing else
        heavy = [module for module in heavy if module != "yaml"]
    code = (
        "import sys\n"
        f"sys.argv = ['asgigen', *{argv!r}]\n"
        "from asgigen.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "LOADED []"
