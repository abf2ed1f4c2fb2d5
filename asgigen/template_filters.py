"""Jinja filters that put free text safely into Python, TOML and Markdown files.

Loaded by the template through copier's `_jinja_extensions`. `tojson` is not enough for
these targets: it escapes non-BMP characters as surrogate pairs, which TOML rejects and
Python decodes to broken text, so each target language gets its own small escaper.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

from asgigen import naming

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
    "project_name_error": naming.project_name_error,
    "package_name_error": naming.package_name_error,
    "port_error": naming.port_error,
    "derive_package_name": naming.derive_package_name,
}


class AsgigenFilters(Extension):
    """Registers asgigen's escaping and validation filters on copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
