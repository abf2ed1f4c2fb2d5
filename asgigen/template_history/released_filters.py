"""The Jinja extension released template versions load as `asgigen.template_filters`.

Template 0.1.0 names `asgigen.template_filters.AsgigenFilters` in its `_jinja_extensions`, and
`asgigen update` renders the version a project was made with, so that name must import as long
as such projects exist, whatever the live template uses now. This is that module as released at
4f81afd (with the naming rules it used), frozen; `register()` installs it under the old name
only when asgigen has no module there.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

RELEASED_NAME = "asgigen.template_filters"


def register() -> None:
    """Make `asgigen.template_filters` importable for the released versions that load it."""
    if RELEASED_NAME not in sys.modules and importlib.util.find_spec(RELEASED_NAME) is None:
        sys.modules[RELEASED_NAME] = sys.modules[__name__]


# PEP 508 distribution names, restricted to what also reads well as a directory name.
_PROJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_PACKAGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

# Names the generated layout itself uses for directories next to the package.
LAYOUT_NAMES = frozenset({"src", "test", "tests", "docs"})

# Import names a generated package must not take: it would shadow what the project imports.
RESERVED_PACKAGES = frozenset(
    {
        "anyio",
        "asgigen",
        "copier",
        "daphne",
        "fastapi",
        "granian",
        "h11",
        "httpcore",
        "httptools",
        "httpx",
        "hypercorn",
        "hypothesis",
        "jinja2",
        "mypy",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "ruff",
        "starlette",
        "typer",
        "typing_extensions",
        "uvicorn",
        "uvloop",
        "watchfiles",
        "websockets",
    }
)


def derive_package_name(project_name: str) -> str:
    """The default import name of a project: lowercase, `-` and `.` become `_`."""
    return re.sub(r"[-.]+", "_", project_name.strip().lower())


def project_name_error(name: str) -> str:
    """Why `name` can't be a project name, or "" when it can."""
    if not name.strip():
        return "the project name is empty"
    if "/" in name or "\\" in name or name in {".", ".."}:
        return f"project name {name!r} is a path, not a name"
    if name[0].isdigit():
        return f"project name {name!r} starts with a digit"
    if not _PROJECT_NAME.match(name) or name.endswith(("-", ".", "_")):
        return (
            f"project name {name!r} may only contain ASCII letters, digits, '-', '_' and '.', "
            "starting with a letter and ending with a letter or digit"
        )
    return ""


def package_name_error(name: str, *, what: str = "package name") -> str:
    """Why `name` can't be an import package name, or "" when it can."""
    shown = name
    if not name:
        return f"the {what} is empty"
    if name[0].isdigit():
        return f"{what} {shown!r} starts with a digit"
    if not _PACKAGE_NAME.match(name):
        return (
            f"{what} {shown!r} is not a valid import name "
            "(lowercase ASCII letters, digits and '_', not starting with a digit)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{what} {shown!r} is a Python keyword"
    if name in sys.stdlib_module_names:
        return f"{what} {shown!r} would shadow the standard library module {name!r}"
    if name in LAYOUT_NAMES:
        return f"{what} {shown!r} is reserved for the project layout"
    if name in RESERVED_PACKAGES:
        return f"{what} {shown!r} would shadow the package {name!r} the project depends on"
    return ""


def port_error(port: object) -> str:
    """Why `port` can't be a default port, or "" when it can."""
    if isinstance(port, bool) or not isinstance(port, int):
        return f"port {port!r} is not a whole number"
    if not 1 <= port <= 65535:
        return f"port {port} is out of range (1-65535)"
    return ""


_PY_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TOML_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _unicode_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def python_string(value: object) -> str:
    """A Python string literal for `value`, quoted the way `ruff format` prefers."""
    text = str(value)
    # ruff format keeps double quotes unless that would need more escapes than single ones.
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char in _PY_SHORT_ESCAPES:
            out.append(_PY_SHORT_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif not char.isprintable():
            out.append(_unicode_escape(char))
        else:
            out.append(char)
    return quote + "".join(out) + quote


def toml_string(value: object) -> str:
    """A TOML basic string for `value`; non-ASCII text stays readable (TOML is UTF-8)."""
    out = []
    for char in str(value):
        if char in _TOML_SHORT_ESCAPES:
            out.append(_TOML_SHORT_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F or not char.isprintable():
            out.append(f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def markdown_inline(value: object) -> str:
    """`value` as one line of Markdown text that renders literally."""
    one_line = " ".join(str(value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def one_line(value: object) -> str:
    """`value` with every run of whitespace (newlines included) turned into one space."""
    return " ".join(str(value).split())


FILTERS: dict[str, Any] = {
    "python_string": python_string,
    "toml_string": toml_string,
    "markdown_inline": markdown_inline,
    "one_line": one_line,
    "project_name_error": project_name_error,
    "package_name_error": package_name_error,
    "port_error": port_error,
    "derive_package_name": derive_package_name,
}


class AsgigenFilters(Extension):
    """Registers asgigen's escaping and validation filters on copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
