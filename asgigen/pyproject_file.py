"""A project's pyproject.toml, read once and handed to every part of asgigen that needs it.

The contract, the gates, the requirements the check environment installs, `explain`, app
discovery and the shadowing check all take the same parsed file (a `PyprojectFile`), so a
command reads it once, and a file that cannot be read fails in one place with one message:
`<path>: not valid TOML at line N, column M: <what>`, and a hint.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen.errors import BadInputError

FILE = "pyproject.toml"
# Where tomllib says the error is: "... (at line 3, column 7)" or "... (at end of document)".
_WHERE = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.S
)
_TOML_SPEC = "https://toml.io/en/v1.0.0"


class TomlFileError(BadInputError):
    """A project's TOML file (pyproject.toml, asgigen.toml) cannot be read or is not TOML."""


@dataclass(frozen=True)
class PyprojectFile:
    """A project's pyproject.toml as parsed; `data` is empty when the project has none."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the file as read: discovery looks for a server command in it
    exists: bool = False

    def table(self, *keys: str) -> dict[str, Any]:
        """The table at `keys` (`table("tool", "mypy")`): empty when absent or not a table."""
        found: Any = self.data
        for key in keys:
            found = found.get(key) if isinstance(found, dict) else None
        return found if isinstance(found, dict) else {}


def read_pyproject(project: Path) -> PyprojectFile:
    """The pyproject.toml of the project at `project` (an empty one when there is none);
    raises TomlFileError when it cannot be read or is not valid TOML."""
    path = project / FILE
    if not path.is_file():
        return PyprojectFile(path)
    text = _read_text(path)
    return PyprojectFile(path, parse_toml(path, text), text, exists=True)


def read_toml(path: Path) -> dict[str, Any]:
    """Any TOML file of a project (asgigen.toml), with the same errors as pyproject.toml."""
    return parse_toml(path, _read_text(path))


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """`text`, the contents of `path`, parsed; TomlFileError saying where it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = _WHERE.match(str(err))
        if found is None:
            where, what, fix = "", str(err), f"fix {path.name}"
        elif found["line"] is None:
            where, what, fix = " at its end", found["what"], f"complete {path.name}"
        else:
            line, column = found["line"], found["column"]
            where, what = f" at line {line}, column {column}", found["what"]
            fix = f"fix line {line} of {path.name}"
        raise TomlFileError(
            f"{path}: not valid TOML{where}: {what}", hint=f"{fix} (TOML syntax: {_TOML_SPEC})"
        ) from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = err.object[: err.start].count(b"\n") + 1
        raise TomlFileError(
            f"{path}: not valid TOML at line {line}: byte {err.object[err.start]:#x} is not UTF-8",
            hint=f"save {path.name} as UTF-8, the only encoding TOML allows",
        ) from None
    except OSError as err:
        raise TomlFileError(
            f"{path}: cannot be read: {err.strerror or err}",
            hint=f"asgigen only reads {path.name}; make it readable by you",
        ) from None
